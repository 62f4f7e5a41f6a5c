"""One declaration of every event type's fields (issue 18), from which the rest follows.

The common fields, each type's own fields, sources and the data of
corrections and retractions are pydantic models: types, bounds, choices and
help text are written once here. The API's validation (``validate_data``,
``validate_sources``, ``validate_changes``), the published JSON Schema
(``json_schema``), the form (``form_fields``) and the README's table
(``fields_table``) are all read from these models, so they cannot disagree.

Errors come back in the project's shape: a dotted field path
(``data.participants[0].role``) and a reason in plain words, never pydantic's.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, model_validator
from pydantic.json_schema import models_json_schema
from pydantic_core import PydanticCustomError, core_schema

from . import dates
from .errors import InvalidDate, ValidationError
from .text import XML_ILLEGAL, illegal_character

# --- limits and closed vocabularies ----------------------------------------------------------------------------

MAX_TITLE = 300
MAX_TEXT = 10_000
MAX_QUOTE = 2_000
MAX_CONTEXT = 200
MAX_OCCURRED = 100
MAX_SOURCES = 20
MAX_URL = 2_000
MAX_SHORT = 100  # a country, an edition, a level: a word or two
MAX_NAMES = 200  # parties, participants: a multilateral treaty or exercise stays under it
MAX_OUTCOMES = 100
MAX_SESSION = 1_000
MAX_DOCUMENT_TEXT = 1_000_000  # characters: a book-length report; a 30-page analysis is about 100,000

#: Stream kinds: the part of a stream id before the slash (``agreement/acsa``), and what a subject of each is.
KINDS: dict[str, str] = {
    "agreement": "A treaty, arrangement, roadmap, plan or partnership framework.",
    "exercise": "An exercise series or a one-off exercise, training or deployment.",
    "meeting": "A dialogue mechanism: 2+2, strategic dialogue, working group, committee, summit.",
    "institution": "A base, office, observatory, consulate or other standing body.",
    "cooperation": "A cooperation programme or project: space, cyber, industry, development.",
    "partnership": "The standing of a relationship as a whole (France-Japan, EU-Japan, NATO-Japan).",
    "policy": "A strategy, review, speech or position of one party.",
    "context": "A dated event outside the partnership that the sources tie to it (a summit, an attack, "
    "a third country's agreement).",
    "source": "A source document registered with its text (a report, an article, an official page or statement), "
    "which quotes naming it are checked against.",
}
STREAM_KINDS = tuple(KINDS)
CategoryName = Literal["treaty", "arrangement", "roadmap", "plan", "partnership", "framework"]
DomainName = Literal["maritime", "air", "land", "amphibious", "hadr", "space", "cyber", "joint"]
RoleName = Literal["participant", "observer", "host", "organizer"]
SourceKindName = Literal["official", "press", "analysis", "other"]  # trusted in this order when claims disagree
CATEGORIES: tuple[str, ...] = get_args(CategoryName)
#: The rule the open-world status reads (projections/lifecycle.py), written once so no page guesses it: which
#: categories of agreement apply from their signature (or adoption), a political commitment in force as soon as
#: the leaders sign it; and which bind only once they have entered into force, after each party's own procedure.
#: An adoption (``AgreementAdopted``) always applies from its date; an agreement whose category no event states
#: is read as the stricter kind. An arrangement's own text decides when it applies, which no source here gives.
SIGNATURE_APPLIES: frozenset[str] = frozenset({"roadmap", "plan", "partnership", "framework"})
ENTRY_INTO_FORCE_NEEDED: frozenset[str] = frozenset({"treaty", "arrangement"})
DOMAINS: tuple[str, ...] = get_args(DomainName)
PARTICIPANT_ROLES: tuple[str, ...] = get_args(RoleName)
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKindName)

#: What follows a stream's kind: ``agreement`` + this = ``agreement/acsa`` (events.validation.STREAM_PATTERN's tail).
STREAM_TAIL = r"/[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?(?:/[a-z0-9][a-z0-9-]{0,60})?$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,120}$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"
#: XML_ILLEGAL (events.text) as JSON Schema writes it: ECMA-262 and Python's ``re`` read it alike.
_XML_CLASS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ud800-\\udfff\\ufffe\\uffff"
#: events.validation.URL_PATTERN, spelt without the IGNORECASE flag JSON Schema cannot carry, and without the
#: characters XML cannot carry (which the validator names before it tries the pattern).
URL_PATTERN = f"^[hH][tT][tT][pP][sS]?://[^\\s/$.?#{_XML_CLASS}][^\\s{_XML_CLASS}]*$"
WIDGETS = ("text", "textarea", "select", "multiselect", "number", "date")


# --- how a declared value is named, shown and published ---------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """Annotated metadata naming a value for people: in errors (``noun``), in the README (``value``), in a form
    (``widget``); ``schema`` adds what JSON Schema can say but pydantic does not check itself (the checks are
    the validators', on normalised text)."""

    noun: str
    value: str
    widget: str
    schema: tuple[tuple[str, Any], ...] = ()
    #: Run after the value's own type is checked: normalises it, or raises what is wrong in words.
    check: Callable[[Any], Any] | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        return schema if self.check is None else core_schema.no_info_after_validator_function(self.check, schema)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        json_schema: dict[str, Any] = handler(schema)
        json_schema.update(self.schema)
        return json_schema


def _fail(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, context)


def _writable(value: str) -> str:
    found = illegal_character(value)
    if found:
        raise _fail("xml_illegal", "contains {found}, a character XML (and so the Atom feeds) cannot carry; remove it",
                    found=found)
    return value


def text(limit: int, *, required: bool = False, clean: Literal["", "collapse", "strip", "keep"] = "",
         noun: str = "text") -> Shape:
    """A string type: whitespace normalised as today (a line collapses, prose strips, quote context is kept),
    at most ``limit`` characters once normalised, and only characters XML (so the Atom feeds) can carry."""
    clean = clean or ("collapse" if limit <= MAX_TITLE else "strip")

    def check(value: str) -> str:
        if clean == "collapse":
            value = " ".join(value.split())
        elif clean == "strip":
            value = value.strip()
        if required and not value:
            raise _fail("empty", "must not be empty")
        if len(value) > limit:
            raise _fail("text_length", "is {length} characters long; the limit is {limit}", length=len(value),
                        limit=limit)
        return _writable(value)

    pattern = f"^(?=[\\s\\S]*\\S)[^{_XML_CLASS}]*$" if required else f"^[^{_XML_CLASS}]*$"
    widget = "text" if limit <= MAX_TITLE else "textarea"
    return Shape(noun, f"text, at most {limit:,} characters", widget, (("maxLength", limit), ("pattern", pattern)),
                 check)


def matching(pattern: str, noun: str, value: str, *, max_length: int = MAX_TITLE, strip: bool = False) -> Shape:
    """A string that must match ``pattern`` (an identifier, a tag, a URL), named ``noun`` when it does not."""
    compiled = re.compile(pattern)

    def check(text_: str) -> str:
        text_ = _writable(text_.strip() if strip else text_)
        if len(text_) > max_length or not compiled.fullmatch(text_):  # fullmatch: '$' alone admits a final newline
            shown = text_ if len(text_) <= 60 else f"{text_[:57]}..."
            raise _fail("pattern", "{text} is not {noun}", text=repr(shown), noun=noun)
        return text_

    return Shape(noun, value, "text", (("pattern", pattern), ("maxLength", max_length)), check)


def _short_enough(text_: str) -> None:
    """Checked before parsing: ``dates.parse`` caches what it is given."""
    if len(text_) > MAX_OCCURRED:
        raise _fail("edtf", "is {length} characters long; an EDTF date has at most {limit}", length=len(text_),
                    limit=MAX_OCCURRED)


def _edtf(text_: str) -> str:
    _short_enough(text_)
    try:
        dates.parse(text_)
    except InvalidDate as exc:
        raise _fail("edtf", "{reason}", reason=exc.reason) from None
    return text_


def _edtf_interval(text_: str) -> str:
    """A span with a start and an end (either open): ``2023/2027``, ``2011/..``; a day or a year is not a term."""
    _short_enough(text_)
    try:
        dates.parse(text_)
    except InvalidDate as exc:
        raise _fail("edtf_interval", "not an EDTF interval ({text}): {reason}", text=repr(text_),
                    reason=exc.reason) from None
    if "/" not in text_:
        raise _fail("edtf_interval", "not an EDTF interval ({text}): give a start and an end, as in 2023/2027 "
                                     "or 2011/..", text=repr(text_))
    return text_


def _event_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _fail("event_id", "{value} is not an event id (a UUID)", value=repr(value[:60])) from None


def _distinct(values: list[Any]) -> list[Any]:
    seen = set()
    for value in values:
        if value in seen:
            raise _fail("duplicate", "names {value} twice", value=repr(value))
        seen.add(value)
    return values


def _choices(values: tuple[str, ...], noun: str, widget: str = "select") -> Shape:
    return Shape(noun, "one of " + ", ".join(f"`{v}`" for v in values), widget)


def _list(noun: str, value: str, *, widget: str = "textarea", unique: bool = True) -> Shape:
    """A list given as a JSON array (never a bare value); ``unique``: no entry twice."""
    return Shape(noun, value, widget, (("uniqueItems", True),) if unique else (), _distinct if unique else None)


Line = Annotated[str, text(MAX_TITLE)]
ShortLine = Annotated[str, text(MAX_SHORT)]
Prose = Annotated[str, text(MAX_TEXT)]
Title = Annotated[str, text(MAX_TITLE, required=True)]
Reason = Annotated[str, text(MAX_TEXT, required=True)]
Name = Annotated[str, text(MAX_TITLE, required=True, noun="a name")]
DocumentId = Annotated[str, text(MAX_TITLE, required=True, noun="a document id")]
Country = Annotated[str, text(MAX_SHORT)]
QuoteText = Annotated[str, text(MAX_QUOTE, required=True, clean="collapse", noun="a verbatim quote")]
QuoteContext = Annotated[str, text(MAX_CONTEXT, clean="keep")]
TranslationText = Annotated[str, text(MAX_TEXT, required=True, clean="collapse")]
Edtf = Annotated[str, Shape("an EDTF date", "EDTF date", "date", (("format", "edtf"), ("maxLength", MAX_OCCURRED)),
                            _edtf)]
EdtfInterval = Annotated[str, Shape("an EDTF interval", "EDTF interval", "date", (
    ("format", "edtf-interval"), ("pattern", "^[^/]*/[^/]*$"), ("maxLength", MAX_OCCURRED)), _edtf_interval)]
EventId = Annotated[str, Shape("an event id (a UUID)", "event id (UUID)", "text", (("format", "uuid"),), _event_id)]
FactSlug = Annotated[str, matching(SLUG_PATTERN, "a lowercase slug (letters, digits, hyphens)",
                                   "slug, e.g. `acsa-signature-date`")]
Language = Annotated[str, matching(LANGUAGE_PATTERN, "a language tag such as 'en' or 'fr'",
                                   "language tag (`fr`, `en`, `ja`)", max_length=35)]
Url = Annotated[str, matching(URL_PATTERN, "an http(s) URL", "http(s) URL", max_length=MAX_URL, strip=True)]
AgreementSubject = Annotated[str, matching("^agreement" + STREAM_TAIL, "an agreement's subject ('agreement/<slug>')",
                                           "subject `agreement/<slug>`", max_length=200)]
Subject = Annotated[str, matching(f"^(?:{'|'.join(STREAM_KINDS)}){STREAM_TAIL}", "a subject ('<kind>/<slug>')",
                                  "subject `<kind>/<slug>`", max_length=200)]
Session = Annotated[int, Field(ge=1, le=MAX_SESSION), Shape("a whole number", f"whole number, 1 to {MAX_SESSION:,}",
                                                            "number")]
Category = Annotated[CategoryName, _choices(CATEGORIES, "a category")]
Domain = Annotated[DomainName, _choices(DOMAINS, "a domain")]
Role = Annotated[RoleName, _choices(PARTICIPANT_ROLES, "a role")]
SourceKind = Annotated[SourceKindName, _choices(SOURCE_KINDS, "a kind of source")]
SelectorType = Annotated[Literal["TextQuoteSelector"], _choices(("TextQuoteSelector",), "a selector type")]
Domains = Annotated[list[Domain], Field(min_length=1, max_length=len(DOMAINS)), _list(
    "a list of domains", "list of " + ", ".join(f"`{d}`" for d in DOMAINS), widget="multiselect")]
Parties = Annotated[list[Name], Field(min_length=1, max_length=MAX_NAMES), _list("a list of names", "list of names")]
Outcomes = Annotated[list[EventId], Field(min_length=1, max_length=MAX_OUTCOMES),
                     _list("a list of event ids", "list of event ids")]
Subjects = Annotated[list[Subject], Field(min_length=1, max_length=MAX_OUTCOMES),
                     _list("a list of subjects", "list of subjects `<kind>/<slug>`")]


def _document_text(value: str) -> str:
    """A document's text as given, byte for byte: not blank, within the limit, every character one XML can carry,
    composed (NFC) so that a quote matches it whatever system typed it; a refusal names the line."""
    if not value.strip():
        raise _fail("empty", "must not be empty: give the document's text")
    if len(value) > MAX_DOCUMENT_TEXT:
        raise _fail("text_length", "is {length} characters long; the limit is {limit}", length=f"{len(value):,}",
                    limit=f"{MAX_DOCUMENT_TEXT:,}")
    found = XML_ILLEGAL.search(value)
    if found:
        raise _fail("xml_illegal", "line {line} holds {found}, a character XML (and so the Atom feeds) cannot "
                                   "carry; remove it", line=value.count("\n", 0, found.start()) + 1,
                    found=illegal_character(value))
    if not unicodedata.is_normalized("NFC", value):
        line = next(n for n, row in enumerate(value.split("\n"), 1) if not unicodedata.is_normalized("NFC", row))
        raise _fail("not_nfc", "line {line} is not in Unicode's composed form (NFC), as text saved on some systems "
                               "is: compose it, so quotes typed anywhere match it", line=line)
    return value


DocumentText = Annotated[str, Shape("the document's text", f"text, at most {MAX_DOCUMENT_TEXT:,} characters, kept "
                                    "byte for byte", "textarea", (("maxLength", MAX_DOCUMENT_TEXT), (
                                        "pattern", f"^(?=[\\s\\S]*\\S)[^{_XML_CLASS}]*$")), _document_text)]
Sha256 = Annotated[str, matching("^[0-9a-f]{64}$", "a SHA-256 in lowercase hexadecimal (64 digits)",
                                 "SHA-256, lowercase hex", max_length=64)]
MediaType = Annotated[str, matching(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$",
                                    "a media type such as 'application/pdf'", "media type", max_length=MAX_SHORT)]
ByteSize = Annotated[int, Field(ge=0), Shape("a number of bytes", "whole number of bytes", "number")]
#: The metadata of a document that may be inferred rather than read in it (``occurred``: its date).
InferredField = Literal["title", "author", "publisher", "occurred", "language", "kind", "url"]
INFERRED_FIELDS: tuple[str, ...] = get_args(InferredField)
Basis = Annotated[str, text(MAX_TEXT, required=True, noun="the basis of an inference")]
Inferred = Annotated[dict[InferredField, Basis], Field(min_length=1), Shape(
    "an object naming each inferred field with its basis", "object: field → basis (" + ", ".join(
        f"`{f}`" for f in INFERRED_FIELDS) + ")", "textarea")]


def _any_given(*names: str) -> dict[str, Any]:
    """JSON Schema for a model validator's "at least one of these, not null"."""
    return {"anyOf": [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names]}


class _Strict(BaseModel):
    """JSON as sent: no coercion ("3" is not 3), no field the declaration does not name."""

    model_config = ConfigDict(strict=True, extra="forbid")


# --- the fields of every fact ------------------------------------------------------------------------------------


class Participant(_Strict):
    """Who took part, and as what."""

    name: Name = Field(title="Name", description="A person, a state, a force or a body, as the source names it.")
    role: Role | None = Field(None, title="Role", description="What part it took; a bare name is a participant.")
    country: Country | None = Field(None, title="Country", description="The country it belongs to.")


def _named(value: object) -> object:
    """A bare name is a participant: the form and the seeds write names alone."""
    return {"name": value} if isinstance(value, str) else value


ParticipantEntry = Annotated[Participant, BeforeValidator(_named, json_schema_input_type=Participant | Name), Shape(
    "a name or an object with name, role and country", "participant", "textarea")]
Participants = Annotated[list[ParticipantEntry], Field(min_length=1, max_length=MAX_NAMES), _list(
    "a list of participants", "list of names or `{name, role, country}`; role one of "
    + ", ".join(f"`{r}`" for r in PARTICIPANT_ROLES), unique=False)]


class FactData(_Strict):
    """The data every fact has, whatever its type."""

    title: Title = Field(title="Title", description="What happened, in one line of English.")
    summary: Prose | None = Field(None, title="Summary",
                                  description="What the sources say, in a few sentences of English, and no more.")
    place: Line | None = Field(None, title="Place", description="Where, as the source names it.")
    participants: Participants | None = Field(
        None, title="Participants", description="Who took part: one per line as name; role; country (role and "
                                                "country optional; roles: " + ", ".join(PARTICIPANT_ROLES) + ").")
    fact: FactSlug | None = Field(
        None, title="Disputed fact", description="Shared by rival claims about one fact (a date, a count), so the "
                                                 "read models rank them and mark the fact disputed.")
    name: Line | None = Field(
        None, title="Name", description="What the subject is called, where no more specific name applies (a "
                                        "summit, a resolution, a contract).")
    domains: Domains | None = Field(None, title="Domains", description="The domains it concerns.")
    possibly_same_as: Subjects | None = Field(
        None, title="Possibly the same as", description="Other subjects that may be this one under another name: "
        "same parties, kind and main subject, dates that do not exclude it, but no source says they are one "
        "(seeds/README.md, 'When two names are one body').")


# --- each type's own fields, each declared once (a mixin per group; the order of bases is the form's order) ----


class AgreementData(FactData):
    """An agreement as this event states it; views keep what earlier events stated when a field is left out."""

    agreement: Line | None = Field(None, title="Full name", description="The agreement's full name.")
    short: Line | None = Field(None, title="Short name",
                               description="The name it is known by (e.g. ACSA); pages list it under this name.")
    category: Category | None = Field(
        None, title="Category", description="What kind of instrument it is. A roadmap, plan, partnership or "
        "framework applies from its signature or adoption; a treaty or an arrangement (and an agreement of no stated "
        "category) only from a recorded entry into force.")
    parties: Parties | None = Field(None, title="Parties",
                                    description="Who is bound: states, organisations or agencies, one per line.")
    term: EdtfInterval | None = Field(
        None, title="Term", description="When it applies, an EDTF interval: 2023/2027, or 2011/.. while open.")


class _Supersession(_Strict):
    superseded_by: AgreementSubject | None = Field(
        None, title="Superseded by", description="The agreement that replaced it, as its subject (agreement/<slug>).")


class AgreementSupersededData(_Supersession, AgreementData):
    """An agreement replaced by another."""


class _Series(_Strict):
    series: Line | None = Field(None, title="Series", description="The exercise series (e.g. Croix du Sud).")
    edition: ShortLine | None = Field(
        None, title="Edition", description="Which edition, as the source numbers it: a year (2017) or an ordinal (16).")


class _First(_Strict):
    first: Line | None = Field(None, title="What was a first",
                               description="What the source says was done for the first time, in its words.")


class _Planned(_Strict):
    planned_for: Edtf = Field(
        title="Planned for", description="The date the plan names, at the precision stated (EDTF); the event's "
                                         "date is when the plan was made or announced.")


class _Mechanism(_Strict):
    mechanism: Line | None = Field(
        None, title="Mechanism", description="The dialogue mechanism (e.g. 2+2); pages list its sessions under it.")
    level: ShortLine | None = Field(None, title="Level",
                                    description="Who meets, as the source says: ministerial, high-level, staff.")


class _Session(_Strict):
    session: Session | None = Field(None, title="Session", description="The session's number (3 for the third).")


class _Outcomes(_Strict):
    outcomes: Outcomes | None = Field(None, title="Outcomes",
                                      description="The events the meeting decided, by event id, one per line.")


class ExerciseData(_First, _Series, FactData):
    """An exercise, a training or a deployment that took place."""


class ExercisePlannedData(_Planned, _Series, FactData):
    """An exercise announced for a later date."""


class DialogueData(_Mechanism, FactData):
    """A dialogue set up."""


class MeetingHeldData(_Outcomes, _Session, _Mechanism, FactData):
    """A session of a dialogue, or a meeting, that took place."""


class MeetingPlannedData(_Planned, _Session, _Mechanism, FactData):
    """A session announced for a later date."""


# --- sources -----------------------------------------------------------------------------------------------------


class TextQuoteSelector(_Strict):
    """The quote as W3C Web Annotation writes it: the words, and some context on each side to find them again."""

    type: SelectorType = Field("TextQuoteSelector", title="Selector type",
                               description="The only kind of selector the chronology reads.")
    exact: QuoteText = Field(
        title="Exact words", description="The source's words, verbatim (runs of whitespace count as one space).")
    prefix: QuoteContext | None = Field(None, title="Before", description="The words just before the quote.")
    suffix: QuoteContext | None = Field(None, title="After", description="The words just after the quote.")


def _selector(value: object) -> object:
    """A quote given as a string is a selector of its exact words."""
    return {"exact": value} if isinstance(value, str) else value


Quote = Annotated[TextQuoteSelector, BeforeValidator(_selector, json_schema_input_type=QuoteText | TextQuoteSelector),
                  Shape("a verbatim quote (a string) or a TextQuoteSelector", "string or TextQuoteSelector",
                        "textarea")]


class Translation(_Strict):
    """A translation of the quote: shown beside it and marked as such, never as the source's words."""

    text: TranslationText = Field(title="Translation", description="The quote, translated.")
    language: Language = Field(title="Language", description="The translation's language (en, fr, ja).")


class Source(_Strict):
    """Where a fact comes from: a registered document or a URL, and the words that support it."""

    model_config = ConfigDict(json_schema_extra=_any_given("document", "url"))

    document: DocumentId | None = Field(None, title="Document",
                                  description="A registered source document, by its id; the quote must be in it.")
    url: Url | None = Field(None, title="URL", description="Where the source can be read (http or https).")
    title: Line | None = Field(None, title="Title", description="The source's title.")
    publisher: Line | None = Field(None, title="Publisher", description="Who published it.")
    author: Line | None = Field(None, title="Author", description="Who wrote it.")
    kind: SourceKind | None = Field(None, title="Kind",
                                    description="What it is; when claims disagree, trusted in this order.")
    language: Language | None = Field(None, title="Language", description="The source's language (fr, en, ja).")
    published: Edtf | None = Field(None, title="Published", description="When the source was published (EDTF).")
    quote: Quote = Field(title="Quote", description="The source's words that support the fact, verbatim.")
    translation: Translation | None = Field(None, title="Translation",
                                            description="The quote translated, with the translation's language.")

    @model_validator(mode="after")
    def _located(self) -> Source:
        if self.document is None and self.url is None:
            raise _fail("source_origin", "needs a document or a url saying where the quote comes from")
        return self


SourceEntry = Annotated[Source, Shape("an object with a document or url and a quote", "source", "textarea")]
Sources = Annotated[list[SourceEntry], Field(min_length=1, max_length=MAX_SOURCES),
                    Shape("a list of sources", "list of sources", "textarea")]
MetaSources = Annotated[list[SourceEntry], Field(max_length=MAX_SOURCES),
                        Shape("a list of sources", "list of sources", "textarea")]


# --- documents ---------------------------------------------------------------------------------------------------


class FileProvenance(_Strict):
    """The file a document's text was taken from: kept beside the text, so whoever holds the publisher's file
    can tell it is the same one (the log keeps the text, not the file)."""

    name: Line = Field(title="File name", description="The uploaded file's name.")
    media_type: MediaType = Field(title="Media type", description="What the file is (application/pdf, text/html).")
    size: ByteSize = Field(title="Size", description="The file's size in bytes.")
    sha256: Sha256 = Field(title="File SHA-256", description="The SHA-256 of the file's bytes.")


class DocumentData(_Strict):
    """A source document: its metadata and its text, kept byte for byte with the text's SHA-256.

    Quotes that name the document are checked against this text; the text never changes once registered.
    """

    title: Title = Field(title="Title", description="The document's title, as it gives it (or as supplied: say so "
                                                    "under inferred).")
    author: Line | None = Field(None, title="Author", description="Who wrote it; several separated by ';'. A name "
                                                                 "written 'Family, Given' is cited as such.")
    publisher: Line | None = Field(None, title="Publisher", description="Who published it.")
    kind: SourceKind = Field(title="Kind", description="What it is; when claims disagree, trusted in this order.")
    language: Language = Field(title="Language", description="The language of the text (fr, en, ja).")
    url: Url | None = Field(None, title="Original address", description="Where the original can be read.")
    inferred: Inferred | None = Field(
        None, title="Inferred", description="The metadata not read in the document itself, each with its basis "
                                            "(occurred: the date).")
    file: FileProvenance | None = Field(None, title="File", description="The file the text was taken from, if any.")
    text: DocumentText = Field(title="Text", description="The document's text, kept byte for byte; quotes naming "
                                                        "the document must be found in it.")
    sha256: Sha256 | None = Field(None, title="SHA-256", description="Of the text in UTF-8; worked out when left "
                                                                     "out, refused when it does not match.")


def text_sha256(text_: str) -> str:
    """The SHA-256 a document's text is registered with: of its UTF-8 bytes."""
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def _sealed(data: dict[str, Any]) -> dict[str, Any]:
    """A document's data with the SHA-256 of its text: the one given, when it is the text's; refused otherwise."""
    digest = text_sha256(data["text"])
    given = data.get("sha256")
    if given is not None and given != digest:
        raise ValidationError("data.sha256", f"is not the SHA-256 of the text ({digest} in UTF-8, as given, byte "
                                             "for byte): send the text unchanged, or leave sha256 out")
    return {**data, "sha256": digest}


#: Fields of a registered document no correction may change: quotes were checked against that text.
FIXED_DOCUMENT_FIELDS = ("text", "sha256", "file")
FIXED_REASON = ("cannot be corrected: quotes were checked against the text as registered; register the new text as "
                "a new document (and retract this one if it should no longer be cited)")


# --- corrections and retractions ---------------------------------------------------------------------------------


def _changed_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A correction sets only fields some type declares; null removes any field, an old undeclared one too."""
    declared = _fields_by_name()
    for key, value in data.items():
        if value is not None and key not in declared:
            raise _fail("unknown_change", "{key} is not a data field of any event type", key=repr(key))
    return data


ChangedData = Annotated[dict[str, JsonValue], Field(min_length=1), AfterValidator(_changed_fields), Shape(
    "an object of data fields (null removes one)", "object of data fields", "textarea")]


class Changes(_Strict):
    """What a correction changes; the rest of the event stays as it was."""

    model_config = ConfigDict(json_schema_extra=_any_given("occurred", "data", "sources"))

    occurred: Edtf | None = Field(None, title="Date", description="The corrected date (EDTF).")
    data: ChangedData | None = Field(None, title="Data",
                                     description="Data fields to set, each to its new value; null removes one.")
    sources: Sources | None = Field(None, title="Sources", description="The corrected sources (the whole list).")

    @model_validator(mode="after")
    def _something(self) -> Changes:
        if self.occurred is None and self.data is None and self.sources is None:
            raise _fail("no_change", "must change at least one of occurred, data, sources")
        return self


class RetractionData(_Strict):
    """Withdraws an earlier event; it stays readable and says it was retracted."""

    title: Line | None = Field(None, title="Title", description="A line saying what is corrected or retracted.")
    target: EventId = Field(title="Target", description="The event_id of the earlier event it acts on.")
    reason: Reason = Field(title="Reason", description="Why, in words a reader can check.")


class CorrectionData(RetractionData):
    """Corrects fields of an earlier event."""

    changes: Changes = Field(title="Changes", description="The fields that change, with their new values.")


# --- the types ---------------------------------------------------------------------------------------------------

PLANNED_OCCURRED = "When the plan was made or announced (EDTF); the planned date is data.planned_for."
DEFAULT_OCCURRED = "When it happened (EDTF), at the precision the source gives."


@dataclass(frozen=True)
class EventType:
    """A type of event: where it may be appended, what it means, what its data holds and what its date means."""

    name: str
    kinds: tuple[str, ...]
    description: str
    data: type[BaseModel]
    occurred: str = DEFAULT_OCCURRED


def _types(*rows: tuple[Any, ...]) -> dict[str, EventType]:
    return {row[0]: EventType(*row) for row in rows}


ANY = STREAM_KINDS
AGREEMENT = ("agreement",)

TYPES: dict[str, EventType] = _types(
    ("AgreementNegotiationsOpened", AGREEMENT, "The parties opened or agreed to open negotiations.", AgreementData),
    ("AgreementSigned", ("agreement", "context"), "The agreement was signed.", AgreementData),
    ("AgreementApproved", AGREEMENT, "The agreement was approved or ratified by a party.", AgreementData),
    ("AgreementAdopted", ("agreement", "context"),
     "A roadmap, plan or partnership framework was adopted; it applies from adoption (or over data.term when "
     "given).", AgreementData),
    ("AgreementEnteredIntoForce", AGREEMENT, "The agreement entered into force.", AgreementData),
    ("AgreementAmended", AGREEMENT, "The agreement was amended.", AgreementData),
    ("AgreementExpired", AGREEMENT, "The agreement reached the end of its term.", AgreementData),
    ("AgreementTerminated", AGREEMENT, "A party terminated the agreement.", AgreementData),
    ("AgreementSuperseded", AGREEMENT, "The agreement was replaced by another (data.superseded_by).",
     AgreementSupersededData),
    ("ExerciseConducted", ("exercise",), "An exercise or an edition of an exercise series took place.", ExerciseData),
    ("TrainingConducted", ("exercise",), "A training activity took place.", ExerciseData),
    ("DeploymentConducted", ("exercise",), "A deployment, mission or port call took place.", ExerciseData),
    ("ExercisePlanned", ("exercise",), "An exercise or training was announced for a future date.",
     ExercisePlannedData, PLANNED_OCCURRED),
    ("DialogueEstablished", ("meeting",), "A dialogue, working group or committee was set up.", DialogueData),
    ("MeetingHeld", ("meeting", "context"), "A session of a dialogue or a meeting took place.", MeetingHeldData),
    ("MeetingPlanned", ("meeting", "context"), "A future session was announced (place and date as stated).",
     MeetingPlannedData, PLANNED_OCCURRED),
    ("StatementIssued", ("meeting", "policy", "partnership", "context"), "A joint or official statement was issued.",
     FactData),
    ("InstitutionEstablished", ("institution",), "A base, office, observatory or body was opened or set up.",
     FactData),
    ("ProposalMade", ("institution", "cooperation", "partnership", "policy", "context"), "A party proposed a step.",
     FactData),
    ("ProposalBlocked", ("institution", "cooperation", "partnership", "policy", "context"),
     "A party blocked a proposal.", FactData),
    ("IntentionStated", ("cooperation", "partnership", "policy", "meeting", "institution", "context"),
     "The parties jointly stated a wish or an intention (not one party's proposal), with no plan or date of its "
     "own.", FactData),
    ("CooperationLaunched", ("cooperation", "institution"),
     "A cooperation programme or project began (including the joint running of an institution).", FactData),
    ("MilestoneReached", ("cooperation",), "A cooperation programme reached a dated milestone.", FactData),
    ("PartnershipUpgraded", ("partnership",), "The relationship was raised to a new status.", FactData),
    ("SituationHeld", ("institution", "cooperation", "partnership", "policy", "context"),
     "A lasting state held over the span the source attests, not a dated act.", FactData,
     "The span over which the source attests the state (EDTF, e.g. 2011/2018-11-16, or 2011/.. while it holds)."),
    ("PolicyPublished", ("policy", "context"), "A strategy, review or official document was published.", FactData),
    ("PolicyAdopted", ("policy", "context"), "A party took up a policy line (no document is published).", FactData),
    ("PolicyReviewed", ("policy",), "A strategy or policy was under review.", FactData),
    ("ResolutionAdopted", ("context",), "An international organisation adopted a resolution.", FactData),
    ("StatementMade", ("policy", "context"), "A leader or minister made a dated public statement.", FactData),
    ("VisitMade", ("policy", "partnership", "context"), "An official visit took place.", FactData),
    ("IncidentOccurred", ("context",), "An attack, a weapons test, an annexation or another dated incident.",
     FactData),
    ("DocumentRegistered", ("source",), "A source document was registered with its text, so quotes naming it "
     "can be checked (the subject is source/<document id>).", DocumentData,
     "When the document was published (EDTF), at the precision known; a date not read in it is named under "
     "data.inferred."),
    ("EventCorrected", ANY, "Corrects fields of an earlier event (data.target, data.changes, data.reason).",
     CorrectionData, "When the correction was made (EDTF)."),
    ("EventRetracted", ANY, "Withdraws an earlier event (data.target, data.reason).", RetractionData,
     "When the retraction was made (EDTF)."),
)

#: Types that act on another event rather than state a fact of their own.
META_TYPES = frozenset({"EventCorrected", "EventRetracted"})
#: The type that registers a source document, and the one kind of subject it is recorded on.
DOCUMENT_TYPE = "DocumentRegistered"
DOCUMENT_KIND = "source"
#: Types that need no source of their own: a correction or retraction may give one; a document is its own.
UNSOURCED_TYPES = META_TYPES | {DOCUMENT_TYPE}


@cache
def _fields_by_name() -> dict[str, tuple[str, ...]]:
    """Each data field a fact type declares, with the types that declare it."""
    found: dict[str, list[str]] = {}
    for spec in TYPES.values():
        if spec.name not in META_TYPES:
            for name in spec.data.model_fields:
                found.setdefault(name, []).append(spec.name)
    return {name: tuple(types) for name, types in found.items()}


# --- validation --------------------------------------------------------------------------------------------------


def spec_of(type_name: object) -> EventType:
    """The declared type, or a ValidationError at ``type``."""
    if not isinstance(type_name, str) or type_name not in TYPES:
        raise ValidationError("type", f"unknown event type {type_name!r}; the types are listed in README.md")
    return TYPES[type_name]


def validate_data(type_name: str, data: object) -> dict[str, Any]:
    """The event's data normalised (whitespace, bare names and quotes made objects, nulls dropped).

    Raises ValidationError naming the first field that is wrong (``errors`` lists them all).
    """
    spec = spec_of(type_name)
    model = spec.data
    try:
        validated = model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _field_error(exc, data, model, "data", type_name) from None
    out = validated.model_dump(exclude_none=True)
    if isinstance(validated, CorrectionData) and validated.changes.data is not None:
        out["changes"]["data"] = dict(validated.changes.data)  # null there removes a field: keep it
    if isinstance(validated, DocumentData):
        out = _sealed(out)
    return out


@cache
def _sources_adapter(required: bool) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(Sources if required else MetaSources)


def validate_sources(sources: object, *, required: bool = True) -> list[dict[str, Any]]:
    """The sources normalised (a quote given as a string becomes a TextQuoteSelector), or ValidationError."""
    adapter = _sources_adapter(required)
    try:
        validated = adapter.validate_python(sources)
    except pydantic.ValidationError as exc:
        raise _field_error(exc, sources, Sources, "sources") from None
    return [source.model_dump(exclude_none=True) for source in validated]


@cache
def _patch_model(type_name: str) -> type[BaseModel]:
    """The type's data fields, each optional: what a correction of such an event may set."""
    fields: dict[str, Any] = {}
    for name, info in TYPES[type_name].data.model_fields.items():
        annotation: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[name] = (annotation | None, Field(None, title=info.title, description=info.description))
    return pydantic.create_model(f"{type_name}Changes", __base__=_Strict, **fields)


def validate_changes(target_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A correction's ``changes.data`` checked against its target's type: each value as that type declares it,
    no required field removed (null), so a corrected event is as valid as a new one."""
    spec = spec_of(target_type)
    path = "data.changes.data"
    if spec.name in META_TYPES:
        raise ValidationError("data.target", f"a {spec.name} cannot be corrected; correct the event it acts on")
    if spec.name == DOCUMENT_TYPE:
        fixed = next((name for name in FIXED_DOCUMENT_FIELDS if name in changes), None)
        if fixed:
            raise ValidationError(f"{path}.{fixed}", FIXED_REASON)
    required = [name for name, info in spec.data.model_fields.items() if info.is_required()]
    for name in required:
        if name in changes and changes[name] is None:
            raise ValidationError(f"{path}.{name}", f"cannot be removed: every {spec.name} has one")
    model = _patch_model(spec.name)
    values = {key: value for key, value in changes.items() if value is not None}
    try:
        validated = model.model_validate(values)
    except pydantic.ValidationError as exc:
        raise _field_error(exc, values, model, path, spec.name) from None
    normalised = validated.model_dump(exclude_none=True)
    return {key: normalised.get(key) for key in changes}


# --- pydantic's errors in the project's words --------------------------------------------------------------------


def _field_error(exc: pydantic.ValidationError, sent: object, root: Any, prefix: str,
                 type_name: str = "") -> ValidationError:
    found = tuple((_path(prefix, _as_sent(e["loc"], sent)), _reason(e, root, type_name))
                  for e in exc.errors(include_url=False))
    return ValidationError(found[0][0], found[0][1], errors=found)


def _as_sent(loc: tuple[int | str, ...], sent: object) -> tuple[int | str, ...]:
    """``loc`` cut where the writer sent a string the declaration made an object (a bare name, a quote), so the
    path names what was sent: ``sources[0].quote``, not ``sources[0].quote.exact``."""
    for depth, part in enumerate(loc):
        if isinstance(sent, str):
            return loc[:depth]
        try:
            sent = sent[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
    return loc


def _path(prefix: str, loc: Iterable[int | str]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _reason(error: Any, root: Any, type_name: str) -> str:
    kind, loc, value, context = error["type"], error["loc"], error.get("input"), error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return _unknown(root, loc, type_name)
    annotation, shape = _at(root, loc)
    if shape:
        noun = shape.noun
    elif _is_model(annotation):
        noun = "a JSON object of fields" if not loc else "an object with " + ", ".join(annotation.model_fields)
    else:
        noun = "a valid value"
    if kind == "literal_error":
        choices = ", ".join(str(c) for c in get_args(annotation))
        return f"{_shown(value)} is not {noun} (expected: {choices})"
    if kind in ("too_short", "too_long"):
        if kind == "too_short" and context.get("min_length") == 1:
            return "must not be empty"
        bound = "at least" if kind == "too_short" else "at most"
        limit = context.get("min_length" if kind == "too_short" else "max_length")
        return f"has {context.get('actual_length')} entries; {bound} {limit}"
    if kind.endswith("_type") or kind in ("int_from_float", "is_instance_of"):
        return f"must be {noun}, not {_shown(value)}"
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**context)
    return str(error["msg"])


_BOUNDS = {"greater_than_equal": "must be at least {ge}", "less_than_equal": "must be at most {le}",
           "greater_than": "must be more than {gt}", "less_than": "must be less than {lt}"}


def _unknown(root: Any, loc: tuple[int | str, ...], type_name: str) -> str:
    parent, _ = _at(root, loc[:-1])
    expected = ", ".join(parent.model_fields) if _is_model(parent) else ""
    elsewhere = _fields_by_name().get(str(loc[-1]), ()) if len(loc) == 1 and type_name else ()
    if elsewhere:
        types = ", ".join(elsewhere[:4]) + (", ..." if len(elsewhere) > 4 else "")
        return f"not a field of {type_name} (only of {types}); expected: {expected}"
    return f"unknown field (expected: {expected})"


def _shown(value: object) -> str:
    """A value as the error quotes it: JSON's words, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else f"{value[:37]}...")
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _is_model(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _unwrap(annotation: Any) -> tuple[Any, Shape | None, list[Any]]:
    """The type under Annotated and ``| None``, its outermost Shape and its other metadata."""
    shape: Shape | None = None
    metadata: list[Any] = []
    while True:
        if get_origin(annotation) is Annotated:
            base, *extra = get_args(annotation)
            shapes = [m for m in extra if isinstance(m, Shape)]
            shape = shape or (shapes[-1] if shapes else None)
            metadata.extend(m for m in extra if not isinstance(m, Shape))
            annotation = base
        elif get_origin(annotation) in (Union, type(int | None)) and type(None) in get_args(annotation):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation, shape, metadata


def _field_annotation(model: type[BaseModel], name: str) -> Any:
    info = model.model_fields[name]
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _at(root: Any, loc: tuple[int | str, ...]) -> tuple[Any, Shape | None]:
    """The declared type at ``loc`` below ``root``, and its Shape (None where the declaration says nothing)."""
    annotation = root
    for part in loc:
        annotation, _, _ = _unwrap(annotation)
        if isinstance(part, int) and get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        elif isinstance(part, str) and _is_model(annotation) and part in annotation.model_fields:
            annotation = _field_annotation(annotation, part)
        elif isinstance(part, str) and get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None, None
    annotation, shape, _ = _unwrap(annotation)
    return annotation, shape


# --- JSON Schema -------------------------------------------------------------------------------------------------


@cache
def _body(type_name: str) -> type[BaseModel]:
    """The whole event body of one type, as the API takes it (NewEvent's writer fields)."""
    spec = TYPES[type_name]
    kinds = "|".join(spec.kinds)
    stream = Annotated[str, Shape("a subject", "subject", "text", (
        ("pattern", f"^(?:{kinds}){STREAM_TAIL}"), ("maxLength", 200)))]
    is_meta = type_name in UNSOURCED_TYPES
    version = Annotated[int, Field(ge=0)]
    return pydantic.create_model(
        type_name,
        __base__=_Strict,
        __doc__=spec.description,
        event_id=(EventId | None, Field(None, title="Event id", description=(
            "Chosen by the writer so that sending twice appends once. The API requires it unless an "
            "Idempotency-Key header is sent, from which it derives one."))),
        stream=(stream, Field(title="Subject", description="kind/slug; this type applies to: "
                                                            + ", ".join(spec.kinds) + ".")),
        type=(_literal(type_name), Field(title="Type", description=spec.description)),
        occurred=(Edtf, Field(title="Date", description=spec.occurred)),
        data=(spec.data, Field(title="Data", description=spec.data.__doc__)),
        sources=(MetaSources, Field([], title="Sources", description="None needed: a document is its own source."
                                    if type_name == DOCUMENT_TYPE else "Sources of the correction, if any."))
        if is_meta else (Sources, Field(title="Sources", description="At least one source with a verbatim quote.")),
        expected_version=(version | None, Field(None, title="Expected version",
                                                description="The stream's version the writer read (0: a new stream); "
                                                            "the append is refused if the stream moved on.")),
    )


def _literal(value: str) -> Any:
    """``Literal[value]`` for a value known only at run time (a type's name in its body model)."""
    return Literal[value]


def json_schema(type_name: str) -> dict[str, Any]:
    """JSON Schema (2020-12) of an event body of this type: what /api/schema/<Type>.json serves.

    EDTF is a ``format`` (``edtf``, ``edtf-interval``), checked by a validator given a checker for it: JSON Schema
    cannot say it. Where schema and API differ, the schema is the stricter (text limits apply to the text as sent,
    the API's to the text once whitespace is normalised), except the values of a correction's ``changes.data``,
    which only the API checks, against the corrected event's type (``validate_changes``).
    """
    schema = _body(spec_of(type_name).name).model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def json_schemas(ref_template: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every type's body as one set of schemas sharing their parts (an OpenAPI document's components).

    Returns each type's reference (built with ``ref_template``, e.g. ``#/components/schemas/{model}``) and the
    definitions they refer to.
    """
    keys, top = models_json_schema([(_body(name), "validation") for name in TYPES], ref_template=ref_template)
    return {name: keys[(_body(name), "validation")] for name in TYPES}, top.get("$defs", {})


# --- the form ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One data field as a server-rendered form shows it."""

    name: str
    label: str
    help: str
    widget: str  # one of WIDGETS
    required: bool
    common: bool  # every fact type has it; the others follow the chosen type
    choices: tuple[str, ...] = ()
    many: bool = False  # a list: one entry per line (textarea) or several choices (multiselect)
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


def form_fields(type_name: str) -> list[FormField]:
    """The data fields of a type, in the declaration's order: the common ones first, then the type's own."""
    model = spec_of(type_name).data
    common = set(FactData.model_fields) if issubclass(model, FactData) else set()
    return [_form_field(model, name, name in common) for name in model.model_fields]


def _form_field(model: type[BaseModel], name: str, common: bool) -> FormField:
    info = model.model_fields[name]
    annotation, shape, metadata = _unwrap(_field_annotation(model, name))
    many = get_origin(annotation) is list
    item = _unwrap(get_args(annotation)[0])[0] if many else annotation
    choices = tuple(get_args(item)) if get_origin(item) is Literal else ()
    item_shape = _unwrap(get_args(annotation)[0])[1] if many else shape
    limits = dict(item_shape.schema) if item_shape else {}
    return FormField(
        name=name, label=info.title or name, help=info.description or "", widget=shape.widget if shape else "text",
        required=info.is_required(), common=common, choices=choices, many=many, max_length=limits.get("maxLength"),
        minimum=_bound(metadata, "ge"), maximum=_bound(metadata, "le"))


def _bound(metadata: list[Any], name: str) -> int | None:
    for item in metadata:
        for constraint in getattr(item, "metadata", [item]):
            value = getattr(constraint, name, None)
            if isinstance(value, int):
                return value
    return None


# --- the README's table ------------------------------------------------------------------------------------------


def _value(model: type[BaseModel], name: str) -> str:
    annotation, shape, _ = _unwrap(_field_annotation(model, name))
    if shape:
        return shape.value
    return "`{" + ", ".join(annotation.model_fields) + "}`" if _is_model(annotation) else ""


def _rows(header: str, rows: Iterable[Iterable[str]]) -> list[str]:
    columns = header.count("|") - 1
    return [header, "|" + "---|" * columns, *("| " + " | ".join(row) + " |" for row in rows)]


def _field_rows(model: type[BaseModel], names: Iterable[str], required: Callable[[str], str]) -> list[list[str]]:
    return [[f"`{n}`", _value(model, n), required(n), model.model_fields[n].description or ""] for n in names]


def fields_table() -> str:
    """The README's tables of fields and types, in Markdown: generated, so they cannot drift from the declaration."""
    own: dict[str, type[BaseModel]] = {}
    for spec in TYPES.values():
        for name in spec.data.model_fields:
            if spec.name not in UNSOURCED_TYPES and name not in FactData.model_fields:
                own.setdefault(name, spec.data)

    def required_in(model: type[BaseModel]) -> Callable[[str], str]:
        return lambda name: "yes" if model.model_fields[name].is_required() else ""

    def fields_of(spec: EventType) -> str:
        if spec.name == DOCUMENT_TYPE:
            return "its own: see Documents below"
        names = [n for n in spec.data.model_fields if n not in FactData.model_fields or spec.name in META_TYPES]
        return ", ".join(f"`{n}` (required)" if spec.data.model_fields[n].is_required() else f"`{n}`" for n in names)

    def required_for(name: str) -> str:
        types = [s.name for s in TYPES.values() if s.data.model_fields.get(name) and
                 s.data.model_fields[name].is_required()]
        return ", ".join(types) if types else ""

    lines = ["<!-- Generated by fields_table() from the declaration; edit the declaration, not this table. -->", "",
             "### Fields of every fact (`data`)", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(FactData, FactData.model_fields, required_in(FactData)))
    lines += ["", "### Fields of some types (`data`)", ""]
    lines += _rows("| field | value | required in | meaning |",
                   [[f"`{n}`", _value(m, n), required_for(n), m.model_fields[n].description or ""]
                    for n, m in own.items()])
    lines += ["", "### Event types", ""]
    lines += _rows("| type | stream kinds | fields besides those of every fact | meaning |",
                   [[f"`{s.name}`", "any" if s.kinds == ANY else ", ".join(s.kinds), fields_of(s),
                     s.description if s.occurred == DEFAULT_OCCURRED else f"{s.description} Date: {s.occurred}"]
                    for s in TYPES.values()])
    lines += ["", "### Sources (`sources[]`): a `document` or a `url`, and a `quote`", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(Source, Source.model_fields, required_in(Source)))
    lines += ["", "A quote is a string or a TextQuoteSelector:", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(TextQuoteSelector, ("exact", "prefix", "suffix"), required_in(TextQuoteSelector)))
    lines += ["", "A translation:", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(Translation, Translation.model_fields, required_in(Translation)))
    lines += ["", f"### Documents (`{DOCUMENT_TYPE}` data, on a `{DOCUMENT_KIND}/<document id>` subject)", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(DocumentData, DocumentData.model_fields, required_in(DocumentData)))
    lines += ["", "The file a text was taken from (`file`):", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(FileProvenance, FileProvenance.model_fields, required_in(FileProvenance)))
    lines += ["", "### Corrections and retractions (`data`)", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(CorrectionData, CorrectionData.model_fields, required_in(CorrectionData)))
    lines += ["", "`changes` holds at least one of:", ""]
    lines += _rows("| field | value | required | meaning |",
                   _field_rows(Changes, Changes.model_fields, required_in(Changes)))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m events.declaration: the README's table, to paste between its markers
    print(fields_table(), end="")
