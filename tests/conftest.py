"""Shared fixtures: a real SQLite file and a real PostgreSQL server for every store test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

import events
from tests import pgcluster

BACKENDS = ("sqlite", "postgresql")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "[postgresql" in item.nodeid or "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL: CHRONOLOGY_TEST_POSTGRES_URL, or a throwaway cluster started here."""
    url = os.environ.get("CHRONOLOGY_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if pgcluster.bindir() is None:
        if os.environ.get("CHRONOLOGY_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (CHRONOLOGY_REQUIRE_POSTGRES) but not installed")
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql (make test does)")
    url, directory = pgcluster.start()
    try:
        yield url
    finally:
        pgcluster.stop(directory)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(server: str, statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Make fresh, empty PostgreSQL databases; all are dropped after the test."""
    names: list[str] = []

    def make() -> str:
        names.append(f"test_{uuid.uuid4().hex[:12]}")
        _admin(postgres_server, f"CREATE DATABASE {names[-1]} TEMPLATE template0")
        return _with_database(postgres_server, names[-1])

    yield make
    if events.db.database.obj is not None:
        closer = getattr(events.db.database.obj, "close_all", None) or events.db.database.obj.close
        closer()
    for name in names:
        _admin(postgres_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def postgres_url(postgres_database: Callable[[], str]) -> str:
    """A fresh, empty PostgreSQL database."""
    return postgres_database()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'chronology.sqlite3'}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on a real SQLite file and on a real PostgreSQL database."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def log(database_url: str) -> Iterator[str]:
    """An empty event log with its schema, on each backend; yields the database URL."""
    events.connect(database_url)
    events.create_schema()
    yield database_url
    if not events.db.database.is_closed():
        events.db.database.close()


@pytest.fixture
def sqlite_log(sqlite_url: str) -> Iterator[str]:
    events.connect(sqlite_url)
    events.create_schema()
    yield sqlite_url
    if not events.db.database.is_closed():
        events.db.database.close()


@pytest.fixture
def new_event():
    """Build a valid event, overriding only what the test is about."""
    return make_event


#: A source of the default event: given by its address, so it needs no registered document (a source naming a
#: document is checked against its registered text; see ``register_document``).
SOURCE = [{"url": "https://example.org/ifri-pajon-2018",
           "quote": "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed"}]


def make_event(stream: str = "agreement/acsa", type_: str = "AgreementSigned", occurred: str = "2018-07",
               title: str = "ACSA signed", **kwargs: object) -> events.NewEvent:
    """A valid event to vary from, so each test states only what it is about."""
    sources = kwargs.pop("sources", SOURCE)
    data = {"title": title, **kwargs.pop("data", {})}
    return events.NewEvent(stream, type_, occurred, data, sources, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def seeded(log: str) -> str:
    """The log with the seed chronology appended and every read model caught up."""
    import projections
    from seeds.loader import seed

    seed()
    projections.ensure_schema()
    projections.catch_up()
    return log


def alter_behind_the_triggers(statement: str) -> None:
    """Run an UPDATE or DELETE on the log the way an intruder with raw database access would."""
    from events import db

    if db.is_postgres():
        with events.db.database.atomic():
            events.db.database.execute_sql("ALTER TABLE event DISABLE TRIGGER USER")
            events.db.database.execute_sql(statement)
            events.db.database.execute_sql("ALTER TABLE event ENABLE TRIGGER USER")
    else:
        events.db.database.execute_sql("DROP TRIGGER event_refuse_update")
        events.db.database.execute_sql("DROP TRIGGER event_refuse_delete")
        events.db.database.execute_sql(statement)
        events.create_schema()


@pytest.fixture
def tamper() -> Callable[[str], None]:
    """Alter the log behind the guard triggers' back (for tests of verify)."""
    return alter_behind_the_triggers


def rewrite_chain(position: int, statement: str) -> None:
    """Alter a row behind the triggers, then recompute every hash from ``position`` on: ``verify`` passes again.

    What an intruder who knows the algorithm would do; only a copy kept
    outside the database (an export, a feed entry) can show it.
    """
    from events.canonical import chain_hash
    from events.integrity import raw_rows, row_document

    alter_behind_the_triggers(statement)
    rows = list(raw_rows(position - 1))
    prev, cases = rows[0][12], []
    for row in rows:
        new = chain_hash(row_document((*row[:12], prev, row[13]), with_hash=False))
        cases.append((row[0], prev, new))
        prev = new
    prev_cases = " ".join(f"WHEN {n} THEN '{p}'" for n, p, _ in cases)
    hash_cases = " ".join(f"WHEN {n} THEN '{h}'" for n, _, h in cases)
    alter_behind_the_triggers(f"UPDATE event SET prev_hash = CASE position {prev_cases} END, "
                              f"hash = CASE position {hash_cases} END WHERE position >= {position}")


@pytest.fixture
def rewrite() -> Callable[[int, str], None]:
    """Rewrite the chain from a position on after altering a row there (for tests of witnesses)."""
    return rewrite_chain


# --- the service ---------------------------------------------------------------

EDITOR_NAME = "ada"
EDITOR_PASSWORD = "correct horse battery staple"


def make_app(database_url: str, instance: object, **config: object):
    """The Flask app on ``database_url`` with every table created; no scheduler (tests start one if they ask)."""
    from service import create_app, schema

    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test-secret", **config})
    app.instance_path = str(instance)
    os.makedirs(app.instance_path, exist_ok=True)
    with app.app_context():
        schema.create_all()
    return app


@pytest.fixture
def app(sqlite_url: str, tmp_path):
    """The service on a fresh SQLite file, with CSRF checks on as in production."""
    application = make_app(sqlite_url, tmp_path / "instance")
    yield application
    if not events.db.database.is_closed():
        events.db.database.close()


@pytest.fixture
def seeded_app(app):
    """The service with the seed chronology loaded and every read model caught up."""
    import projections
    from seeds.loader import seed

    with app.app_context():
        seed()
        projections.catch_up()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def editor_account(app) -> tuple[str, str]:
    """An editor account (name, password) in the app's database."""
    from service.editing import accounts

    with app.app_context():
        accounts.create_editor(EDITOR_NAME, EDITOR_PASSWORD)
    return EDITOR_NAME, EDITOR_PASSWORD


@pytest.fixture
def api_token(app, editor_account) -> str:
    """A bearer token for the JSON API, acting for the editor."""
    from service.editing import accounts

    with app.app_context():
        return accounts.create_token(editor_account[0])


# --- pages and forms -------------------------------------------------------------


def csrf_token_of(client, path: str) -> str:
    """The CSRF token in the form served at ``path`` (as a browser would read it)."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token in the page at {path}"
    return match.group(1)


def sign_in(client, name: str, password: str):
    token = csrf_token_of(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "name": name, "password": password})


@pytest.fixture
def editor_client(seeded_app, editor_account):
    """A test client signed in as the editor, on the seeded service."""
    client = seeded_app.test_client()
    response = sign_in(client, *editor_account)
    assert response.status_code == 302
    return client


@contextmanager
def written_by_an_earlier_version() -> Iterator[None]:
    """Appends as an earlier version of the chronology accepted them (the rules a restore still applies).

    A log may hold what today's rules refuse at the door: a form feed pasted
    into a summary, a term that is not an interval. Tests of what renders and
    folds such old events write them this way.
    """
    from events import store, validation

    def earlier(event: events.NewEvent) -> validation.Prepared:
        prepared = validation.prepare_fields(event.stream, event.type, event.occurred, event.data, event.sources,
                                             event.event_id, event.expected_version, new_text=False)
        return prepared

    def unchecked(*_: object) -> None:
        """Earlier versions held no documents: a source's document was a name, its quote unchecked."""

    real, checks = store.prepare, store.check_documents
    store.prepare = earlier  # type: ignore[assignment]
    store.check_documents = unchecked  # type: ignore[assignment]
    try:
        yield
    finally:
        store.prepare, store.check_documents = real, checks


# --- the real browser ------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The service as an operator runs it (init-db, seed, create-editor, serve), for a module's browser tests."""
    from tests.liveserver import live_service

    with live_service(tmp_path_factory.mktemp("live") / "instance") as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright (no browser is downloaded)."""
    from tests.liveserver import CHROMIUM

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is missing (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh tab; ``tab.csp_errors`` collects what the Content Security Policy refused."""
    context = browser.new_context()
    tab = context.new_page()
    tab.csp_errors = []
    tab.on("console", lambda m: tab.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab
    context.close()


def sign_in_browser(page, url: str, next_path: str = "/events/new") -> None:
    """Sign the tab in as the live service's editor, starting from ``next_path`` (sign-in sends it back there)."""
    from tests.liveserver import EDITOR

    page.goto(f"{url}{next_path}")
    assert "/sign-in" in page.url
    page.fill("#name", EDITOR[0])
    page.fill("#password", EDITOR[1])
    page.click("input[type=submit][value='Sign in']")
    page.wait_for_url(f"{url}{next_path}")
