"""The whole log as a download: ``/log.jsonl``, the bytes ``chronology export`` writes.

Anyone can keep a copy, check it without this code (the README says how),
and later hold it against the live log with ``chronology verify --against``:
a rewritten chain or a truncated tail no longer passes unseen once copies
exist outside the database. The body is streamed a page of rows at a time,
pinned to the head the request began at, so its ETag (the head's hash)
names exactly the bytes sent.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context

from events import store
from events.canonical import GENESIS_HASH
from events.transfer import export_chunks

from .. import params
from ..feeds.caching import validator
from .log import MAX_POSITION

bp = Blueprint("downloads", __name__)

#: Newline-delimited JSON: one canonical document per line.
JSONL_TYPE = "application/x-ndjson"


@bp.get("/log.jsonl")
def log_lines() -> Response:
    """Every event after ``?after=N`` (default 0: all of them) as JSON Lines, in position order."""
    after = params.integer("after", 0, 0, MAX_POSITION)
    top = store.head()
    upto, head_hash = (top.position, top.hash) if top else (0, GENESIS_HASH)
    etag = validator("log.jsonl", head_hash, after)
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(stream_with_context(export_chunks(after, upto)), mimetype=JSONL_TYPE)
        response.headers["X-Log-Head"] = str(upto)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response
