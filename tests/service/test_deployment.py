"""The README's deployment guide, followed step by step: two `serve` processes (two "hosts") on one PostgreSQL."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from tests.service.processes import Serve, api_event, cli, editor_token, environment, exported, request, wait_until

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
