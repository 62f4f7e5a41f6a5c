"""The editor's forms (Flask-WTF, CSRF-checked): sign in, append an event, correct it, retract it.

The forms check only what a person can fix before the store sees the event
(a readable date, a subject of a known kind, a source with a quote); the
store's own validation is the final word, and ``editing`` shows its errors
at the field they name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; its stubs are 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from events import dates
from events.declaration import MAX_SOURCES
from events.errors import InvalidDate
from events.validation import MAX_QUOTE, MAX_TEXT, MAX_TITLE, STREAM_PATTERN
from events.vocabulary import EVENT_TYPES, META_TYPES, PARTICIPANT_ROLES, STREAM_KINDS

SOURCE_ROWS = 3  # blank source rows offered at first; "Add a source row" adds one, up to MAX_SOURCES
_ROW = re.compile(r"sources-([0-9]{1,6})-")


class SignInForm(FlaskForm):
    name = StringField("Editor name", validators=[InputRequired(), Length(max=64)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("Sign in")


class DateField(StringField):
    """A date as a person types it; ``edtf`` holds how it was read once it validates."""

    edtf: str | None = None

    def pre_validate(self, form: Any) -> None:
        self.edtf = None
        text = (self.data or "").strip()
        if not text:
            return
        try:
            self.edtf = dates.from_human(text)
        except InvalidDate as exc:
            raise ValidationError(exc.reason) from None


def read_date(text: str) -> dict[str, str]:
    """How a typed date will be read: its EDTF, in words, and its precision (raises InvalidDate)."""
    from ..templating import precision, when

    edtf = dates.from_human(text)
    return {"edtf": edtf, "words": when(edtf), "precision": precision(edtf)}


class SourceForm(Form):
    """One source: where the words come from (a known document or a URL) and the words themselves."""

    document = StringField("Document", validators=[Optional(), Length(max=MAX_TITLE)],
                           render_kw={"list": "documents"},
                           description="A document id of the chronology (suggestions listed) or any document name.")
    url = StringField("or URL", validators=[Optional(), Length(max=2000)], render_kw={"type": "url"})
    quote = TextAreaField("Verbatim quote", render_kw={"rows": 3},
                          description="The source's own words that support the fact, copied exactly.")

    def number(self, number: int) -> None:
        """Label the row's fields with its number, so each label says which source it belongs to."""
        self.document.label.text = f"Source {number} — document"
        self.url.label.text = f"Source {number} — or URL"
        self.quote.label.text = f"Source {number} — verbatim quote"

    @property
    def blank(self) -> bool:
        return not any((f.data or "").strip() for f in (self.document, self.url, self.quote))

    def validate_quote(self, field: StringField) -> None:
        if self.blank:
            return
        quote = field.data or ""
        if not quote.strip():
            raise ValidationError("Quote the words of the source that support the fact.")
        if len(" ".join(quote.split())) > MAX_QUOTE:
            raise ValidationError(f"The quote is {len(' '.join(quote.split()))} characters long; "
                                  f"quote at most {MAX_QUOTE}.")
        if not (self.document.data or "").strip() and not (self.url.data or "").strip():
            raise ValidationError("Say where the quote comes from: a document or a URL.")


class FactFields(FlaskForm):
    """The fields of a fact that both appending and correcting edit."""

    occurred = DateField("Date", validators=[InputRequired(message="Give the date, as you would say it or as EDTF.")],
                         render_kw={"placeholder": "6 January 2017, spring 2017, 2023–2027, 2011/..",
                                    "autocomplete": "off"})
    title = StringField("Title", validators=[InputRequired(), Length(max=MAX_TITLE)])
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=MAX_TEXT)], render_kw={"rows": 4})
    participants = TextAreaField(
        "Participants", validators=[Optional(), Length(max=MAX_TEXT)], render_kw={"rows": 3},
        description=f"One per line: name; role ({', '.join(sorted(PARTICIPANT_ROLES))}); country. "
                    "Role and country are optional.")
    place = StringField("Place", validators=[Optional(), Length(max=MAX_TITLE)])
    #: After the form's main button in the page, so that Enter in a field submits the form rather than this.
    preview = SubmitField("Preview the date")

    def validate_participants(self, field: TextAreaField) -> None:
        for number, line in enumerate((field.data or "").splitlines(), 1):
            parts = [p.strip() for p in line.split(";")]
            if len(parts) > 3:
                raise ValidationError(f"Line {number}: at most name; role; country.")
            if len(parts) > 1 and parts[1] and parts[1] not in PARTICIPANT_ROLES:
                raise ValidationError(f"Line {number}: the role {parts[1]!r} is not one of "
                                      f"{', '.join(sorted(PARTICIPANT_ROLES))}.")


def source_rows_sent(form: Mapping[str, Any]) -> int:
    """How many source rows a posted form holds (the highest row number sent, plus one)."""
    numbers = [int(m.group(1)) for key in form if (m := _ROW.match(key))]
    return max(numbers) + 1 if numbers else 0


def participants_of(text: str | None) -> list[dict[str, str]]:
    """The participants typed one per line as ``name; role; country``."""
    out = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split(";")]
        if not parts[0]:
            continue
        entry = {"name": parts[0]}
        if len(parts) > 1 and parts[1]:
            entry["role"] = parts[1]
        if len(parts) > 2 and parts[2]:
            entry["country"] = parts[2]
        out.append(entry)
    return out


def participants_text(items: list[Any]) -> str:
    """The inverse of ``participants_of``, to pre-fill a correction."""
    lines = []
    for item in items or []:
        if isinstance(item, str):
            lines.append(item)
            continue
        parts = [item.get("name", ""), item.get("role", ""), item.get("country", "")]
        while parts and not parts[-1]:
            parts.pop()
        lines.append("; ".join(parts))
    return "\n".join(lines)


FACT_TYPE_NAMES = frozenset(name for name in EVENT_TYPES if name not in META_TYPES)
FACT_TYPES = [SelectChoice("", "Choose the type of event…"),
              *(SelectChoice(name, f"{name} — {t.description}") for name, t in EVENT_TYPES.items()
                if name not in META_TYPES)]


def _no_subject(stream: str) -> bool:
    return False


class EventForm(FactFields):
    """A new fact: its subject (existing or new), type, date, words and sources."""

    stream = StringField("Subject", validators=[Optional(), Length(max=200)],
                         render_kw={"list": "subjects", "autocomplete": "off", "placeholder": "agreement/acsa"},
                         description="An existing subject, as kind/slug; the list suggests the latest written.")
    new_stream = StringField("or a new subject", validators=[Optional(), Length(max=200)],
                             render_kw={"placeholder": "exercise/pegase-2026"},
                             description="kind/slug, where kind is one of: " + ", ".join(STREAM_KINDS) + ".")
    type = SelectField("Type", choices=FACT_TYPES, validators=[DataRequired(message="Choose the type of event.")],
                       description="What happened. The fields below follow the type: each type asks for its own.")
    sources = FieldList(FormField(SourceForm), min_entries=SOURCE_ROWS, max_entries=MAX_SOURCES)
    event_id = HiddenField()  # chosen when the form is opened: submitting twice appends once
    #: The type whose fields the page showed: without JavaScript, choosing another type shows its fields first.
    shown_type = HiddenField()
    #: Another claim about the fact of this event (same subject, type and fact key; another source).
    claim = HiddenField()
    submit = SubmitField("Append the event")
    add_source = SubmitField("Add a source row")

    #: Subjects offered in the field's <datalist>: a bounded few (the log may hold a hundred thousand).
    suggestions: tuple[str, ...] = ()
    #: Whether a stream is a subject on record; the view sets it (the form reads nothing itself).
    exists: Callable[[str], bool] = staticmethod(_no_subject)

    def validate_stream(self, field: StringField) -> None:
        field.data = (field.data or "").strip()
        if field.data and not self.exists(field.data):
            raise ValidationError(f"There is no subject {field.data!r}; choose one or create a new one below.")
        if not field.data and not (self.new_stream.data or "").strip():
            raise ValidationError("Choose a subject, or type a new one below.")

    def validate_new_stream(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if not text or self.stream.data:
            return
        kind = text.split("/", 1)[0]
        if "/" not in text or kind not in STREAM_KINDS:
            raise ValidationError(f"Unknown subject kind {kind!r}: a new subject is kind/slug, where kind is one "
                                  f"of {', '.join(STREAM_KINDS)}.")
        if not STREAM_PATTERN.match(text):
            raise ValidationError(f"{text!r} is not kind/slug in lowercase letters, digits and hyphens.")

    #: How many source rows the request sent (set by the view): more than MAX_SOURCES is refused, not cut.
    rows_sent = 0

    def validate_sources(self, field: Any) -> None:
        if self.rows_sent > MAX_SOURCES:
            raise ValidationError(f"{self.rows_sent} source rows were sent; an event takes at most {MAX_SOURCES}. "
                                  "Nothing was saved: remove the extra rows.")
        if all(entry.form.blank for entry in field.entries):
            raise ValidationError("Give at least one source: a document or URL, and a verbatim quote.")

    def number_sources(self) -> None:
        for number, entry in enumerate(self.sources.entries, 1):
            entry.form.number(number)

    @property
    def chosen_stream(self) -> str:
        return self.stream.data or (self.new_stream.data or "").strip()

    def source_rows(self) -> list[tuple[int, dict[str, Any]]]:
        """The filled-in sources with their row numbers (the store numbers only the filled ones)."""
        rows = []
        for index, entry in enumerate(self.sources.entries):
            sub = entry.form
            if sub.blank:
                continue
            source: dict[str, Any] = {"quote": sub.quote.data or ""}
            document, url = (sub.document.data or "").strip(), (sub.url.data or "").strip()
            if document:
                source["document"] = document
            if url:
                source["url"] = url
            rows.append((index, source))
        return rows


class CorrectForm(FactFields):
    """A correction: the fact as it should read, and why."""

    reason = TextAreaField("Reason for the correction", validators=[InputRequired(), Length(max=MAX_TEXT)],
                           render_kw={"rows": 2})
    source = FormField(SourceForm, label="A source for the correction (optional, added to the event's sources)")
    submit = SubmitField("Record the correction")

    def added_source(self) -> dict[str, Any] | None:
        """The source typed in, shaped for the log, or None when the row is left blank."""
        sub = self.source.form
        if sub.blank:
            return None
        source: dict[str, Any] = {"quote": sub.quote.data or ""}
        for key in ("document", "url"):
            if (getattr(sub, key).data or "").strip():
                source[key] = getattr(sub, key).data.strip()
        return source


class RetractForm(FlaskForm):
    reason = TextAreaField("Reason for the retraction", validators=[InputRequired(), Length(max=MAX_TEXT)],
                           render_kw={"rows": 3})
    submit = SubmitField("Retract the event")
