import sqlite3

import pytest

import events
from tests.service.api.test_log import event_body
from tests.service.editing.test_views import form


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch):
    """Writers give up after 0.2 s instead of a minute (autouse: set before the app connects)."""
    monkeypatch.setattr(events.db, "BUSY_TIMEOUT_SECONDS", 0.2)


@pytest.fixture
def write_lock(sqlite_url):
    """Another writer holding the database, as an import or a rebuild does; call it to let go."""
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")
    yield holder.rollback
    holder.close()


def head(app) -> int:
    with app.app_context():
        return events.store.head_position()


def test_an_api_append_behind_a_long_write_is_a_503_that_saved_nothing(app, client, api_token, write_lock):
    body = event_body()
    headers = {"Authorization": f"Bearer {api_token}"}
    response = client.post("/api/events", json=body, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "nothing was written" in response.get_json()["error"]
    write_lock()
    assert head(app) == 0
    assert client.post("/api/events", json=body, headers=headers).status_code == 201


def test_a_form_append_behind_a_long_write_is_a_503_page_that_saved_nothing(seeded_app, editor_client, write_lock):
    before = head(seeded_app)
    response = editor_client.post("/events/new", data=form(editor_client))
    write_lock()
    assert response.status_code == 503
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert head(seeded_app) == before
