"""The ``chronology`` command. Each command's docstring is its --help text."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

import events
from events.integrity import verify as verify_chain
from events.transfer import export as export_log
from events.transfer import import_lines
from seeds.catalog import SEEDS_DIR, SeedError
from seeds.loader import seed as seed_log

from . import create_app, schema


@click.group(cls=AppGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """A public, verifiable chronology of the France-Japan strategic partnership.

    The database is chosen by DATABASE_URL (default: an SQLite file in the
    instance folder; postgresql://user@host/db for a shared deployment).
    """
    ctx.obj = ScriptInfo(create_app=create_app, set_debug_flag=False)


@main.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the log, its guard triggers, the read models, accounts and job records (safe to run again)."""
    schema.create_all()
    click.echo(f"database ready: {_where()}")


@main.command("verify")
@with_appcontext
def verify() -> None:
    """Walk the hash chain; exit 1 and name the first broken position if any."""
    result = verify_chain()
    click.echo(str(result))
    if not result.ok:
        sys.exit(1)


@main.command("export")
@click.option("--after", type=click.IntRange(min=0), default=0, help="Only events after this position.")
@with_appcontext
def export(after: int) -> None:
    """Write every event, every column, as JSON Lines in position order to stdout."""
    out = sys.stdout.buffer
    count = export_log(out, after)
    out.flush()
    click.echo(f"exported {count} events", err=True)


@main.command("import")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def import_(file: click.utils.LazyFile) -> None:
    """Restore events from a JSON Lines FILE written by `export` ('-' for stdin).

    Each line must continue the log exactly (position, prev_hash, hash);
    lines already present are skipped. One bad line refuses the whole file.
    """
    events.create_schema()
    try:
        report = import_lines(file)
    except events.ImportRejected as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    click.echo(f"imported {report.imported} events, skipped {report.skipped} already present; head {report.head}")


@main.command("seed")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="A seed directory other than the bundled seeds/.")
@with_appcontext
def seed(directory: Path | None) -> None:
    """Append the seed chronology (five documents, quoted verbatim); running it again changes nothing.

    An entry edited since the last run is appended as an EventCorrected. A
    bad entry refuses the whole catalogue, naming the entry and the field.
    """
    events.create_schema()
    try:
        report = seed_log(directory or SEEDS_DIR)
    except (SeedError, events.ValidationError) as exc:
        raise click.ClickException(f"nothing seeded: {exc}") from None
    click.echo(f"seeded: {report.appended} new events, {report.corrected} corrections, "
               f"{report.unchanged} unchanged")


def _where() -> str:
    url = current_app.config["DATABASE_URL"]
    return url.split("@")[-1] if "@" in url else url
