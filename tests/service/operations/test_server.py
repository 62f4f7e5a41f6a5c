import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service import create_app
from service.operations import server

CHRONOLOGY = str(Path(sys.executable).with_name("chronology"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prepare_refuses_an_unreachable_database_in_one_line(tmp_path):
    port = free_port()  # nothing listens there
    app = create_app({"DATABASE_URL": f"postgresql://ops:hunter2@127.0.0.1:{port}/chrono", "SECRET_KEY": "t"})
    with pytest.raises(server.DatabaseUnreachable) as caught:
        server.prepare(app)
    message = str(caught.value)
    assert message.startswith(f"cannot reach the database at 127.0.0.1:{port}/chrono: ")
    assert "\n" not in message and "hunter2" not in message


def test_prepare_creates_the_tables_and_reports_whether_editors_exist(app, sqlite_url):
    from service.editing import accounts

    fresh = create_app({"DATABASE_URL": sqlite_url.replace("chronology.sqlite3", "fresh.sqlite3"), "SECRET_KEY": "t"})
    assert server.prepare(fresh) is False
    with fresh.app_context():
        assert not accounts.has_editors()  # the table exists now
        accounts.create_editor("ada", "correct horse battery staple")
    assert server.prepare(fresh) is True


def test_the_scheduler_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("CHRONOLOGY_SCHEDULER", "off")
    assert not server.scheduler_enabled()
    monkeypatch.setenv("CHRONOLOGY_SCHEDULER", "on")
    assert server.scheduler_enabled()


def test_a_database_url_that_cannot_be_opened_is_one_line_too():
    with pytest.raises(server.DatabaseUnreachable) as caught:
        server.load({"DATABASE_URL": "mysql://ops:hunter2@db.example/chrono"})
    assert str(caught.value).startswith("cannot use the database at db.example/chrono: unsupported DATABASE_URL")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(("url", "start"), [
    ("postgresql://ops:hunter2@127.0.0.1:{port}/chrono", "error: cannot reach the database at 127.0.0.1:"),
    ("mysql://ops:hunter2@db.example/chrono", "error: cannot use the database at db.example/chrono: unsupported"),
])
def test_serve_exits_with_one_line_when_the_database_is_unreachable(tmp_path, url, start):
    env = {**os.environ, "DATABASE_URL": url.format(port=free_port()), "CHRONOLOGY_INSTANCE": str(tmp_path)}
    done = subprocess.run([CHRONOLOGY, "serve", "--port", str(free_port())], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start)
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def wait_for(url: str, timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_serve_runs_gunicorn_and_tells_how_to_create_an_editor(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CHRONOLOGY_INSTANCE": str(tmp_path),
           "CHRONOLOGY_SCHEDULER": "off"}
    process = subprocess.Popen([CHRONOLOGY, "serve", "--port", str(port), "--workers", "2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz") == b"ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.status == 200
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "chronology create-editor NAME" in err
    assert "Starting gunicorn" in err and "Using worker: gthread" in err
    assert "runs the scheduled jobs" not in err  # CHRONOLOGY_SCHEDULER=off


@pytest.mark.slow
def test_several_workers_elect_one_scheduler_on_sqlite(tmp_path):
    import sqlite3

    port = free_port()
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "CHRONOLOGY_INSTANCE": str(tmp_path)}
    process = subprocess.Popen([CHRONOLOGY, "serve", "--port", str(port), "--workers", "3"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")

        def runs() -> list[tuple[str, str]]:
            with sqlite3.connect(database) as conn:
                return conn.execute("SELECT name, host FROM job_run").fetchall()

        deadline = time.monotonic() + 30
        while len({name for name, _ in runs()}) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(6)  # long enough for a second catch-up tick, and for any other worker to start its own
        seen = runs()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert {name for name, _ in seen} == {"catch-up", "calendar", "verify", "backup"}
    assert len({host for _, host in seen}) == 1, seen
    assert err.count("runs the scheduled jobs") == 1


def test_serve_refuses_a_bad_forwarded_allow_ips_in_one_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CHRONOLOGY_INSTANCE": str(tmp_path),
           "FORWARDED_ALLOW_IPS": "10.0.0.2,proxy.internal"}
    done = subprocess.run([CHRONOLOGY, "serve", "--port", str(free_port())], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == ["error: FORWARDED_ALLOW_IPS: 'proxy.internal' is not an IP address or network "
                     "(give addresses or networks separated by commas, or *)"]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _browser_sign_in(base: str, forwarded_for: str, name: str, password: str) -> int:
    """A fresh browser behind the proxy (loopback, trusted by default) signs in; the status of the POST."""
    import http.cookiejar
    import urllib.error
    import urllib.parse

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         _NoRedirects())
    headers = {"X-Forwarded-For": forwarded_for}
    with opener.open(urllib.request.Request(base + "/sign-in", headers=headers), timeout=10) as page:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode()).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "name": name, "password": password}).encode()
    try:
        with opener.open(urllib.request.Request(base + "/sign-in", data=body, headers=headers), timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_under_gunicorn_sign_ins_are_counted_per_forwarded_client_in_the_database(tmp_path):
    from service.editing import signins
    from tests.service.processes import PASSWORD, Serve, cli, environment

    env = environment(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "instance", CHRONOLOGY_SCHEDULER="off")
    cli(env, "init-db")
    cli(env, "create-editor", "ada", "--password-stdin", input=PASSWORD + "\n")
    serve = Serve(env, workers=2).wait_ready()
    try:
        attacker = [_browser_sign_in(serve.base, "203.0.113.9", "ada", "wrong password here")
                    for _ in range(signins.FREE["pair"] + 3)]
        editor = _browser_sign_in(serve.base, "198.51.100.7", "ada", PASSWORD)
    finally:
        serve.stop()
    # Two workers answer in turn as gunicorn chooses: the count is the database's, so it holds whichever did.
    assert attacker[:signins.FREE["pair"]] == [400] * signins.FREE["pair"]
    assert 429 in attacker[signins.FREE["pair"]:]
    assert editor == 302  # from its own address, behind the same proxy
