import pytest
from click.testing import CliRunner

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
