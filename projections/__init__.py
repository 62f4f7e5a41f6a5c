"""Read models folded from the log: agreements, exercises, meetings, timeline, tallies of subjects, coverage, search,
source documents.

Each owns its tables and a checkpoint; ``catch_up`` brings them level with the
log, ``rebuild`` folds again from position 0 into new tables while the old ones
keep serving (``builds``, ``binding``). Every read model implements one
protocol (``base.Projection``: name, version, tables, fold, refold, and
``changes(now, ...)`` with its feed's title) and is listed once, in
``READ_MODELS``: the pages, feeds, status and the rebuild command iterate over
it. Imports ``events`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Token
from datetime import timedelta
from typing import Any, TypeGuard

from . import binding, builds, runner
from .agreements import Agreements
from .base import Projection
from .changes import ChangeLog
from .coverage import Coverage
from .documents import Documents
from .exercises import Exercises
from .meetings import Meetings
from .search import Search
from .tallies import Tallies
from .timeline import Timeline

#: Every read model, in the order status lists them and a rebuild folds them.
READ_MODELS: tuple[Projection, ...] = (Agreements(), Exercises(), Meetings(), Timeline(), Tallies(), Coverage(),
                                       Search(), Documents())
PROJECTIONS: dict[str, Projection] = {p.name: p for p in READ_MODELS}


def get(name: str) -> Projection:
    if name not in PROJECTIONS:
        raise KeyError(f"no read model named {name!r} (known: {', '.join(PROJECTIONS)})")
    return PROJECTIONS[name]


def with_feeds() -> list[ChangeLog]:
    """The read models that publish a feed of their changes (and announce their calendar changes)."""
    return [p for p in READ_MODELS if _has_feed(p)]


def _has_feed(model: Projection) -> TypeGuard[ChangeLog]:
    # Not isinstance in the comprehension: mypy finds no class both Projection and ChangeLog could have in common,
    # the one's feed_title being None without a feed and the other's always a title.
    return isinstance(model, ChangeLog)


binding.load_with(lambda: builds.serving_tags(READ_MODELS))


def create_tables() -> None:
    """The read models' registry and bookkeeping tables, without folding anything (``status`` needs no more)."""
    runner.create_tables(READ_MODELS)


def ensure_schema(*, workers: int | None = None) -> None:
    """Give each read model a build of this code's version level with the log (folding one if it has none)."""
    runner.ensure_schema(READ_MODELS, workers=workers)


def catch_up(*, rounds: int | None = None, batch: int = runner.BATCH, wait: bool = True) -> int:
    """Fold new events into every read model (at most ``rounds`` batches); return how many applications were made."""
    return runner.catch_up_together(READ_MODELS, rounds=rounds, batch=batch, wait=wait)


def lag() -> int:
    """How many events the read model furthest behind has yet to fold (of the builds this process serves)."""
    return runner.lag(READ_MODELS)


def rebuild(name: str | None = None, progress: Callable[[str, int], None] | None = None,
            workers: int | None = None, grace: timedelta = builds.GRACE) -> None:
    """Fold one read model (or all) again from position 0 into new tables, served once they reach the head.

    ``grace``: how long the tables it replaces stay for requests of this process that began before.
    """
    runner.rebuild_together([get(name)] if name else READ_MODELS, progress=progress, workers=workers, grace=grace)


def status() -> list[runner.Status]:
    return runner.status(READ_MODELS)


def heartbeat(process: str, *, grace: timedelta = builds.GRACE) -> list[str]:
    """A serving process's periodic round (see ``runner.heartbeat``); returns the builds it dropped."""
    return runner.heartbeat(READ_MODELS, process, grace=grace)


def refresh() -> dict[str, str]:
    """Serve the newest build of each read model at this code's version (another process may have rebuilt it)."""
    return runner.refresh(READ_MODELS)


def pin() -> Token[Any]:
    """Hold this context (a request) to the builds served now, until ``unpin``."""
    return binding.pin()


def unpin(token: Token[Any]) -> None:
    binding.unpin(token)


def process_name() -> str:
    """This process as the registry records readers and builders: host:pid."""
    return builds.process_name()


def forget_reader(process: str) -> None:
    """A serving process that stops says so, so the builds only it read can go at once."""
    builds.forget_reader(process)
