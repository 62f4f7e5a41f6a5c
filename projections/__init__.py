"""Read models folded from the log: agreements, exercises, meetings, timeline, tallies of subjects, coverage,
source documents.

Each owns its tables and a checkpoint; ``catch_up`` brings them level with the
log, ``rebuild`` folds again from position 0. Every read model implements one
protocol (``base.Projection``: name, version, tables, fold, refold, and
``changes(now, ...)`` with its feed's title) and is listed once, in
``READ_MODELS``: the pages, feeds, status and the rebuild command iterate over
it. Imports ``events`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeGuard

from . import runner
from .agreements import Agreements
from .base import Projection
from .changes import ChangeLog
from .coverage import Coverage
from .documents import Documents
from .exercises import Exercises
from .meetings import Meetings
from .tallies import Tallies
from .timeline import Timeline

#: Every read model, in the order status lists them and a rebuild folds them.
READ_MODELS: tuple[Projection, ...] = (Agreements(), Exercises(), Meetings(), Timeline(), Tallies(), Coverage(),
                                        Documents())
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


def ensure_schema() -> None:
    """Create the read models' tables; one whose version changed is emptied to rebuild."""
    runner.ensure_schema(READ_MODELS)


def catch_up(*, rounds: int | None = None, batch: int = runner.BATCH, wait: bool = True) -> int:
    """Fold new events into every read model (at most ``rounds`` batches); return how many applications were made."""
    return runner.catch_up_together(READ_MODELS, rounds=rounds, batch=batch, wait=wait)


def lag() -> int:
    """How many events the read model furthest behind has yet to fold."""
    return max((s.lag for s in status()), default=0)


def rebuild(name: str | None = None, progress: Callable[[str, int], None] | None = None) -> None:
    """Fold one read model (or all) again from position 0."""
    runner.rebuild_together([get(name)] if name else READ_MODELS, progress=progress)


def status() -> list[runner.Status]:
    return runner.status(READ_MODELS)
