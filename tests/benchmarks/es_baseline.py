"""The PyPI ``eventsourcing`` side of store.append (imported only when that figure runs)."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Subject(Aggregate):
    """One aggregate per stream; its events carry what ours carry (type, date, data, sources)."""

    @event("Opened")
    def __init__(self, stream: str, event_type: str, occurred: str, data: dict, sources: list) -> None:
        self.stream = stream
        self.facts = 1

    @event("FactRecorded")
    def record(self, event_type: str, occurred: str, data: dict, sources: list) -> None:
        self.facts += 1


def application(path: Path) -> Application:
    """An eventsourcing application persisting to the SQLite file ``path`` (its SQLiteApplicationRecorder)."""
    return Application(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
