"""What makes an event acceptable to the log, checked before anything is written.

Every rule raises a ValidationError naming the field (``sources[0].quote``)
and why, so a form can show it at the right place.
"""

from __future__ import annotations

import math
import re
import uuid
from functools import lru_cache
from typing import Any, Literal, NamedTuple, NoReturn, overload

import orjson

from . import dates, declaration
from .canonical import dumps
from .errors import UnknownEventType, ValidationError
from .records import NewEvent
from .text import XML_ILLEGAL, illegal_character
from .vocabulary import EVENT_TYPES, META_TYPES, PARTICIPANT_ROLES, SOURCE_KIND_RANK, STREAM_KINDS

STREAM_PATTERN = re.compile(r"^([a-z]+)/[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?(?:/[a-z0-9][a-z0-9-]{0,60})?$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
FACT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,120}$")
# The form str(uuid.UUID(x)) gives: an id already written so needs no parsing.
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

MAX_TITLE = 300
MAX_TEXT = 10_000
MAX_QUOTE = 2_000
MAX_CONTEXT = 200
MAX_DATA_BYTES = 64_000
#: A registered document's data holds its whole text (``declaration.MAX_DOCUMENT_TEXT`` characters at most).
MAX_DOCUMENT_DATA_BYTES = 4 * declaration.MAX_DOCUMENT_TEXT + MAX_DATA_BYTES
#: The log's columns hold these at most, on SQLite as on PostgreSQL (``models.Event``).
MAX_OCCURRED = 100
MAX_AUTHOR = 200
MAX_SOURCES = 20

PARTICIPANT_FIELDS = frozenset({"name", "role", "country"})
SOURCE_FIELDS = frozenset({"document", "url", "title", "publisher", "author", "kind", "language", "published", "quote",
                           "translation"})


class Prepared(NamedTuple):
    """A validated event in canonical form, ready for the log (a tuple: cheap to build)."""

    event_id: str
    stream: str
    type: str
    occurred: str
    occurred_lo: str | None
    occurred_hi: str | None
    data: dict[str, Any]
    data_text: bytes
    sources: list[dict[str, Any]]
    sources_text: bytes
    expected_version: int | None

    def content(self) -> tuple[str, str, str, bytes, bytes]:
        """What idempotency compares: the fields a writer chose."""
        return (self.stream, self.type, self.occurred, self.data_text, self.sources_text)


def prepare(event: NewEvent) -> Prepared:
    """Validate and normalise one event, or raise ValidationError."""
    return prepare_fields(event.stream, event.type, event.occurred, event.data, event.sources, event.event_id,
                          event.expected_version)


def prepare_fields(stream: object, type_: object, occurred: object, data: object, sources: object,
                   event_id: object = None, expected_version: object = None, *, new_text: bool = True) -> Prepared:
    """``prepare`` of an event's fields as loose values (NewEvent's order): the same rules, the same answer.

    An import checks every line of a restore and has the fields at hand;
    building a frozen NewEvent for each line only to read it back costs more
    than some of the rules do. ``new_text=False`` (an import) keeps the rules
    earlier versions wrote the log under (data fields before the declaration,
    characters XML cannot carry, which the renderers now replace), so that a
    backup made before a rule still restores.
    """
    event_id = _event_id(event_id)
    stream = _stream(stream)
    type_ = _type(type_, stream)
    if not isinstance(occurred, str) or len(occurred) > MAX_OCCURRED:
        _bad_date(occurred)
    lo, hi = dates.bounds(occurred)
    is_meta = type_ in META_TYPES
    sourced = type_ not in declaration.UNSOURCED_TYPES
    if new_text:  # what a writer sends now: every field as the declaration says
        data = declaration.validate_data(type_, data)
        sources = declaration.validate_sources(sources, required=sourced)
    else:  # a restore: the rules the log's earlier events were written under
        data = _data(data, is_meta=is_meta, type_=type_)
        sources = _sources(sources, required=sourced)
    expected = expected_version
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 0):
        raise ValidationError("expected_version", "must be a non-negative integer (0: the stream must be new)")
    data_text = _faithful_json("data", data)
    limit = MAX_DOCUMENT_DATA_BYTES if type_ == declaration.DOCUMENT_TYPE else MAX_DATA_BYTES
    if len(data_text) > limit:
        raise ValidationError("data", f"is {len(data_text)} bytes; the limit is {limit}")
    sources_text = _canonical("sources", sources)
    if new_text:
        _refuse_unwritable("data", data, data_text)
        _refuse_unwritable("sources", sources, sources_text)
    return Prepared(event_id, stream, type_, occurred, lo, hi, data, data_text, sources, sources_text, expected)


#: What canonical JSON holds where a string holds a character XML cannot carry: orjson escapes the C0
#: controls (\u00XX, \b, \f; tab, LF and CR are allowed) and writes U+FFFE and U+FFFF as UTF-8.
_UNWRITABLE_MARKS = (b"\\u00", b"\\b", b"\\f", "\ufffe".encode(), "\uffff".encode())


def _refuse_unwritable(path: str, value: object, text: bytes) -> None:
    """Refuse a string anywhere in ``value`` that the Atom feeds could not carry, naming its field.

    The JSON text is searched first (almost every event has no such mark);
    only a hit walks the value to name the field.
    """
    if any(mark in text for mark in _UNWRITABLE_MARKS):
        _walk_unwritable(path, value)


def _walk_unwritable(path: str, value: object) -> None:
    if isinstance(value, str):
        found = illegal_character(value) if XML_ILLEGAL.search(value) else None
        if found:
            raise ValidationError(path, f"contains {found}, a character XML (and so the Atom feeds) cannot "
                                        "carry; remove it")
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_unwritable(f"{path} (a key)", key)
            _walk_unwritable(f"{path}.{key}", item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_unwritable(f"{path}[{i}]", item)


def _bad_date(value: object) -> NoReturn:
    if isinstance(value, str):
        raise ValidationError("occurred", f"is {len(value)} characters long; an EDTF date has at most {MAX_OCCURRED}")
    raise ValidationError("occurred", f"must be an EDTF string, not {type(value).__name__}")


def check_author(author: object) -> str:
    """Who appends: a name the log's ``author`` column holds (an editor's name, ``seed``)."""
    if not isinstance(author, str) or not author.strip():
        raise ValidationError("author", "must name who appends the events")
    if len(author) > MAX_AUTHOR or XML_ILLEGAL.search(author):
        raise ValidationError("author", f"must be at most {MAX_AUTHOR} characters of text XML can carry")
    return author


def _event_id(value: object) -> str:
    if value is None:
        return str(uuid.uuid4())
    if not isinstance(value, str):
        raise ValidationError("event_id", "must be a UUID string")
    if type(value) is str and CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError("event_id", f"{value!r} is not a UUID") from None


@lru_cache(maxsize=16_384)
def _known_stream(value: str) -> bool:
    """Whether ``_stream`` accepts this name: a log names each stream many times, so it is matched once."""
    m = STREAM_PATTERN.fullmatch(value)
    return m is not None and m.group(1) in STREAM_KINDS


def _stream(value: object) -> str:
    if value.__class__ is str and _known_stream(value):
        return value
    if not isinstance(value, str) or not value:
        raise ValidationError("stream", "must be a string like 'agreement/acsa'")
    m = STREAM_PATTERN.fullmatch(value)
    if not m:
        raise ValidationError(
            "stream", f"{value!r} is not '<kind>/<slug>' (lowercase letters, digits and hyphens, e.g. 'agreement/acsa')"
        )
    if m.group(1) not in STREAM_KINDS:
        raise ValidationError("stream", f"unknown subject kind {m.group(1)!r} (known: {', '.join(STREAM_KINDS)})")
    return value


def _type(value: object, stream: str) -> str:
    if not isinstance(value, str) or value not in EVENT_TYPES:
        raise UnknownEventType(str(value), f"unknown event type {value!r}; see the vocabulary in seeds/README.md")
    kind = stream.split("/", 1)[0]
    if kind not in EVENT_TYPES[value].kinds:
        allowed = ", ".join(sorted(EVENT_TYPES[value].kinds))
        raise UnknownEventType(value, f"{value} does not apply to {kind} subjects (only to: {allowed})")
    return value


@overload
def _text(path: str, value: object, limit: int, *, required: Literal[True]) -> str: ...
@overload
def _text(path: str, value: object, limit: int, *, required: bool = False) -> str | None: ...
def _text(path: str, value: object, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ValidationError(path, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(path, f"must be a string, not {type(value).__name__}")
    text = " ".join(value.split()) if limit <= MAX_TITLE else value.strip()
    if required and not text:
        raise ValidationError(path, "must not be empty")
    if len(text) > limit:
        raise ValidationError(path, f"is {len(text)} characters long; the limit is {limit}")
    return text


def _data(value: object, *, is_meta: bool, type_: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError("data", "must be a JSON object")
    data = dict(value)
    title = _text("data.title", data.get("title"), MAX_TITLE, required=not is_meta)
    if title is not None:
        data["title"] = title
    if "summary" in data:
        data["summary"] = _text("data.summary", data["summary"], MAX_TEXT)
    if "place" in data:
        data["place"] = _text("data.place", data["place"], MAX_TEXT)
    if "participants" in data:
        data["participants"] = _participants(data["participants"])
    if "fact" in data and (not isinstance(data["fact"], str) or not FACT_PATTERN.match(data["fact"])):
        raise ValidationError("data.fact", "must be a lowercase slug naming the disputed fact")
    if is_meta:
        _meta(data, type_)
    return {k: v for k, v in data.items() if v is not None}


def _participants(value: object) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValidationError("data.participants", "must be a list")
    out = []
    for i, item in enumerate(value):
        path = f"data.participants[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ValidationError(path, "must be a name or an object with name and role")
        if not item.keys() <= PARTICIPANT_FIELDS:
            unknown = set(item) - PARTICIPANT_FIELDS
            raise ValidationError(path, f"unknown field {sorted(unknown)[0]!r} (expected name, role, country)")
        entry = {"name": _text(f"{path}.name", item.get("name"), MAX_TITLE, required=True)}
        role = item.get("role")
        if role is not None:
            if not isinstance(role, str) or role not in PARTICIPANT_ROLES:
                raise ValidationError(f"{path}.role", f"must be one of {', '.join(sorted(PARTICIPANT_ROLES))}")
            entry["role"] = role
        country = item.get("country")
        if country is not None:
            country = _text(f"{path}.country", country, 100)
            assert country is not None  # a value that is given is kept or refused, never dropped
            entry["country"] = country
        out.append(entry)
    return out


def _meta(data: dict[str, Any], type_: str) -> None:
    data["target"] = _event_id_required("data.target", data.get("target"))
    data["reason"] = _text("data.reason", data.get("reason"), MAX_TEXT, required=True)
    if type_ == "EventCorrected":
        changes = data.get("changes")
        if not isinstance(changes, dict) or not changes:
            raise ValidationError("data.changes", "must be an object with at least one of occurred, data, sources")
        unknown = set(changes) - {"occurred", "data", "sources"}
        if unknown:
            raise ValidationError(
                "data.changes", f"cannot change {sorted(unknown)[0]!r} (only occurred, data, sources)"
            )
        changes = dict(changes)
        if "occurred" in changes:
            if not isinstance(changes["occurred"], str):
                raise ValidationError("data.changes.occurred", "must be an EDTF string")
            try:
                dates.parse(changes["occurred"])
            except ValidationError as exc:
                raise ValidationError("data.changes.occurred", exc.reason) from None
        if "sources" in changes:
            if not isinstance(changes["sources"], list) or not changes["sources"]:
                raise ValidationError("data.changes.sources", "must be a non-empty list of sources")
            changes["sources"] = [source(s, f"data.changes.sources[{i}]") for i, s in enumerate(changes["sources"])]
        if "data" in changes and (not isinstance(changes["data"], dict) or not changes["data"]):
            raise ValidationError("data.changes.data", "must be a non-empty object of data fields (null removes one)")
        data["changes"] = changes


def _event_id_required(path: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(path, "must be the event_id (a UUID) of an earlier event")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(path, f"{value!r} is not a UUID") from None


def _sources(value: object, *, required: bool) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValidationError("sources", "must be a list of sources")
    if required and not value:
        raise ValidationError("sources", "at least one source with a verbatim quote is required")
    if len(value) > MAX_SOURCES:
        raise ValidationError("sources", f"at most {MAX_SOURCES} sources")
    return [source(item, f"sources[{i}]") for i, item in enumerate(value)]


def source(item: object, path: str = "source") -> dict[str, Any]:
    """Validate one source and give it its canonical shape (the quote as a TextQuoteSelector)."""
    if not isinstance(item, dict):
        raise ValidationError(path, "must be an object with a document or url and a quote")
    if not item.keys() <= SOURCE_FIELDS:
        expected = ", ".join(sorted(SOURCE_FIELDS))
        raise ValidationError(path, f"unknown field {sorted(item.keys() - SOURCE_FIELDS)[0]!r} (expected: {expected})")
    get = item.get
    out = _origin(path, get("document"), get("url"))
    for key in ("title", "publisher", "author"):
        value = get(key)
        if value is not None:
            out[key] = _text(f"{path}.{key}", value, MAX_TITLE)
    out.update(_kind_and_language(path, get("kind"), get("language")))
    published = get("published")
    if published is not None:
        out["published"] = _published(path, published)
    out["quote"] = _quote(get("quote"), path)
    translation = get("translation")
    if translation is not None:
        out["translation"] = _translation(f"{path}.translation", translation)
    return out


def _translation(path: str, value: object) -> dict[str, str]:
    """An editor's translation of the quote, as the declaration writes it: its text and its language."""
    if not isinstance(value, dict) or set(value) != {"text", "language"}:
        raise ValidationError(path, "must be an object with the translated text and its language")
    language = value["language"]
    if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
        raise ValidationError(f"{path}.language", "must be a language tag such as 'en' or 'fr'")
    return {"text": _text(f"{path}.text", value["text"], MAX_TEXT, required=True), "language": language}


def _kind_and_language(path: str, kind: object, language: object) -> dict[str, str]:
    """What kind of source it is and its language, each when given."""
    out = {}
    if kind is not None:
        if not isinstance(kind, str) or kind not in SOURCE_KIND_RANK:
            raise ValidationError(f"{path}.kind", f"must be one of {', '.join(SOURCE_KIND_RANK)}")
        out["kind"] = kind
    if language is not None:
        if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
            raise ValidationError(f"{path}.language", "must be a language tag such as 'en' or 'fr'")
        out["language"] = language
    return out


def _origin(path: str, document: object, url: object) -> dict[str, Any]:
    """Where the quote comes from (a document of the catalogue, a URL, or both): the start of a source's shape."""
    out: dict[str, Any] = {}
    if document is not None:
        out["document"] = _text(f"{path}.document", document, MAX_TITLE, required=True)
    if url is not None:
        url = _text(f"{path}.url", url, 2000, required=True)
        if not URL_PATTERN.match(url):
            raise ValidationError(f"{path}.url", f"{url!r} is not an http(s) URL")
        out["url"] = url
    if not out:
        raise ValidationError(path, "needs a document or a url saying where the quote comes from")
    return out


def _published(path: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_OCCURRED:
        raise ValidationError(f"{path}.published", f"must be an EDTF date string (at most {MAX_OCCURRED} "
                                                   f"characters), not {type(value).__name__}")
    try:
        dates.parse(value)
    except ValidationError as exc:
        raise ValidationError(f"{path}.published", exc.reason) from None
    return value


QUOTE_FIELDS = frozenset({"type", "exact", "prefix", "suffix"})


def _quote(value: object, source_path: str) -> dict[str, str]:
    path = f"{source_path}.quote"
    if value is None:
        raise ValidationError(path, "is required: the verbatim words of the source that support the fact")
    if isinstance(value, str):
        value = {"exact": value}
    if not isinstance(value, dict):
        raise ValidationError(path, f"must be a string (the verbatim quote), not {type(value).__name__}")
    if not value.keys() <= QUOTE_FIELDS:
        unknown = sorted(value.keys() - QUOTE_FIELDS)[0]
        raise ValidationError(path, f"unknown field {unknown!r} (expected exact, prefix, suffix)")
    if value.get("type", "TextQuoteSelector") != "TextQuoteSelector":
        raise ValidationError(f"{path}.type", "only TextQuoteSelector is supported")
    out = {"type": "TextQuoteSelector", "exact": _exact(path, value)}
    for key in ("prefix", "suffix"):
        context = value.get(key)
        if context is not None:
            if not isinstance(context, str):
                raise ValidationError(f"{path}.{key}", "must be a string")
            if len(context) > MAX_CONTEXT:
                raise ValidationError(f"{path}.{key}", f"at most {MAX_CONTEXT} characters")
            out[key] = context
    return out


def _exact(path: str, quote: dict[str, Any]) -> str:
    """The quote's verbatim words, whitespace collapsed: a non-empty string within the limit."""
    exact = quote.get("exact")
    if not isinstance(exact, str):
        raise ValidationError(f"{path}.exact" if "exact" in quote else path,
                              f"must be a string (the verbatim quote), not {type(exact).__name__}")
    exact = " ".join(exact.split())
    if not exact:
        raise ValidationError(path, "must not be empty")
    if len(exact) > MAX_QUOTE:
        raise ValidationError(path, f"is {len(exact)} characters long; quote at most {MAX_QUOTE}")
    return exact


def _faithful_json(path: str, value: object) -> bytes:
    """Canonical JSON of ``value``, refused when JSON cannot carry it faithfully.

    The happy path costs one dump, one load and one comparison (NaN, tuples
    and other lossy values do not survive the round trip); only a refusal
    walks the value to name the offending field.
    """
    try:
        text = dumps(value)
        faithful = orjson.loads(text) == value
    except (orjson.JSONEncodeError, TypeError):
        faithful = False
    if not faithful:
        _check_json(path, value)
        raise ValidationError(path, "cannot be stored as JSON without loss")
    return text


def _check_json(path: str, value: object, depth: int = 0) -> None:
    """Name the value JSON cannot carry faithfully (NaN, huge integers, non-JSON types)."""
    if depth > 32:
        raise ValidationError(path, "is nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(path, "object keys must be strings")
            _check_json(f"{path}.{key}", item, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(f"{path}[{i}]", item, depth + 1)
    else:
        _check_json_scalar(path, value)


def _check_json_scalar(path: str, value: object) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValidationError(path, "integer out of the 64-bit range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(path, "must be a finite number")
    else:
        raise ValidationError(path, f"{type(value).__name__} is not a JSON value")


def _canonical(path: str, value: object) -> bytes:
    try:
        return dumps(value)
    except orjson.JSONEncodeError as exc:
        raise ValidationError(path, f"cannot be stored as JSON ({exc})") from None
