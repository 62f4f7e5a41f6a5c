"""The API described for machines: ``/api/openapi.json`` (OpenAPI 3.1) and ``/api/schema/<Type>.json``.

A client generator, a validator or a fuzzer reads what the API takes and
answers from here. The event bodies are the declaration's own schemas
(``events.declaration``), so the document cannot drift from what the log
accepts; the answers' shapes are in ``shapes``; the routes and their
parameters are listed below, and a test checks that every ``/api/`` route
of the app is described.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from flask import Blueprint, Response, current_app

from events import declaration
from events.vocabulary import EVENT_TYPES, STREAM_KINDS
from projections import exercises, timeline
from projections import search as search_model

from .. import filters
from ..errors import json_error
from . import log, readmodels, shapes
from . import search as search_api
from .shapes import Schema, ref

bp = Blueprint("openapi", __name__, url_prefix="/api")

REF = "#/components/schemas/{model}"
JSON = "application/json"


def _json(payload: Any) -> Response:
    response = Response(orjson.dumps(payload), mimetype=JSON)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of every API route."""
    return _json(document(current_app.config.get("SERVER_NAME")))


@bp.get("/schema/<type_name>.json")
def type_schema(type_name: str) -> Response:
    """The JSON Schema (2020-12) of an event body of one type, as ``POST /api/events`` takes it."""
    if type_name not in declaration.TYPES:
        return json_error(404, f"no event type {type_name[:60]!r}; the types are listed at /api/openapi.json "
                               "(components.schemas.EventBody)")
    return _json(declaration.json_schema(type_name))


def _parameter(name: str, where: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description}


def _query(name: str, schema: Schema, description: str) -> Schema:
    """A query parameter; left empty (as an HTML form sends it), it is as if not given."""
    return {**_parameter(name, "query", schema, description), "allowEmptyValue": True}


def _answer(description: str, schema: Schema | None = None, *, media: str = JSON,
            headers: dict[str, Schema] | None = None) -> Schema:
    answer: Schema = {"description": description}
    if schema is not None:
        answer["content"] = {media: {"schema": schema}}
    if headers:
        answer["headers"] = {name: {"schema": s, "description": s.get("description", name)}
                             for name, s in headers.items()}
    return answer


def _refused(description: str) -> Schema:
    return _answer(description, ref("Error"))


BAD_PARAMETER = _refused("A parameter that does not parse, named in `error`.")
LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": readmodels.MAX_LIMIT},
               f"Rows per page (default {readmodels.PAGE}).")


def _after(kind: str) -> Schema:
    return _query("after", {"type": "string", "pattern": f"^{kind}/", "maxLength": 200},
                  f"The `next` of the previous page: the {kind} it ended with.")


def _read_model(summary: str, schema: str, parameters: list[Schema]) -> Schema:
    return {"get": {"summary": summary, "tags": ["read models"], "parameters": parameters, "responses": {
        "200": _answer("One page; `next` is the `after` of the following page (null on the last).", ref(schema)),
        "400": BAD_PARAMETER}}}


def _idempotency_key(description: str) -> Schema:
    return _parameter("Idempotency-Key", "header",
                      {"type": "string", "pattern": f"^{log.IDEMPOTENCY_KEY.pattern}$"}, description)


def _appended(recorded: str, already: str) -> dict[str, Schema]:
    """The answers of a write: recorded (201, with its Location) or already recorded (200), and the refusals of
    every write's token and database."""
    return {"201": _answer(recorded, ref("Appended"),
                           headers={"Location": {"type": "string", "description": "The event's JSON."}}),
            "200": _answer(already, ref("Appended")),
            "401": _refused("No token, or one unknown or revoked.")}


def _paths() -> dict[str, Schema]:
    position = {"type": "integer", "minimum": 0, "maximum": log.MAX_POSITION}
    return {
        "/api/events": {
            "get": {
                "summary": "Follow the log a page at a time, in position order; long-poll with `wait`.",
                "tags": ["log"],
                "parameters": [
                    _query("after", position, "The last position already read (default 0: from the start)."),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": log.MAX_LIMIT},
                           f"Events per page (default {log.DEFAULT_LIMIT})."),
                    _query("wait", {"type": "number", "minimum": 0, "maximum": log.MAX_WAIT},
                           "Seconds to wait for a next event when there is none yet."),
                ],
                "responses": {
                    "200": _answer("A page of events; `next` continues after its last one.", ref("EventPage"),
                                   headers={"Link": {"type": "string", "description": 'The next page, rel="next".'}}),
                    "400": _refused("A bad parameter, or `after` beyond the head (`head` says where it is)."),
                },
            },
            "post": {
                "summary": "Append one event as the token's editor.",
                "tags": ["log"],
                "security": [{"token": []}],
                "parameters": [_idempotency_key(
                    "Derives the event's id when the body has no `event_id`: the same key from the same editor "
                    "is always the same event, so a retry appends it once.")],
                "requestBody": {"required": True, "content": {JSON: {"schema": ref("EventBody")}}},
                "responses": {
                    **_appended("Recorded.", "This very event was already recorded: nothing new was written."),
                    "400": _refused("Not one JSON object, or a bad Idempotency-Key (or one sent with an event_id)."),
                    "409": _refused("The subject moved past `expected_version`, or the event id is already "
                                    "recorded with other content."),
                    "413": _refused("The body is larger than the service accepts."),
                    "415": _refused("The body is not sent as application/json."),
                    "422": _answer("The event is refused: every wrong field is named.", ref("Refusal")),
                    "503": _refused("Another write held the database too long: nothing was saved; send the same "
                                    "event again after Retry-After."),
                },
            },
        },
        "/api/events/{event_id}": {"get": {
            "summary": "One recorded event.", "tags": ["log"],
            "parameters": [_parameter("event_id", "path", {"type": "string", "format": "uuid"},
                                      "The event's id (a UUID).")],
            "responses": {"200": _answer("The event.", ref("RecordedEvent")),
                          "404": _refused("No event has this id.")}}},
        "/api/events/{event_id}/sources": {"get": {
            "summary": "An event's current sources, each said checked against a stored copy or not.",
            "tags": ["log"],
            "parameters": [_parameter("event_id", "path", {"type": "string", "format": "uuid"},
                                      "The event's id (a UUID).")],
            "responses": {"200": _answer("The sources.", ref("EventSources")),
                          "404": _refused("No event has this id.")}}},
        "/api/documents": {"post": {
            "summary": "Register a document as the token's editor: its metadata and its text, sent as a file "
                       "(.txt, .html, .pdf; the text is taken from it) or as a text part.",
            "tags": ["log"],
            "security": [{"token": []}],
            "parameters": [_idempotency_key(
                "Derives the registration's id when the body has no `event_id`, as for POST /api/events.")],
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": ref("DocumentUpload"), "encoding": {"file": {"contentType": "application/octet-stream"}}}}},
            "responses": {
                **_appended("Registered.", "This very registration was already recorded: nothing new was written."),
                "400": _refused("A bad Idempotency-Key, or one sent with an event_id."),
                "409": _refused("A document with this id is already registered, or the event id is already "
                                "recorded with other content."),
                "413": _refused("The body is larger than the service accepts for a document."),
                "415": _refused("The body is not multipart/form-data."),
                "422": _answer("The document is refused (a part missing or wrong, a file whose text cannot be "
                               "taken): the field is named.", ref("Refusal")),
                "503": _refused("Another write held the database too long: nothing was saved; send it again "
                                "after Retry-After."),
            }}},
        "/api/agreements": _read_model("Agreements by name, each one's status on a date.", "AgreementsPage", [
            _query("as_of", {"type": "string", "format": "date"}, "The day the statuses are for (default today)."),
            _query("known_at", {"type": "string"}, "As the record stood then: a day (its end) or a time (UTC "
                                                   "unless it gives its offset)."),
            _after("agreement"), LIMIT]),
        "/api/exercises": _read_model("Exercise series and their editions.", "ExercisesPage", [
            _query("year", {"type": "integer"}, "Only editions in this year."),
            _query("domain", {"enum": list(exercises.DOMAINS)}, "Only series in this domain."),
            _query("participant", {"type": "string", "maxLength": 100}, "Part of a participant's name."),
            _query("sort", {"enum": list(filters.EDITION_SORTS)}, "How each series' editions are ordered "
                                                                 "(`-` reverses; default `when`)."),
            _after("exercise"), LIMIT]),
        "/api/meetings": _read_model("Dialogue mechanisms, their sessions, statements and plans.", "MeetingsPage", [
            _query("sort", {"enum": list(filters.SESSION_SORTS)}, "How each mechanism's sessions are ordered "
                                                                 "(`-` reverses; default `when`)."),
            _after("meeting"), LIMIT]),
        "/api/timeline": _read_model("Every fact in valid-time order.", "TimelinePage", [
            _query("after", {"type": "string", "pattern": timeline.CURSOR.pattern},
                   "The `next` of the previous page."),
            _query("kind", {"enum": list(timeline.LANES)}, "Only this lane."), LIMIT]),
        "/api/search": {"get": {
            "summary": "Facts whose words match, in date order, with every facet's counts.", "tags": ["search"],
            "parameters": [
                {**_parameter("q", "query", {"type": "string", "minLength": 1, "maxLength": search_model.MAX_QUERY},
                              'Words (all must match, accents and case ignored), "a phrase" or a prefix*.'),
                 "required": True},
                _query("kind", {"enum": list(STREAM_KINDS)}, "Only facts about subjects of this kind."),
                _query("type", {"enum": list(EVENT_TYPES)}, "Only facts of this type."),
                _query("year", {"type": "integer"}, "Only facts of this year."),
                _query("participant", {"type": "string", "maxLength": 200}, "Only facts naming this participant."),
                _query("document", {"type": "string", "maxLength": 200}, "Only facts citing this document."),
                _query("language", {"type": "string", "maxLength": 35}, "Only facts quoting in this language."),
                _query("sort", {"enum": list(filters.SEARCH_SORTS)}, "`date` (oldest first, the default) or "
                                                                    "`-date`."),
                _query("after", {"type": "string", "pattern": timeline.CURSOR.pattern},
                       "The `next` of the previous page."),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": search_api.MAX_LIMIT},
                       f"Results per page (default {search_api.PAGE})."),
            ],
            "responses": {"200": _answer("One page of results; `next` is the `after` of the following page.",
                                         ref("SearchPage")),
                          "400": _refused("A parameter that does not parse, or a query that cannot be searched, "
                                          "named in `error`.")}}},
        "/api/status": {"get": {"summary": "The log's head, each read model's lag, the jobs and the integrity "
                                           "check.", "tags": ["operations"], "responses": {
            "200": _answer("The service's state.", ref("Status")),
            "503": _refused("The database does not answer.")}}},
        "/api/openapi.json": {"get": {"summary": "This document.", "tags": ["description"], "responses": {
            "200": _answer("OpenAPI 3.1.", {"type": "object"})}}},
        "/api/schema/{type_name}.json": {"get": {
            "summary": "The JSON Schema of one event type's body.", "tags": ["description"],
            "parameters": [_parameter("type_name", "path", {"enum": list(declaration.TYPES)},
                                      "An event type, e.g. MeetingHeld.")],
            "responses": {"200": _answer("JSON Schema 2020-12.", {"type": "object"}),
                          "404": _refused("No such event type.")}}},
        "/log.jsonl": {"get": {
            "summary": "The whole log as JSON Lines, the bytes `chronology export` writes.", "tags": ["log"],
            "parameters": [_query("after", position, "The last position already held (default 0).")],
            "responses": {"200": _answer("One RecordedEvent per line.", {"type": "string"},
                                         media="application/x-ndjson"),
                          "304": {"description": "Unchanged since the ETag sent in If-None-Match."},
                          "400": {"description": "`after` is not a position: a page, or JSON when asked for.",
                                  "content": {"text/html": {"schema": {"type": "string"}},
                                              JSON: {"schema": ref("Error")}}}}}},
    }


@cache
def _components() -> Schema:
    bodies, parts = declaration.json_schemas(REF)
    mapping = {name: body["$ref"] for name, body in bodies.items()}
    return {
        "schemas": {
            **parts,
            "EventBody": {"oneOf": list(bodies.values()), "discriminator": {"propertyName": "type",
                                                                             "mapping": mapping},
                          "description": "One event; its `type` says which fields its `data` takes."},
            **shapes.SCHEMAS,
        },
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                      "description": "A token from `chronology create-token NAME`."}},
    }


def document(server: str | None = None) -> Schema:
    """The OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "France–Japan partnership chronology",
            "version": "1",
            "description": "A public, append-only and hash-chained log of dated, sourced facts, its read models, "
                           "and a write endpoint for editors' tokens. Objects may gain fields; ignore those you "
                           "do not know.",
        },
        **({"servers": [{"url": f"https://{server}"}]} if server else {}),
        "paths": _paths(),
        "components": _components(),
        "tags": [{"name": "log"}, {"name": "read models"}, {"name": "operations"}, {"name": "description"}],
    }

