"""How many subjects and events the log holds of each kind, kept as the log grows.

The home page shows these counts on every visit. Counting them from the log
is a scan of every event (a million at the scale goal); kept here, folded one
batch at a time, they cost one small read. A subject is counted when its
first event (version 1) arrives; every event, corrections and retractions
included, counts towards its kind, as a stream's version does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import ClassVar

from peewee import CharField, IntegerField, Model

from events import derived
from events.records import RecordedEvent

from . import tables
from .base import Projection
from .tables import ViewModel, execute, query


class SubjectTally(ViewModel):
    kind = CharField(max_length=64, primary_key=True)
    subjects = IntegerField(default=0)
    events = IntegerField(default=0)

    class Meta:
        table_name = "subject_tally"


class Tallies(Projection):
    name = "tallies"
    version = 1
    models: ClassVar[list[type[Model]]] = [SubjectTally]

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        counted: dict[str, int] = defaultdict(int)
        subjects: dict[str, int] = defaultdict(int)
        for event in events:
            kind = event.stream.split("/", 1)[0]
            counted[kind] += 1
            subjects[kind] += event.version == 1
        self._add(counted, subjects)

    def refold(self, upto: int) -> Iterator[int]:
        """Counted per stream by the database, which reads only the (stream, version) index."""
        counted: dict[str, int] = defaultdict(int)
        subjects: dict[str, int] = defaultdict(int)
        for stream, n, first in derived.stream_tallies(upto):
            kind = stream.split("/", 1)[0]
            counted[kind] += n
            subjects[kind] += first == 1
        self._add(counted, subjects)
        yield upto

    @staticmethod
    def _add(counted: dict[str, int], subjects: dict[str, int]) -> None:
        for kind, n in counted.items():
            table = tables.name(SubjectTally)
            cursor = execute(f"UPDATE {table} SET subjects = subjects + ?, events = events + ? WHERE kind = ?",
                             (subjects[kind], n, kind))
            if cursor.rowcount == 0:
                execute(f"INSERT INTO {table} (kind, subjects, events) VALUES (?, ?, ?)", (kind, subjects[kind], n))


def tallies() -> dict[str, tuple[int, int]]:
    """Per kind of subject: (subjects, events), as far as the read model has caught up."""
    rows = query(f"SELECT kind, subjects, events FROM {tables.name(SubjectTally)}")
    return {kind: (subjects, n) for kind, subjects, n in rows}
