"""Which build of each read model's tables a statement names: the one this process serves, or one being built.

Each version of a read model (and each rebuild of it) folds into tables of
its own, named with a tag (``agreement_stage_v2b3``: version 2, build 3), so
a new build fills while the one before keeps serving. The peewee models keep
their plain names (``AgreementStage``, ``agreement_stage``); which tables a
name means is decided here, per context:

- ``bound(...)`` names other builds for the code inside it (a rebuild folds
  into its new tables in one thread while other threads read the old ones);
- ``pinned()`` holds one set for the length of a request, so a request never
  reads half from one build and half from the next;
- otherwise the process's serving set, which ``serve`` replaces in one
  assignment when a new build is made current.

Threads start with no binding of their own and read the serving set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from peewee import Metadata, Table

from events import tables
from events.tables import BaseModel

#: Read model name → tag, for the code running in this context (a rebuild's new builds, or a request's pin).
_bound: ContextVar[Mapping[str, str] | None] = ContextVar("read_model_builds", default=None)
#: Read model name → tag this process serves, and the database (``tables.generation``) it was read from.
_serving: dict[str, Any] = {"tags": None, "generation": -1}
#: Reads the serving set from the registry (``builds.serving_tags``); set by ``builds`` at import.
_loader: list[Callable[[], dict[str, str]]] = []


def physical(base: str, tag: str) -> str:
    """The name of a table of one build: the model's own name, then the build's tag (none for the first tables)."""
    return f"{base}_{tag}" if tag else base


def key(read_model: str, tag: str) -> str:
    """How the registry and the set-aside events name one build of a read model."""
    return f"{read_model}@{tag}" if tag else read_model


def serving() -> dict[str, str]:
    """The builds this process serves, read from the registry the first time (and again on another database)."""
    tags = _serving["tags"]
    if tags is None or _serving["generation"] != tables.generation():
        tags = _loader[0]() if _loader else {}
        serve(tags)
    return tags  # type: ignore[no-any-return]


def serve(tags: Mapping[str, str]) -> None:
    """Make ``tags`` the builds this process serves: one assignment, so a reader sees the old set or the new."""
    _serving["tags"] = dict(tags)
    _serving["generation"] = tables.generation()


def load_with(loader: Callable[[], dict[str, str]]) -> None:
    """How to read the serving set from the registry (``projections`` gives it, knowing every read model)."""
    _loader[:] = [loader]


def forget() -> None:
    """Read the serving set from the registry again at the next use."""
    _serving["tags"] = None


def tag_of(read_model: str) -> str:
    """The tag of the build of ``read_model`` that statements in this context name."""
    bound = _bound.get()
    if bound is not None and read_model in bound:
        return bound[read_model]
    return serving().get(read_model, "")


def key_of(read_model: str) -> str:
    return key(read_model, tag_of(read_model))


def current() -> dict[str, str]:
    """Every read model's tag in this context (the serving set, with whatever this context binds otherwise)."""
    return {**serving(), **(_bound.get() or {})}


@contextmanager
def bound(tags: Mapping[str, str]) -> Iterator[None]:
    """Name the builds ``tags`` (read model → tag) for the code inside, in this context only."""
    token = _bound.set({**(_bound.get() or {}), **tags})
    try:
        yield
    finally:
        _bound.reset(token)


def pin() -> Token[Mapping[str, str] | None]:
    """Hold this context to the builds served now, until ``unpin``: a request reads one build from start to end."""
    return _bound.set(current())


def unpin(token: Token[Mapping[str, str] | None]) -> None:
    _bound.reset(token)


def hold(tags: Mapping[str, str]) -> None:
    """Name the builds ``tags`` for the rest of this context (a worker process that folds nothing else)."""
    _bound.set({**(_bound.get() or {}), **tags})


class VersionedMetadata(Metadata):
    """A read model table's peewee metadata: its name is the build this context names, not a fixed one."""

    def __init__(self, model: type, *args: Any, **kwargs: Any) -> None:
        self._tables: dict[str, Table] = {}
        self.base_name = ""
        #: The read model whose tables these are; set by ``base.Projection`` when the read model is defined.
        self.read_model: str | None = None
        super().__init__(model, *args, **kwargs)

    @property
    def table_name(self) -> str:
        return physical(self.base_name, tag_of(self.read_model)) if self.read_model else self.base_name

    @table_name.setter
    def table_name(self, value: str) -> None:
        self.base_name = value

    @property
    def table(self) -> Table:
        name = self.table_name
        table = self._tables.get(name)
        if table is None:
            table = Table(name, [field.column_name for field in self.sorted_fields], schema=self.schema,
                          _model=self.model, _database=self.database)
            self._tables[name] = table
        return table

    @table.setter
    def table(self, value: Any) -> None:
        raise AttributeError('Cannot set the "table".')

    @table.deleter
    def table(self) -> None:
        self._tables = {}


class ViewModel(BaseModel):
    """The base of every read model's tables: named per build (``VersionedMetadata``)."""

    class Meta:
        model_metadata_class = VersionedMetadata
