"""Documents through the API: registered from a file (text, HTML, PDF made here) or as a DocumentRegistered
event in JSON, then cited: a verbatim quote accepted, any other refused with the field and the nearest passage."""

from __future__ import annotations

import hashlib
import io

import pytest

import events
from tests.service.made_documents import NOT_VERBATIM, QUOTE, TEXT, made


def _auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def _parts(**fields) -> dict:
    return {"document": "communique-2026", "title": "Communiqué conjoint", "published": "2026-07-14",
            "language": "fr", "kind": "official", **fields}


def _fact(quote: str) -> dict:
    return {"stream": "agreement/underwater-information", "type": "AgreementSigned", "occurred": "2026-07-14",
            "data": {"title": "Underwater information security agreement signed"},
            "sources": [{"document": "communique-2026", "quote": quote}]}


def _cite_and_check(client, token: str) -> None:
    refused = client.post("/api/events", json=_fact(NOT_VERBATIM), headers=_auth(token, **{"Idempotency-Key": "a"}))
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["field"] == "sources[0].quote"
    assert "not found in document communique-2026" in body["error"]
    assert "the nearest passage is: \"ont signé à Tokyo un accord" in body["error"]
    accepted = client.post("/api/events", json=_fact(QUOTE), headers=_auth(token, **{"Idempotency-Key": "b"}))
    assert accepted.status_code == 201
    sources = client.get(f"/api/events/{accepted.get_json()['event_id']}/sources").get_json()["sources"]
    assert sources[0]["checked"] is True and sources[0]["document_page"] == "/sources/communique-2026"


@pytest.mark.parametrize("kind", ["txt", "html", "pdf"])
def test_a_document_registered_from_a_file_through_the_api_is_cited_verbatim_only(app, client, api_token, kind):
    name, content = made(kind)
    response = client.post("/api/documents", data=_parts(file=(io.BytesIO(content), name)),
                           headers=_auth(api_token, **{"Idempotency-Key": "register-1"}),
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["stream"] == "source/communique-2026" and answer["created"] is True
    with app.app_context():
        registration = events.store.find(answer["event_id"])
    assert registration.type == "DocumentRegistered" and registration.author == "ada"
    assert registration.data["file"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert QUOTE in " ".join(registration.data["text"].split())
    again = client.post("/api/documents", data=_parts(file=(io.BytesIO(content), name)),
                        headers=_auth(api_token, **{"Idempotency-Key": "register-1"}),
                        content_type="multipart/form-data")
    assert again.status_code == 200 and again.get_json()["event_id"] == answer["event_id"]  # a retry: once
    _cite_and_check(client, api_token)


def test_a_document_sent_as_a_json_event_is_registered_too(client, api_token):
    body = {"stream": "source/communique-2026", "type": "DocumentRegistered", "occurred": "2026-07-14",
            "data": {"title": "Communiqué conjoint", "language": "fr", "kind": "official", "text": TEXT},
            "sources": []}
    response = client.post("/api/events", json=body, headers=_auth(api_token, **{"Idempotency-Key": "doc"}))
    assert response.status_code == 201, response.get_json()
    _cite_and_check(client, api_token)


@pytest.mark.parametrize(("parts", "field", "fragment"), [
    ({"document": ""}, "document", "is required"),
    ({"document": "Not An Id", "text": TEXT}, "document", "is not a document id"),
    ({"published": ""}, "published", "is required"),
    ({}, "file", "is required"),
    ({"text": TEXT, "file": (io.BytesIO(b"x"), "a.txt")}, "text", "not both"),
    ({"file": (io.BytesIO(b"PK\x03\x04"), "report.docx")}, "file", ".docx is not a type"),
    ({"text": TEXT, "kind": "blog"}, "data.kind", ""),
    ({"text": TEXT, "colour": "red"}, "colour", "is not a part"),
])
def test_a_refused_registration_names_the_part_and_writes_nothing(app, client, api_token, parts, field, fragment):
    response = client.post("/api/documents", data=_parts(**parts), content_type="multipart/form-data",
                           headers=_auth(api_token, **{"Idempotency-Key": "r"}))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field and fragment in response.get_json()["error"]
    with app.app_context():
        assert events.head() is None


def test_the_documents_endpoint_answers_what_is_wrong_with_the_request(client, api_token):
    assert client.post("/api/documents", data=_parts(text=TEXT), content_type="multipart/form-data").status_code == 401
    as_json = client.post("/api/documents", json=_parts(text=TEXT),
                          headers=_auth(api_token, **{"Idempotency-Key": "j"}))
    assert as_json.status_code == 415 and "POST /api/events" in as_json.get_json()["error"]
    no_key = client.post("/api/documents", data=_parts(text=TEXT), content_type="multipart/form-data",
                         headers=_auth(api_token))
    assert no_key.status_code == 422 and no_key.get_json()["field"] == "event_id"
    first = client.post("/api/documents", data=_parts(text=TEXT), content_type="multipart/form-data",
                        headers=_auth(api_token, **{"Idempotency-Key": "one"}))
    second = client.post("/api/documents", data=_parts(text=TEXT + " more"), content_type="multipart/form-data",
                         headers=_auth(api_token, **{"Idempotency-Key": "two"}))
    assert (first.status_code, second.status_code) == (201, 409)  # a document is registered once
