"""What every read model is: a name, a version, its own tables, and a fold.

A projection folds the log one event at a time. Its checkpoint (the last
position applied) is written in the same transaction as its rows, so a crash
never leaves rows without a checkpoint or the reverse. Each version of a read
model folds into tables of its own (``binding``, ``builds``): bumping
``version`` makes the next start fold the new version's tables from position
0 while the old ones keep serving, and serve them once they reach the head.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from peewee import Model

from events import store
from events.records import RecordedEvent
from events.vocabulary import META_TYPES

from . import tables
from .changes import Change


class Projection:
    """A read model. Subclasses set ``name``, ``version`` and ``models`` and implement ``apply``."""

    name: ClassVar[str]
    version: ClassVar[int]
    models: ClassVar[list[type[Model]]]
    #: The kind of subject (``agreement``) whose streams alone this read model folds, if it folds only one:
    #: a rebuild then reads just those events, a whole stream at a time.
    kind: ClassVar[str | None] = None
    #: Tables whose secondary indexes the fold never reads (only the queries do). A full rebuild drops them
    #: and builds them once at the end: sorting a million keys once beats inserting them in random order.
    deferred: ClassVar[list[type[Model]]] = []
    #: The title of the feed of this read model's changes; None when it has no feed.
    feed_title: ClassVar[str | None] = None
    #: Whether a rebuild may fold its subjects (``kind``) in several processes at once: each subject's rows
    #: depend on that subject's events alone, and ``apply_batch`` never reads back rows it wrote.
    parallel: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Tell each of the read model's tables whose they are: their names follow the build of this read model."""
        super().__init_subclass__(**kwargs)
        for model in cls.__dict__.get("models", []):
            model._meta.read_model = cls.name

    def changes(self, now: datetime, *, after: tuple[Any, ...] | None = None, limit: int = 50,
                descending: bool = False) -> list[Change]:
        """The changes visible at ``now`` in feed order: none, for a read model without a feed."""
        return []

    def apply(self, event: RecordedEvent) -> None:
        """Fold one event into this model's tables (called inside a transaction).

        A projection keeps no state between calls other than its tables, so
        a batch that fails can be rolled back and folded again event by event.
        """
        raise NotImplementedError

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        """Fold a batch; projections override this to write rows in bulk."""
        for event in events:
            self.apply(event)

    def refold(self, upto: int) -> Iterator[int]:
        """Fill new, empty tables with the fold of every event up to position ``upto``, yielding as it goes.

        A rebuild calls this instead of catching up from 0, so a read model
        can fold in bulk: in SQL, or a whole subject at a time. It must
        leave exactly the rows catching up would (the property test compares
        them). Each yield says how many events it has folded so far; the
        rebuild commits there and shows the progress (nobody reads the new
        tables before they are complete). This default folds its kind of
        subject stream by stream, or else the whole log in position order,
        as catch-up does.
        """
        batches = store.subjects(self.kind, upto) if self.kind else store.pages(before=upto + 1, batch=10_000)
        done = 0
        for batch in batches:
            self.apply_batch(batch)
            done += len(batch)
            yield done

    def refold_revisions(self, upto: int, done: int = 0) -> Iterator[int]:
        """Fold every correction and retraction up to ``upto`` into facts a bulk refold wrote as logged."""
        for batch in store.pages(types=sorted(META_TYPES), before=upto + 1):
            self.apply_batch(batch)
            done += len(batch)
            yield done

    def create_tables(self) -> None:
        tables.create(self.models)

    def drop_deferred_indexes(self) -> None:
        for model in self.deferred:
            model._schema.drop_indexes(safe=True)  # type: ignore[attr-defined]  # peewee's stubs leave _schema out

    def create_indexes(self) -> None:
        """Build any missing index (after a rebuild, or one interrupted: ``create_tables`` does it too)."""
        for model in self.models:
            model._schema.create_indexes(safe=True)  # type: ignore[attr-defined]  # (as above)

    def drop_tables(self) -> None:
        tables.drop(self.models)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: what rebuild-equals-incremental compares."""
        return tables.dump(self.models)
