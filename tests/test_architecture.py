"""The layers and boundaries README's Architecture section promises, checked on the source itself.

Imports are read from every module's syntax tree, those inside functions
included (an import inside a function is a dependency all the same), so a
cycle cannot hide behind one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("events", "projections", "service", "seeds")
#: What each package may import of the others: service -> projections -> events, and seeds -> events.
ALLOWED = {
    "events": set(),
    "projections": {"events"},
    "seeds": {"events"},
    "service": {"events", "projections", "seeds"},
}
WEB_LIBRARIES = {"flask", "flask_wtf", "wtforms", "feedgen", "apscheduler", "werkzeug", "gunicorn", "markupsafe"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: str) -> set[str]:
    """Every module ``module`` imports (project modules as their own names, others by their top package)."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                as_module = f"{target}.{alias.name}"
                found.add(as_module if as_module in MODULES else target)
    return found


GRAPH = {module: {m for m in imports_of(module) if m in MODULES and m != module} for module in MODULES}


class _Tarjan:
    """Tarjan's strongly connected components of a graph, found by one depth-first walk."""

    def __init__(self, graph: dict[str, set[str]]) -> None:
        self.graph = graph
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.on_stack: set[str] = set()
        self.components: list[list[str]] = []

    def visit(self, node: str) -> None:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        self.on_stack.add(node)
        for successor in sorted(self.graph[node]):
            if successor not in self.index:
                self.visit(successor)
                self.low[node] = min(self.low[node], self.low[successor])
            elif successor in self.on_stack:
                self.low[node] = min(self.low[node], self.index[successor])
        if self.low[node] == self.index[node]:
            self.components.append(self._pop_component(node))

    def _pop_component(self, root: str) -> list[str]:
        component = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member)
            component.append(member)
            if member == root:
                return component


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    walk = _Tarjan(GRAPH)
    for node in sorted(GRAPH):
        if node not in walk.index:
            walk.visit(node)
    return [sorted(component) for component in walk.components if len(component) > 1]


def test_no_module_imports_its_way_back_to_itself():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(monkeypatch):
    """So the test above would fail: a function-level import closing a loop is a cycle."""
    monkeypatch.setitem(GRAPH, "events.db", GRAPH["events.db"] | {"events.store"})
    assert any({"events.db", "events.store"} <= set(c) for c in _cycles())


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package):
    for module in (m for m in MODULES if m.split(".")[0] == package):
        others = {m.split(".")[0] for m in GRAPH[module]} - {package}
        assert others <= ALLOWED[package], (module, others - ALLOWED[package])


def test_only_the_service_imports_the_web_libraries():
    for module in MODULES:
        used = {name.split(".")[0] for name in imports_of(module)} & WEB_LIBRARIES
        assert not used or module.startswith("service"), (module, used)


def test_only_events_touches_the_logs_table_and_its_database_object():
    boundary = re.compile(r"(FROM|JOIN) +event\b|events\.db|from events\.db")
    leaks = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for package in ("projections", "service") for path in (ROOT / package).rglob("*.py")
             for n, line in enumerate(path.read_text().splitlines(), 1) if boundary.search(line)]
    assert leaks == []
