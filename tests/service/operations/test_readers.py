"""Readers never notice a rebuild or a new version: while one runs, every page and JSON answer is whole.

A reader thread asks for every read model's page and its JSON, without pause,
while the main thread rebuilds read models (in one process and in several)
and then makes one of them a new version; each answer must be exactly the
answer given before any of it began.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import events
import projections
from projections import builds, runner
from projections.agreements import Agreements
from seeds.loader import seed
from tests.benchmarks import workload
from tests.conftest import make_app

PATHS = ("/api/agreements?limit=1000", "/api/exercises?limit=1000", "/api/meetings?limit=1000",
         "/api/timeline?limit=1000", "/agreements", "/exercises", "/meetings", "/timeline", "/")


@pytest.fixture
def site(database_url: str, tmp_path) -> Iterator:
    """The service on each backend: the seeds and 3,000 generated events, every read model level with them."""
    app = make_app(database_url, tmp_path / "instance")
    with app.app_context():
        seed()
        events.append(list(workload.generate(3000, seed=23)), author="test")
        projections.catch_up()
    yield app
    if not events.db.database.is_closed():
        events.db.database.close()


def answer(response) -> tuple[int, object]:
    """A response as compared: its status and its body (JSON without ``now``, the moment it was asked)."""
    if response.is_json:
        body = response.get_json()
        body.pop("now", None)
        return response.status_code, body
    return response.status_code, response.data


class Reader(threading.Thread):
    """Asks for every path in turn until stopped; keeps each answer that differs from the one expected."""

    def __init__(self, app, expected: dict[str, tuple[int, object]]) -> None:
        super().__init__(daemon=True)
        self.app, self.expected = app, expected
        self.stop = threading.Event()
        self.answers: list[float] = []  # when each answer came
        self.wrong: list[tuple[str, int, str]] = []

    def run(self) -> None:
        client = self.app.test_client()
        try:
            while not self.stop.is_set():
                for path in PATHS:
                    response = client.get(path)
                    self.answers.append(time.monotonic())
                    if answer(response) != self.expected[path]:
                        self.wrong.append((path, response.status_code, response.get_data(as_text=True)[:300]))
        finally:
            events.db.database.close()


def _answers(app) -> dict[str, tuple[int, object]]:
    client = app.test_client()
    out = {path: answer(client.get(path)) for path in PATHS}
    assert all(status == 200 for status, _ in out.values())
    assert all(len(str(body)) > 2000 for _, body in out.values())  # whole answers, so an empty one would differ
    return out


def test_pages_and_json_stay_whole_through_rebuilds_and_a_new_version(site, monkeypatch):
    expected = _answers(site)
    assert _answers(site) == expected  # the same request gives the same bytes: any difference below is a reader's
    reader = Reader(site, expected)
    windows = []
    reader.start()
    try:
        with site.app_context():
            for name, workers in ((None, 1), ("agreements", 2), ("meetings", 2), (None, 2)):
                started = time.monotonic()
                projections.rebuild(name, workers=workers)
                windows.append((started, time.monotonic()))
            monkeypatch.setattr(Agreements, "version", Agreements.version + 1)
            started = time.monotonic()
            projections.ensure_schema()  # the new version folds into tables of its own, then is served
            windows.append((started, time.monotonic()))
            versions = {b.version: b.state for b in projections.status()[0].builds}
    finally:
        reader.stop.set()
        reader.join(timeout=60)
    assert reader.wrong == []
    for start, end in windows:  # the reader was answered while each of them ran, not only between them
        assert sum(start < t < end for t in reader.answers) >= 2, (start, end)
    assert versions == {Agreements.version: "ready", Agreements.version - 1: "retired"}
    assert _answers(site) == expected


def test_status_shows_both_builds_and_the_new_ones_progress_while_it_is_built(site, monkeypatch):
    reached = threading.Event()
    go_on = threading.Event()
    real = runner._swap

    def paused(chosen):
        reached.set()
        assert go_on.wait(60)
        real(chosen)

    monkeypatch.setattr(runner, "_swap", paused)

    def rebuild() -> None:
        with site.app_context():
            projections.rebuild("meetings")
        events.db.database.close()

    builder = threading.Thread(target=rebuild)
    builder.start()
    try:
        assert reached.wait(120)
        client = site.test_client()
        [meetings] = [p for p in client.get("/api/status").get_json()["projections"] if p["name"] == "meetings"]
        page = client.get("/status").get_data(as_text=True)
    finally:
        go_on.set()
        builder.join(timeout=120)
    head = meetings["head"]
    assert [(b["state"], b["served_here"], b["checkpoint"]) for b in meetings["builds"]] == [
        ("building", False, head), ("ready", True, head)]
    assert meetings["builds"][0]["progress"] == f"catching up: at position {head} of {head}"
    assert "being built" in page and "current" in page and meetings["builds"][0]["key"] in page
    with site.app_context():
        [after] = [p for p in projections.status() if p.name == "meetings"]
    assert [(b.key, b.state, b.served_here) for b in after.builds] == [
        (meetings["builds"][0]["key"], "ready", True), (meetings["builds"][1]["key"], "retired", False)]


def test_a_retired_build_is_dropped_once_nobody_reads_it_and_its_grace_is_over(site):
    with site.app_context():
        old = builds.servable(projections.get("timeline"))
        projections.rebuild("timeline")
        builds.record_readers("elsewhere:1", projections.READ_MODELS)  # a process that still reads the old tables?
        assert builds.cleanup(projections.READ_MODELS, grace=builds.GRACE) == []  # within its grace: kept
        builds.Reader.update(build=old.name).where(builds.Reader.model == "timeline").execute()
        assert builds.cleanup(projections.READ_MODELS, grace=runner.timedelta(0)) == []  # named by a reader: kept
        builds.forget_reader("elsewhere:1")
        assert builds.cleanup(projections.READ_MODELS, grace=runner.timedelta(0)) == [old.name]
        assert not any(events.tables.exists(name) for name in old.tables.split(","))
        assert builds.Build.get_by_id(old.name).state == "dropped"
