"""Documents through the API: register one (its text given, or taken from an uploaded .txt, .html or .pdf), and
read how each source of an event stands against the documents the chronology keeps.

``POST /api/documents`` is the form's twin for machines: a multipart body
with the document's metadata and its ``file`` (or ``text``), written as a
``DocumentRegistered`` event through the one write path (a JSON client can
also send that event itself to ``POST /api/events``). ``GET
/api/events/<id>/sources`` says of each source whether its quote was checked
against a stored copy, and where it is shown in place.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request
from werkzeug.datastructures import FileStorage

import events

from ..errors import json_error
from ..pages.lookup import event_state_or_404
from ..security import csrf
from ..sources import checks, quote_link, sources_written_at
from ..uploads import ExtractionError, Upload, carries_documents, document_event
from ..writes import append_one
from .log import _editor, _json, _not_appended, _with_event_id, appended_answer, refused

bp = Blueprint("api_documents", __name__, url_prefix="/api")
csrf.exempt(bp)

#: The metadata fields a registration takes, as the form's parts name them.
METADATA = ("title", "author", "publisher", "language", "kind", "url")
#: Every part the body may hold.
PARTS = ("document", "published", *METADATA, "text", "file", "event_id")


def _upload(parts: dict[str, str], files: dict[str, FileStorage]) -> Upload:
    sent = files.get("file")
    if sent is not None and sent.filename:
        if parts.get("text", "").strip():
            raise events.ValidationError("text", "send the text one way: a file or a text part, not both")
        return Upload.of_file(sent.filename, sent.read())
    if not parts.get("text", "").strip():
        raise events.ValidationError("file", "is required: upload the document's file (.txt, .html or .pdf), or "
                                             "send its text in a text part")
    return Upload.of_text(parts["text"])


def _required(parts: dict[Any, str]) -> None:
    unknown = sorted(str(name) for name in set(parts) - set(PARTS))  # a part may come without a name
    if unknown:
        raise events.ValidationError(unknown[0], f"is not a part of a document's registration (expected: "
                                                 f"{', '.join(PARTS)})")
    for name in ("document", "published"):
        if not parts.get(name, "").strip():
            raise events.ValidationError(name, "is required" + (
                ": the document's id (it is registered on source/<id>)" if name == "document"
                else ": the date it was published, as EDTF"))


@bp.post("/documents")
@carries_documents
def register_document() -> Response:
    """Register one document as the token's editor: 201 with where it is, or the field that is wrong."""
    editor = _editor()
    if isinstance(editor, Response):
        return editor
    g.api_editor = editor
    if request.mimetype != "multipart/form-data":
        return json_error(415, "the body must be multipart/form-data (a file part and the metadata); a JSON client "
                               "sends a DocumentRegistered event to POST /api/events instead")
    parts = {k: v for k, v in request.form.items()}
    files = {k: v for k, v in request.files.items()}
    sent = _with_event_id({"event_id": parts["event_id"]} if "event_id" in parts else {}, editor.name)
    if isinstance(sent, Response):
        return sent
    try:
        _required({**parts, **dict.fromkeys(files, "")})
        upload = _upload(parts, files)
        metadata: dict[str, Any] = {k: parts[k].strip() for k in METADATA if parts.get(k, "").strip()}
        new = document_event(parts["document"].strip(), metadata, parts["published"].strip(), upload,
                             event_id=sent.get("event_id"))
        appended = append_one(new, author=editor.name)
    except ExtractionError as exc:
        return refused(exc)
    except events.EventStoreError as exc:
        return _not_appended(exc)
    return appended_answer(appended)


@bp.get("/events/<event_id>/sources")
def event_sources(event_id: str) -> Response:
    """Each current source of an event, with whether its quote was checked against a stored copy."""
    state = event_state_or_404(event_id)
    found = checks(state.current.sources, sources_written_at(state))
    return _json({"event_id": state.original.event_id, "sources": [{
        **check.source,
        "checked": check.checked,
        "check": "checked against the stored copy" if check.checked else check.note,
        **({"document_page": f"/sources/{check.document}",
            "in_place": quote_link(check.document, state.original.event_id, check.index)}
           if check.registration is not None and check.document is not None else {}),
    } for check in found]})
