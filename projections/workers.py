"""A rebuild's worker processes: the subjects of a read model folded in several processes, written by one.

What an agreement or a meeting mechanism becomes depends on its own events
alone, so its subjects can be folded apart. The rebuilding process cuts them
into ranges of whole subjects (``events.derived.subject_ranges``); each
worker reads its range from the log, folds it with the read model's own
``apply_batch`` and hands back the writes it would have made
(``tables.captured``); the rebuilding process, the one writer, runs them in
order. The rows are those a fold in one process makes (the tests compare).

Workers are forked from a fork server (a clean process with the code
imported), never from the rebuilding process itself: that one may be
serving requests in other threads, and a child forked while another thread
is inside SQLite or a lock inherits the lock held, forever. Each worker
connects to the database afresh.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import TYPE_CHECKING, Any

import events
from events import derived, store

from . import binding, tables

if TYPE_CHECKING:
    from .base import Projection

__all__ = ["Pool", "WorkerFailed", "pool", "refold"]

#: Events of a read model's subjects per task: small enough to keep every worker busy to the end and the writes
#: in flight small, large enough that handing them over costs little.
SHARE = 5_000


#: How long the writer waits for one range before it gives the bulk fold up (a worker killed by the system
#: never answers; the read model is then folded event by event, as after any failed bulk fold).
WAIT_SECONDS = 600


@contextmanager
def pool(processes: int) -> Iterator[Pool]:
    """``processes`` workers on this process's database, each naming the builds this context names."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["projections"])
    with context.Pool(processes, _start, (tables.database_url(), binding.current())) as workers:
        yield workers


def _start(url: str, tags: Mapping[str, str]) -> None:
    """In each worker: a connection to the rebuilding process's database, and the builds the rebuild folds."""
    events.connect(url)
    binding.hold(tags)


class WorkerFailed(Exception):
    """A worker could not fold its range: the read model's bulk fold fails, and it is folded event by event."""


def _fold_share(task: tuple[Projection, int, str | None, str]) -> tuple[int, tables.Writes] | str:
    """Fold one range of subjects (in a worker): how many events it read and the writes it made, or why it failed.

    A failure comes back as text: an exception need not survive pickling
    (one that does not would leave the writer waiting for an answer).
    """
    projection, upto, after, through = task
    assert projection.kind is not None
    count = 0
    try:
        with tables.captured() as writes:
            for batch in store.subjects(projection.kind, upto, after=after, through=through):
                projection.apply_batch(batch)
                count += len(batch)
    except Exception as exc:
        return "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return count, writes


def refold(projection: Projection, upto: int, workers: Pool, window: int | None = None) -> Iterator[int]:
    """``Projection.refold`` of a read model whose subjects fold apart, by ``workers``, yielding as it writes.

    At most ``window`` ranges are in flight (twice the workers by default),
    so the writes waiting for the writer stay few however long the log.
    """
    assert projection.kind is not None
    shares = [(projection, upto, after, through)
              for after, through in derived.subject_ranges(projection.kind, upto, SHARE)]
    window = window or 2 * max(1, getattr(workers, "_processes", 2))
    waiting: deque[Any] = deque()
    done = 0
    for share in shares:
        waiting.append(workers.apply_async(_fold_share, (share,)))
        if len(waiting) >= window:
            done += _write(waiting.popleft().get(WAIT_SECONDS))
            yield done
    while waiting:
        done += _write(waiting.popleft().get(WAIT_SECONDS))
        yield done


def _write(result: tuple[int, tables.Writes] | str) -> int:
    if isinstance(result, str):
        raise WorkerFailed(result)
    count, writes = result
    tables.replay(writes)
    return count
