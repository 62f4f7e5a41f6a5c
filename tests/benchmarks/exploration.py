"""Finding and exporting: search as the log grows, the timeline's CSV against a raw scan, the search rebuild.

search.p50              GET /search?q=... (the page a reader waits for: count, facets, first 20 results with
                        their snippets) on the 1M-event log vs the same on a 1k log; ms, goal <= 1.5. Both logs
                        hold the same 20 facts naming a place no generated event names ("Lanvéoc"), so the
                        question has the same answer at both sizes: what grows is only what the index must skip.
                        The same query's JSON (/api/search) is in the params, and so is a broad query ("france",
                        thousands of matches at 1M, its facets counted over the first 10,000).
exports.timeline_csv    GET /timeline.csv of the 1M-event timeline, read to the last byte, vs a raw scan of the
                        same rows (sqlite3, the same join and order) written with Python's csv module; rows/s,
                        goal >= 0.5.
projections.rebuild_search
                        the search read model rebuilt from position 0 on the 1M-event log vs a raw sqlite3 scan
                        + orjson decode of the same rows (the baseline of projections.rebuild); events/s. Its own
                        figure: projections.rebuild keeps measuring the five read models it always measured.

The shared log is never written to: each figure works on a copy.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path

import events
import projections
from projections import tables, timeline

from . import workload
from .harness import Context, Timing, area, compare, log, report
from .projections import _close, _copy, _raw_scan, _remove

NEEDLE = "Lanvéoc"
NEEDLES = 20
QUERY = "lanveoc"
BROAD = "france"


def _needles() -> list[events.NewEvent]:
    """The same twenty facts at both sizes, each naming the needle place once."""
    out = []
    for i in range(NEEDLES):
        out.append(events.NewEvent(
            f"exercise/needle-{i % 4}", "ExerciseConducted", f"{2001 + i}-0{1 + i % 9}",
            {"title": f"Naval air exercise {i} from the base", "place": f"{NEEDLE}-Poulmic",
             "participants": [{"name": "French Navy", "role": "host"}], "domains": ["maritime"]},
            [{"url": "https://example.org/needle", "quote": f"aircraft flew from {NEEDLE}", "kind": "press",
              "language": "fr"}],
            str(uuid.UUID(int=i + 1, version=4))))
    return out


def _prepare(path: Path, names: list[str]) -> None:
    """Append the needles and fold the named read models (their bulk rebuild) on the copy at ``path``."""
    events.connect(f"sqlite:///{path}")
    try:
        projections.ensure_schema()
        events.append(_needles(), author=workload.AUTHOR)
        for name in names:
            projections.rebuild(name, grace=timedelta(0))
    finally:
        _close()


class _Site:
    def __init__(self, path: Path) -> None:
        from service import create_app

        self.url = f"sqlite:///{path}"
        self.app = create_app({"DATABASE_URL": self.url, "TESTING": True, "SECRET_KEY": "bench"})
        self.client = self.app.test_client()

    def get(self, path: str) -> float:
        events.connect(self.url)
        start = time.perf_counter()
        response = self.client.get(path)
        response.get_data()
        took = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
        return took


def _alternate(small: _Site, big: _Site, path: str, rounds: int) -> tuple[Timing, Timing]:
    """``path`` on both sites in alternating rounds (a burst of noise hits both); warmed first."""
    for site in (small, big):
        site.get(path)
    mine, theirs = Timing(), Timing()
    for i in range(rounds):
        order = ((mine, big), (theirs, small)) if i % 2 == 0 else ((theirs, small), (mine, big))
        for timing, site in order:
            timing.samples.append(site.get(path))
    return mine, theirs


def bench_search(ctx: Context, big_db: Path, count: int) -> None:
    small_db = ctx.workdir / "search-small.sqlite3"
    _remove(small_db)
    workload.build_log(f"sqlite:///{small_db}", 1000)
    _close()
    _prepare(small_db, ["search"])
    small, big = _Site(small_db), _Site(big_db)
    rounds = ctx.repeat(60, 10)
    page, page_small = _alternate(small, big, f"/search?q={QUERY}", rounds)
    api, api_small = _alternate(small, big, f"/api/search?q={QUERY}", rounds)
    broad, broad_small = _alternate(small, big, f"/search?q={BROAD}", ctx.repeat(20, 5))
    p50 = statistics.median
    report("search.p50", p50(page.samples) * 1000, p50(page_small.samples) * 1000, "ms", goal=1.5,
           higher_is_better=False, ours=page, theirs=page_small,
           note=f"/search?q={QUERY} ({NEEDLES} matches at both sizes) at {count} events vs 1k",
           params={"events": count, "baseline_events": 1000, "rounds": rounds,
                   "api_p50_ms": p50(api.samples) * 1000, "api_small_p50_ms": p50(api_small.samples) * 1000,
                   "broad_query": BROAD, "broad_p50_ms": p50(broad.samples) * 1000,
                   "broad_small_p50_ms": p50(broad_small.samples) * 1000})
    _remove(small_db)


def _raw_csv(path: Path, table: str) -> int:
    """The baseline: the timeline's rows in its order straight from sqlite3, written with Python's csv module.

    ``table`` is the timeline's table of the build served (``projections.tables.name``).
    """
    conn = sqlite3.connect(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    n = 0
    try:
        for row in conn.execute("SELECT t.position, e.event_id, t.stream, t.lane, e.type, COALESCE(t.data, e.data), "
                                f"t.occurred, t.lo, t.hi, t.sort_key FROM {table} t "
                                "JOIN event e ON e.position = t.position ORDER BY t.sort_key"):
            writer.writerow(row)
            n += 1
            if n % 2000 == 0:
                buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        buffer.getvalue().encode("utf-8")
    finally:
        conn.close()
    return n


def bench_timeline_csv(ctx: Context, db: Path) -> None:
    site = _Site(db)
    events.connect(site.url)
    table = tables.name(timeline.TimelineEntry)
    rows = _raw_csv(db, table)

    def ours() -> None:
        events.connect(site.url)
        response = site.client.get("/timeline.csv")
        size = sum(len(chunk) for chunk in response.response)
        if response.status_code != 200 or size < rows * 40:
            raise RuntimeError(f"/timeline.csv answered {response.status_code} with {size} bytes")

    mine, theirs = compare(ours, lambda: _raw_csv(db, table), ctx.repeat(3), label="exports.timeline_csv")
    report("exports.timeline_csv", rows / mine.median, rows / theirs.median, "rows/s", goal=0.5, ours=mine,
           theirs=theirs, note=f"/timeline.csv of {rows} rows, streamed, vs sqlite3 + csv.writer on the same rows",
           params={"rows": rows, "baseline": "sqlite3 SELECT timeline_entry JOIN event ORDER BY sort_key + csv.writer"})


def bench_rebuild_search(ctx: Context, db: Path, count: int) -> None:
    events.connect(f"sqlite:///{db}")
    projections.ensure_schema()
    try:
        total = events.store.head_position()
        mine, theirs = compare(lambda: projections.rebuild("search", grace=timedelta(0)),
                               lambda: _raw_scan(db, total), ctx.repeat(3), label="projections.rebuild_search")
    finally:
        _close()
    report("projections.rebuild_search", total / mine.median, total / theirs.median, "events/s", goal=0.5,
           ours=mine, theirs=theirs, note=f"the search read model rebuilt on {total} events vs a raw scan",
           params={"events": total, "baseline": workload.RAW_SCAN})


@area("exploration")
def exploration_area(ctx: Context) -> None:
    count = ctx.size(1_000_000, 5_000)
    source, _ = workload.shared_log(ctx, count)
    db = _copy(source, ctx.workdir / "exploration.sqlite3")
    started = time.perf_counter()
    _prepare(db, ["search", "timeline"])
    log(f"needles appended, search and timeline folded in {time.perf_counter() - started:.0f}s")
    bench_search(ctx, db, count)
    bench_timeline_csv(ctx, db)
    bench_rebuild_search(ctx, db, count)
    _remove(db)
    log(f"exploration area took {time.perf_counter() - started:.0f}s")

