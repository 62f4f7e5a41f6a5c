"""Keeping read models level with the log: catch-up, rebuild, status.

Catch-up is safe to run from several threads, processes or hosts at once:
each batch takes the projection's lock (the write lock on SQLite, a row lock
on the build's checkpoint on PostgreSQL) and re-reads the checkpoint under
it, so no event is folded twice. An event a projection cannot fold is set
aside (``quarantine``) and the fold goes on; only a fault of the database
itself (it went away, it stayed locked) stops a projection, which records
the position and the error, keeps its checkpoint before it, and retries later.

Catch-up folds the build of each read model the context names (``binding``):
the process's serving builds, or the new builds a rebuild is filling. A
rebuild never empties tables anyone reads: it folds new tables of its own
(``builds``) while the served ones keep answering and catching up, and one
transaction makes them current once they reach the head.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import InterfaceError, OperationalError

from events import store
from events.errors import StoreBusy
from events.records import RecordedEvent
from events.vocabulary import META_TYPES

from . import binding, builds, quarantine, tables
from .base import Projection
from .builds import Build, BuildStatus
from .tuning import fewer_collections, relaxed_sqlite
from .workers import Pool, Shares, pool

log = logging.getLogger(__name__)

BATCH = 2000
#: A rebuild of a log shorter than this folds in one process: starting workers would cost more than it saves.
PARALLEL_FROM = 20_000
#: How often a process waiting for another's build of the version it serves looks again.
WAIT_SECONDS = 1.0


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
    builds: list[BuildStatus] = field(default_factory=list)  # every build with tables, newest first

    @property
    def lag(self) -> int:
        return self.head - self.position

    @property
    def healthy(self) -> bool:
        return self.failed_position is None and not self.set_aside

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "checkpoint": self.position, "head": self.head,
                "lag": self.lag, "failed_position": self.failed_position, "error": self.error,
                "set_aside": self.set_aside, "updated_at": self.updated_at.isoformat() if self.updated_at else None,
                "builds": [b.to_dict() for b in self.builds]}


def create_tables(projections: Sequence[Projection]) -> None:
    """The registry, the readers and the set-aside events; the serving set read again. Builds nothing."""
    builds.create_tables()
    quarantine.create_table()
    refresh(projections)


def ensure_schema(projections: Sequence[Projection], *, workers: int | None = None) -> None:
    """Make sure every read model has a build of the version this code has, level with the log, and serve it.

    A read model without one (a new database, a new version) gets a new
    build folded up to the head before this returns, while any other build
    keeps serving the processes of other versions; if another process is
    folding it already, this waits for that one.
    """
    create_tables(projections)
    me = builds.process_name()
    while True:
        missing = [p for p in projections if builds.servable(p) is None]
        if not missing:
            break
        ours = [p for p in missing if not builds.building(p)]
        if ours:
            log.info("building %s from position 0 at this code's version", ", ".join(p.name for p in ours))
            rebuild_together(ours, workers=workers, builder=me, unless_built=True)
        else:
            time.sleep(WAIT_SECONDS)  # another process folds them: serve them when they are ready
    refresh(projections)


def refresh(projections: Sequence[Projection]) -> dict[str, str]:
    """Serve the newest build of this code's version of each read model (after a rebuild elsewhere); return them."""
    tags = builds.serving_tags(projections, keep=binding.serving())
    binding.serve(tags)
    return tags


def heartbeat(projections: Sequence[Projection], process: str, *, grace: timedelta = builds.GRACE) -> list[str]:
    """What a serving process does every few seconds: see swaps, say what it reads, catch up, drop the unread.

    Returns the builds it dropped. Catching up here (skipping what another
    process is folding) keeps the builds of this code's version level even
    when the process that runs the scheduled jobs serves another version.
    """
    refresh(projections)
    builds.record_readers(process, projections)
    catch_up_together(projections, wait=False)
    return builds.cleanup(projections, grace=grace)


@contextmanager
def _locked(projection: Projection, *, wait: bool = True) -> Iterator[Build | None]:
    """A transaction holding the lock of this projection's build, with its checkpoint read under it.

    ``wait=False`` gives None at once when another process holds the lock:
    whoever holds it is folding, and will fold what the caller wanted folded.
    Waiting, there is always a checkpoint (``ensure_schema`` made it).
    """
    if not wait and not tables.try_exclusive():
        yield None
        return
    with tables.exclusive():
        query = Build.select().where(Build.name == binding.key_of(projection.name))
        yield query.for_update(skip_locked=not wait).first() if tables.is_postgres() else query.first()


def catch_up(projection: Projection, *, batch: int = BATCH,
             progress: Callable[[int], None] | None = None) -> int:
    """Fold the events after the checkpoint; return how many events were applied."""
    applied = 0
    while True:
        with _locked(projection) as checkpoint:
            if checkpoint is None:
                return applied
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
        keys = {binding.key_of(p.name): p.name for p in active}
        positions = {keys[c.name]: c.position for c in Build.select(Build.name, Build.position).where(
            Build.name.in_(list(keys)))}
        active = [p for p in active if p.name in positions]  # a read model with no build here has nothing to fold
        if not active:
            return applied
        low = min(positions[p.name] for p in active)
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


def _fold_and_advance(projection: Projection, checkpoint: Build,
                      events: list[RecordedEvent]) -> tuple[int, tuple[int, str] | None]:
    """Fold a batch and move the checkpoint past what was folded or set aside, in the caller's transaction.

    A stop (a fault of the database) is recorded on the checkpoint, or the
    last one cleared; returns how many events were passed and the stop, if any.
    """
    passed, failure = fold(projection, events)
    _advance(checkpoint, passed[-1].position if passed else checkpoint.position, failure)
    return len(passed), failure


def _advance(checkpoint: Build, position: int, failure: tuple[int, str] | None) -> None:
    """Move a checkpoint to ``position`` and record the failure that stopped it there, or clear the last one."""
    checkpoint.position = position
    checkpoint.failed_position, checkpoint.error = failure or (None, None)
    checkpoint.updated_at = builds.now()
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


def rebuild(projection: Projection, *, progress: Callable[[str, int], None] | None = None,
            workers: int | None = None) -> None:
    """Fold the whole log again from position 0 into new tables, and serve them once they reach the head."""
    rebuild_together([projection], progress=progress, workers=workers)


def default_workers() -> int:
    """One process per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def rebuild_together(projections: Iterable[Projection], *, progress: Callable[[str, int], None] | None = None,
                     workers: int | None = None, builder: str | None = None,
                     grace: timedelta = builds.GRACE, unless_built: bool = False) -> None:
    """Fold several read models again into new builds, in bulk (``Projection.refold``), then make them current.

    The builds served until now keep answering (and catching up) all along.
    Each new build refolds up to the head, catches up with what was
    appended meanwhile, and then one transaction folds the last events and
    makes every new build current; readers switch at their next request.
    ``workers`` processes fold the subjects of the read models that allow
    it (``Projection.parallel``); by default one per core on a long log.
    One whose bulk fold fails is emptied and folded event by event, so it
    stops at the failing event and records it like any catch-up. An
    interrupted rebuild drops its new tables and leaves the served ones be.
    The builds it retires are dropped at its end if no serving process
    reads the read model and ``grace`` allows (a process serving no
    request, such as the ``rebuild`` command, may pass 0); else the serving
    processes drop them once none of them reads them, after their grace.
    ``unless_built`` leaves out a read model whose version has a build
    already, or one another process is folding (``builds.claim``).
    """
    chosen: list[Projection] = []
    made: list[Build] = []
    try:
        for projection in projections:
            row = builds.claim(projection, builder or builds.process_name(), unless_built=unless_built)
            if row is not None:
                chosen.append(projection)
                made.append(row)
        if not chosen:
            return
        tags = {str(row.model): row.tag for row in made}
        with binding.bound(tags):
            _fill(chosen, progress, workers)
            catch_up_together(chosen, progress=progress)
            _swap(chosen)
    except BaseException:
        builds.abandon(made, chosen)
        raise
    binding.serve({**binding.serving(), **tags})
    try:
        builds.cleanup(chosen, grace=grace, unserved_only=True)
    except Exception:  # the rebuild is done; a later cleanup drops what this one could not
        log.warning("could not drop the builds the rebuild retired", exc_info=True)


def _fill(chosen: list[Projection], progress: Callable[[str, int], None] | None, workers: int | None) -> None:
    """Refold each new build up to the head, its unread indexes built once at the end."""
    head = store.head_position()
    count = workers if workers is not None else default_workers() if head >= PARALLEL_FROM else 1
    parallel = count > 1 and any(p.parallel and p.kind for p in chosen)
    for projection in chosen:
        projection.drop_deferred_indexes()
    with pool(count) if parallel else _no_pool() as shared, relaxed_sqlite(), fewer_collections():
        _refold_all(chosen, head, shared, progress)
    with tables.atomic():
        for projection in chosen:
            projection.create_indexes()


@contextmanager
def _no_pool() -> Iterator[Pool | None]:
    yield None


def _refold_all(chosen: list[Projection], head: int, shared: Pool | None,
                progress: Callable[[str, int], None] | None = None) -> None:
    """Bulk-fold every new build up to ``head``, the workers' and this process's folds interleaved.

    This process is the one writer: it writes what the workers folded as
    soon as it is ready, and in between folds the read models that fold
    here (a chunk at a time), so neither waits on the other for long.
    """
    active = [_Refold(p, head, shared) for p in chosen]
    while active:
        fold = (next((f for f in active if f.shared is not None and f.shared.ready()), None)
                or next((f for f in active if f.shared is None), None) or active[0])
        if not fold.step():
            active.remove(fold)
            if progress:
                progress(fold.projection.name, head)


class _Refold:
    """One new build's bulk fold, a step at a time; each step commits, with the progress, in the build's registry row.

    A fold that fails empties its build, which the catch-up after the bulk
    folds then folds event by event (setting aside what cannot be folded).
    """

    def __init__(self, projection: Projection, head: int, shared: Pool | None) -> None:
        self.projection, self.head = projection, head
        self.key = binding.key_of(projection.name)
        self.shared = Shares(projection, head, shared) if shared is not None and projection.parallel else None
        self.chunks = projection.refold(head) if self.shared is None else None

    def step(self) -> bool:
        """Fold and commit one chunk; False once the build is level with ``head`` (or emptied after a failure)."""
        try:
            with tables.atomic():
                done = self.shared.next() if self.shared is not None else next(self.chunks, None)  # type: ignore[arg-type]
                if done is not None:
                    builds.progressed(self.key, done, self.head)
                    return True
                Build.update(position=self.head, updated_at=builds.now()).where(Build.name == self.key).execute()
                return False
        except Exception:
            log.warning("bulk refold of %s failed; folding it event by event", self.projection.name, exc_info=True)
        with tables.atomic():
            self.projection.drop_tables()
            self.projection.create_tables()
            quarantine.clear_build(self.key)
            Build.update(position=0, updated_at=builds.now()).where(Build.name == self.key).execute()
        return False


def _swap(chosen: list[Projection]) -> None:
    """In one transaction: fold what was appended since the catch-up, and make every new build current."""
    with tables.exclusive():
        rows = []
        for projection in chosen:
            query = Build.select().where(Build.name == binding.key_of(projection.name))
            row = query.for_update().first() if tables.is_postgres() else query.first()
            while events := store.read(after=row.position, limit=BATCH):
                _, failure = _fold_and_advance(projection, row, events)
                if failure:
                    break
            rows.append((projection, row))
        for projection, row in rows:
            builds.swap(projection, row)


def lag(projections: Iterable[Projection]) -> int:
    """How far behind the log the furthest-behind served build is: two small reads, for every write's answer."""
    keys = [binding.key_of(p.name) for p in projections]
    positions = [row.position for row in Build.select(Build.position).where(Build.name.in_(keys))]
    positions += [0] * (len(keys) - len(positions))  # a read model with nothing built here has everything to fold
    return max((store.head_position() - p for p in positions), default=0)


def status(projections: Iterable[Projection]) -> list[Status]:
    """Each read model's served build (this process's), with every build it has: a new one's progress too."""
    chosen = list(projections)
    head = store.head_position()
    keys = {binding.key_of(p.name): p.name for p in chosen}
    by_name = {keys[c.name]: c for c in Build.select().where(Build.name.in_(list(keys)))}
    aside = quarantine.counts()
    every = builds.statuses(chosen, head)
    out = []
    for p in chosen:
        c = by_name.get(p.name)
        out.append(Status(p.name, p.version, c.position if c else 0, head, c.failed_position if c else None,
                          c.error if c else None, c.updated_at if c else None, aside.get(p.name, 0),
                          every.get(p.name, [])))
    return out
