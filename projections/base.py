"""What every read model is: a name, a version, its own tables, and a fold.

A projection folds the log one event at a time. Its checkpoint (the last
position applied) is written in the same transaction as its rows, so a crash
never leaves rows without a checkpoint or the reverse. Bumping ``version``
makes it rebuild itself from position 0 on the next catch-up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from peewee import CharField, IntegerField, Model, TextField

from events import store
from events.records import RecordedEvent
from events.vocabulary import META_TYPES

from . import tables
from .changes import Change
from .tables import BaseModel, UTCTimeField


class Checkpoint(BaseModel):
    """Where each read model stands in the log, and why it stopped if it did."""

    name = CharField(max_length=64, primary_key=True)
    version = IntegerField()
    position = IntegerField(default=0)
    failed_position = IntegerField(null=True)
    error = TextField(null=True)
    updated_at = UTCTimeField(null=True)

    class Meta:
        table_name = "projection_checkpoint"


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

    def refold(self, upto: int) -> None:
        """Fill the emptied tables with the fold of every event up to position ``upto`` (inside a transaction).

        A rebuild calls this instead of catching up from 0, so a read model
        can fold in bulk: in SQL, or a whole subject at a time. It must
        leave exactly the rows catching up would (the property test compares
        them). This default folds its kind of subject stream by stream, or
        else the whole log in position order, as catch-up does.
        """
        batches = store.subjects(self.kind, upto) if self.kind else store.pages(before=upto + 1, batch=10_000)
        for batch in batches:
            self.apply_batch(batch)

    def refold_revisions(self, upto: int) -> None:
        """Fold every correction and retraction up to ``upto`` into facts a bulk refold wrote as logged."""
        for batch in store.pages(types=sorted(META_TYPES), before=upto + 1):
            self.apply_batch(batch)

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
