"""What an operator (or a load balancer) asks the service: is it alive, and how is it doing.

``/healthz`` answers only whether the database answers, cheaply, for probes
(a failed integrity check is the readers' business, shown on every page,
not a reason to take the service out of rotation). ``/status`` (a page) and
``/api/status`` (JSON) show the log's head, each read model's checkpoint and
lag and its builds (the one served, one being built and its progress, one
an older release still reads), the last run of each scheduled job, the last integrity check and its
verdict, and who runs the scheduler: enough to operate a deployment one did
not write.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template

import events
import projections
from events import store, tables
from projections import quarantine

from ..errors import json_error
from . import integrity, jobs
from . import scheduler as deployment_scheduler

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _run(run: jobs.JobRun, *, private: bool) -> dict[str, Any]:
    detail = run.detail or ""
    return {
        "name": run.name,
        "outcome": run.outcome,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        **({"host": run.host} if private else {}),
        # A failure's last line says what went wrong; the whole traceback is in the logs and the job_run row.
        "detail": detail.strip().splitlines()[-1] if detail.strip() else "",
    }


def scheduler_here() -> dict[str, Any]:
    """Whether this process campaigns for the scheduler's lock, and whether it holds it."""
    started = deployment_scheduler.current()
    return {"campaigning": started is not None, "leading": bool(started and started.leading)}


def snapshot(*, private: bool = False) -> dict[str, Any]:
    """Everything the status page shows, as plain data.

    Where the database lives and which process runs the jobs are for
    editors (``private``): the public learns the service's health, not its paths.
    """
    runs = jobs.last_runs()
    verdict = integrity.latest()
    leader = max(runs.values(), key=lambda r: r.started_at).host if runs else None
    return {
        "head": store.head_position(),
        "backend": tables.backend(),
        **({"database": events.describe_database(current_app.config["DATABASE_URL"])} if private else {}),
        "projections": [s.to_dict() for s in projections.status()],
        "set_aside": [item.to_dict() for item in quarantine.pending()],
        "jobs": {
            name: ({**_run(runs[name], private=private), "every_seconds": job.every.total_seconds()} if name in runs
                   else {"name": name, "outcome": "never run", "every_seconds": job.every.total_seconds()})
            for name, job in jobs.JOBS.items()
        },
        "verify": _run(runs["verify"], private=private) if "verify" in runs else None,
        "integrity": verdict.to_dict() if verdict else None,
        "scheduler": {**scheduler_here(), **({"last_seen_leader": leader} if private else {})},
    }


def _database_down(exc: Exception) -> None:
    log.warning("database did not answer: %s", exc)
    try:
        tables.close()
    except Exception:
        log.debug("closing the broken connection failed", exc_info=True)


@bp.get("/healthz")
def healthz() -> Response:
    """200 ``ok`` when the database answers ``SELECT 1``; 503 otherwise."""
    try:
        tables.ping()
    except Exception as exc:
        _database_down(exc)
        response = Response("database unavailable\n", status=503, mimetype="text/plain")
    else:
        response = Response("ok", mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/status")
def status_json() -> Response:
    try:
        data = snapshot(private=g.get("editor") is not None)
    except Exception as exc:
        _database_down(exc)
        return json_error(503, "the database is unavailable")
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/status")
def status_page() -> Response | tuple[str, int]:
    try:
        data = snapshot(private=g.get("editor") is not None)
    except Exception as exc:
        _database_down(exc)
        return render_template("error.html", status=503, title="Service unavailable",
                               message="The database is unavailable."), 503
    response = current_app.make_response(render_template("status.html", status=data))
    response.headers["Cache-Control"] = "no-store"
    return response
