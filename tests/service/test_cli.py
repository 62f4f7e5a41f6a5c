import pytest
from click.testing import CliRunner

import projections
from service.cli import main


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
    from service import accounts, create_app

    app = create_app({"DATABASE_URL": sqlite_url, "SECRET_KEY": "t"})
    with app.app_context():
        editor = accounts.editor_for_token(token)
        return editor.name if editor else None


def test_create_editor_reads_the_password_from_stdin(accounts_cli, sqlite_url):
    result = accounts_cli("create-editor", "ada", "--password-stdin", input="correct horse battery staple\n")
    assert result.exit_code == 0, result.output
    assert "editor 'ada' created" in result.output
    from service import accounts, create_app

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
    assert rebuilt.exit_code == 0 and "rebuilding agreements, exercises, meetings, timeline, tallies" in rebuilt.output
    status = cli("status").output.splitlines()
    assert [line.split(" ")[0] for line in status] == ["agreements", "exercises", "meetings", "timeline", "tallies"]
    assert all(line.endswith("lag 0") for line in status)
    one = cli("rebuild", "meetings")
    assert one.exit_code == 0 and one.output.strip().endswith("lag 0") and "rebuilding agreements" not in one.output


def test_rebuild_of_an_unknown_read_model_lists_the_known_ones(cli):
    result = cli("rebuild", "exercise")
    assert result.exit_code == 2
    assert "no read model named 'exercise' (known: agreements, exercises, meetings, timeline, tallies)" in result.output


def test_status_names_the_position_and_error_where_a_read_model_stopped(cli, monkeypatch):
    from projections import exercises

    def broken(data):
        raise RuntimeError("cannot fold this")

    assert cli("init-db").exit_code == 0 and cli("seed").exit_code == 0
    # Every edition's filter columns fail: the bulk refold, then the fold event by event.
    monkeypatch.setattr(exercises, "_filter_columns", broken)
    assert cli("rebuild", "exercises").exit_code == 1
    status = cli("status")
    assert status.exit_code == 1
    [line] = [line for line in status.output.splitlines() if line.startswith("exercises")]
    assert "FAILED at position" in line and "RuntimeError: cannot fold this" in line
