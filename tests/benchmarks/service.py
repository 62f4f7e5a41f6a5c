"""The service's latencies at a small log against the same at a big one, in process and as readers meet them.

service.http.<page>.p50   GET of each page over HTTP from `chronology serve` (gunicorn, 2 workers, as
                          deployed; scheduler off), one keep-alive connection, on a log of 1M events vs 1k;
                          ms, goal <= 1.5. Pages: /agreements, /exercises, /timeline, /meetings, /subjects and
                          the home page (service.http.home), each fetched bare (its default page).
service.http.<page>.p99   the same page's p99 against its own p50 at 1M events; goal <= 3 (a reader's slow
                          request is at most three typical ones). service.http.<page>.p99_1k: the same at 1k.
service.<page>.p50        the same pages through the Flask test client in this process, 1M vs 1k; goal <= 1.5.
                          No in-process p99 is reported: it measured this benchmark process more than the
                          page (the process switches between the two databases every round, opening cold
                          connections, and its heap holds what building and folding a 1M log left). Its
                          params keep the p99, and the p99 without the first request of each round and
                          without requests during which a full garbage collection ran, to tell which.
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

import gc
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
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
    #: Per path, whether each sample was the first of its round (a connection just opened: a cold page cache).
    first: dict[str, list[bool]] = field(default_factory=dict)
    #: Per path, whether a full (generation 2) garbage collection of this process ran during each sample.
    collected: dict[str, list[bool]] = field(default_factory=dict)

    def use(self) -> None:
        events.connect(self.url)

    def time(self, key: str, call: Any, n: int) -> None:
        client = self.app.test_client()
        out = self.samples.setdefault(key, [])
        first = self.first.setdefault(key, [])
        collected = self.collected.setdefault(key, [])
        for i in range(n):
            before = FULL_COLLECTIONS[0]
            start = time.perf_counter()
            response = call(client, i)
            out.append(time.perf_counter() - start)
            first.append(i == 0)
            collected.append(FULL_COLLECTIONS[0] != before)
            if response.status_code >= 400:
                raise RuntimeError(f"{key} answered {response.status_code} at {self.count} events: "
                                   f"{response.get_data(as_text=True)[:300]}")


#: Full garbage collections of this process so far (counted by a gc callback while the area runs).
FULL_COLLECTIONS = [0]


def _count_full_collections(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        FULL_COLLECTIONS[0] += 1


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
    gc.callbacks.append(_count_full_collections)
    try:
        _service(ctx)
    finally:
        gc.callbacks.remove(_count_full_collections)


def _service(ctx: Context) -> None:
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
    for key in pages:
        ours, theirs = percentile(big.samples[key], 0.5) * 1000, percentile(small.samples[key], 0.5) * 1000
        samples = list(zip(big.samples[key], big.first[key], big.collected[key], strict=True))
        warm = [t for t, cold, _ in samples if not cold]
        uncollected = [t for t, _, full in samples if not full]
        report(f"service.{key.strip('/') or 'home'}.p50", ours, theirs, "ms", goal=GOAL, higher_is_better=False,
               ours=Timing(big.samples[key]), theirs=Timing(small.samples[key]),
               note=f"p50 of {len(big.samples[key])} requests in process, {big_count} vs {small_count} events",
               params={"events": big_count, "baseline_events": small_count, "requests": len(big.samples[key]),
                       "p99_ms": percentile(big.samples[key], 0.99) * 1000,
                       "p99_without_first_of_round_ms": percentile(warm, 0.99) * 1000,
                       "p99_without_full_collections_ms": percentile(uncollected, 0.99) * 1000,
                       "requests_with_a_full_collection": sum(full for _, _, full in samples),
                       "baseline": f"the same request on a {small_count}-event log, alternating rounds"})
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        ours = percentile(big.samples["api_append"], q) * 1000
        theirs = percentile(small.samples["api_append"], q) * 1000
        report(f"service.api_append.{label}", ours, theirs, "ms", goal=GOAL, higher_is_better=False,
               ours=Timing(big.samples["api_append"]), theirs=Timing(small.samples["api_append"]),
               note=f"{label} of {len(big.samples['api_append'])} requests, {big_count} vs {small_count} events",
               params={"events": big_count, "baseline_events": small_count,
                       "requests": len(big.samples["api_append"]),
                       "baseline": f"the same request on a {small_count}-event log, alternating rounds"})
    events.db.database.close()
    bench_http(ctx, small, big, pages)
    bench_subject_pages(ctx, small)
    events.db.database.close()


# --- over HTTP, from `chronology serve` -------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """``chronology serve`` on a copy of a site's database, as deployed (gunicorn gthread), without the scheduler."""

    def __init__(self, site: Site, workdir: Path) -> None:
        self.port = _free_port()
        instance = workdir / f"serve-{site.count}"
        instance.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATABASE_URL": site.url, "CHRONOLOGY_INSTANCE": str(instance), "SECRET_KEY": "bench",
               "CHRONOLOGY_SCHEDULER": "off"}  # a verify or backup of a 1M log would run at start: not a page's cost
        chronology = str(Path(sys.executable).with_name("chronology"))
        self.log = (instance / "serve.log").open("ab")
        self.process = subprocess.Popen([chronology, "serve", "--port", str(self.port), "--workers", "2"], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chronology serve exited {self.process.returncode}: see {instance}/serve.log")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("chronology serve did not answer within 300 s")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, int]:
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, len(response.read())
        finally:
            if own:
                conn.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def bench_http(ctx: Context, small: Site, big: Site, pages: list[str]) -> None:
    """Each page over HTTP from a served process, both logs in alternating rounds: p50 and p99 of each."""
    servers = {site.count: Served(site, ctx.workdir) for site in (small, big)}
    try:
        samples = _http_samples(ctx, servers, [small.count, big.count], pages)
    finally:
        for server in servers.values():
            server.stop()
    for path in pages:
        _report_http(path, samples[(big.count, path)], samples[(small.count, path)], big.count, small.count)


def _http_samples(ctx: Context, servers: dict[int, Served], counts: list[int],
                  pages: list[str]) -> dict[tuple[int, str], list[float]]:
    """Seconds of each GET, per (log size, path): warmed up first, then rounds alternating the two servers."""
    conns = {count: server.connection() for count, server in servers.items()}

    def get(count: int, path: str) -> float:
        start = time.perf_counter()
        status, _ = servers[count].get(path, conns[count])
        if status != 200:
            raise RuntimeError(f"{path} answered {status} at {count} events")
        return time.perf_counter() - start

    for count in counts:  # warm both workers' connections and caches, untimed
        for path in pages:
            for _ in range(10):
                get(count, path)
    samples: dict[tuple[int, str], list[float]] = {}
    rounds, per_round = ctx.repeat(10, 2), ctx.size(50, 10)
    for r in range(rounds):
        for count in counts if r % 2 == 0 else counts[::-1]:
            # The server closes a connection idle past its keep-alive (2 s) while the other one is measured:
            # each block starts on a fresh connection, opened untimed, as a browser's would be.
            conns[count].close()
            conns[count] = servers[count].connection()
            servers[count].get("/healthz", conns[count])
            for path in pages:
                samples.setdefault((count, path), []).extend(get(count, path) for _ in range(per_round))
        log(f"HTTP round {r + 1}/{rounds} done")
    return samples


def _report_http(path: str, mine: list[float], theirs: list[float], big: int, small: int) -> None:
    name = path.strip("/") or "home"
    p50, p99 = percentile(mine, 0.5) * 1000, percentile(mine, 0.99) * 1000
    p50_small, p99_small = percentile(theirs, 0.5) * 1000, percentile(theirs, 0.99) * 1000
    common = {"events": big, "baseline_events": small, "requests": len(mine),
              "server": "chronology serve --workers 2 (gthread, 8 threads), CHRONOLOGY_SCHEDULER=off",
              "client": "one keep-alive HTTP/1.1 connection, requests in sequence",
              "p50_ms": p50, "p99_ms": p99, "baseline_p50_ms": p50_small, "baseline_p99_ms": p99_small}
    report(f"service.http.{name}.p50", p50, p50_small, "ms", goal=GOAL, higher_is_better=False,
           ours=Timing(mine), theirs=Timing(theirs),
           note=f"GET {path} over HTTP, p50 of {len(mine)}, {big} vs {small} events", params=common)
    report(f"service.http.{name}.p99", p99, p50, "ms", goal=3.0, higher_is_better=False,
           note=f"GET {path} over HTTP at {big} events: p99 against p50", params=common)
    report(f"service.http.{name}.p99_1k", p99_small, p50_small, "ms", goal=3.0, higher_is_better=False,
           note=f"GET {path} over HTTP at {small} events: p99 against p50", params=common)


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
                response = client.get(f"/subjects/{stream}?order=recorded&after={after}")  # every event, paged
                samples.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"/subjects/{stream}?order=recorded&after={after} answered "
                                       f"{response.status_code}")
    report("service.subject_page.p50", percentile(ours, 0.5) * 1000, percentile(theirs, 0.5) * 1000, "ms",
           goal=GOAL, higher_is_better=False, ours=Timing(ours), theirs=Timing(theirs),
           note=f"first, middle and last page of a {big_total}-event subject vs a {small_total}-event one",
           params={"events": big_total, "baseline_events": small_total, "requests": len(ours)})
