# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Debian packages the tests use for real: a PostgreSQL server, a browser, feed readers and a load generator.
SYSTEM_PACKAGES := postgresql chromium newsboat rss2email wrk
AXE := tests/a11y/node_modules/axe-core/axe.min.js

.PHONY: run test test-fast lint bench install install-test system-deps node-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Install, create the SQLite database in instance/, load the seeds and serve on http://$(HOST):$(PORT)/
run: install
	$(BIN)/chronology init-db
	$(BIN)/chronology seed
	$(BIN)/chronology serve --host $(HOST) --port $(PORT)

## Install everything the tests need (Python, Debian and npm packages) and run the whole suite
test: install-test system-deps node-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

## The suite without the slow tests, for a quick check while working
test-fast: install-test
	$(BIN)/pytest -m "not slow"

## ruff and mypy alone (`make test` runs them before the suite)
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

## Benchmarks against same-run baselines (never part of `make test`)
bench: install-test system-deps
	$(BIN)/python -m tests.benchmarks

$(AXE): tests/a11y/package-lock.json
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	touch $@

node-deps: system-deps $(AXE)

# npm (for axe-core, the accessibility checker the browser tests inject) is taken from Debian only where the
# machine has none: Debian's npm conflicts with the Node.js some machines already carry (NodeSource's).
system-deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
