"""The JSON Schemas of what the API answers: the OpenAPI document's response components.

The request bodies come from the one declaration of event types
(``events.declaration``); the answers are described here, next to nothing
else, so a change of an answer's shape shows up as a change of this file
(and the schemathesis run in the tests fails until the two agree). Objects
may gain fields: a client ignores what it does not know.
"""

from __future__ import annotations

from typing import Any

from events.declaration import KINDS
from projections import exercises, lifecycle, search, timeline

from .. import filters

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
DAY: Schema = {"type": "string", "format": "date"}
NULLABLE_DAY: Schema = {"type": ["string", "null"], "format": "date"}
EVENT_ID: Schema = {"type": "string", "format": "uuid"}
POSITION: Schema = {"type": "integer", "minimum": 1}
HASH: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
EDTF: Schema = {"type": "string", "description": "An EDTF date (ISO 8601-2), e.g. 2018-07, [..2017-01-05], 2011/.."}
SUBJECT: Schema = {"type": "string", "pattern": "^(?:" + "|".join(KINDS) + ")/",
                   "description": "A subject key, kind/slug."}
SOURCES: Schema = {"type": "array", "items": {"type": "object"},
                   "description": "The sources as recorded (see Source), each with its verbatim quote."}
PRECISION: Schema = {"type": "string", "description": "How precise the date is: day, month, season, year, range, "
                                                      "interval and so on."}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None, **extra: Any) -> Schema:
    """An object with these fields (``required`` always present)."""
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}, **extra}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


RIVAL = obj({"event_id": EVENT_ID, "occurred": EDTF, "when": STRING, "sources": SOURCES})
DATED = {"occurred": EDTF, "when": STRING, "precision": PRECISION, "lo": NULLABLE_DAY, "hi": NULLABLE_DAY}
CLAIMED = {"position": POSITION, "sources": SOURCES, "disputed": {"type": "boolean"}, "rivals": array(RIVAL)}
PARTICIPANT = obj({"name": STRING}, {"role": STRING, "country": STRING})
SAME_AS = {"possibly_same_as": {**array(SUBJECT), "description": "Subjects the sources may name otherwise."}}
PUBLISHED = {"type": ["string", "null"], "description": "When the source was published (EDTF), if recorded."}
COVERAGE: Schema = obj({
    "sources": {"type": "integer", "minimum": 0}, "documents": {"type": "integer", "minimum": 0},
    "urls": {"type": "integer", "minimum": 0},
    "kinds": array(obj({"kind": NULLABLE_STRING, "sources": {"type": "integer", "minimum": 0},
                        "earliest": PUBLISHED, "newest": PUBLISHED})),
    "newest_source_date": PUBLISHED,
    "documents_listed": array(obj({"document": STRING, "title": NULLABLE_STRING, "kind": NULLABLE_STRING,
                                   "publisher": NULLABLE_STRING, "published": PUBLISHED})),
    "statement": STRING,
}, description="What the record is drawn from: a fact missing from it is not known not to have happened.")

SCHEMAS: dict[str, Schema] = {
    "Error": obj({"error": STRING}, {
        "field": {**STRING, "description": "The field of the body that is wrong, as a dotted path."},
        "parameter": {**STRING, "description": "The query parameter or header that is wrong."},
    }, description="A refusal: `error` says what is wrong, in words."),
    "Refusal": obj({"error": STRING, "field": STRING, "errors": array(obj({"field": STRING, "reason": STRING}))},
                   description="An event refused: `field` is the first wrong field, `errors` lists every one found."),
    "RecordedEvent": obj({
        "position": POSITION, "event_id": EVENT_ID, "stream": SUBJECT, "version": POSITION, "type": STRING,
        "occurred": EDTF, "occurred_lo": NULLABLE_DAY, "occurred_hi": NULLABLE_DAY, "data": {"type": "object"},
        "sources": SOURCES, "author": STRING, "recorded_at": {"type": "string", "format": "date-time"},
        "prev_hash": HASH, "hash": HASH,
    }, description="One event as the log holds it: the shape of a line of `chronology export`."),
    "EventPage": obj({
        "events": array(ref("RecordedEvent")), "after": {"type": "integer", "minimum": 0},
        "last_position": {"type": "integer", "minimum": 0}, "head": {"type": "integer", "minimum": 0},
        "next": STRING,
    }, {"retry_after": {"type": "integer", "description": "Set when the wait was refused: poll again then."}}),
    "Appended": obj({
        "position": POSITION, "event_id": EVENT_ID, "stream": SUBJECT, "version": POSITION, "hash": HASH,
        "location": STRING, "page": STRING,
        "created": {"type": "boolean", "description": "False when this very event was already recorded."},
        "views_lag": {"type": "integer", "minimum": 0,
                      "description": "Events the read models had yet to fold when the answer was given."},
    }),
    "EventSources": obj({
        "event_id": EVENT_ID,
        "sources": array(obj({
            "quote": {"type": ["object", "string"], "description": "The verbatim quote (a TextQuoteSelector)."},
            "checked": {"type": "boolean", "description": "Whether the log checked the quote against a document it "
                                                          "had registered before the source was written."},
            "check": {"enum": ["checked against the stored copy", "not checked against a stored copy"]},
        }, {
            "document_page": {**STRING, "description": "The registered document's page."},
            "in_place": {**STRING, "description": "The document's page, at the quote's place."},
        }, description="One source as recorded, with how it stands against the stored copies.")),
    }, description="An event's current sources, each checked against a stored copy or not."),
    "DocumentUpload": obj({
        "document": {"type": "string", "minLength": 1, "maxLength": 200,
                     "description": "The document's id: it is registered on source/<id>."},
        "published": {**EDTF, "minLength": 1},
        "title": {"type": "string", "minLength": 1}, "language": {"type": "string", "minLength": 1},
        "kind": {"enum": ["official", "press", "analysis"]},
    }, {
        "author": STRING, "publisher": STRING, "url": STRING,
        "text": {**STRING, "description": "The document's text, when no file is sent."},
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": "A .txt (UTF-8), .html or .pdf file the text is taken from."},
        "event_id": EVENT_ID,
    }, description="A document to register: its metadata, and its file or its text."),
    "AgreementsPage": obj({
        "as_of": DAY, "known_at": {"type": ["string", "null"], "format": "date-time"},
        "agreements": array(obj({
            "stream": SUBJECT, "name": STRING, "title": NULLABLE_STRING, "category": NULLABLE_STRING,
            "parties": array(STRING), "term": {"type": ["string", "null"]}, "status": STRING,
            "active": {"enum": list(lifecycle.ANSWERS),
                       "description": "In force on as_of: no only on a recorded ground, unknown where the record "
                                      "is silent; reason says why."},
            "reason": STRING, "status_by_term": {"type": "boolean"},
            "since": {"anyOf": [obj({"event_id": EVENT_ID, "occurred": EDTF, "when": NULLABLE_STRING}),
                                {"type": "null"}]},
            "history": array(obj({"from": NULLABLE_STRING, "to": STRING, "valid": NULLABLE_STRING,
                                  "when": NULLABLE_STRING, "by_term": {"type": "boolean"}})),
            "disputed": {"type": "boolean"}, "event_ids": array(EVENT_ID),
            "stages": array(obj({"type": STRING, "status": STRING, "occurred": EDTF, "when": STRING,
                                 "event_id": EVENT_ID, **CLAIMED})),
        })),
        "next": {"anyOf": [SUBJECT, {"type": "null"}]}, "coverage": ref("Coverage"),
    }),
    "ExercisesPage": obj({
        "year": {"type": ["integer", "null"]}, "domain": NULLABLE_STRING, "participant": NULLABLE_STRING,
        "series": array(obj({
            "stream": SUBJECT, "name": STRING, "domains": array({"enum": list(exercises.DOMAINS)}),
            "participants": array(STRING), "event_ids": array(EVENT_ID),
            "firsts": array(obj({"event_id": EVENT_ID, "first": STRING, "occurred": EDTF})),
            "editions": array(obj({
                "event_id": EVENT_ID, "type": STRING, "title": STRING, "edition": NULLABLE_STRING,
                "place": NULLABLE_STRING, "domains": array(STRING), "participants": array(PARTICIPANT),
                "first": NULLABLE_STRING, "planned": {"type": "boolean"}, "announced": {"type": ["string", "null"]},
                **DATED, **CLAIMED})),
            **SAME_AS,
        })),
        "next": {"anyOf": [SUBJECT, {"type": "null"}]}, "coverage": ref("Coverage"),
    }),
    "MeetingItem": obj({
        "event_id": EVENT_ID, "type": STRING, "title": STRING, "session": {"type": ["integer", "null"]},
        "announced": {"type": ["string", "null"]}, "place": NULLABLE_STRING, "participants": array(PARTICIPANT),
        "outcomes": array(STRING), **DATED, **CLAIMED}),
    "MeetingsPage": obj({
        "now": {"type": "string", "format": "date-time"},
        "mechanisms": array(obj({
            "stream": SUBJECT, "name": STRING, "level": NULLABLE_STRING,
            "established": {"anyOf": [ref("MeetingItem"), {"type": "null"}]},
            "sessions": array(ref("MeetingItem")), "statements": array(ref("MeetingItem")),
            "planned": array(ref("MeetingItem")), "next": {"anyOf": [ref("MeetingItem"), {"type": "null"}]},
            "next_passed": {"type": "boolean"}, "next_passed_on": NULLABLE_DAY,
            "next_note": {**NULLABLE_STRING,
                          "description": "Once the next plan's date has passed: no later session on record."},
            "disputed": {"type": "boolean"}, "event_ids": array(EVENT_ID), **SAME_AS,
        })),
        "next": {"anyOf": [SUBJECT, {"type": "null"}]}, "coverage": ref("Coverage"),
    }),
    "TimelinePage": obj({
        "entries": array(obj({
            "event_id": EVENT_ID, "position": POSITION, "stream": SUBJECT, "lane": {"enum": list(timeline.LANES)},
            "type": STRING, "title": STRING, "summary": NULLABLE_STRING, "sources": SOURCES,
            "cursor": {"type": "string", "pattern": timeline.CURSOR.pattern},
            "planned_for": {"type": ["string", "null"], "description": "For a plan, the date it names (EDTF)."},
            **DATED})),
        "next": NULLABLE_STRING, "coverage": ref("Coverage"),
    }),
    "Coverage": COVERAGE,
    "SearchPage": obj({
        "q": STRING, "filters": {"type": "object", "additionalProperties": STRING,
                                 "description": "The facets the answer is narrowed to."},
        "sort": {"enum": list(filters.SEARCH_SORTS)},
        "total": {"type": "integer", "minimum": 0,
                  "description": "How many facts match, counted up to facet_scan (more_than says it went past)."},
        "more_than": {"type": "boolean"}, "facet_scan": {"type": "integer"},
        "facets": obj({f: array(obj({"value": STRING, "count": {"type": "integer", "minimum": 0}}))
                       for f in search.FACETS}),
        "results": array(obj({
            "event_id": EVENT_ID, "position": POSITION, "stream": SUBJECT, "type": STRING, "title": STRING,
            "occurred": EDTF, "when": STRING, "lo": NULLABLE_DAY, "hi": NULLABLE_DAY, "place": NULLABLE_STRING,
            "found_in": {**STRING, "description": "Which of the fact's fields the snippet is taken from."},
            "snippet": STRING,
            "highlights": array({"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}),
            "sources": SOURCES, "cursor": {"type": "string", "pattern": timeline.CURSOR.pattern}})),
        "next": NULLABLE_STRING,
    }, description="One page of search results; highlights are [start, end) offsets of the matched words "
                   "in snippet."),
    "Status": obj({
        "head": {"type": "integer", "minimum": 0}, "backend": {"enum": ["sqlite", "postgresql"]},
        "projections": array(obj({"name": STRING, "checkpoint": {"type": "integer"}, "lag": {"type": "integer"}})),
        "set_aside": array({"type": "object"}), "jobs": {"type": "object"},
        "integrity": {"type": ["object", "null"]}, "scheduler": {"type": "object"},
    }),
}
