"""Several real processes writing to one log, and one killed in the middle of a batch."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest

import events
from events.integrity import verify

pytestmark = pytest.mark.slow

SOURCE = [{"url": "https://example.org/test", "quote": "a verbatim quote"}]


def _appender(url: str, seed: int, total: int, queue) -> None:
    """Append ``total`` events in random batches to a few shared streams; report the ids acknowledged."""
    os.environ["CHRONOLOGY_SQLITE_SYNCHRONOUS"] = "NORMAL"
    events.connect(url)
    rng = random.Random(seed)
    acknowledged: list[str] = []
    while len(acknowledged) < total:
        size = min(rng.randint(1, 25), total - len(acknowledged))
        batch = [
            events.NewEvent(f"exercise/series-{rng.randint(1, 5)}", "ExerciseConducted", f"{rng.randint(1990, 2030)}",
                            {"title": f"edition {seed}-{len(acknowledged) + i}"}, SOURCE, str(uuid.uuid4()))
            for i in range(size)
        ]
        recorded = events.append(batch, author=f"writer-{seed}")
        acknowledged.extend(e.event_id for e in recorded)
    events.db.database.close()
    queue.put(acknowledged)


def test_concurrent_appenders_leave_one_gap_free_log(log):
    workers, each = 4, 1500
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_appender, args=(log, seed, each, queue)) for seed in range(workers)]
    for p in procs:
        p.start()
    acknowledged = [event_id for _ in procs for event_id in queue.get(timeout=300)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    recorded = list(events.read_all())
    assert [e.position for e in recorded] == list(range(1, workers * each + 1))
    assert sorted(e.event_id for e in recorded) == sorted(acknowledged)
    assert len(set(acknowledged)) == workers * each
    for stream, version in events.streams():
        assert [e.version for e in events.read_stream(stream)] == list(range(1, version + 1))
    assert verify().ok


KILLED_WRITER = textwrap.dedent("""
    import sys, uuid
    import events
    from events import store

    events.connect(sys.argv[1])
    source = [{"url": "https://example.org/test", "quote": "a verbatim quote"}]
    def batch(n, label):
        return [events.NewEvent("exercise/pegase", "ExerciseConducted", "2023", {"title": f"{label} {i}"}, source)
                for i in range(n)]
    events.append(batch(10, "committed"), author="writer")
    original = store._record
    def announcing(cursor, prepared, author):
        rows = original(cursor, prepared, author)
        print("inside the write transaction, inserting", flush=True)  # the kill lands mid-insert
        return rows
    store._record = announcing
    events.append(batch(100_000, "doomed"), author="writer")
    print("committed the doomed batch", flush=True)
""")


def test_a_writer_killed_mid_batch_leaves_no_partial_batch(log):
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, log], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inside the write transaction, inserting"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    events.connect(log)
    recorded = list(events.read_all())
    assert [e.title for e in recorded] == [f"committed {i}" for i in range(10)]
    assert verify().ok
    # The lock died with the writer: the log takes appends again.
    events.append([events.NewEvent("exercise/pegase", "ExerciseConducted", "2023", {"title": "after"}, SOURCE)],
                  author="survivor")
    assert events.head().position == 11
