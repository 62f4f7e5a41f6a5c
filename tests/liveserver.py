"""The real service in a subprocess, for the browser test and the screenshots.

It is set up the way an operator would: ``chronology init-db``, ``seed`` and
``create-editor`` through the command line, then ``chronology serve`` (gunicorn,
with the scheduler whose jobs fold the seeds into the read models) on a free
port of 127.0.0.1, on an SQLite file in a temporary instance folder.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
EDITOR = ("ada", "correct horse battery staple")


@dataclass(frozen=True)
class LiveService:
    url: str
    instance: Path
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    result = subprocess.run([str(BIN / "chronology"), *args], env=env, cwd=ROOT, input=stdin, text=True,
                            capture_output=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"chronology {' '.join(args)} failed: {result.stderr}")


def _wait(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the service did not answer at {url} within {timeout} s")


def _caught_up(url: str, timeout: float = 120) -> None:
    """Wait until every read model has folded the whole log (the scheduler's catch-up job does it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/api/status", timeout=5) as response:
            status = json.load(response)
        if status["projections"] and all(p["lag"] == 0 for p in status["projections"]):
            return
        time.sleep(0.3)
    raise RuntimeError(f"the read models did not catch up within {timeout} s")


@contextmanager
def live_service(instance: Path) -> Iterator[LiveService]:
    """A seeded service with one editor account (``EDITOR``), stopped on exit."""
    instance.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{instance / 'chronology.sqlite3'}",
           "CHRONOLOGY_INSTANCE": str(instance), "SECRET_KEY": "live-service-test-key"}
    _run(["init-db"], env)
    _run(["seed"], env)
    _run(["create-editor", "--password-stdin", EDITOR[0]], env, stdin=EDITOR[1] + "\n")
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "chronology"), "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process)
        _caught_up(url)
        yield LiveService(url, instance, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
