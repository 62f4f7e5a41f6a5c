"""Registering a document through the form: its metadata, and its text pasted or taken from an uploaded file.

The registration is an event of its own (``DocumentRegistered`` on
``source/<document id>``), written through the one write path: the store
checks it as it checks every event, and a refusal is shown at the field it
names, with everything the editor typed kept and nothing written.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; its stubs are 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Optional

import events
from events.declaration import SOURCE_KINDS
from events.documents import id_of
from events.validation import MAX_TITLE

from .. import writes
from ..uploads import SUFFIXES, ExtractionError, Upload, carries_documents, document_event
from .auth import editor_required
from .forms import DateField

bp = Blueprint("documents", __name__)

#: Where each path of a refusal is shown on the form (the text's refusals at the file when one was uploaded).
_FIELDS = {"document": "document", "stream": "document", "occurred": "published", "data.title": "title",
           "data.author": "author", "data.publisher": "publisher", "data.language": "language", "data.kind": "kind",
           "data.url": "url", "data.text": "text", "file": "file", "text": "text"}


class DocumentForm(FlaskForm):
    """A document to register: what it is, where it was published, and its text."""

    document = StringField(
        "Document id", validators=[InputRequired(), Length(max=120)],
        render_kw={"placeholder": "mofa-jp-2023-2plus2", "autocomplete": "off", "autocapitalize": "none"},
        description="Lowercase letters, digits and hyphens: the document's page will be /sources/<id>, and sources "
                    "cite it by this id.")
    title = StringField("Title", validators=[InputRequired(), Length(max=MAX_TITLE)])
    author = StringField("Author", validators=[Optional(), Length(max=MAX_TITLE)],
                         description="Several separated by ';'. Write a person “Family, Given” to have it cited so.")
    publisher = StringField("Publisher", validators=[Optional(), Length(max=MAX_TITLE)])
    published = DateField("Published", validators=[InputRequired(message="Give the date it was published.")],
                          render_kw={"placeholder": "6 January 2017, 2018-07, 2017", "autocomplete": "off"})
    language = StringField("Language", validators=[InputRequired(), Length(max=35)],
                           render_kw={"placeholder": "fr", "autocomplete": "off"},
                           description="The language of the text, as a tag: fr, en, ja.")
    kind = SelectField("Kind", choices=[SelectChoice("", "—"), *(SelectChoice(k, k) for k in SOURCE_KINDS)],
                       validators=[DataRequired(message="Choose what kind of document it is.")],
                       description="official (a government's own text), press, analysis, or other.")
    url = StringField("Original address", validators=[Optional(), Length(max=2000)], render_kw={"type": "url"},
                      description="Where the original can be read, if it is online.")
    text = TextAreaField("Text", validators=[Optional()], render_kw={"rows": 12},
                         description="Paste the document's whole text here, or upload its file below.")
    file = FileField("or its file", description="A .txt (UTF-8), .html or .pdf (with a text layer) file; the text "
                                                "is taken from it and kept, with the file's SHA-256.",
                     render_kw={"accept": ",".join(SUFFIXES)})
    event_id = HiddenField()  # chosen when the form is opened: submitting twice registers once
    submit = SubmitField("Register the document")


def _add_error(form: DocumentForm, name: str, message: str) -> None:
    field = getattr(form, name)
    field.errors = [*(e for e in field.errors if isinstance(e, str)), message[:1].upper() + message[1:]]


def _upload(form: DocumentForm) -> Upload | None:
    """The text the editor gave, pasted or in a file; None with the reason at its field when there is none."""
    sent = request.files.get(form.file.name)
    pasted = form.text.data or ""
    if isinstance(sent, FileStorage) and sent.filename:
        if pasted.strip():
            _add_error(form, "file", "Give the text one way: paste it or upload its file, not both.")
            return None
        return Upload.of_file(sent.filename, sent.read())
    if not pasted.strip():
        _add_error(form, "text", "Paste the document's text, or upload its file.")
        return None
    return Upload.of_text(pasted)


@bp.route("/sources/new", methods=["GET", "POST"])
@editor_required
@carries_documents
def new_document() -> Any:
    """Register a document: nothing is written until its metadata and text pass the log's checks."""
    form = DocumentForm()
    status = 200
    if request.method == "GET":
        form.event_id.data = str(uuid.uuid4())
    elif form.validate():
        status = 400
        response = _register(form)
        if response is not None:
            return response
    else:
        status = 400
    return render_template("document_form.html", form=form, refused=status == 400), status


def _register(form: DocumentForm) -> Any:
    document = (form.document.data or "").strip()
    try:
        upload = _upload(form)
        if upload is None:
            return None
        new = document_event(document, _metadata(form), form.published.edtf or "", upload,
                             event_id=form.event_id.data or None)
        appended = writes.append_one(new, author=g.editor.name)
    except ExtractionError as exc:
        _add_error(form, "file" if exc.field == "file" else "text", exc.reason)
    except events.ValidationError as exc:  # the document id (named "document"), or what the store refused
        _show(form, exc, uploaded=bool(request.files.get(form.file.name)))
    except events.ConcurrencyConflict:
        _add_error(form, "document", f"A document {document!r} is already registered (/sources/{document}): a "
                                     "document is registered once; choose another id.")
    except events.IdempotencyConflict:
        form.event_id.data = str(uuid.uuid4())
        form.form_errors.append("This form was already used to register another document; check the fields and "
                                "submit again.")
    else:
        flash("The document is registered." if appended.created
              else "This document was already registered; nothing new was written.", "info")
        return redirect(f"/sources/{id_of(appended.event.stream)}", code=303)
    return None


def _metadata(form: DocumentForm) -> dict[str, Any]:
    fields = ("title", "author", "publisher", "language", "kind", "url")
    return {name: value for name in fields if (value := (getattr(form, name).data or "").strip())}


def _show(form: DocumentForm, exc: events.ValidationError, uploaded: bool) -> None:
    """Each refusal of the store at the field it names (the text's at the file when the text came from one)."""
    for path, reason in exc.errors:
        name = _FIELDS.get(path) or _FIELDS.get(path.split("[", 1)[0].rsplit(".", 1)[0] if "." in path else path)
        if name == "text" and uploaded:
            name = "file"
        if name is None:
            form.form_errors.append(f"{path}: {reason}")
        else:
            _add_error(form, name, reason)
