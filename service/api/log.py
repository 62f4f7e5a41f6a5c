"""The JSON API for machines: read the log a keyset page at a time, append with a bearer token.

``GET /api/events?after=N`` pages the log in position order (the shape of a
``chronology export`` line) and can long-poll with ``wait=SECONDS`` so a
follower hears of a new event as soon as it is committed, by this process
or any other. ``POST /api/events`` takes one event in that same shape and
writes it through the one write path. The API authenticates every write
with a token, not a session cookie, so it is exempt from CSRF.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, current_app, g, request, url_for

import events
from events import store

from .. import params
from ..editing import accounts
from ..errors import json_error
from ..security import csrf
from ..templating import canonical_event_id
from ..writes import Appended, append_one
from . import followers

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_WAIT = 30.0
#: Positions are 64-bit integers in the database: anything larger is not a position.
MAX_POSITION = 2**63 - 1
#: Long-polls one process holds at once unless LONG_POLL_BUDGET says (``chronology serve`` sets a quarter of its
#: threads), and the seconds a follower turned away is asked to wait.
DEFAULT_LONG_POLL_BUDGET = 2
LONG_POLL_RETRY = 5
#: An Idempotency-Key is up to 255 visible ASCII characters (a UUID, a job's name and attempt, a message id).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
#: The namespace of event ids derived from an editor's Idempotency-Key: the same key from the same editor is
#: always the same event, and two editors' keys never meet.
KEYED_EVENTS = uuid.UUID("6f1c7a52-3e0b-5d8e-9a4f-2b7c1d0e8a93")

def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status=status, mimetype="application/json")


def _budget() -> followers.Budget:
    found = current_app.extensions.get("chronology.long_polls")
    if found is None:
        found = current_app.extensions["chronology.long_polls"] = followers.Budget(
            int(current_app.config.get("LONG_POLL_BUDGET", DEFAULT_LONG_POLL_BUDGET)))
    return found


@bp.get("/events")
def list_events() -> Response:
    """One keyset page of the log after a position; ``next`` continues from its last event."""
    after = params.integer("after", 0, 0, MAX_POSITION)
    limit = params.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    wait = params.seconds("wait", MAX_WAIT)
    head = store.head_position()
    if after > head:
        return json_error(400, f"after: {after} is beyond the head of the log (position {head}): a follower's "
                               "cursor is never past the head, so start again from it", parameter="after", head=head)
    page = store.read(after=after, limit=limit)
    busy = False
    if not page and wait:
        budget = _budget()
        if budget.hold():
            try:
                head = followers.wait_for_head(after, wait)
            finally:
                budget.release()
            page = store.read(after=after, limit=limit)
        else:
            busy = True
    last = page[-1].position if page else after
    following = url_for("api.list_events") + "?" + urlencode({"after": last, "limit": limit})
    response = _json({
        "events": [orjson.Fragment(event.export_line()) for event in page],
        "after": after,
        "last_position": last,
        "head": max(head, last),
        "next": following,
        **({"retry_after": LONG_POLL_RETRY} if busy else {}),
    })
    response.headers["Link"] = f'<{following}>; rel="next"'
    response.headers["Cache-Control"] = "no-cache"
    if busy:  # too many followers already waiting here: come back rather than hold a thread
        response.headers["Retry-After"] = str(LONG_POLL_RETRY)
    return response


@bp.get("/events/<event_id>")
def show_event(event_id: str) -> Response:
    """One recorded event, in the shape of an export line."""
    canonical = canonical_event_id(event_id)
    found = store.find(canonical) if canonical else None
    if found is None:
        return json_error(404, f"no event with id {event_id}")
    return _json(orjson.Fragment(found.export_line()))


def refused(exc: events.ValidationError) -> Response:
    """422 naming the first field that is wrong, and in ``errors`` every one found."""
    return json_error(422, str(exc), field=exc.field,
                      errors=[{"field": field, "reason": reason} for field, reason in exc.errors])


def _with_event_id(payload: dict[str, Any], editor: str) -> dict[str, Any] | Response:
    """The body with its ``event_id``: the one it sends, or one derived from the Idempotency-Key header.

    Without either, a client that retries after a lost answer would record
    the event twice; so one of the two is required, and not both (they could
    disagree).
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        if payload.get("event_id") is None:
            return refused(events.ValidationError(
                "event_id", "is required: choose a UUID for the event (sending it again then appends it once), "
                            "or send an Idempotency-Key header to derive one"))
        return payload
    if not IDEMPOTENCY_KEY.fullmatch(key):
        return json_error(400, "Idempotency-Key: must be 1 to 255 visible ASCII characters (no spaces)",
                          parameter="Idempotency-Key")
    if "event_id" in payload:
        return json_error(400, "Idempotency-Key: send either the header or an event_id in the body, not both",
                          parameter="Idempotency-Key")
    return {**payload, "event_id": str(uuid.uuid5(KEYED_EVENTS, f"{editor}\n{key}"))}


def _unauthorized(message: str, error: str | None = None) -> Response:
    response = json_error(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="chronology"' + (f', error="{error}"' if error else "")
    return response


def _editor() -> accounts.Editor | Response:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return _unauthorized("an API token is required: send `Authorization: Bearer <token>` "
                             "(tokens come from `chronology create-token NAME`)")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("the Authorization header must be `Bearer <token>`", "invalid_request")
    editor = accounts.editor_for_token(token.strip())
    if editor is None:
        return _unauthorized("this API token is unknown or has been revoked", "invalid_token")
    return editor


def _event_sent(editor: accounts.Editor) -> dict[str, Any] | Response:
    """The body as one event with its id, or the answer refusing it."""
    if request.mimetype != "application/json":
        return json_error(415, f"the body must be JSON sent as application/json, not {request.mimetype or 'nothing'!r}")
    try:
        payload = orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        return json_error(400, f"the body is not valid JSON: {exc}")
    if not isinstance(payload, dict):
        return json_error(400, "the body must be one event as a JSON object")
    return _with_event_id(payload, editor.name)


def _not_appended(exc: events.EventStoreError) -> Response:
    """What a refusal of the store answers: the field that is wrong, or the conflict and its numbers."""
    if isinstance(exc, events.StoreBusy):
        raise exc  # 503 with Retry-After, from the app's error handler
    if isinstance(exc, events.ValidationError):
        return refused(exc)
    if isinstance(exc, events.ConcurrencyConflict):
        return json_error(409, str(exc), stream=exc.stream, expected_version=exc.expected,
                          current_version=exc.current)
    if isinstance(exc, events.IdempotencyConflict):
        return json_error(409, str(exc), event_id=exc.event_id, position=exc.position)
    return json_error(422, str(exc))


@bp.post("/events")
def append_event() -> Response:
    """Append one event (an export line's writer fields) as the token's editor."""
    editor = _editor()
    if isinstance(editor, Response):
        return editor
    g.api_editor = editor
    sent = _event_sent(editor)
    if isinstance(sent, Response):
        return sent
    try:
        appended = append_one(events.NewEvent.from_dict(sent), author=editor.name)
    except events.EventStoreError as exc:
        return _not_appended(exc)
    return appended_answer(appended)


def appended_answer(appended: Appended) -> Response:
    """What a write answers: where the event is, its place in the log, and whether it is new (201) or not (200)."""
    recorded = appended.event
    location = url_for("api.show_event", event_id=recorded.event_id)
    response = _json({
        "position": recorded.position,
        "event_id": recorded.event_id,
        "stream": recorded.stream,
        "version": recorded.version,
        "hash": recorded.hash,
        "location": location,
        "page": f"/events/{recorded.event_id}",
        "created": appended.created,
        "views_lag": appended.lag,
    }, status=201 if appended.created else 200)
    response.headers["Location"] = location
    return response
