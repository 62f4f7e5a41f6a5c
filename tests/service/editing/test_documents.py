"""Registering a document through the form (pasted, or a .txt, .html or .pdf file made here), then citing it:
a verbatim quote accepted, any other refused at its field with the nearest passage; nothing written on a refusal."""

from __future__ import annotations

import hashlib
import io
import re
from html import unescape

import pytest

import events
from events.declaration import text_sha256
from tests.conftest import csrf_token_of
from tests.service.editing.test_views import errors_of
from tests.service.editing.test_views import form as event_form
from tests.service.made_documents import LINES, NOT_VERBATIM, QUOTE, TEXT, made


def head(app) -> int:
    with app.app_context():
        found = events.head()
        return found.position if found else 0


def document_form(client, **fields) -> dict:
    data = {"csrf_token": csrf_token_of(client, "/sources/new"), "event_id": "", "document": "communique-2026",
            "title": "Communiqué conjoint franco-japonais", "author": "", "publisher": "Ministère des Armées",
            "published": "14 July 2026", "language": "fr", "kind": "official",
            "url": "https://www.example.org/communique", "text": "", "submit": "Register the document"}
    data.update(fields)
    return data


def register(client, how: str, **fields):
    if how == "pasted":
        data = document_form(client, text=TEXT.replace("\n", "\r\n") + "\r\n", **fields)
    else:
        name, content = made(how)
        data = document_form(client, file=(io.BytesIO(content), name), **fields)
    return client.post("/sources/new", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("kind", ["pasted", "txt", "html", "pdf"])
def test_a_document_registered_through_the_form_can_be_cited_verbatim_and_only_verbatim(editor_client, seeded_app,
                                                                                        kind):
    response = register(editor_client, kind)
    assert response.status_code == 303 and response.headers["Location"].endswith("/sources/communique-2026")
    with seeded_app.app_context():
        [registration] = events.read_stream("source/communique-2026")
    data = registration.data
    assert (registration.type, registration.occurred, registration.author) == ("DocumentRegistered", "2026-07-14",
                                                                               "ada")
    # Kept in one form, however it came (a PDF's pages are separated by a blank line).
    kept = TEXT.replace(LINES[2], "\n" + LINES[2]) if kind == "pdf" else TEXT
    assert data["text"] == kept and data["sha256"] == text_sha256(kept)
    if kind == "pasted":
        assert "file" not in data
    else:
        name, content = made(kind)
        assert data["file"]["name"] == name and data["file"]["sha256"] == hashlib.sha256(content).hexdigest()
        assert data["file"]["size"] == len(content)
    page = editor_client.get("/sources/communique-2026").get_data(as_text=True)
    assert LINES[1] in page and "Communiqué conjoint franco-japonais" in page

    before = head(seeded_app)
    citing = {"sources-0-url": "", "sources-0-document": "communique-2026"}
    refused = editor_client.post("/events/new", data=event_form(editor_client, **citing,
                                                                **{"sources-0-quote": NOT_VERBATIM}))
    assert refused.status_code == 400 and head(seeded_app) == before
    [error] = [unescape(e) for e in errors_of(refused.get_data(as_text=True))]
    assert error.startswith("Not found in document communique-2026")
    assert 'the nearest passage is: "ont signé à Tokyo un accord' in error

    accepted = editor_client.post("/events/new", data=event_form(editor_client, **citing,
                                                                 **{"sources-0-quote": QUOTE}))
    assert accepted.status_code == 303
    event_id = accepted.headers["Location"].rsplit("/", 1)[1]
    page = editor_client.get(f"/events/{event_id}").get_data(as_text=True)
    assert f"/sources/communique-2026?event={event_id}#quote-{event_id}-0" in page.replace("&amp;", "&")
    assert "checked against the stored copy" in page


@pytest.mark.parametrize(("fields", "kind", "field", "fragment"), [
    ({}, None, "text", "Paste the document's text, or upload its file."),
    ({"text": "pasted too"}, "txt", "file", "one way"),
    ({"document": "Not An Id"}, "pasted", "document", "is not a document id: lowercase letters"),
    ({"published": "someday"}, "pasted", "published", ""),
    ({"language": "French"}, "pasted", "language", "language tag"),
    ({"kind": ""}, "pasted", "kind", "Choose what kind"),
])
def test_a_refused_registration_names_the_field_and_writes_nothing(editor_client, seeded_app, fields, kind, field,
                                                                   fragment):
    before = head(seeded_app)
    response = register(editor_client, kind, **fields) if kind else editor_client.post(
        "/sources/new", data=document_form(editor_client, **fields), content_type="multipart/form-data")
    assert response.status_code == 400 and head(seeded_app) == before
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "Nothing was saved" in page
    errors = re.findall(rf'id="{field}-error-\d+">([^<]*)<', page)
    assert errors and fragment in errors[0], (field, re.findall(r'id="(\w+)-error-\d+">([^<]*)<', page))


def test_a_file_whose_text_cannot_be_taken_is_refused_at_the_file(editor_client, seeded_app):
    before = head(seeded_app)
    for name, content, fragment in [("report.docx", b"PK\x03\x04", ".docx is not a type"),
                                    ("scan.pdf", b"%PDF-1.4 broken", "cannot be read"),
                                    ("latin1.txt", "Déclaration".encode("latin-1"), "is not UTF-8")]:
        response = editor_client.post("/sources/new", data=document_form(editor_client, file=(io.BytesIO(content),
                                                                                              name)),
                                      content_type="multipart/form-data")
        assert response.status_code == 400
        [error] = re.findall(r'id="file-error-\d+">([^<]*)<', response.get_data(as_text=True))
        assert fragment.lower() in error.lower()
    assert head(seeded_app) == before


def test_a_document_is_registered_once(editor_client, seeded_app):
    assert register(editor_client, "pasted").status_code == 303
    again = register(editor_client, "pasted", title="Another title")
    assert again.status_code == 400
    [error] = re.findall(r'id="document-error-\d+">([^<]*)<', again.get_data(as_text=True))
    assert "already registered" in error


def test_a_long_text_is_accepted_beyond_an_events_size_limit(editor_client, seeded_app):
    long_text = "\n".join(f"Paragraphe {n} : la coopération franco-japonaise se poursuit." for n in range(6000))
    assert len(long_text.encode()) > 256 * 1024
    response = editor_client.post("/sources/new", data=document_form(editor_client, text=long_text),
                                  content_type="multipart/form-data")
    assert response.status_code == 303
    with seeded_app.app_context():
        assert events.read_stream("source/communique-2026")[0].data["text"] == long_text


def test_registering_needs_an_editor(seeded_app):
    response = seeded_app.test_client().get("/sources/new")
    assert response.status_code in (302, 303) and "/sign-in" in response.headers["Location"]
