"""Real `chronology` processes for the multi-process tests: the CLI an operator types, and `serve` under gunicorn."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

CHRONOLOGY = str(Path(sys.executable).with_name("chronology"))
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """What one host of a deployment has in its environment (the guide's step 1)."""
    return {**os.environ, "DATABASE_URL": database_url, "CHRONOLOGY_INSTANCE": str(instance),
            "SECRET_KEY": "shared-by-every-host", **extra}


def cli(env: dict[str, str], *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([CHRONOLOGY, *args], env=env, input=input, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"chronology {' '.join(args)} exited {done.returncode}: {done.stderr}{done.stdout}")
    return done


def editor_token(env: dict[str, str], name: str = "ada") -> str:
    cli(env, "create-editor", name, "--password-stdin", input=PASSWORD + "\n")
    return cli(env, "create-token", name).stdout.strip()


class Serve:
    """One `chronology serve` process (its own session, so it and its workers can be killed together)."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, port: int | None = None,
                 command: list[str] | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(env["CHRONOLOGY_INSTANCE"]) / f"serve-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.log.open("ab")
        self.process = subprocess.Popen(
            [*(command or [CHRONOLOGY]), "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> Serve:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if request(self.base + "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: a crash, not a shutdown."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self._out.close()


def with_version(read_model: str, version: int) -> list[str]:
    """The `chronology` command of a release whose ``read_model`` is at ``version`` (the fold code unchanged)."""
    script = ("import sys, projections; name, version = sys.argv.pop(1), int(sys.argv.pop(1)); "
              "projections.get(name).__class__.version = version; from service.cli import main; main()")
    return [sys.executable, "-c", script, read_model, str(version)]


def request(url: str, body: Any = None, token: str | None = None, timeout: float = 30.0) -> tuple[int, Any]:
    """(status, decoded JSON or text) for a GET, or a JSON POST when ``body`` is given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, raw, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        status, raw, kind = exc.code, exc.read(), exc.headers.get_content_type()
    return status, json.loads(raw) if kind == "application/json" else raw.decode("utf-8", "replace")


def api_event(stream: str, title: str) -> dict[str, Any]:
    """One valid event in the API's shape, with a fresh id."""
    return {
        "event_id": str(uuid.uuid4()), "stream": stream, "type": "AgreementSigned", "occurred": "2018-07",
        "data": {"title": title},
        "sources": [{"url": "https://example.org/ifri-pajon-2018",
                     "quote": "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed"}],
    }


def exported(env: dict[str, str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in cli(env, "export").stdout.splitlines()]


def wait_until(condition, timeout: float = 30.0, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())
