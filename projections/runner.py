"""Keeping read models level with the log: catch-up, rebuild, status.

Catch-up is safe to run from several threads, processes or hosts at once:
each batch takes the projection's lock (the write lock on SQLite, a row lock
on the checkpoint on PostgreSQL) and re-reads the checkpoint under it, so no
event is folded twice. An event a projection cannot fold is set aside
(``quarantine``) and the fold goes on; only a fault of the database itself
(it went away, it stayed locked) stops a projection, which records the
position and the error, keeps its checkpoint before it, and retries later.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import InterfaceError, OperationalError

from events import store
from events.errors import StoreBusy
from events.records import RecordedEvent
from events.vocabulary import META_TYPES

from . import quarantine, tables
from .base import Checkpoint, Projection
from .tuning import fewer_collections, relaxed_sqlite

log = logging.getLogger(__name__)

BATCH = 2000


#: Faults of the database, not of an event: the fold stops and retries later instead of setting the event aside.
TRANSIENT = (OperationalError, InterfaceError, StoreBusy)


@dataclass(frozen=True)
class Status:
    name: str
    version: int
    position: int
    head: int
    failed_position: int | None
    error: str | None
    updated_at: datetime | None
    set_aside: int = 0  # events this read model could not fold (unresolved)

    @property
    def lag(self) -> int:
        return self.head - self.position

    @property
    def healthy(self) -> bool:
        return self.failed_position is None and not self.set_aside

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "checkpoint": self.position, "head": self.head,
                "lag": self.lag, "failed_position": self.failed_position, "error": self.error,
                "set_aside": self.set_aside, "updated_at": self.updated_at.isoformat() if self.updated_at else None}


def ensure_schema(projections: Iterable[Projection]) -> None:
    """Create every projection's tables; a projection whose version changed starts again from 0."""
    tables.create([Checkpoint])
    quarantine.create_table()
    for projection in projections:
        projection.create_tables()
        with tables.atomic():
            checkpoint = Checkpoint.get_or_none(Checkpoint.name == projection.name)
            if checkpoint is None:
                Checkpoint.create(name=projection.name, version=projection.version)
            elif checkpoint.version != projection.version:
                log.info("%s changed from version %s to %s: rebuilding", projection.name,
                         checkpoint.version, projection.version)
                _reset(projection)


def _reset(projection: Projection) -> None:
    projection.drop_tables()
    projection.create_tables()
    quarantine.clear(projection.name)
    Checkpoint.insert(name=projection.name, version=projection.version, position=0).on_conflict(
        conflict_target=[Checkpoint.name],
        update={Checkpoint.version: projection.version, Checkpoint.position: 0,
                Checkpoint.failed_position: None, Checkpoint.error: None},
    ).execute()


@contextmanager
def _locked(projection: Projection, *, wait: bool = True) -> Iterator[Checkpoint | None]:
    """A transaction holding this projection's lock, with its checkpoint read under it.

    ``wait=False`` gives None at once when another process holds the lock:
    whoever holds it is folding, and will fold what the caller wanted folded.
    Waiting, there is always a checkpoint (``ensure_schema`` made it).
    """
    if not wait and not tables.try_exclusive():
        yield None
        return
    with tables.exclusive():
        query = Checkpoint.select().where(Checkpoint.name == projection.name)
        yield query.for_update(skip_locked=not wait).first() if tables.is_postgres() else query.get()


def catch_up(projection: Projection, *, batch: int = BATCH,
             progress: Callable[[int], None] | None = None) -> int:
    """Fold the events after the checkpoint; return how many events were applied."""
    applied = 0
    while True:
        with _locked(projection) as checkpoint:
            assert checkpoint is not None  # waited for
            events = store.read(after=checkpoint.position, limit=batch)
            if not events:
                return applied
            done, failure = _fold_and_advance(projection, checkpoint, events)
        applied += done
        if progress:
            progress(checkpoint.position)
        if failure:
            log.error("projection %s stopped at position %s: %s", projection.name, *failure)
            return applied


def catch_up_together(projections: Iterable[Projection], *, batch: int = BATCH,
                      progress: Callable[[str, int], None] | None = None, rounds: int | None = None,
                      wait: bool = True) -> int:
    """Fold the new events into several read models, reading and decoding each batch of the log once.

    Each read model still folds under its own lock with its checkpoint re-read
    there, exactly as ``catch_up`` does; one that fails stops (its failure
    recorded) while the others go on. ``rounds`` bounds the work to that many
    batches (a request folds a little and leaves the rest to the catch-up
    job); ``wait=False`` skips a read model another process is folding.
    """
    active = list(projections)
    applied = 0
    while active and (rounds is None or rounds > 0):
        rounds = None if rounds is None else rounds - 1
        positions = {c.name: c.position for c in Checkpoint.select().where(
            Checkpoint.name.in_([p.name for p in active]))}
        low = min(positions.get(p.name, 0) for p in active)
        events = store.read(after=low, limit=batch)
        if not events:
            return applied
        for projection in list(active):
            with _locked(projection, wait=wait) as checkpoint:
                if checkpoint is None:
                    active.remove(projection)
                    continue
                mine = [e for e in events if e.position > checkpoint.position]
                if not mine:
                    continue
                done, failure = _fold_and_advance(projection, checkpoint, mine)
            applied += done
            if progress:
                progress(projection.name, checkpoint.position)
            if failure:
                log.error("projection %s stopped at position %s: %s", projection.name, *failure)
                active.remove(projection)
    return applied


def _fold_and_advance(projection: Projection, checkpoint: Checkpoint,
                      events: list[RecordedEvent]) -> tuple[int, tuple[int, str] | None]:
    """Fold a batch and move the checkpoint past what was folded or set aside, in the caller's transaction.

    A stop (a fault of the database) is recorded on the checkpoint, or the
    last one cleared; returns how many events were passed and the stop, if any.
    """
    passed, failure = fold(projection, events)
    _advance(checkpoint, passed[-1].position if passed else checkpoint.position, failure)
    return len(passed), failure


def _advance(checkpoint: Checkpoint, position: int, failure: tuple[int, str] | None) -> None:
    """Move a checkpoint to ``position`` and record the failure that stopped it there, or clear the last one."""
    checkpoint.position = position
    checkpoint.failed_position, checkpoint.error = failure or (None, None)
    checkpoint.updated_at = datetime.now(UTC)
    checkpoint.save()


def _detail(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def fold(projection: Projection,
         events: list[RecordedEvent]) -> tuple[list[RecordedEvent], tuple[int, str] | None]:
    """Apply a batch; an event that cannot be folded is set aside and the rest go on.

    Returns the events passed (folded or set aside) and, when the database
    itself failed, where that stopped the fold.
    """
    try:
        with tables.atomic():
            projection.apply_batch(events)
        _resolve(projection, events)
        return events, None
    except Exception:
        pass  # find the event that cannot be folded (or where the database failed), one at a time
    passed: list[RecordedEvent] = []
    for event in events:
        try:
            with tables.atomic():
                projection.apply(event)
        except TRANSIENT as exc:
            return passed, (event.position, _detail(exc))
        except Exception as exc:
            log.error("read model %s set aside the event at position %s: %s", projection.name, event.position,
                      _detail(exc))
            quarantine.set_aside(projection.name, event, _detail(exc))
        else:
            _resolve(projection, [event])
        passed.append(event)
    return passed, None


def _resolve(projection: Projection, folded: list[RecordedEvent]) -> None:
    """Corrections and retractions just folded resolve the set-aside events they act on."""
    targets: dict[str, int] = {}
    for event in folded:
        if event.type in META_TYPES:
            targets.setdefault(event.data["target"], event.position)
    if targets:
        waiting = quarantine.unresolved(projection.name, targets)
        if waiting:
            quarantine.resolve(projection.name, {t: targets[t] for t in waiting})


def rebuild(projection: Projection, *, progress: Callable[[str, int], None] | None = None) -> None:
    """Drop the projection's rows and fold the whole log again from position 0."""
    rebuild_together([projection], progress=progress)


def rebuild_together(projections: Iterable[Projection], *,
                     progress: Callable[[str, int], None] | None = None) -> None:
    """Empty several read models and fold the log into each in bulk (``Projection.refold``), up to its head.

    Each read model refolds under its own lock, and its checkpoint moves to
    the head in the same transaction. One whose bulk fold fails is left empty
    at position 0; the catch-up that ends the rebuild (and folds what was
    appended meanwhile) then folds it event by event, so it stops at the
    failing event and records it like any catch-up.
    """
    chosen = list(projections)
    with tables.atomic():
        for projection in chosen:
            _reset(projection)
            projection.drop_deferred_indexes()
    try:
        with relaxed_sqlite(), fewer_collections():
            head = store.head_position()
            for projection in chosen:
                _refold(projection, head)
                if progress:
                    progress(projection.name, head)
    finally:
        with tables.atomic():
            for projection in chosen:
                projection.create_indexes()
    catch_up_together(chosen, progress=progress)


def _refold(projection: Projection, head: int) -> None:
    with _locked(projection) as checkpoint:
        assert checkpoint is not None  # waited for
        if checkpoint.position != 0:  # another process caught up meanwhile: leave its rows alone
            return
        try:
            with tables.atomic():
                projection.refold(head)
        except Exception:
            log.warning("bulk refold of %s failed; folding it event by event", projection.name, exc_info=True)
            return
        _advance(checkpoint, head, None)


def status(projections: Iterable[Projection]) -> list[Status]:
    head = store.head_position()
    by_name = {c.name: c for c in Checkpoint.select()}
    aside = quarantine.counts()
    out = []
    for p in projections:
        c = by_name.get(p.name)
        out.append(Status(p.name, p.version, c.position if c else 0, head, c.failed_position if c else None,
                          c.error if c else None, c.updated_at if c else None, aside.get(p.name, 0)))
    return out
