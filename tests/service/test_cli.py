import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from click.testing import CliRunner

import projections
from service.cli import main
from tests.conftest import make_app


@pytest.fixture
def cli(database_url, tmp_path):
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "CHRONOLOGY_INSTANCE": str(tmp_path / "instance")}

    def run(*args, input=None):
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return run


def test_help_comes_from_the_docstrings():
    result = CliRunner().invoke(main, ["--help"])
    assert "verifiable chronology" in result.output
    for command in ("init-db", "verify", "export", "import", "seed"):
        assert command in result.output


def test_init_seed_verify_export_import(cli, tmp_path, database_url, request):
    assert cli("init-db").exit_code == 0
    seeded = cli("seed")
    assert seeded.exit_code == 0 and "new events" in seeded.output
    assert "0 new events" in cli("seed").output
    verified = cli("verify")
    assert verified.exit_code == 0 and verified.output.startswith("ok:")
    exported = cli("export")
    lines = exported.stdout_bytes.splitlines()
    assert len(lines) >= 90 and lines[0].startswith(b'{"author":"seed"')
    backup = tmp_path / "backup.jsonl"
    backup.write_bytes(exported.stdout_bytes)
    # Restore into another, empty database of the other backend.
    runner = CliRunner()
    if database_url.startswith("sqlite"):
        target = request.getfixturevalue("postgres_database")()
    else:
        target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    env = {"DATABASE_URL": target, "CHRONOLOGY_INSTANCE": str(tmp_path / "instance2")}
    restored = runner.invoke(main, ["import", str(backup)], env=env)
    assert restored.exit_code == 0, restored.output
    assert f"imported {len(lines)} events" in restored.output
    again = runner.invoke(main, ["export"], env=env)
    assert again.stdout_bytes == exported.stdout_bytes


def test_import_refuses_a_bad_file_and_says_where(cli, tmp_path):
    cli("init-db")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"position": 1}\n')
    result = cli("import", str(bad))
    assert result.exit_code == 1
    assert "nothing imported: line 1: fields differ" in result.output


def test_seed_refuses_a_bad_catalogue(cli, tmp_path):
    cli("init-db")
    (tmp_path / "bad" / "events").mkdir(parents=True)
    (tmp_path / "bad" / "documents.yaml").write_text("[]")
    (tmp_path / "bad" / "events" / "x.yaml").write_text(
        "- {id: x/one, stream: agreement/acsa, type: Signed, occurred: '2018', title: t, sources: []}\n")
    result = cli("seed", "--dir", str(tmp_path / "bad"))
    assert result.exit_code == 1
    assert "nothing seeded" in result.output and "x/one" in result.output and "sources" in result.output


# --- accounts: create-editor, create-token, revoke-tokens ------------------------


@pytest.fixture
def accounts_cli(sqlite_url, tmp_path):
    runner = CliRunner()
    env = {"DATABASE_URL": sqlite_url, "CHRONOLOGY_INSTANCE": str(tmp_path / "instance")}

    def run(*args, input=None):
        return runner.invoke(main, list(args), env=env, input=input)

    return run


def _token_owner(sqlite_url, tmp_path, token):
    from service import create_app
    from service.editing import accounts

    app = create_app({"DATABASE_URL": sqlite_url, "SECRET_KEY": "t"})
    with app.app_context():
        editor = accounts.editor_for_token(token)
        return editor.name if editor else None


def test_create_editor_reads_the_password_from_stdin(accounts_cli, sqlite_url):
    result = accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    assert result.exit_code == 0, result.output
    assert "editor 'ada' created" in result.output
    from service import create_app
    from service.editing import accounts

    with create_app({"DATABASE_URL": sqlite_url, "SECRET_KEY": "t"}).app_context():
        assert accounts.authenticate("ada", "correct horse battery staple").name == "ada"


def test_create_editor_prompts_twice_and_refuses_a_mismatch(accounts_cli):
    mismatch = accounts_cli("create-editor", "ada", input="correct horse battery staple\nsomething else entirely\n"
                            "correct horse battery staple\ncorrect horse battery staple\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output.lower()
    assert "editor 'ada' created" in mismatch.output


@pytest.mark.parametrize(("name", "password", "message"), [
    ("ada", "short", "at least 12 characters"),
    ("no spaces allowed", "correct horse battery staple", "is not a usable editor name"),
])
def test_create_editor_names_what_is_wrong(accounts_cli, name, password, message):
    result = accounts_cli("create-editor", name, "--password-stdin", input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_create_editor_refuses_a_taken_name_before_asking(accounts_cli):
    accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    again = accounts_cli("create-editor", "ada", input="")
    assert again.exit_code == 1
    assert "an editor named 'ada' already exists" in again.output
    assert "Password" not in again.output


def test_create_token_prints_it_once_and_it_works(accounts_cli, sqlite_url, tmp_path):
    accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    result = accounts_cli("create-token", "ada")
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("chr_") and "\n" not in token
    assert "will not be shown again" in result.stderr
    assert _token_owner(sqlite_url, tmp_path, token) == "ada"


def test_create_token_for_an_unknown_editor_says_how_to_create_one(accounts_cli):
    accounts_cli("init-db")
    result = accounts_cli("create-token", "nobody")
    assert result.exit_code == 1
    assert "chronology create-editor nobody" in result.output


def test_rotating_tokens_keeps_only_the_newest(accounts_cli, sqlite_url, tmp_path):
    accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    old = accounts_cli("create-token", "ada").stdout.strip()
    new = accounts_cli("create-token", "ada").stdout.strip()
    rotated = accounts_cli("revoke-tokens", "ada", "--keep-newest")
    assert rotated.exit_code == 0 and "revoked 1 API token of 'ada'" in rotated.output
    assert _token_owner(sqlite_url, tmp_path, old) is None
    assert _token_owner(sqlite_url, tmp_path, new) == "ada"
    assert "revoked 1 API token" in accounts_cli("revoke-tokens", "ada").output
    assert _token_owner(sqlite_url, tmp_path, new) is None
    assert accounts_cli("revoke-tokens", "nobody").exit_code == 1


def _signed_in_client(sqlite_url, tmp_path, password="correct horse battery staple"):
    from tests.conftest import make_app, sign_in

    app = make_app(sqlite_url, tmp_path / "web")
    client = app.test_client()
    assert sign_in(client, "ada", password).status_code == 302
    assert client.get("/events/new").status_code == 200
    return client


def test_set_password_changes_it_and_ends_every_session(accounts_cli, sqlite_url, tmp_path):
    from tests.conftest import sign_in

    accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    browser = _signed_in_client(sqlite_url, tmp_path)
    changed = accounts_cli("set-password", "ada", input="a brand new passphrase\na brand new passphrase\n")
    assert changed.exit_code == 0, changed.output
    assert "password of 'ada' changed; every session of 'ada' has ended" in changed.output
    assert browser.get("/events/new").status_code == 302
    assert sign_in(browser, "ada", "correct horse battery staple").status_code == 400
    assert sign_in(browser, "ada", "a brand new passphrase").status_code == 302


@pytest.mark.parametrize(("args", "password", "message"), [
    (("set-password", "nobody", "--password-stdin"), "a brand new passphrase", "no editor named 'nobody'"),
    (("set-password", "ada", "--password-stdin"), "short", "at least 12 characters"),
    (("disable-editor", "nobody"), None, "no editor named 'nobody'"),
])
def test_set_password_and_disable_editor_name_what_is_wrong(accounts_cli, args, password, message):
    accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    result = accounts_cli(*args, input=None if password is None else password + "\n")
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_disable_editor_ends_sessions_refuses_sign_in_and_api_tokens(accounts_cli, sqlite_url, tmp_path):
    from tests.conftest import sign_in

    accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    token = accounts_cli("create-token", "ada").stdout.strip()
    browser = _signed_in_client(sqlite_url, tmp_path)
    api = browser.application.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.post("/api/events", headers=headers, json={}).status_code == 422  # the token is accepted
    disabled = accounts_cli("disable-editor", "ada")
    assert disabled.exit_code == 0, disabled.output
    assert "editor 'ada' disabled" in disabled.output
    assert browser.get("/events/new").status_code == 302
    assert sign_in(browser, "ada", "correct horse battery staple").status_code == 400
    refused = api.post("/api/events", headers=headers, json={})
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "this API token is unknown or has been revoked"
    still = accounts_cli("set-password", "ada", "--password-stdin", input="a brand new passphrase\n")
    assert still.exit_code == 0 and "'ada' is still disabled" in still.stderr
    assert sign_in(browser, "ada", "a brand new passphrase").status_code == 400


def test_help_lists_the_account_commands():
    result = CliRunner().invoke(main, ["--help"])
    for command in ("create-editor", "set-password", "disable-editor", "create-token", "revoke-tokens"):
        assert command in result.output
    assert "ends" in CliRunner().invoke(main, ["set-password", "--help"]).output


# --- read models: rebuild and status -------------------------------------------


def test_rebuild_folds_every_read_model_and_status_shows_no_lag(cli):
    assert cli("init-db").exit_code == 0
    assert cli("seed").exit_code == 0
    lagging = cli("status")
    version = projections.get("exercises").version
    assert lagging.exit_code == 0 and f"exercises v{version}: at position 0 of " in lagging.output
    rebuilt = cli("rebuild")
    assert rebuilt.exit_code == 0
    assert ("rebuilding agreements, exercises, meetings, timeline, tallies, coverage, search, documents"
            in rebuilt.output)
    status = cli("status").output.splitlines()
    assert [line.split(" ")[0] for line in status] == ["agreements", "exercises", "meetings", "timeline", "tallies",
                                                       "coverage", "search", "documents"]
    assert all(line.endswith("lag 0") for line in status)
    one = cli("rebuild", "meetings")
    assert one.exit_code == 0 and one.output.strip().endswith("lag 0") and "rebuilding agreements" not in one.output


def test_rebuild_of_an_unknown_read_model_lists_the_known_ones(cli):
    result = cli("rebuild", "exercise")
    assert result.exit_code == 2
    known = "agreements, exercises, meetings, timeline, tallies, coverage, search, documents"
    assert f"no read model named 'exercise' (known: {known})" in result.output


def test_status_names_every_event_a_read_model_set_aside_and_exits_1(cli, monkeypatch):
    from projections import exercises

    def broken(data):
        raise RuntimeError("cannot fold this")

    assert cli("init-db").exit_code == 0 and cli("seed").exit_code == 0
    # Every edition's filter columns fail: the bulk refold, then the fold event by event, which sets each aside.
    monkeypatch.setattr(exercises, "_filter_columns", broken)
    assert cli("rebuild", "exercises").exit_code == 1
    status = cli("status")
    assert status.exit_code == 1
    [line] = [line for line in status.output.splitlines() if line.startswith("exercises")]
    assert line.endswith("events set aside") and "lag 0" in line  # it went on to the head
    aside = [line for line in status.output.splitlines() if line.startswith("  set aside by exercises")]
    assert aside and all("RuntimeError: cannot fold this" in line for line in aside)


def test_status_of_a_database_without_tables_says_so_in_one_line(database_url, tmp_path):
    result = CliRunner().invoke(main, ["status"], env={"DATABASE_URL": database_url,
                                                       "CHRONOLOGY_INSTANCE": str(tmp_path / "instance")})
    assert result.exit_code == 1
    assert "cannot read the status of the database" in result.output and "chronology init-db" in result.output
    assert "Traceback" not in result.output


# --- verify --against: copies kept outside the database ------------------------------


@contextmanager
def serving(files: dict[str, bytes]) -> Iterator[str]:
    """A plain HTTP server on 127.0.0.1 answering ``files`` by path (and a redirect to ftp:// at /away)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/away":
                self.send_response(302)
                self.send_header("Location", "ftp://127.0.0.1/log.jsonl")
                self.end_headers()
                return
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def saved_archive_page(database_url: str, instance, number: int) -> bytes:
    """A subscriber's copy of the log's archive page ``number`` (pages of 10)."""
    app = make_app(database_url, instance, FEED_PAGE_SIZE=10)
    response = app.test_client().get(f"/feed/archive/{number}.atom")
    assert response.status_code == 200
    return response.data


@pytest.fixture
def witnessed(cli, tmp_path, database_url) -> dict[str, object]:
    """A seeded log, an export of it and a saved archive page (positions 41-50) kept in files."""
    cli("init-db")
    cli("seed")
    export_file, page_file = tmp_path / "earlier.jsonl", tmp_path / "archive-5.atom"
    export_file.write_bytes(cli("export").stdout_bytes)
    page_file.write_bytes(saved_archive_page(database_url, tmp_path / "web", 5))
    return {"export": str(export_file), "page": str(page_file), "bytes": export_file.read_bytes()}


def test_verify_against_an_earlier_export_a_saved_page_or_a_url_catches_a_rewritten_chain(cli, witnessed, rewrite):
    with serving({"/log.jsonl": witnessed["bytes"]}) as site:
        url = f"{site}/log.jsonl"
        intact = cli("verify", "--against", witnessed["export"], "--against", witnessed["page"], "--against", url)
        assert intact.exit_code == 0, intact.output
        assert f"matches {witnessed['export']}: " in intact.output
        assert f"matches {witnessed['page']}: 10 positions compared, 41 to 50" in intact.output
        rewrite(45, "UPDATE event SET author = 'mallory' WHERE position = 45")
        assert cli("verify").exit_code == 0  # the chain alone cannot tell
        for witness in (witnessed["export"], witnessed["page"], url):
            result = cli("verify", "--against", witness)
            assert result.exit_code == 1, result.output
            assert f"DIFFERS from {witness} at position 45: the hash there is not the one" in result.output


def test_verify_against_an_earlier_export_or_a_saved_page_catches_a_truncated_tail(cli, witnessed, tamper):
    tamper("DELETE FROM event WHERE position > 44")
    assert cli("verify").exit_code == 0
    both = cli("verify", "--against", witnessed["page"], "--against", witnessed["export"])
    assert both.exit_code == 1
    assert f"DIFFERS from {witnessed['page']} at position 45: the log ends at position 44, but " \
           f"{witnessed['page']} holds positions up to 50" in both.output
    top = len(witnessed["bytes"].splitlines())
    assert f"DIFFERS from {witnessed['export']} at position 45: the log ends at position 44, but " \
           f"{witnessed['export']} holds positions up to {top}" in both.output


def test_verify_against_a_witness_it_cannot_read_says_why_and_exits_2(cli, witnessed, tmp_path, tamper):
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(witnessed["bytes"].replace(b'"author":"seed"', b'"author":"sEEd"', 1))
    with serving({}) as site:
        cases = {
            str(tmp_path / "missing.jsonl"): "No such file",
            str(forged): "line 1 (position 1): its hash is not the hash of its content",
            "file:///etc/passwd": "only http:// and https:// URLs are fetched, not file://",
            f"{site}/nothing": "HTTP Error 404",
            f"{site}/away": "which is not an http(s) URL",
        }
        for witness, reason in cases.items():
            result = cli("verify", "--against", witness)
            assert result.exit_code == 2, (witness, result.output)
            assert f"cannot compare with {witness}: " in result.stderr and reason in result.stderr, result.stderr
    assert cli("verify", "--against", str(forged), "--against", witnessed["page"]).exit_code == 2
    tamper("DELETE FROM event WHERE position > 44")
    assert cli("verify", "--against", str(forged), "--against", witnessed["page"]).exit_code == 1  # differs: 1


def test_routes_lists_every_route_and_the_function_that_answers_it(cli):
    from service import create_app

    listed = cli("routes").output.splitlines()
    app = create_app({"DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3", "SECRET_KEY": "t"})
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {line.split()[1] for line in listed} == rules
    assert any(line.split()[1:] == ["/feed.atom", "service.feeds.routes.log_feed"] for line in listed)
    assert any(line.split() == ["GET,POST", "/events/new", "service.editing.views.new_event"] for line in listed)


def test_a_page_saved_while_the_namespace_was_on_a_reserved_domain_still_witnesses(cli, witnessed, rewrite, tmp_path):
    """The namespace moved from ``.example`` to the project's own: copies subscribers already keep still count."""
    from pathlib import Path

    from service.feeds.atom import CHRONOLOGY_NS, LEGACY_NAMESPACES

    page = Path(witnessed["page"]).read_bytes()
    assert CHRONOLOGY_NS.encode() in page and b".example/ns" not in page
    old = tmp_path / "saved-in-2026-11.atom"
    old.write_bytes(page.replace(CHRONOLOGY_NS.encode(), LEGACY_NAMESPACES[0].encode()))
    intact = cli("verify", "--against", str(old))
    assert intact.exit_code == 0 and f"matches {old}: 10 positions compared, 41 to 50" in intact.output
    rewrite(45, "UPDATE event SET author = 'mallory' WHERE position = 45")
    assert f"DIFFERS from {old} at position 45" in cli("verify", "--against", str(old)).output


def test_status_says_when_this_release_has_not_built_a_read_model_yet_and_lists_the_builds_there_are(cli, monkeypatch):
    from projections.agreements import Agreements

    assert cli("init-db").exit_code == 0 and cli("seed").exit_code == 0
    old = Agreements.version
    monkeypatch.setattr(Agreements, "version", old + 1)
    lines = cli("status").output.splitlines()
    assert f"agreements v{old + 1}: not built yet" in lines
    assert [line.split(",")[0] for line in lines if line.startswith("  build agreements@")] == [
        f"  build agreements@v{old}b1 (v{old}): ready"]
    rebuilt = cli("rebuild", "agreements")
    assert rebuilt.exit_code == 0 and rebuilt.output.strip().endswith("lag 0")
    lines = cli("status").output.splitlines()
    [line] = [line for line in lines if line.startswith("agreements")]
    assert line.startswith(f"agreements v{old + 1}: at position ") and line.endswith("lag 0")
    # No process says it reads the old release's tables, and the rebuild serves no request: they are gone.
    assert not any(x.startswith("  build ") for x in lines)
