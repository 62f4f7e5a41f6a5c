import os

import pytest

import events
from service.operations import jobs
from tests.conftest import sign_in


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.data == b"ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_does_not_answer(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(events.db.database.obj, "execute_sql", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert b"database unavailable" in response.data
    assert client.get("/api/status").status_code == 503
    assert client.get("/status").status_code == 503


def test_status_reports_head_backend_read_models_and_jobs(seeded_app, client):
    with seeded_app.app_context():
        head = events.store.head_position()
        jobs.run(seeded_app, "verify")
        jobs.run(seeded_app, "catch-up")
    status = client.get("/api/status").get_json()
    assert status["head"] == head > 0
    assert status["backend"] == "sqlite"
    assert {p["name"] for p in status["projections"]} >= {"agreements", "exercises"}
    assert all(p["lag"] == 0 and p["checkpoint"] == head and p["failed_position"] is None and p["set_aside"] == 0
               for p in status["projections"])
    assert status["set_aside"] == []
    assert status["verify"]["outcome"] == "ok" and status["verify"]["detail"].startswith("ok:")
    assert status["integrity"]["ok"] is True and status["integrity"]["broken_at"] is None
    assert status["jobs"]["catch-up"]["outcome"] == "ok"
    assert status["jobs"]["backup"]["outcome"] == "never run"
    assert status["scheduler"] == {"campaigning": False, "leading": False}


def test_status_shows_paths_and_processes_to_editors_only(seeded_app, client, editor_account):
    """Where the database lives and which host:pid runs the jobs help an operator, and an attacker."""
    with seeded_app.app_context():
        jobs.run(seeded_app, "catch-up")
    public = client.get("/api/status").get_json()
    page = client.get("/status").get_data(as_text=True)
    assert "database" not in public and "host" not in public["jobs"]["catch-up"]
    assert "last_seen_leader" not in public["scheduler"]
    assert "chronology.sqlite3" not in page and f":{os.getpid()}" not in page
    sign_in(client, *editor_account)
    private = client.get("/api/status").get_json()
    assert private["database"].endswith("chronology.sqlite3")
    assert private["jobs"]["catch-up"]["host"].endswith(f":{os.getpid()}")
    assert private["scheduler"]["last_seen_leader"] == private["jobs"]["catch-up"]["host"]
    assert "chronology.sqlite3" in client.get("/status").get_data(as_text=True)


def test_a_failed_verify_shows_on_the_status_page(seeded_app, client, tamper):
    with seeded_app.app_context():
        tamper("UPDATE event SET data = '{\"title\": \"forged\"}' WHERE position = 3")
        run = jobs.run(seeded_app, "verify")
    assert run.outcome == "failed"
    status = client.get("/api/status").get_json()
    assert status["verify"]["outcome"] == "failed"
    assert "position 3" in status["verify"]["detail"]
    assert status["integrity"]["ok"] is False and status["integrity"]["broken_at"] == 3
    page = client.get("/status")
    assert page.status_code == 200
    assert b"failed" in page.data and b"position 3" in page.data


def test_a_projection_lag_shows_on_the_status_page(app, client, new_event):
    with app.app_context():
        events.append([new_event()], author="elsewhere")  # not through the service: no catch-up yet
    status = client.get("/api/status").get_json()
    assert all(p["lag"] == 1 for p in status["projections"])
    page = client.get("/status").get_data(as_text=True)
    assert "Read models" in page and "position 1" in page


def test_the_status_never_shows_the_database_password(tmp_path):
    from service import create_app

    app = create_app({"DATABASE_URL": "postgresql://ops:hunter2@127.0.0.1:1/chrono", "SECRET_KEY": "t"})
    for path in ("/api/status", "/status", "/healthz"):
        response = app.test_client().get(path)
        assert response.status_code == 503
        assert b"hunter2" not in response.data


@pytest.mark.parametrize("path", ["/status", "/api/status", "/healthz"])
def test_operational_answers_are_never_cached(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_status_says_when_this_process_runs_the_jobs(app, client, monkeypatch):
    import time

    from service.operations import scheduler

    assert client.get("/api/status").get_json()["scheduler"]["campaigning"] is False
    running = scheduler.DeploymentScheduler(app, retry=0.1).start()
    monkeypatch.setattr(scheduler, "_started", running)
    try:
        deadline = time.monotonic() + 20
        while not running.leading and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/api/status").get_json()["scheduler"]["leading"] is True
        assert b"this process runs the scheduled jobs" in client.get("/status").data
    finally:
        running.stop()
    after = client.get("/api/status").get_json()["scheduler"]
    assert after["campaigning"] is True and after["leading"] is False
