"""The registry of read-model builds: which tables each read model has, which are served, and who reads them.

A build is one set of tables of one version of a read model
(``agreement_stage_v2b3``: version 2, build 3), with its own checkpoint and
its own set-aside events. A rebuild, or a new version, folds a new build
while the others keep serving; none is ever emptied under a reader.

- ``building``: folding into new tables, read by no one. Its builder writes
  ``updated_at`` as it goes; one silent for ``LEASE`` died, and is dropped.
- ``ready``: the current build of its read model, the newest build of the
  newest version that reached the log's head. Reaching it, in one
  transaction, a build becomes ready and the one before it retired.
- ``retired``: superseded. Processes running its version's code still read
  it until they switch (a rebuild of their version) or stop (a rolling
  deploy); it is dropped once no process has said for ``STALE`` that it
  reads it, and at least ``GRACE`` after it was retired.
- ``dropped``: its tables are gone. The row stays, so a build number is never
  used twice (a process that has not yet noticed a drop never meets a new
  build under an old name).

A process serves, for each read model, the newest ready or retired build of
the version its own code has; every serving process records (``Reader``)
which builds it reads, every few seconds. The registry lives in the table
that held one checkpoint per read model before builds existed: those rows
are adopted as build 0, whose tables kept the plain names.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from peewee import CharField, CompositeKey, DatabaseError, IntegerField, IntegrityError, TextField

from . import binding, quarantine, tables
from .tables import BaseModel, UTCTimeField

if TYPE_CHECKING:
    from .base import Projection

log = logging.getLogger(__name__)

BUILDING, READY, RETIRED, DROPPED = "building", "ready", "retired", "dropped"
#: A builder that has written nothing for this long is taken to have died; its build is dropped.
LEASE = timedelta(minutes=5)
#: A reader that has not said for this long that it reads a build is taken to have stopped.
STALE = timedelta(seconds=60)
#: A retired build is kept at least this long: a request that began before the switch finishes on it.
GRACE = timedelta(seconds=60)
#: Reader rows older than this are deleted (a process that stopped long ago).
FORGET = timedelta(days=1)


class Build(BaseModel):
    """One build of a read model: its tables' tag, its state and its checkpoint."""

    name = CharField(max_length=64, primary_key=True)  # the build's key: "agreements" (build 0), else "agreements@v3b2"
    version = IntegerField()
    position = IntegerField(default=0)
    failed_position = IntegerField(null=True)
    error = TextField(null=True)
    updated_at = UTCTimeField(null=True)
    model = CharField(max_length=64, null=True)  # the read model (null on a row older than builds: adopted as build 0)
    build = IntegerField(null=True)
    state = CharField(max_length=16, null=True)
    builder = CharField(max_length=200, null=True)  # host:pid of the process folding it
    created_at = UTCTimeField(null=True)
    retired_at = UTCTimeField(null=True)
    folded = IntegerField(null=True)  # while a new build refolds in bulk: how many events it has folded
    target = IntegerField(null=True)  # ... and the head it folds up to
    tables = TextField(null=True)  # its tables, comma-separated: any process can drop them, whatever its code

    class Meta:
        table_name = "projection_checkpoint"

    @property
    def tag(self) -> str:
        return "" if not self.build else f"v{self.version}b{self.build}"


#: Columns a registry made before builds lacks (``Build``'s fields after the first six).
NEW_COLUMNS = {"model": "VARCHAR(64)", "build": "INTEGER", "state": "VARCHAR(16)", "builder": "VARCHAR(200)",
               "created_at": "{UTCTIME}", "retired_at": "{UTCTIME}", "folded": "INTEGER", "target": "INTEGER",
               "tables": "TEXT"}


class Reader(BaseModel):
    """Which build of a read model a serving process reads, as it said last."""

    process = CharField(max_length=200)  # host:pid
    model = CharField(max_length=64)
    build = CharField(max_length=64)  # the build's key
    version = IntegerField()
    seen_at = UTCTimeField()

    class Meta:
        table_name = "projection_reader"
        primary_key = CompositeKey("process", "model")


def process_name() -> str:
    """This process as readers and builders are recorded: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def now() -> datetime:
    return datetime.now(UTC)


def create_tables() -> None:
    """The registry and the readers' table; a registry older than builds gains its columns, its rows become build 0."""
    tables.create([Build, Reader])
    _registry_seen["generation"] = tables.generation()
    table = Build._meta.table_name
    for column in NEW_COLUMNS.keys() - tables.columns(table):
        try:
            tables.add_column(table, column, NEW_COLUMNS[column])
        except DatabaseError:  # another process added it a moment ago (SQLite has no IF NOT EXISTS)
            if column not in tables.columns(table):
                raise
    if Build.select().where(Build.model.is_null()).exists():
        Build.update(model=Build.name, build=0, state=READY, created_at=now()).where(Build.model.is_null()).execute()


_registry_seen = {"generation": -1}


def _registry_exists() -> bool:
    """Whether the registry table exists (asked of the database once per database: a table, once made, stays)."""
    if _registry_seen["generation"] == tables.generation():
        return True
    if not tables.exists(Build._meta.table_name):
        return False
    _registry_seen["generation"] = tables.generation()
    return True


def serving_tags(projections: Iterable[Projection], keep: Mapping[str, str] | None = None) -> dict[str, str]:
    """For each read model, the tag of the newest ready or retired build of the version this code has.

    A read model with no such build keeps its tag from ``keep`` (what the
    process served until now), or has none: nothing is served for it yet.
    """
    if not _registry_exists():
        return dict(keep or {})
    rows = list(Build.select(Build.model, Build.version, Build.build).where(Build.state.in_([READY, RETIRED])))
    out: dict[str, str] = {}
    for projection in projections:
        mine = [r for r in rows if r.model == projection.name and r.version == projection.version]
        if mine:
            out[projection.name] = max(mine, key=lambda r: r.build or 0).tag
        elif keep and projection.name in keep:
            out[projection.name] = keep[projection.name]
    return out


def servable(projection: Projection) -> Build | None:
    """The build this code would serve for ``projection`` (None: it has none yet)."""
    rows = Build.select().where((Build.model == projection.name) & (Build.version == projection.version)
                                & Build.state.in_([READY, RETIRED])).order_by(Build.build.desc())
    return rows.first()  # type: ignore[no-any-return]


def building(projection: Projection) -> list[Build]:
    """Builds of ``projection`` at this code's version being folded now, by a builder that is still writing."""
    fresh = now() - LEASE
    return list(Build.select().where((Build.model == projection.name) & (Build.version == projection.version)
                                     & (Build.state == BUILDING) & (Build.updated_at > fresh)))


def claim(projection: Projection, builder: str, *, unless_built: bool = False) -> Build | None:
    """A new build of ``projection`` at its version, ``building``, with its tables created empty.

    ``unless_built``: None instead when this version already has a build
    served or one being folded by a live builder (two processes starting at
    once fold it once). The check and the claim hold the read model's
    registry rows locked, so the second process sees the first one's claim.
    """
    for _ in range(10):  # two processes claiming at once pick the same number: the second tries the next
        try:
            with tables.exclusive():
                mine = Build.select().where(Build.model == projection.name)
                rows = list(mine.for_update() if tables.is_postgres() else mine)
                if unless_built and any(
                        r.version == projection.version and (r.state in (READY, RETIRED) or (
                            r.state == BUILDING and r.updated_at is not None and r.updated_at > now() - LEASE))
                        for r in rows):
                    return None
                number = max((r.build or 0 for r in rows), default=0) + 1
                tag = f"v{projection.version}b{number}"
                names = ",".join(binding.physical(tables.base_name(m), tag) for m in projection.models)
                row = Build.create(name=binding.key(projection.name, tag), model=projection.name,
                                   version=projection.version, build=number, state=BUILDING, builder=builder,
                                   created_at=now(), updated_at=now(), position=0, folded=0, tables=names)
            break
        except IntegrityError:
            continue
    else:
        raise RuntimeError(f"could not claim a new build of {projection.name}")
    with binding.bound({projection.name: row.tag}):
        projection.drop_tables()  # left by a crash between creating them and recording the build
        projection.create_tables()
    quarantine.clear_build(row.name)
    return row


def progressed(key: str, folded: int, target: int) -> None:
    """A builder's mark: how far its bulk fold got, and that it is alive (``LEASE``)."""
    Build.update(folded=folded, target=target, updated_at=now()).where(Build.name == key).execute()


def swap(projection: Projection, row: Build) -> None:
    """Make ``row`` (a build that reached the head, locked by the caller) current; retire what it supersedes.

    Called inside the transaction that folded its last events, so readers
    switch from a complete build to a complete build. A build of an older
    version than the ready one (a process of older code rebuilding its own)
    is served by that code only, so it is retired at once.
    """
    at = now()
    others = list(Build.select().where((Build.model == projection.name) & (Build.name != row.name)
                                       & Build.state.in_([READY, RETIRED])))
    newest = max((o.version for o in others if o.state == READY), default=None)
    row.state = READY if newest is None or row.version >= newest else RETIRED
    row.retired_at = at if row.state == RETIRED else None
    row.updated_at = at
    row.save()
    if row.state == READY:
        Build.update(state=RETIRED, retired_at=at).where(
            (Build.model == projection.name) & (Build.state == READY) & (Build.name != row.name)).execute()
    # Older builds of the same version are superseded for every reader at once: their grace starts now.
    Build.update(retired_at=at).where(
        (Build.model == projection.name) & (Build.version == row.version) & (Build.state == RETIRED)
        & (Build.name != row.name) & (Build.build < row.build) & (Build.retired_at.is_null())).execute()


def drop(row: Build, projection: Projection | None = None) -> bool:
    """Drop a build's tables and set-aside events (in one transaction); False if another process did first."""
    with tables.exclusive():
        done = Build.update(state=DROPPED, updated_at=now()).where(
            (Build.name == row.name) & (Build.state == row.state)).execute()
        if not done:
            return False
        names = [n for n in (row.tables or "").split(",") if n]
        if not names and projection is not None:  # build 0, recorded before builds were: the plain names
            names = [binding.physical(tables.base_name(m), row.tag) for m in projection.models]
        for name in reversed(names):
            tables.execute(f"DROP TABLE IF EXISTS {name}")
        quarantine.clear_build(row.name)
    log.info("dropped the tables of %s (version %s, %s)", row.name, row.version, row.state)
    return True


def cleanup(projections: Sequence[Projection], *, grace: timedelta = GRACE, stale: timedelta = STALE,
            unserved_only: bool = False) -> list[str]:
    """Drop builds no process reads any more, and builds whose builder died; return their keys.

    Never one this process serves. A retired build goes once no reader has
    named it for ``stale`` and it has been retired for ``grace``.
    ``unserved_only`` leaves alone every read model some serving process
    reads: its processes drop what they retired, after their own grace (a
    request of theirs may have begun on it just before they switched).
    """
    moment = now()
    fresh = list(Reader.select(Reader.build, Reader.model).where(Reader.seen_at > moment - stale))
    readers = {r.build for r in fresh}
    served = {r.model for r in fresh} if unserved_only else set()
    ours = {binding.key(name, tag) for name, tag in binding.serving().items()}
    candidates = list(Build.select().where(
        ((Build.state == RETIRED) & ((Build.retired_at.is_null()) | (Build.retired_at <= moment - grace)))
        | ((Build.state == BUILDING) & (Build.updated_at <= moment - LEASE))))
    by_name = {p.name: p for p in projections}
    dropped = []
    for row in candidates:
        if row.name in readers or row.name in ours or row.model in served:
            continue
        if row.state == RETIRED and row.retired_at is None:  # retired by older code, before grace was kept: now
            Build.update(retired_at=moment).where(Build.name == row.name).execute()
            continue
        if drop(row, by_name.get(row.model or "")):
            dropped.append(row.name)
    Reader.delete().where(Reader.seen_at < moment - FORGET).execute()
    return dropped


def abandon(rows: Iterable[Build], projections: Sequence[Projection]) -> None:
    """Drop builds a failed or interrupted rebuild leaves half folded (nobody read them)."""
    by_name = {p.name: p for p in projections}
    for row in rows:
        try:
            drop(row, by_name.get(row.model or ""))
        except Exception:  # the database went away: the lease runs out and a later cleanup drops it
            log.warning("could not drop the abandoned build %s", row.name, exc_info=True)


def record_readers(process: str, projections: Iterable[Projection]) -> None:
    """Say that ``process`` reads, for each read model, the build this context names (see ``cleanup``)."""
    at = now()
    for projection in projections:
        tag = binding.tag_of(projection.name)
        values = {"build": binding.key(projection.name, tag), "version": projection.version, "seen_at": at}
        Reader.insert(process=process, model=projection.name, **values).on_conflict(
            conflict_target=[Reader.process, Reader.model],
            update={getattr(Reader, k): v for k, v in values.items()}).execute()


def forget_reader(process: str) -> None:
    """A process that stops says so: its builds need not wait for its silence to be dropped."""
    Reader.delete().where(Reader.process == process).execute()


@dataclass(frozen=True)
class BuildStatus:
    """One build as /status and ``chronology status`` show it."""

    key: str
    model: str
    version: int
    build: int
    state: str
    position: int
    head: int
    folded: int | None
    target: int | None
    readers: int
    served_here: bool
    updated_at: datetime | None

    @property
    def phase(self) -> str:
        """Where a build is: refolding (how many events so far), catching up, or level with the log."""
        if self.state == BUILDING and self.position == 0:
            return f"refolding: {self.folded or 0} events folded of a log of {self.target or self.head}"
        if self.state == BUILDING:
            return f"catching up: at position {self.position} of {self.head}"
        return f"at position {self.position} of {self.head}, lag {self.head - self.position}"

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "version": self.version, "build": self.build, "state": self.state,
                "checkpoint": self.position, "lag": self.head - self.position, "folded": self.folded,
                "refolding_up_to": self.target, "readers": self.readers, "served_here": self.served_here,
                "progress": self.phase, "updated_at": self.updated_at.isoformat() if self.updated_at else None}


def statuses(projections: Iterable[Projection], head: int) -> dict[str, list[BuildStatus]]:
    """Every build that has tables, per read model, newest first, with how many processes read it."""
    moment = now()
    counts: dict[str, int] = {}
    for reader in Reader.select(Reader.build).where(Reader.seen_at > moment - STALE):
        counts[reader.build] = counts.get(reader.build, 0) + 1
    names = [p.name for p in projections]
    out: dict[str, list[BuildStatus]] = {name: [] for name in names}
    rows = Build.select().where(Build.model.in_(names) & (Build.state != DROPPED)).order_by(
        Build.version.desc(), Build.build.desc())
    for row in rows:
        model = str(row.model)
        served = binding.key_of(model) == row.name
        out[model].append(BuildStatus(row.name, model, row.version, row.build or 0, str(row.state), row.position,
                                      head, row.folded, row.target, counts.get(row.name, 0), served, row.updated_at))
    return out
