"""`chronology serve`: the service under gunicorn (gthread workers), not the Flask development server.

Before any worker starts, the master checks that the database answers and
creates missing tables, so a wrong DATABASE_URL is one line at start rather
than a traceback per request. Each worker builds its own application (no
connection crosses a fork) and campaigns for the scheduler's lock once it is
up; the lock makes the jobs run in one process of the whole deployment.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from playhouse import db_url

import events
from events import tables

from .. import proxies, schema
from ..app import create_app
from ..editing import accounts
from . import readers, scheduler

SCHEDULER_ENV = "CHRONOLOGY_SCHEDULER"


class DatabaseUnreachable(Exception):
    """The database named by DATABASE_URL did not answer; the message is the one line to print."""


def _reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


CONNECT_TIMEOUT = 10  # seconds: a host that drops packets is reported, not waited on for minutes


def _probe(url: str) -> None:
    """Connect once and run a trivial query, with a bounded wait; raise whatever the driver raises."""
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg2

        params = db_url.parse(url)
        params.setdefault("connect_timeout", CONNECT_TIMEOUT)
        conn = psycopg2.connect(**params)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            conn.close()
    else:
        tables.ping()


def prepare(app: Flask) -> bool:
    """Check the database answers, create missing tables; return whether any editor exists.

    Raises DatabaseUnreachable with a one-line explanation. Closes its
    connections afterwards, so forked workers inherit none.
    """
    where = events.describe_database(app.config["DATABASE_URL"])
    try:
        with app.app_context():
            try:
                _probe(app.config["DATABASE_URL"])
            except Exception as exc:
                raise DatabaseUnreachable(f"cannot reach the database at {where}: {_reason(exc)}") from None
            try:
                schema.create_all()
            except Exception as exc:
                raise DatabaseUnreachable(f"cannot create the tables in the database at {where}: "
                                          f"{_reason(exc)}") from None
            return accounts.has_editors()
    finally:
        tables.close_all()


def load(config: dict[str, Any] | None = None) -> Flask:
    """``create_app``, with a DATABASE_URL it cannot even open turned into the one-line refusal."""
    try:
        return create_app(config)
    except proxies.BadProxySetting:
        raise
    except (ValueError, OSError) as exc:
        url = (config or {}).get("DATABASE_URL") or os.environ.get("DATABASE_URL", "the default SQLite file")
        where = events.describe_database(url)
        raise DatabaseUnreachable(f"cannot use the database at {where}: {_reason(exc)}") from None


def scheduler_enabled() -> bool:
    return os.environ.get(SCHEDULER_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def post_worker_init(worker: Any) -> None:
    """Gunicorn hook: once a worker is up, it says what it reads, and campaigns for the scheduler's lock."""
    readers.start(worker.wsgi)
    if scheduler_enabled():
        scheduler.start(worker.wsgi)


def worker_exit(_server: Any, _worker: Any) -> None:
    """Gunicorn hook: a worker that stops says it reads nothing any more, so what only it read can go."""
    readers.stop()


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 8
    #: The app's FORWARDED_ALLOW_IPS, so gunicorn and Flask believe forwarded headers from the same peers
    #: (None: gunicorn reads the FORWARDED_ALLOW_IPS variable itself, as create_app does).
    forwarded_allow_ips: str | None = None


class Server(BaseApplication):
    """A gunicorn application serving ``create_app()``; each worker builds its own app."""

    def __init__(self, options: Options, config: dict[str, Any] | None = None) -> None:
        self.options = options
        self.app_config = config
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": f"{self.options.host}:{self.options.port}",
            "workers": self.options.workers,
            "worker_class": "gthread",
            "threads": self.options.threads,
            # A long-poll on /api/events waits up to 30 s; the worker heartbeat is separate from requests.
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": os.environ.get("CHRONOLOGY_ACCESS_LOG") or None,
            "errorlog": "-",
            "loglevel": "info",
            "post_worker_init": post_worker_init,
            "worker_exit": worker_exit,
            "proc_name": "chronology",
            # gunicorn >= 24 opens a control socket at one fixed path per user: two serve processes on
            # one host would fight over it, and nothing here uses it.
            "control_socket_disable": True,
            "forwarded_allow_ips": self.options.forwarded_allow_ips,
        }
        for key, value in settings.items():
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(levelname)s] "
                                                       "%(name)s: %(message)s")
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # jobs log their own outcome
        app = create_app(self.app_config)
        if app.config["TRUSTED_HOSTS"] is not None and self.options.host not in ("0.0.0.0", "::"):
            app.config["TRUSTED_HOSTS"].append(self.options.host)  # the address it serves on names it too
        # A long-poll holds a thread for up to 30 s: followers may hold a quarter of the threads, never all.
        app.config.setdefault("LONG_POLL_BUDGET", max(1, self.options.threads // 4))
        return app
