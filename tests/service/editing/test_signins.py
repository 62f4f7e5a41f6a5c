"""Failed sign-ins: counted per (name, address) and per address, in the database, with growing delays."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

import events
from service.editing import accounts, signins
from tests.conftest import EDITOR_NAME, EDITOR_PASSWORD, csrf_token_of, make_app

ATTACKER = "203.0.113.9"
EDITOR_HOME = "198.51.100.7"
WRONG = "wrong password here"


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, stopped: tests move it by hand (no test waits for a delay to pass)."""
    moment = [datetime(2027, 1, 1, 12, 0, tzinfo=UTC)]
    monkeypatch.setattr(signins, "now", lambda: moment[0])

    def advance(seconds: float) -> None:
        moment[0] += timedelta(seconds=seconds)

    return advance


@pytest.fixture
def service(database_url, tmp_path):
    """The service on each backend, with the editor's account."""
    app = make_app(database_url, tmp_path / "instance")
    with app.app_context():
        accounts.create_editor(EDITOR_NAME, EDITOR_PASSWORD)
    yield app
    if not events.db.database.is_closed():
        events.db.database.close()


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post_sign_in(client, name: str, password: str, token: str | None = None):
    token = token or csrf_token_of(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "name": name, "password": password})


class CountingHasher:
    """The password hasher, counting how many passwords it was asked to check."""

    def __init__(self, inner) -> None:
        self.inner, self.checks, self._lock = inner, 0, threading.Lock()

    def verify(self, *args):
        with self._lock:
            self.checks += 1
        return self.inner.verify(*args)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def test_a_correct_password_from_another_address_signs_in_after_30_failures_from_one(service):
    attacker = client_at(service, ATTACKER)
    statuses = {post_sign_in(attacker, EDITOR_NAME, WRONG).status_code for _ in range(30)}
    assert statuses == {400, 429}
    assert post_sign_in(client_at(service, EDITOR_HOME), EDITOR_NAME, EDITOR_PASSWORD).status_code == 302


def test_after_the_free_failures_each_further_one_waits_longer(app, editor_account, clock):
    client = client_at(app, ATTACKER)
    for _ in range(signins.FREE["pair"]):
        assert post_sign_in(client, EDITOR_NAME, WRONG).status_code == 400
    refused = post_sign_in(client, EDITOR_NAME, EDITOR_PASSWORD)  # even the right password, within the delay
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "Too many failed sign-ins from this address; try again in 1 second." in refused.get_data(as_text=True)
    clock(1)
    assert post_sign_in(client, EDITOR_NAME, WRONG).status_code == 400
    refused = post_sign_in(client, EDITOR_NAME, WRONG)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    clock(2)
    assert post_sign_in(client, EDITOR_NAME, EDITOR_PASSWORD).status_code == 302
    # The right password cleared the count: the free failures are free again.
    for _ in range(signins.FREE["pair"]):
        assert post_sign_in(client_at(app, ATTACKER), EDITOR_NAME, WRONG).status_code == 400


def test_the_delay_doubles_up_to_fifteen_minutes():
    free = signins.FREE["pair"]
    assert [signins.delay(n, free) for n in range(free - 1, free + 4)] == [0, 1, 2, 4, 8]
    assert signins.delay(free + 30, free) == signins.delay(10**6, free) == 15 * 60


def test_counts_are_forgotten_after_a_day_without_failures(app, editor_account, clock):
    client = client_at(app, ATTACKER)
    for _ in range(signins.FREE["pair"]):
        post_sign_in(client, EDITOR_NAME, WRONG)
    assert post_sign_in(client, EDITOR_NAME, WRONG).status_code == 429
    clock(24 * 3600 + 1)
    for _ in range(signins.FREE["pair"]):
        assert post_sign_in(client, EDITOR_NAME, WRONG).status_code == 400
    with app.app_context():
        assert signins.SignInFailures.get_by_id(f"pair:{EDITOR_NAME}|{ATTACKER}").failures == signins.FREE["pair"]


def test_counts_forgotten_for_a_day_are_deleted_by_later_attempts(service, clock):
    post_sign_in(client_at(service, ATTACKER), EDITOR_NAME, WRONG)
    clock(24 * 3600 + 1)
    post_sign_in(client_at(service, EDITOR_HOME), EDITOR_NAME, WRONG)
    with service.app_context():
        assert sorted(row.key for row in signins.SignInFailures.select()) == [
            f"addr:{EDITOR_HOME}", f"pair:{EDITOR_NAME}|{EDITOR_HOME}"]


def test_one_address_guessing_at_many_names_waits_too(app, editor_account, clock):
    client = client_at(app, ATTACKER)
    for n in range(signins.FREE["addr"]):
        assert post_sign_in(client, f"guess{n}", WRONG).status_code == 400
    assert post_sign_in(client, "yet-another-name", WRONG).status_code == 429
    assert post_sign_in(client_at(app, EDITOR_HOME), EDITOR_NAME, EDITOR_PASSWORD).status_code == 302


def test_failures_are_counted_across_workers_sharing_the_database(database_url, tmp_path, clock):
    first = make_app(database_url, tmp_path / "one")
    second = make_app(database_url, tmp_path / "two")  # another worker: its own app, the same database
    with first.app_context():
        accounts.create_editor(EDITOR_NAME, EDITOR_PASSWORD)
    free = signins.FREE["pair"]
    for n in range(free):
        assert post_sign_in(client_at(first if n % 2 else second, ATTACKER), EDITOR_NAME, WRONG).status_code == 400
    assert post_sign_in(client_at(first, ATTACKER), EDITOR_NAME, WRONG).status_code == 429
    assert post_sign_in(client_at(second, ATTACKER), EDITOR_NAME, WRONG).status_code == 429
    if not events.db.database.is_closed():
        events.db.database.close()


def test_simultaneous_attempts_check_no_more_passwords_than_the_free_failures(service, clock, monkeypatch):
    counting = CountingHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", counting)
    attempts = 30
    clients = [client_at(service, ATTACKER) for _ in range(attempts)]
    tokens = [csrf_token_of(client, "/sign-in") for client in clients]
    start = threading.Barrier(attempts)
    statuses: list[int] = []

    def attempt(client, token) -> None:
        start.wait()
        statuses.append(post_sign_in(client, EDITOR_NAME, WRONG, token).status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counting.checks == signins.FREE["pair"]
    assert sorted(statuses) == [400] * signins.FREE["pair"] + [429] * (attempts - signins.FREE["pair"])


def test_a_sign_in_waiting_too_long_for_a_password_checker_is_answered_busy(app, editor_account, monkeypatch):
    monkeypatch.setattr(accounts, "CHECK_WAIT", 0.05)
    release = threading.Event()
    occupied = [accounts._checkers.submit(release.wait) for _ in range(accounts.CONCURRENT_CHECKS)]
    try:
        busy = post_sign_in(client_at(app, EDITOR_HOME), EDITOR_NAME, EDITOR_PASSWORD)
    finally:
        release.set()
        for future in occupied:
            future.result()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    assert "Too many sign-ins are being checked at once" in busy.get_data(as_text=True)
    assert post_sign_in(client_at(app, EDITOR_HOME), EDITOR_NAME, EDITOR_PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(sqlite_url, tmp_path, clock):
    app = make_app(sqlite_url, tmp_path / "instance", FORWARDED_ALLOW_IPS="10.0.0.2")
    with app.app_context():
        accounts.create_editor(EDITOR_NAME, EDITOR_PASSWORD)

    def via_proxy(client_address: str):
        client = client_at(app, "10.0.0.2")
        client.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
        return client

    for n in range(signins.FREE["addr"] + 5):
        post_sign_in(via_proxy(ATTACKER), f"guess{n}", WRONG)
    assert post_sign_in(via_proxy(ATTACKER), "guess-again", WRONG).status_code == 429
    assert post_sign_in(via_proxy(EDITOR_HOME), EDITOR_NAME, EDITOR_PASSWORD).status_code == 302
    # A client that writes X-Forwarded-For itself, straight to the service, is counted by its own address.
    direct = client_at(app, ATTACKER)
    direct.environ_base["HTTP_X_FORWARDED_FOR"] = EDITOR_HOME
    assert post_sign_in(direct, "guess-again", WRONG).status_code == 429


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("", ""),
])
def test_an_ipv6_host_is_counted_by_its_64(address, key):
    assert signins.address_key(address) == key


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Writers give up after 0.2 s instead of a minute (requested before the app connects)."""
    monkeypatch.setattr(events.db, "BUSY_TIMEOUT_SECONDS", 0.2)


def test_a_sign_in_behind_a_long_write_on_sqlite_is_a_503_not_an_error(short_busy_timeout, app, editor_account,
                                                                        sqlite_url):
    import sqlite3

    client = client_at(app, EDITOR_HOME)
    token = csrf_token_of(client, "/sign-in")
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")  # an import or a rebuild holding the database
    try:
        response = post_sign_in(client, EDITOR_NAME, EDITOR_PASSWORD, token)
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert post_sign_in(client, EDITOR_NAME, EDITOR_PASSWORD).status_code == 302
