"""Signing in and out, the session's editor, and the guard on every write page."""

from __future__ import annotations

import pytest

from service.editing.auth import safe_next
from tests.conftest import csrf_token_of, sign_in


def test_sign_in_sets_the_editor_and_returns_to_next(client, editor_account):
    token = csrf_token_of(client, "/sign-in?next=/events/new")
    response = client.post("/sign-in?next=/events/new",
                           data={"csrf_token": token, "name": editor_account[0], "password": editor_account[1]})
    assert response.status_code == 302
    assert response.headers["Location"] == "/events/new"
    page = client.get("/").get_data(as_text=True)
    assert f"Signed in as <strong>{editor_account[0]}</strong>" in page


@pytest.mark.parametrize("name, password", [("ada", "wrong password here"), ("nobody", "correct horse battery staple")])
def test_failed_sign_in_does_not_say_which_part_was_wrong(client, editor_account, name, password):
    response = sign_in(client, name, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "That name and password do not match an editor account." in html
    assert f'value="{name}"' in html  # the name typed is kept
    assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_sign_in_without_csrf_token_is_refused(client, editor_account):
    response = client.post("/sign-in", data={"name": editor_account[0], "password": editor_account[1]})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_sign_out_ends_the_session(client, editor_account):
    sign_in(client, *editor_account)
    token = csrf_token_of(client, "/")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Signed in as" not in client.get("/").get_data(as_text=True)
    assert client.get("/events/new").status_code == 302


def test_write_pages_send_a_visitor_to_sign_in(client):
    response = client.get("/events/new?stream=agreement/acsa")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=%2Fevents%2Fnew%3Fstream%3Dagreement%2Facsa"


@pytest.mark.parametrize("target, expected", [
    ("/events/new", "/events/new"),
    ("/subjects/agreement/acsa?x=1", "/subjects/agreement/acsa?x=1"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
    (None, "/"),
])
def test_next_goes_only_to_local_paths(target, expected):
    assert safe_next(target) == expected


def test_sign_in_ignores_a_foreign_next(client, editor_account):
    token = csrf_token_of(client, "/sign-in")
    response = client.post("/sign-in?next=https://evil.example/",
                           data={"csrf_token": token, "name": editor_account[0], "password": editor_account[1]})
    assert response.headers["Location"] == "/"


def copy_of_session(client):
    """A second browser holding a copy of ``client``'s session cookie (as a thief or a shared machine would)."""
    thief = client.application.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_session_cookie_copied_before_sign_out_no_longer_works_after_it(editor_client):
    thief = copy_of_session(editor_client)
    assert thief.get("/events/new").status_code == 200
    editor_client.post("/sign-out", data={"csrf_token": csrf_token_of(editor_client, "/")})
    response = thief.get("/events/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert "Signed in as" not in thief.get("/").get_data(as_text=True)


def test_signing_out_in_one_browser_ends_the_session_in_another(seeded_app, editor_account):
    laptop, phone = seeded_app.test_client(), seeded_app.test_client()
    assert sign_in(laptop, *editor_account).status_code == 302
    assert sign_in(phone, *editor_account).status_code == 302
    page = laptop.get("/sign-out").get_data(as_text=True)
    assert f"Signing out ends every session of {editor_account[0]}" in page
    laptop.post("/sign-out", data={"csrf_token": csrf_token_of(laptop, "/")})
    assert phone.get("/events/new").status_code == 302
    assert sign_in(phone, *editor_account).status_code == 302  # signing in again starts a new session
    assert phone.get("/events/new").status_code == 200


def test_a_session_without_the_current_generation_is_not_honoured(seeded_app, editor_account):
    """A cookie from before sessions carried a generation, or with a forged one, names nobody."""
    from service.editing import accounts

    client = seeded_app.test_client()
    with seeded_app.app_context():
        editor = accounts.find_editor(editor_account[0])
    for forged in ({"editor_id": editor.id}, {"editor_id": editor.id, "generation": editor.session_generation + 1}):
        with client.session_transaction() as session:
            session.clear()
            session.update(forged)
        assert client.get("/events/new").status_code == 302
        with client.session_transaction() as session:
            assert "editor_id" not in session  # and the browser is told to forget it


def test_a_disabled_editor_is_signed_out_at_the_next_request(editor_client, editor_account):
    from service.editing import accounts

    with editor_client.application.app_context():
        accounts.disable_editor(editor_account[0])
    assert editor_client.get("/events/new").status_code == 302
    assert sign_in(editor_client, *editor_account).status_code == 400


def test_behind_tls_the_session_cookie_is_marked_secure(monkeypatch, sqlite_url, tmp_path):
    from service.editing import accounts
    from tests.conftest import EDITOR_NAME, EDITOR_PASSWORD, make_app

    monkeypatch.setenv("CHRONOLOGY_SECURE_COOKIES", "1")
    app = make_app(sqlite_url, tmp_path / "instance")
    with app.app_context():
        accounts.create_editor(EDITOR_NAME, EDITOR_PASSWORD)
    client = app.test_client()
    response = sign_in(client, EDITOR_NAME, EDITOR_PASSWORD)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "; Secure" in cookie


def test_feeds_and_the_api_do_not_vary_on_cookies_for_a_reader_without_a_session(seeded_app):
    """Pages do vary (the signed-in header, flashed messages); feeds must stay one copy in a shared cache."""
    client = seeded_app.test_client()
    for path in ("/feed.atom", "/feed/archive/1.atom", "/agreements/feed.atom", "/api/events"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Cookie" not in response.headers.get("Vary", ""), path
