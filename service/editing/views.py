"""The editor's writes through forms: append a fact, correct it, retract it, and preview a typed date.

Every write goes through ``writes.append_one``; a refusal of the store is
shown at the form field it names, with everything the editor typed kept,
and nothing is written.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response
from wtforms import Field
from wtforms import Form as WTForm

import events
from events.corrections import EventState, Form, diff
from events.declaration import MAX_SOURCES
from events.errors import InvalidDate
from events.vocabulary import META_TYPES
from projections import documents

from .. import writes
from ..errors import json_error
from ..pages.lookup import event_state_or_404
from . import claims
from .auth import editor_required
from .claims import Claim, claim_about
from .datafields import DataFields
from .forms import (
    FACT_TYPE_NAMES,
    CorrectForm,
    EventForm,
    FactFields,
    RetractForm,
    participants_of,
    participants_text,
    read_date,
    source_rows_sent,
)

bp = Blueprint("editing", __name__)

_SOURCE_PATH = re.compile(r"^sources\[(\d+)\](?:\.(\w+))?")
SUGGESTED_DOCUMENTS = 300
_DATA_FIELDS = {"title": "title", "summary": "summary", "place": "place", "participants": "participants"}


def _add_error(field: Field, message: str) -> None:
    field.errors = [*(e for e in field.errors if isinstance(e, str)), message]


def show_error(form: WTForm, exc: events.ValidationError, source_rows: list[int] | None = None,
               typed: DataFields | None = None) -> None:
    """Put each of the store's refusals at the form field its dotted path names (else at the top of the form)."""
    for path, reason in exc.errors:
        _show_one(form, path.removeprefix("data.changes."), reason[:1].upper() + reason[1:], source_rows, typed)


def _show_one(form: WTForm, path: str, message: str, source_rows: list[int] | None,
              typed: DataFields | None) -> None:
    target: Field | None = None
    if path == "stream" and isinstance(form, EventForm):
        target = form.stream if form.stream.data else form.new_stream
    elif path in ("type", "occurred") and hasattr(form, path):
        target = getattr(form, path)
    elif path.startswith("data."):
        key = re.split(r"[.\[]", path[5:], maxsplit=1)[0]
        name = _DATA_FIELDS.get(key) or ("reason" if key == "reason" else None)
        target = getattr(form, name, None) if name else None
        if target is None and typed is not None and typed.mark(key, message):
            return
    elif path.startswith("sources") and isinstance(form, CorrectForm):
        m = _SOURCE_PATH.match(path)
        target = getattr(form.source.form, (m.group(2) if m else None) or "quote", None) or form.source.form.quote
    elif path.startswith("sources") and isinstance(form, EventForm):
        m = _SOURCE_PATH.match(path)
        if m and source_rows is not None and int(m.group(1)) < len(source_rows):
            sub = form.sources.entries[source_rows[int(m.group(1))]].form
            target = getattr(sub, m.group(2) or "quote", None) or sub.quote
        else:
            target = form.sources
    if target is None:
        form.form_errors.append(f"{path}: {message}")
    else:
        _add_error(target, message)


def _documents() -> list[tuple[str, str]]:
    """The registered documents an editor can cite by id (offered as suggestions; the first few hundred)."""
    return [(d.id, d.title) for d in documents.documents(limit=SUGGESTED_DOCUMENTS)]


def _fact_data(form: FactFields, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data fields the form edits, laid over ``base`` (an emptied field is removed)."""
    data = dict(base or {})
    data["title"] = form.title.data or ""
    for key in ("summary", "place"):
        text = (getattr(form, key).data or "").strip()
        if text:
            data[key] = text
        else:
            data.pop(key, None)
    people = participants_of(form.participants.data)
    if people:
        data["participants"] = people
    else:
        data.pop("participants", None)
    return data


def _preview(form: FactFields) -> dict[str, str] | None:
    """How the typed date will be read, or None with the reason at the date field."""
    text = (form.occurred.data or "").strip()
    if not text:
        _add_error(form.occurred, "Type a date to preview it.")
        return None
    try:
        return read_date(text)
    except InvalidDate as exc:
        _add_error(form.occurred, exc.reason)
        return None


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@bp.route("/events/new", methods=["GET", "POST"])
@editor_required
def new_event() -> Any:
    """Append a new fact, or another claim about one on record (``?claim=<event id>``).

    Nothing is written until 'Append': 'Preview the date' shows how the date
    will be read, 'Add a source row' adds one; without JavaScript, a type
    chosen after the page was drawn first shows its fields.
    """
    form = EventForm()
    form.exists = _exists
    claim = _claim(request.values.get("claim", ""))
    status, preview, notice = 200, None, None
    if request.method == "GET":
        typed = _opened(form, claim)
    else:
        form.rows_sent = source_rows_sent(request.form)
        if claim:
            _hold_to(form, claim)
        typed = DataFields(form.type.data)
        typed.take(request.form)
        if form.preview.data:
            preview = _preview(form)
        elif form.add_source.data:
            if len(form.sources.entries) < MAX_SOURCES:
                form.sources.append_entry()
        elif _fields_not_shown(form.type.data, form.shown_type.data):
            notice = _fields_now_shown(form)
        else:
            status = 400
            if form.validate() and not typed.errors:
                response = _append(form, typed, claim)
                if response is not None:
                    return response
    form.shown_type.data = typed.shown or ""
    form.number_sources()
    form.suggestions = _suggestions(form.stream.data or form.new_stream.data or "")
    return render_template("event_form.html", form=form, typed=typed, claim=claim, preview=preview, notice=notice,
                           documents=_documents(), max_sources=MAX_SOURCES, refused=status == 400), status


def _opened(form: EventForm, claim: Claim | None) -> DataFields:
    """A fresh form: a new event id; the subject and type the link named; a claim's shared fields filled in."""
    form.event_id.data = str(uuid.uuid4())
    if claim:
        _hold_to(form, claim)
        typed = DataFields(claim.type)
        typed.fill({**claim.state.current.data, "fact": claim.fact})
        form.title.data = claim.state.current.data.get("title", "")
        return typed
    if _exists(request.args.get("stream", "")):
        form.stream.data = request.args["stream"]
    if request.args.get("type") in FACT_TYPE_NAMES:
        form.type.data = request.args["type"]
    return DataFields(form.type.data)


def _claim(event_id: str) -> Claim | None:
    return claim_about(_fact_state(event_id)) if event_id else None


def _hold_to(form: EventForm, claim: Claim) -> None:
    """A rival claim is about the same fact: same subject and type, whatever the request says."""
    form.claim.data = claim.state.original.event_id
    form.stream.data, form.new_stream.data = claim.stream, ""
    form.type.data = form.shown_type.data = claim.type


def _fields_not_shown(chosen: str | None, shown: str | None) -> bool:
    """Whether the chosen type has fields the page did not show (a type changed without JavaScript)."""
    if not chosen or chosen not in FACT_TYPE_NAMES:
        return False
    names = {f.name for f in DataFields(chosen).of_type(chosen)}
    return names != {f.name for f in DataFields(shown).of_type(shown)} if shown else True


def _fields_now_shown(form: EventForm) -> str:
    form.shown_type.data = form.type.data
    return (f"The fields of “{form.type.data}” are now shown below. Fill in those the sources give, then append. "
            "Nothing was saved yet.")


SUGGESTED = 50  # subjects in the form's datalist: the latest written, and those matching what was typed


def _exists(stream: str) -> bool:
    return 0 < len(stream) <= 200 and events.stream_version(stream) > 0


def _suggestions(typed: str) -> tuple[str, ...]:
    """A bounded list for the subject field: subjects whose key starts with what was typed, then the latest written."""
    typed = typed.strip()[:200]
    kind = typed.split("/", 1)[0]
    matching = [s for s, _ in events.streams(kind, after=typed, limit=SUGGESTED) if s.startswith(typed)] \
        if "/" in typed else []
    return tuple(dict.fromkeys([*matching, *events.store.recent_streams(SUGGESTED)]))[:SUGGESTED]


def _append(form: EventForm, typed: DataFields, claim: Claim | None) -> Response | None:
    """Append what the form says; on a refusal, put the reason at its field and return None."""
    rows = form.source_rows()
    stream = form.chosen_stream
    data = typed.data(_fact_data(form))
    new = events.NewEvent(
        stream=stream, type=form.type.data, occurred=form.occurred.edtf or "", data=data,
        sources=[source for _, source in rows], event_id=form.event_id.data or None,
        expected_version=None if form.stream.data else 0,
    )
    batch = [new]
    if claim:
        data["fact"] = claim.fact
        batch = claims.batch(claim, new, f"Another claim about the same fact was recorded (“{data.get('title', '')}”, "
                                         f"{form.occurred.data}); the two share the fact key {claim.fact}.")
    try:
        appended = writes.append_together(batch, author=g.editor.name)[-1]
    except events.ValidationError as exc:
        if exc.index is not None and exc.index < len(batch) - 1:  # the key added to the original was refused
            form.form_errors.append(f"The fact key could not be added to the original event: {exc}")
        else:
            show_error(form, exc, [index for index, _ in rows], typed)
    except events.ConcurrencyConflict as exc:
        _add_error(form.new_stream, f"The subject {stream!r} already exists (version {exc.current}); "
                                    "choose it in the list above.")
    except events.IdempotencyConflict:
        form.event_id.data = str(uuid.uuid4())
        form.form_errors.append("This form was already used to append a different event; "
                                "check the fields and submit again.")
    else:
        message = ("The event is recorded." if appended.created
                   else "This event was already recorded; nothing new was written.")
        if claim and appended.created:
            message = f"The claim is recorded beside the other about the same fact ({claim.fact})."
        if appended.lag:
            message += (f" The views are still folding {appended.lag} earlier events (an import): "
                        "they will show it within a minute.")
        flash(message, "info")
        return redirect(f"/events/{appended.event.event_id}", code=303)
    return None


def _fact_state(event_id: str) -> EventState:
    state = event_state_or_404(event_id)
    if state.original.type in META_TYPES:
        abort(409, description="This is a correction or retraction; correct or retract the fact it acts on.")
    if state.retracted:
        abort(409, description="This event has been retracted; it can no longer be corrected or retracted.")
    return state


def _meta_event(state: EventState, type_: str, data: dict[str, Any], version: str) -> events.NewEvent:
    return events.NewEvent(stream=state.original.stream, type=type_, occurred=_today(), data=data,
                           expected_version=int(version))


_VERSION = re.compile(r"[0-9]{1,18}")


def _version_seen(stream: str) -> str:
    """The subject's version the editor saw: the form's hidden field, else now (opening the form).

    It is what makes a correction refuse to overwrite a change made
    meanwhile, so a value that is not a version is refused, never skipped.
    """
    seen = request.form.get("version")
    if seen is None:
        return str(events.stream_version(stream))
    if not _VERSION.fullmatch(seen):
        abort(400, description="version: the form's hidden version is not a version number; "
                               "open the form again from the event's page.")
    return seen


def _record_meta(form: Any, state: EventState, type_: str, data: dict[str, Any],
                 version: str, typed: DataFields | None = None) -> tuple[bool, str]:
    """Append a correction or retraction; on refusal put the reason on the form and give the version to show."""
    try:
        writes.append_one(_meta_event(state, type_, data, version), author=g.editor.name)
    except events.ValidationError as exc:
        show_error(form, exc, typed=typed)
    except events.ConcurrencyConflict as exc:
        form.form_errors.append("The subject changed while you were editing (now at version "
                                f"{exc.current}); check the event page and submit again.")
        return False, str(exc.current)
    else:
        return True, version
    return False, version


@bp.route("/events/<event_id>/correct", methods=["GET", "POST"])
@editor_required
def correct(event_id: str) -> Any:
    """Correct a fact: the form starts from its current form; only what changed is recorded, with the reason."""
    state = _fact_state(event_id)
    current = state.current
    form = CorrectForm()
    typed = DataFields(state.original.type, only_shown=True)
    status, preview = 200, None
    version = _version_seen(state.original.stream)
    if request.method == "GET":
        form.occurred.data = current.occurred
        form.title.data = current.data.get("title", "")
        form.summary.data = current.data.get("summary", "")
        form.place.data = current.data.get("place", "")
        form.participants.data = participants_text(current.data.get("participants", []))
        typed.fill(current.data)
    else:
        typed.take(request.form)
        if form.preview.data:
            preview = _preview(form)
        else:
            status = 400
            if form.validate() and not typed.errors:
                response = _correct(form, typed, state, version)
                if isinstance(response, Response):
                    return response
                version = response
    return render_template("correct_form.html", form=form, typed=typed, state=state, event=state.original,
                           version=version, documents=_documents(), preview=preview, refused=status == 400), status


def _correct(form: CorrectForm, typed: DataFields, state: EventState, version: str) -> Response | str:
    """Record what the form changes, with its reason; else say why not and give the version to show."""
    current = state.current
    added = form.added_source()
    sources = [*current.sources, added] if added else current.sources
    desired = Form(form.occurred.edtf or "", typed.data(_fact_data(form, current.data)), sources)
    changes = diff(current, desired)
    if not changes:
        form.form_errors.append("Nothing was changed: edit at least one field before recording a correction.")
        return version
    data = {"title": f"Correction: {current.data.get('title', '')}"[:300],
            "target": state.original.event_id, "changes": changes, "reason": form.reason.data}
    recorded, version = _record_meta(form, state, "EventCorrected", data, version, typed)
    if recorded:
        flash("The correction is recorded.", "info")
        return redirect(f"/events/{state.original.event_id}", code=303)
    return version


@bp.route("/events/<event_id>/retract", methods=["GET", "POST"])
@editor_required
def retract(event_id: str) -> Any:
    """Withdraw a fact, with the reason; the event stays readable and says it was retracted."""
    state = _fact_state(event_id)
    form = RetractForm()
    version = _version_seen(state.original.stream)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            data = {"title": f"Retraction: {state.current.data.get('title', '')}"[:300],
                    "target": state.original.event_id, "reason": form.reason.data}
            recorded, version = _record_meta(form, state, "EventRetracted", data, version)
            if recorded:
                flash("The event is retracted.", "info")
                return redirect(f"/events/{state.original.event_id}", code=303)
    return render_template("retract_form.html", form=form, state=state, event=state.original,
                           version=version, refused=status == 400), status


@bp.get("/dates/preview")
def date_preview() -> Response:
    """How a date typed by a person will be read (for the form's optional script): JSON, 400 naming the problem."""
    text = request.args.get("text", "")
    if len(text) > 200:
        return json_error(400, "text: at most 200 characters")
    try:
        return jsonify(read_date(text))
    except InvalidDate as exc:
        return json_error(400, f"text: {exc.reason}")
