"""The service's latencies at a small log against the same at a big one.

service.<page>.p50/.p99   GET of each read-model page (/agreements, /exercises, /timeline: whichever are
                          routed) with the Flask test client, on a log of 1M events vs 1k; ms, goal <= 1.5.
                          Each page is fetched bare, so it shows its default page (20 agreements, 20 series,
                          300 timeline entries). /meetings, /subjects and the home page (service.home) are
                          measured the same way: every list view is paged, none may grow with the log.
service.api_append.p50/.p99
                          one POST /api/events (bearer token, append + read-model catch-up) at 1M vs 1k; ms,
                          goal <= 1.5.
service.subject_page.p50  GET /subjects/<stream> of a 50,000-event subject (its first, middle and last page,
                          one correction in a hundred) vs a 100-event subject, in the same database; ms,
                          goal <= 1.5: a page reads its own 60 events and their revisions, not the stream.

The baseline of each figure is the same request on the small log, measured in the same run, in alternating
rounds so a burst of noise hits both. Logs are built with ``workload`` and their read models folded before
anything is timed; the service database is a copy, so appends never touch the shared log.
"""

from __future__ import annotations

import shutil
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import events
import projections

from . import workload
from .harness import Context, Timing, area, log, report

PAGES = ("/agreements", "/exercises", "/timeline", "/meetings", "/subjects", "/")
GOAL = 1.5


@dataclass
class Site:
    """One service database of ``count`` events, its app, a client and an API token."""

    count: int
    url: str
    app: Any
    token: str
    samples: dict[str, list[float]] = field(default_factory=dict)

    def use(self) -> None:
        events.connect(self.url)

    def time(self, key: str, call: Any, n: int) -> None:
        client = self.app.test_client()
        out = self.samples.setdefault(key, [])
        for i in range(n):
            start = time.perf_counter()
            response = call(client, i)
            out.append(time.perf_counter() - start)
            if response.status_code >= 400:
                raise RuntimeError(f"{key} answered {response.status_code} at {self.count} events: "
                                   f"{response.get_data(as_text=True)[:300]}")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_site(ctx: Context, count: int) -> Site:
    from service import create_app, schema
    from service.editing import accounts

    db_path, _ = workload.shared_log(ctx, count)
    target = ctx.workdir / f"service-{count}.sqlite3"
    shutil.copyfile(db_path, target)
    url = f"sqlite:///{target}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    app.instance_path = str(ctx.workdir / f"instance-{count}")
    with app.app_context():
        schema.create_all()
        log(f"folding the read models of the {count}-event log")
        started = time.perf_counter()
        projections.catch_up()
        log(f"read models of {count} events folded in {time.perf_counter() - started:.1f} s")
        accounts.create_editor("bench", "benchmark password")
        token = accounts.create_token("bench")
    return Site(count, url, app, token)


def api_bodies(n: int, seed: int) -> list[dict[str, Any]]:
    return [{"event_id": e.event_id, "stream": e.stream, "type": e.type, "occurred": e.occurred, "data": e.data,
             "sources": e.sources} for e in workload.generate(n, seed=seed)]


@area("service")
def service(ctx: Context) -> None:
    small_count, big_count = 1_000, ctx.size(1_000_000, 10_000)
    small, big = build_site(ctx, small_count), build_site(ctx, big_count)
    with small.app.app_context():
        from service.templating import routed

        pages = [p for p in PAGES if routed(p)]
    missing = sorted(set(PAGES) - set(pages))
    if missing:
        log(f"not routed yet, not measured: {', '.join(missing)}")
    rounds, per_round = ctx.repeat(6, 2), ctx.size(25, 5)
    appends = {site.count: api_bodies(rounds * per_round, seed=9000 + site.count) for site in (small, big)}
    for site in (small, big):  # warm caches and connections once, untimed
        site.use()
        for path in pages:
            site.app.test_client().get(path)
    for r in range(rounds):
        for site in (small, big) if r % 2 == 0 else (big, small):
            site.use()
            for path in pages:
                site.time(path, lambda client, _i, p=path: client.get(p), per_round)
            bodies = appends[site.count][r * per_round:(r + 1) * per_round]
            auth = {"Authorization": f"Bearer {site.token}"}
            site.time("api_append", lambda client, i, b=bodies, h=auth: client.post("/api/events", json=b[i],
                                                                                     headers=h), per_round)
        log(f"round {r + 1}/{rounds} done")
    for key in [*pages, "api_append"]:
        name = "api_append" if key == "api_append" else key.strip("/") or "home"
        for label, q in (("p50", 0.5), ("p99", 0.99)):
            ours, theirs = percentile(big.samples[key], q) * 1000, percentile(small.samples[key], q) * 1000
            report(f"service.{name}.{label}", ours, theirs, "ms", goal=GOAL, higher_is_better=False,
                   ours=Timing(big.samples[key]), theirs=Timing(small.samples[key]),
                   note=f"{label} of {len(big.samples[key])} requests, {big_count} vs {small_count} events",
                   params={"events": big_count, "baseline_events": small_count, "requests": len(big.samples[key]),
                           "median_ms": statistics.median(big.samples[key]) * 1000,
                           "baseline": f"the same request on a {small_count}-event log, alternating rounds"})
    bench_subject_pages(ctx, small)
    events.db.database.close()


def _subject(stream: str, count: int) -> None:
    """Append a subject of ``count`` sessions, one in a hundred of them corrected later in the stream."""
    from tests.conftest import make_event

    for start in range(0, count, 5_000):
        facts = events.append([make_event(stream=stream, type_="MeetingHeld", occurred="2017",
                                          title=f"Session {i}") for i in range(start, min(count, start + 5_000))],
                              author="bench")
        events.append([events.NewEvent(stream, "EventCorrected", "2026", {
            "target": fact.event_id, "reason": "bench", "changes": {"data": {"title": f"{fact.title}, renamed"}}})
            for fact in facts[::100]], author="bench")


def bench_subject_pages(ctx: Context, site: Site) -> None:
    big_count, small_count = ctx.size(50_000, 5_000), 100
    site.use()
    with site.app.app_context():
        _subject("meeting/bench-long", big_count)
        _subject("meeting/bench-short", small_count)
        big_total = events.stream_version("meeting/bench-long")
        small_total = events.stream_version("meeting/bench-short")
    big_pages = [0, big_total // 2, big_total - 30]
    small_pages = [0, small_total // 2, small_total - 30]
    ours, theirs = [], []
    client = site.app.test_client()
    for r in range(ctx.repeat(40, 5)):
        for samples, stream, pages in ((ours, "meeting/bench-long", big_pages),
                                       (theirs, "meeting/bench-short", small_pages))[::1 if r % 2 else -1]:
            for after in pages:
                start = time.perf_counter()
                response = client.get(f"/subjects/{stream}?after={after}")
                samples.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"/subjects/{stream}?after={after} answered {response.status_code}")
    report("service.subject_page.p50", percentile(ours, 0.5) * 1000, percentile(theirs, 0.5) * 1000, "ms",
           goal=GOAL, higher_is_better=False, ours=Timing(ours), theirs=Timing(theirs),
           note=f"first, middle and last page of a {big_total}-event subject vs a {small_total}-event one",
           params={"events": big_total, "baseline_events": small_total, "requests": len(ours)})
