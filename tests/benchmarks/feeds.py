"""The Atom feeds: O(page) at any log size, and as fast to serve as a fixed document of the same size.

feeds.subscription_latency  GET /feed.atom rendered from scratch (render and head caches emptied before
                            each request) on a 1M-event log vs on a 1k-event log; goal <= 1.2x. Both
                            documents hold the window's ceiling, 1,000 entries (every event of either log
                            was recorded within the last 30 days).
feeds.archive_latency       GET of a middle archive page, same way; goal <= 1.2x.
feeds.rps_304               wrk requests/s for /feed.atom with If-None-Match vs a route answering a fixed
                            20 KB Atom string's 304, from the same gunicorn server in the same run;
                            goal >= 1.0x.
feeds.rps_200_same_size     wrk requests/s for /feed.atom vs a route returning a fixed document exactly as
                            large as ours (1,000 entries with their sources and quotes, about 1.7 MB): what
                            serving the feed costs beyond its bytes, the document being rendered once per
                            head and kept in memory; goal >= 0.8x. (It replaces the comparison with a 20 KB
                            document, which measured the size of the document, not the service.)

The fixed route exists only in this module's ``bench_app``, which gunicorn loads.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import events

from . import workload
from .harness import REPO, Context, Timing, area, compare, log, report

PAGE_SIZE = 50
FIXED_PATH = "/bench/fixed.atom"


def _fixed_document(size: int = 20_000) -> bytes:
    """A fixed Atom document of about ``size`` bytes (20 KB: the baseline's body)."""
    entry = ("<entry><id>urn:uuid:{0:08d}-0000-4000-8000-000000000000</id><title>Fixed entry {0}</title>"
             "<updated>2018-07-01T00:00:00+00:00</updated><summary>{1}</summary></entry>")
    head = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>urn:uuid:'
            '00000000-0000-4000-8000-000000000000</id><title>Fixed</title><updated>2018-07-01T00:00:00+00:00'
            '</updated>')
    parts, length, i = [head], len(head), 0
    while length < size - 7:
        parts.append(entry.format(i, "x" * 200))
        length += len(parts[-1])
        i += 1
    return ("".join(parts) + "</feed>").encode()


def bench_app() -> Any:
    """The service plus the fixed baseline route, for gunicorn (``tests.benchmarks.feeds:bench_app()``)."""
    from flask import Response, request

    from service import create_app, schema

    app = create_app({"FEED_PAGE_SIZE": int(os.environ.get("FEED_PAGE_SIZE", PAGE_SIZE))})
    with app.app_context():
        schema.create_all()
    fixed = _fixed_document()
    etag = '"fixed-20k"'

    @app.get(FIXED_PATH)
    def fixed_atom() -> Response:
        response = Response(fixed, content_type="application/atom+xml; charset=utf-8")
        response.headers["ETag"] = etag
        if request.if_none_match.contains("fixed-20k"):
            return Response(status=304, headers={"ETag": etag})
        return response

    sized: dict[int, bytes] = {}

    @app.get("/bench/fixed-<int:size>.atom")
    def fixed_sized(size: int) -> Response:
        """A fixed document as large as ours: what the 200 figure costs beyond the bytes themselves."""
        if size not in sized:
            sized[size] = _fixed_document(size)
        return Response(sized[size], content_type="application/atom+xml; charset=utf-8", headers={"ETag": etag})

    return app


# --- latency: 1k vs 1M -----------------------------------------------------------


def _log(ctx: Context, count: int) -> Path:
    """A private copy of the run's shared ``count``-event log (other areas build the same one)."""
    source, _ = workload.shared_log(ctx, count)
    target = ctx.workdir / f"feeds-{count}.sqlite3"
    if not target.exists():
        shutil.copyfile(source, target)
    return target


def _client(path: Path, instance: Path) -> Any:
    from service import create_app, schema

    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench", "FEED_PAGE_SIZE": PAGE_SIZE,
                      "TESTING": True})
    app.instance_path = str(instance)
    with app.app_context():
        schema.create_all()
    return app.test_client()


def _timed_get(path: Path, instance: Path, url: str) -> Callable[[], None]:
    from service.feeds import caching
    from service.feeds.heads import heads

    client = _client(path, instance)

    def run() -> None:
        caching.documents.clear()  # render every time, and read the head every time: the whole cold path
        heads.clear()
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return run


def bench_latency(ctx: Context, small: Path, big: Path, small_n: int, big_n: int) -> None:
    repeat = ctx.repeat(15, 5)
    for name, small_url, big_url in (
        ("subscription", "/feed.atom", "/feed.atom"),
        ("archive", f"/feed/archive/{small_n // PAGE_SIZE // 2}.atom", f"/feed/archive/{big_n // PAGE_SIZE // 2}.atom"),
    ):
        # One client per log, each with its own connection: alternate them so noise hits both.
        big_run = _timed_get(big, ctx.workdir / "instance-big", big_url)
        small_run = _timed_get(small, ctx.workdir / "instance-small", small_url)
        events.connect(f"sqlite:///{big}")
        mine, theirs = _alternate(big_run, small_run, big, small, repeat)
        report(f"feeds.{name}_latency", mine.median * 1000, theirs.median * 1000, "ms", goal=1.2,
               higher_is_better=False, ours=mine, theirs=theirs,
               note=f"{big_n} vs {small_n} events, rendered each time",
               params={"events": big_n, "baseline_events": small_n, "page_size": PAGE_SIZE, "url": big_url,
                       "baseline": f"the same request on a {small_n}-event log"})


def _alternate(big_run: Callable[[], None], small_run: Callable[[], None], big: Path, small: Path,
               repeat: int) -> tuple[Timing, Timing]:
    """Time both, switching the (process-wide) database before each side."""

    def on(path: Path) -> Callable[[], None]:
        def setup() -> None:
            if events.db.database.obj is not None and not events.db.database.is_closed():
                events.db.database.close()
            events.connect(f"sqlite:///{path}")
        return setup

    return compare(lambda _: big_run(), lambda _: small_run(), repeat, setup=on(big), baseline_setup=on(small),
                   warmup=2)


# --- throughput: wrk against a fixed document ---------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: Path, instance: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "CHRONOLOGY_INSTANCE": str(instance),
           "SECRET_KEY": "bench", "FEED_PAGE_SIZE": str(PAGE_SIZE)}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "-w", "2", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "tests.benchmarks.feeds:bench_app()"], cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + FIXED_PATH, timeout=1).read()
            return process, base
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def _wrk(url: str, seconds: int, etag: str | None) -> float:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", url]
    if etag:
        command[1:1] = ["-H", f"If-None-Match: {etag}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    # wrk counts answers of 400 and above here: a figure with errors in it means nothing.
    assert "Non-2xx or 3xx" not in out, out
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def bench_rps(ctx: Context, db: Path, n: int) -> None:
    if shutil.which("wrk") is None:
        log("wrk is not installed (apt-get install wrk): skipping feeds.rps_*")
        return
    process, base = _serve(db, ctx.workdir / "instance-wrk")
    try:
        tags, sizes = {}, {}
        for path in ("/feed.atom", FIXED_PATH):
            with urllib.request.urlopen(base + path) as reply:
                sizes[path] = len(reply.read())
                tags[path] = reply.headers["ETag"]
        same_size = f"/bench/fixed-{sizes['/feed.atom']}.atom"
        for check in (base + "/feed.atom", base + FIXED_PATH):
            request = urllib.request.Request(check, headers={"If-None-Match": tags[check[len(base):]]})
            try:
                urllib.request.urlopen(request)
                raise AssertionError(f"{check} did not answer 304")
            except urllib.error.HTTPError as exc:
                assert exc.code == 304, exc.code
        seconds, runs = (2, 3) if ctx.quick else (10, 5)
        for path in ("/feed.atom", same_size):  # each worker renders (or builds) its document once: not timed
            _wrk(base + path, 1, None)
        for name, baseline, conditional, goal, what in (
            ("rps_304", FIXED_PATH, True, 1.0, "a fixed 20 KB Atom route answering 304 to its ETag, same server"),
            ("rps_200_same_size", same_size, False, 0.8,
             f"a route returning a fixed Atom string as large as ours ({sizes['/feed.atom']} bytes), same server"),
        ):
            ours, theirs = [], []
            for i in range(runs):
                pair = [(ours, "/feed.atom"), (theirs, baseline)]
                for samples, path in pair if i % 2 == 0 else reversed(pair):
                    samples.append(_wrk(base + path, seconds, tags.get(path) if conditional else None))
            mine, base_rps = statistics.median(ours), statistics.median(theirs)
            report(f"feeds.{name}", mine, base_rps, "req/s", goal=goal,
                   note=f"wrk -t2 -c16 -d{seconds}s, {runs} runs each, gunicorn gthread 2x4, {n}-event log, "
                        f"ours {sizes['/feed.atom']} bytes",
                   params={"events": n, "runs": runs, "seconds": seconds, "ours_runs": ours, "baseline_runs": theirs,
                           "ours_bytes": sizes["/feed.atom"], "baseline": what})
    finally:
        process.terminate()
        process.wait(10)


@area("feeds")
def feeds(ctx: Context) -> None:
    small_n, big_n = 1_000, ctx.size(1_000_000, 20_000)
    small, big = _log(ctx, small_n), _log(ctx, big_n)
    bench_latency(ctx, small, big, small_n, big_n)
    if events.db.database.obj is not None and not events.db.database.is_closed():
        events.db.database.close()
    bench_rps(ctx, big, big_n)
