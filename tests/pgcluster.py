"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a
temporary data directory, loopback only, fsync off.

    python -m tests.pgcluster start DIR   # prints the server URL
    python -m tests.pgcluster stop DIR

As root, the server runs as the ``postgres`` user (initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

USER = "chronology"


def bindir() -> Path | None:
    """Where initdb and pg_ctl live, or None when PostgreSQL is not installed."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for path in reversed(candidates):
        if os.path.exists(os.path.join(path, "initdb")):
            return Path(path)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(directory: str | None = None) -> tuple[str, str]:
    """Start a cluster in ``directory`` (a new temp dir by default); return (url, directory)."""
    bins = bindir()
    if bins is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    directory = directory or tempfile.mkdtemp(prefix="chronology-pg-")
    os.makedirs(directory, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data = os.path.join(directory, "data")
    port = _free_port()
    subprocess.run(
        _as_server_user([str(bins / "initdb"), "-D", data, "-A", "trust", "-U", USER, "-E", "UTF8",
                         "--locale=C", "-N"]),
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=directory,
    )
    options = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
        "-c synchronous_commit=off -c max_connections=300"
    )
    subprocess.run(
        _as_server_user([str(bins / "pg_ctl"), "-D", data, "-o", options, "-l",
                         os.path.join(directory, "server.log"), "-w", "-t", "60", "start"]),
        check=True, stdout=subprocess.DEVNULL, cwd=directory,
    )
    url = f"postgresql://{USER}@127.0.0.1:{port}/postgres"
    Path(directory, "url").write_text(url)
    return url, directory


def stop(directory: str) -> None:
    bins = bindir()
    data = os.path.join(directory, "data")
    if bins and os.path.exists(data):
        subprocess.run(_as_server_user([str(bins / "pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory)
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit("usage: python -m tests.pgcluster start|stop DIR")
    if sys.argv[1] == "start":
        print(start(sys.argv[2])[0])
    else:
        stop(sys.argv[2])
