"""The README's deployment guide, followed step by step: two `serve` processes (two "hosts") on one PostgreSQL."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import psycopg2
import pytest

import projections
from tests.service.processes import (
    Serve,
    api_event,
    cli,
    editor_token,
    environment,
    exported,
    request,
    wait_until,
    with_version,
)

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.slow


def guide() -> str:
    text = README.read_text()
    return text[text.index("## Deployment"):]


def test_the_guide_names_every_command_this_test_runs():
    text = guide()
    for command in ("chronology init-db", "chronology seed", "chronology serve --host", "--workers",
                    "chronology create-editor ada", "--password-stdin", "chronology create-token ada",
                    "chronology revoke-tokens ada --keep-newest", "chronology import", "chronology verify",
                    "DATABASE_URL=postgresql://", "SECRET_KEY", "CHRONOLOGY_INSTANCE", "upstream chronology",
                    "/feed/archive/N.atom", "immutable", "no-cache", "/healthz", "/api/status"):
        assert command in text, command


def job_runs(url: str) -> list[tuple[str, str]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name, host FROM job_run ORDER BY id")
            return cur.fetchall()
    finally:
        conn.close()


def outcome_of_last(url: str, name: str) -> tuple[str, str]:
    """The outcome of the job's latest run ("running" while it runs) and its detail."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT outcome, COALESCE(detail, '') FROM job_run WHERE name = %s ORDER BY id DESC LIMIT 1",
                        (name,))
            return cur.fetchone() or ("none", "")
    finally:
        conn.close()


def append_through_both(servers: list[Serve], token: str) -> tuple[dict[str, int], list[str]]:
    """Four writers at once, 15 appends each, alternating between the hosts.

    Returns the positions acknowledged, by event id, and the answers that were not an acknowledgement.
    """
    acknowledged: dict[str, int] = {}
    failures: list[str] = []
    guard = threading.Lock()

    def writer(n: int) -> None:
        for i in range(15):
            server = servers[(n + i) % 2]
            body = api_event(f"agreement/deploy-{n}-{i}", f"Agreement {n}.{i}")
            status, answer = request(server.base + "/api/events", body, token)
            with guard:
                if status == 201:
                    acknowledged[body["event_id"]] = answer["position"]
                else:
                    failures.append(f"{status} {answer}")

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    return acknowledged, failures


def test_two_hosts_on_one_postgresql(postgres_database, tmp_path):
    url = postgres_database()
    host_a = environment(url, tmp_path / "host-a")
    host_b = environment(url, tmp_path / "host-b")

    # 2. Tables once, from any host; the seed chronology.
    cli(host_a, "init-db")
    cli(host_a, "seed")
    seeded = len(exported(host_a))

    # 3. Serve on every host.
    started = time.monotonic()
    servers = [Serve(host_a, workers=2), Serve(host_b, workers=2)]
    try:
        for server in servers:
            server.wait_ready()

        # 5. An editor and a token, created from the other host.
        token = editor_token(host_b)

        # Appends through both hosts at once.
        acknowledged, failures = append_through_both(servers, token)
        assert failures == []
        assert len(acknowledged) == 60

        # One gap-free log holding every acknowledged append once, at the position it was acknowledged at.
        assert cli(host_a, "verify").stdout.startswith("ok:")
        log = exported(host_b)
        assert [e["position"] for e in log] == list(range(1, seeded + 61))
        positions = {e["event_id"]: e["position"] for e in log}
        assert {k: positions[k] for k in acknowledged} == acknowledged
        head = log[-1]["position"]

        # 6. Both hosts' read models are level with the log.
        def level(server: Serve) -> bool:
            status = request(server.base + "/api/status")[1]
            return status["head"] == head and all(p["lag"] == 0 and p["failed_position"] is None
                                                  for p in status["projections"])

        for server in servers:
            assert wait_until(lambda s=server: level(s)), request(server.base + "/api/status")[1]

        # The scheduler ran in one process of the deployment, each job once per period.
        assert wait_until(lambda: {"catch-up", "calendar", "verify", "backup"} <= {n for n, _ in job_runs(url)})
        runs = job_runs(url)
        elapsed = time.monotonic() - started
        assert len({host for _, host in runs}) == 1, runs
        count = {name: sum(1 for n, _ in runs if n == name) for name in ("catch-up", "calendar", "verify", "backup")}
        assert count["backup"] == 1 and count["verify"] == 1
        # Started is not done: a loaded machine may still be writing the backup when the servers stop below.
        assert wait_until(lambda: outcome_of_last(url, "backup")[0] != "running", timeout=60)
        assert outcome_of_last(url, "backup")[0] == "ok", outcome_of_last(url, "backup")[1]
        assert count["calendar"] <= elapsed // 60 + 1
        assert count["catch-up"] <= elapsed // 5 + 2

        # A follower long-polling one host hears at once of an append made through the other.
        heard: dict[str, object] = {}

        def follow() -> None:
            start = time.monotonic()
            heard["page"] = request(f"{servers[0].base}/api/events?after={head}&wait=20")[1]
            heard["took"] = time.monotonic() - start

        follower = threading.Thread(target=follow)
        follower.start()
        time.sleep(0.5)
        body = api_event("agreement/followed", "Followed")
        assert request(servers[1].base + "/api/events", body, token)[0] == 201
        follower.join(timeout=30)
        assert [e["event_id"] for e in heard["page"]["events"]] == [body["event_id"]]
        assert heard["took"] < 5

        # 5. Rotating the token: a new one, then revoke the others; the old one is refused on every host.
        rotated = cli(host_a, "create-token", "ada").stdout.strip()
        assert "revoked 1 API token" in cli(host_b, "revoke-tokens", "ada", "--keep-newest").stdout
        for server in servers:
            assert request(server.base + "/api/events", api_event("agreement/rotated", "x"), token)[0] == 401
            assert request(server.base + "/api/events", api_event(f"agreement/rotated-{server.port}", "Rotated"),
                           rotated)[0] == 201
    finally:
        for server in servers:
            server.stop()

    # 7. The nightly backup (written on the leader's host only) restores into an empty database.
    backups = sorted((tmp_path / "host-a" / "backups").glob("*.jsonl")) + sorted(
        (tmp_path / "host-b" / "backups").glob("*.jsonl"))
    assert len(backups) == 1
    backup = backups[0]
    lines = backup.read_text().splitlines()
    assert int(re.search(r"-p(\d+)\.jsonl$", backup.name).group(1)) == len(lines) >= seeded
    restored = environment(postgres_database(), tmp_path / "restore")
    cli(restored, "init-db")
    assert f"imported {len(lines)} events" in cli(restored, "import", str(backup)).stdout
    assert cli(restored, "verify").stdout.startswith("ok:")
    again = exported(restored)
    assert [e["hash"] for e in again] == [e["hash"] for e in log[:len(lines)]]
    assert cli(restored, "export").stdout.splitlines() == lines


ROLLING_PATHS = ("/api/agreements?limit=1000", "/api/meetings?limit=1000", "/api/timeline?limit=1000")


def _answer(base: str, path: str) -> tuple[int, object]:
    status, body = request(base + path)
    if isinstance(body, dict):
        body.pop("now", None)
    return status, body


def _build_of(server: Serve, read_model: str) -> dict:
    [line] = [p for p in request(server.base + "/api/status")[1]["projections"] if p["name"] == read_model]
    return line


def test_a_rolling_deploy_of_a_new_read_model_version_on_one_postgresql(postgres_database, tmp_path):
    """Host A runs the current release; host B starts a release whose agreements are a version ahead.

    B folds its version into tables of its own while A keeps answering from its own; then both answer, each
    from its own version's tables, both level with every append whichever host took it; when A stops, B
    drops A's tables.
    """
    url = postgres_database()
    quick = {"CHRONOLOGY_HEARTBEAT_SECONDS": "0.5", "CHRONOLOGY_RETIRED_GRACE_SECONDS": "1"}
    host_a = environment(url, tmp_path / "host-a", **quick)
    host_b = environment(url, tmp_path / "host-b", **quick)
    cli(host_a, "init-db")
    cli(host_a, "seed")
    version = projections.get("agreements").version
    a = Serve(host_a, workers=2).wait_ready()
    b = None
    try:
        assert wait_until(lambda: _build_of(a, "agreements")["lag"] == 0)
        expected = {path: _answer(a.base, path) for path in ROLLING_PATHS}
        assert all(status == 200 and len(str(body)) > 2000 for status, body in expected.values())
        wrong: list[tuple[str, str, int]] = []
        answered = {"a": 0, "b": 0}
        stop = threading.Event()
        servers: dict[str, Serve] = {"a": a}

        def read() -> None:
            while not stop.is_set():
                for name, server in list(servers.items()):
                    for path in ROLLING_PATHS:
                        got = _answer(server.base, path)
                        answered[name] += 1
                        if got != expected[path]:
                            wrong.append((name, path, got[0]))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            b = Serve(host_b, workers=2, command=with_version("agreements", version + 1))
            b.wait_ready(timeout=120)  # its master folded agreements v+1 before it listened
            servers["b"] = b
            time.sleep(2)
        finally:
            stop.set()
            reader.join(timeout=60)
        assert wrong == []
        assert answered["a"] > 10 and answered["b"] > 3

        # Each host serves its own version's tables: A the current release's, B the new one's.
        served_a = next(x for x in _build_of(a, "agreements")["builds"] if x["served_here"])
        served_b = next(x for x in _build_of(b, "agreements")["builds"] if x["served_here"])
        assert (served_a["version"], served_b["version"]) == (version, version + 1)
        assert served_a["key"] != served_b["key"]
        states = {x["version"]: x["state"] for x in _build_of(b, "agreements")["builds"]}
        assert states == {version: "retired", version + 1: "ready"}  # B's is current; A's is still read

        # Appends through either host reach both versions: each host catches up its own.
        token = editor_token(host_a)
        for server, stream in ((a, "agreement/rolling-a"), (b, "agreement/rolling-b")):
            assert request(server.base + "/api/events", api_event(stream, f"Signed via {stream}"), token)[0] == 201
        for server in (a, b):
            def both(s: Serve = server) -> bool:
                listed = {x["stream"] for x in request(s.base + "/api/agreements?limit=1000")[1]["agreements"]}
                return {"agreement/rolling-a", "agreement/rolling-b"} <= listed
            assert wait_until(both), server.base
        assert wait_until(lambda: all(x["lag"] == 0 for x in _build_of(b, "agreements")["builds"]))

        # A stops (the deploy reaches it): nobody reads its version any more, and B drops those tables.
        a.stop()
        assert wait_until(lambda: [x["version"] for x in _build_of(b, "agreements")["builds"]] == [version + 1],
                          timeout=60)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", (f"agreement%_v{version}b%",))
            assert cur.fetchall() == []
    finally:
        a.stop()
        if b is not None:
            b.stop()
