"""/log.jsonl: the whole log as `chronology export` writes it, streamed, resumable, revalidated."""

from __future__ import annotations

import io

import pytest

import events
from events.transfer import export
from seeds.loader import seed
from tests.conftest import make_app, make_event


@pytest.fixture
def download_app(database_url, tmp_path):
    """The service on each backend, seeded."""
    app = make_app(database_url, tmp_path / "instance")
    with app.app_context():
        seed()
    yield app
    if not events.db.database.is_closed():
        events.db.database.close()


def exported(app, after: int = 0) -> bytes:
    out = io.BytesIO()
    with app.app_context():
        export(out, after)
    return out.getvalue()


def test_the_download_is_the_export_byte_for_byte_and_resumes_after_a_position(download_app):
    client = download_app.test_client()
    response = client.get("/log.jsonl")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Cache-Control"] == "no-cache"
    whole = response.get_data()
    assert whole == exported(download_app) and whole.count(b"\n") > 90
    assert response.headers["X-Log-Head"] == str(whole.count(b"\n"))
    resumed = client.get("/log.jsonl?after=40").get_data()
    assert resumed == exported(download_app, after=40)
    assert b"".join(whole.splitlines(keepends=True)[:40]) + resumed == whole
    assert client.get("/log.jsonl?after=100000").get_data() == b""


def test_the_download_revalidates_and_a_later_one_begins_with_an_earlier_one(download_app):
    client = download_app.test_client()
    first = client.get("/log.jsonl")
    earlier = first.get_data()
    again = client.get("/log.jsonl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    with download_app.app_context():
        events.append([make_event(title="Later")], author="test")
    later = client.get("/log.jsonl", headers={"If-None-Match": first.headers["ETag"]})
    assert later.status_code == 200 and later.headers["ETag"] != first.headers["ETag"]
    body = later.get_data()
    assert body.startswith(earlier) and body.count(b"\n") == earlier.count(b"\n") + 1
    assert client.get("/log.jsonl?after=5").headers["ETag"] != later.headers["ETag"]


@pytest.mark.parametrize("after", ["-1", "abc", "1.5", "٣", "9" * 19])
def test_a_bad_after_is_a_400_naming_it(client, after):
    response = client.get(f"/log.jsonl?after={after}")
    assert response.status_code == 400
    assert "after: must be a whole number" in response.get_data(as_text=True)
    as_json = client.get(f"/log.jsonl?after={after}", headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json()["parameter"] == "after"


def test_an_empty_log_downloads_as_nothing(client):
    response = client.get("/log.jsonl")
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["X-Log-Head"] == "0"
