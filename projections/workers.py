"""A rebuild's worker processes: the subjects of a read model folded in several processes, written by one.

What an agreement or a meeting mechanism becomes depends on its own events
alone, so its subjects can be folded apart. The rebuilding process cuts them
into ranges of whole subjects (``events.derived.subject_ranges``); each
worker reads its range from the log, folds it with the read model's own
``apply_batch`` and hands back the writes it would have made
(``tables.captured``); the rebuilding process, the one writer, runs them in
order. The rows are those a fold in one process makes (the tests compare).

Each worker is a fresh interpreter (``python -c``) talking over its stdin
and stdout, never a fork of the rebuilding process: that one may be serving
requests in other threads, and a child forked while another thread holds a
lock (inside SQLite, say) holds it forever. Nor does it run the caller's
main script again, as multiprocessing's other start methods do.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

import events
from events import derived, store

from . import binding, tables
from .tuning import fewer_collections, relaxed_sqlite

if TYPE_CHECKING:
    from .base import Projection

__all__ = ["Pool", "Shares", "WorkerFailed", "pool"]

#: Events of a read model's subjects per task: small enough to keep every worker busy to the end and the writes
#: in flight small, large enough that handing them over costs little.
SHARE = 5_000
#: Ranges handed to each worker ahead of the one it folds, so it never waits for the writer to ask.
AHEAD = 2
#: How long the writer waits for one range before it gives the bulk fold up (a worker the system killed never
#: answers; the read model is then folded event by event, as after any failed bulk fold).
WAIT_SECONDS = 600
WORKER = "import projections; from projections.workers import serve; serve(projections.get)"


class WorkerFailed(Exception):
    """A worker could not fold its range: the read model's bulk fold fails, and it is folded event by event."""


class _Worker:
    """One worker process and the ranges it was handed, oldest first."""

    def __init__(self, url: str | None, tags: Mapping[str, str]) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # this process's code
        self.process = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env)
        self.inbox: IO[bytes] = self.process.stdin  # type: ignore[assignment]
        self.outbox: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        self.pending = 0
        self.send((url, dict(tags)))

    def send(self, message: Any) -> None:
        pickle.dump(message, self.inbox, protocol=pickle.HIGHEST_PROTOCOL)
        self.inbox.flush()

    def ready(self) -> bool:
        return bool(select.select([self.outbox], [], [], 0)[0])

    def receive(self) -> Any:
        if not select.select([self.outbox], [], [], WAIT_SECONDS)[0]:
            raise WorkerFailed(f"a worker gave no answer in {WAIT_SECONDS} s")
        try:
            return pickle.load(self.outbox)
        except EOFError:
            raise WorkerFailed(f"a worker ended (exit status {self.process.wait()})") from None

    def stop(self) -> None:
        try:
            self.inbox.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.outbox.close()


class Pool:
    """Worker processes on this process's database, each naming the builds this context names."""

    def __init__(self, processes: int) -> None:
        url, tags = tables.database_url(), binding.current()
        self.workers = [_Worker(url, tags) for _ in range(processes)]

    def submit(self, task: tuple[str, int, str | None, str]) -> _Worker:
        """Hand a range to the worker with the fewest in hand; its answers come back in the order it was handed."""
        worker = min(self.workers, key=lambda w: w.pending)
        worker.send(task)
        worker.pending += 1
        return worker

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()


@contextmanager
def pool(processes: int) -> Iterator[Pool]:
    """``processes`` workers for the length of a rebuild."""
    workers = Pool(processes)
    try:
        yield workers
    finally:
        workers.close()


class Shares:
    """The bulk fold of one read model by the workers, written here a range at a time, in order.

    At most ``AHEAD`` ranges per worker are in flight: the writes waiting for
    the writer stay few however long the log, and each worker has its next
    range in hand while the writer is busy.
    """

    def __init__(self, projection: Projection, upto: int, workers: Pool) -> None:
        assert projection.kind is not None
        self.workers = workers
        self.todo = deque((projection.name, upto, after, through)
                          for after, through in derived.subject_ranges(projection.kind, upto, SHARE))
        self.window = AHEAD * len(workers.workers)
        self.waiting: deque[_Worker] = deque()
        self.done = 0
        self._submit()

    def _submit(self) -> None:
        while self.todo and len(self.waiting) < self.window:
            self.waiting.append(self.workers.submit(self.todo.popleft()))

    def ready(self) -> bool:
        """Whether ``next`` would not wait: the oldest range is folded (or none is left)."""
        return not self.waiting or self.waiting[0].ready()

    def next(self) -> int | None:
        """Write the oldest range's rows (waiting for it if need be); how many events are folded so far, or None."""
        if not self.waiting:
            return None
        worker = self.waiting.popleft()
        result = worker.receive()
        worker.pending -= 1
        self._submit()
        if isinstance(result, str):
            raise WorkerFailed(result)
        count, writes = result
        tables.replay(writes)
        self.done += count
        return self.done


# --- in the worker ---------------------------------------------------------------------


def serve(read_model: Callable[[str], Projection]) -> None:
    """A worker's life: connect as told, then fold each range it is handed until its input ends.

    ``read_model`` finds a read model by name (``projections.get``, given by the worker's command line, so this
    module never imports the package that imports it).
    """
    inbox, outbox = sys.stdin.buffer, os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever else prints goes to stderr, not into the answers
    url, tags = pickle.load(inbox)
    events.connect(url)
    binding.hold(tags)
    with relaxed_sqlite(), fewer_collections():  # the rebuild's own settings: its page cache, its collector
        while True:
            try:
                name, upto, after, through = pickle.load(inbox)
            except EOFError:
                return
            pickle.dump(_fold_share(read_model(name), upto, after, through), outbox,
                        protocol=pickle.HIGHEST_PROTOCOL)
            outbox.flush()


def _fold_share(projection: Projection, upto: int, after: str | None, through: str) -> tuple[int, Any] | str:
    """Fold one range of subjects: how many events it read and the writes it made, or why it failed.

    A failure comes back as text: an exception need not survive pickling.
    """
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
