"""The ``chronology`` command. Each command's docstring is its --help text."""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from peewee import DatabaseError

import events
import projections
from events.integrity import verify as verify_chain
from events.transfer import export as export_log
from events.transfer import import_lines
from events.witness import WitnessError, compare, read_claims
from projections import quarantine
from seeds.catalog import SEEDS_DIR, SeedError
from seeds.loader import seed as seed_log

from . import schema
from .app import create_app
from .feeds.atom import CLAIM_NAMESPACES

#: A witness fetched over HTTP: how long to wait for each read, and how much to read at most.
FETCH_TIMEOUT_SECONDS = 30
FETCH_LIMIT_BYTES = 4 * 1024**3


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
@click.option("--against", "witnesses", multiple=True, metavar="FILE_OR_URL",
              help="An earlier export, a downloaded /log.jsonl or a saved Atom page (a file, '-' for stdin, or "
                   "an http(s) URL) to hold the log against. Repeatable.")
@with_appcontext
def verify(witnesses: tuple[str, ...]) -> None:
    """Walk the hash chain; exit 1 and name the first broken position if any.

    With --against, also compare the log with copies kept outside it and
    name the first position whose hash differs (a chain rewritten from an
    altered row) or that the log no longer holds (a truncated tail): exit 1.
    A witness that cannot be read, or whose lines do not hash to what they
    claim, is reported and exits 2 (unless the log differs: 1).
    """
    result = verify_chain()
    click.echo(str(result))
    differs, unreadable = not result.ok, False
    for witness in witnesses:
        try:
            with _witness(witness) as stream:
                comparison = compare(read_claims(stream, namespace=CLAIM_NAMESPACES, max_bytes=FETCH_LIMIT_BYTES
                                                 if _is_url(witness) else None), witness=witness)
        except (WitnessError, OSError) as exc:  # urllib's errors are OSErrors
            click.echo(f"cannot compare with {witness}: {exc}", err=True)
            unreadable = True
            continue
        click.echo(str(comparison))
        differs = differs or not comparison.ok
    if differs or unreadable:
        sys.exit(1 if differs else 2)


def _is_url(text: str) -> bool:
    return "://" in text


class _SameSchemeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib would also follow one to ftp://)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        if not newurl.lower().startswith(("http://", "https://")):
            raise WitnessError(f"{req.full_url} redirects to {newurl[:80]}, which is not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@contextmanager
def _witness(text: str) -> Iterator[BinaryIO]:
    """The bytes of a witness: a file, stdin ('-'), or an http(s) URL fetched with a timeout."""
    if text == "-":
        yield sys.stdin.buffer
    elif _is_url(text):
        scheme = text.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise WitnessError(f"only http:// and https:// URLs are fetched, not {scheme}://")
        request = urllib.request.Request(text, headers={
            "User-Agent": "chronology-verify", "Accept": "application/x-ndjson, application/atom+xml, */*;q=0.1"})
        opener = urllib.request.build_opener(_SameSchemeRedirects)
        with opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            yield response
    else:
        with open(text, "rb") as stream:
            yield stream


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
def import_(file: BinaryIO) -> None:
    """Restore events from a JSON Lines FILE written by `export` ('-' for stdin).

    Each line must continue the log exactly (position, prev_hash, hash);
    lines already present are skipped. One bad line refuses the whole file.
    """
    events.create_schema()
    try:
        report = import_lines(file)
    except (events.ImportRejected, events.StoreBusy) as exc:
        raise click.ClickException(f"nothing imported: {exc}") from None
    click.echo(f"imported {report.imported} events, skipped {report.skipped} already present; head {report.head}")


@main.command("seed")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="A seed directory other than the bundled seeds/.")
@with_appcontext
def seed(directory: Path | None) -> None:
    """Append the seed chronology (five documents, quoted verbatim); running it again changes nothing.

    An entry edited since the last run is appended as an EventCorrected, an
    entry listed in retractions.yaml as an EventRetracted. A bad entry, or
    one whose type or subject differs from its event's, refuses the whole
    catalogue, naming the entry and the field.
    """
    events.create_schema()
    try:
        report = seed_log(directory or SEEDS_DIR)
    except (SeedError, events.ValidationError) as exc:
        raise click.ClickException(f"nothing seeded: {exc}") from None
    click.echo(f"seeded: {report.appended} new events, {report.corrected} corrections, "
               f"{report.retracted} retractions, {report.unchanged} unchanged")


@main.command("serve", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Worker processes.")
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True, help="Threads per worker.")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the chronology with gunicorn (not the development server).

    Exits at once, in one line, if DATABASE_URL cannot be reached; creates
    missing tables. The scheduled jobs run in one process of the whole
    deployment (set CHRONOLOGY_SCHEDULER=off to run none here).
    """
    from .operations.server import DatabaseUnreachable, Options, Server, load, prepare
    from .proxies import BadProxySetting

    try:
        app = load()
        has_editors = prepare(app)
    except (DatabaseUnreachable, BadProxySetting) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if not has_editors:
        click.echo("No editor account yet: create one with `chronology create-editor NAME` "
                   "(then `chronology create-token NAME` for the JSON API).", err=True)
    click.echo(f"serving on http://{host}:{port}/ with {workers} workers", err=True)
    Server(Options(host=host, port=port, workers=workers, threads=threads,
                   forwarded_allow_ips=app.config["FORWARDED_ALLOW_IPS"])).run()


@main.command("create-editor")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def create_editor(name: str, password_stdin: bool) -> None:
    """Create the editor account NAME; the password is asked twice (or read with --password-stdin)."""
    from .editing import accounts

    schema.create_all()
    try:
        accounts.check_name(name)
        if accounts.find_editor(name) is not None:
            raise accounts.AccountError(f"an editor named {name!r} already exists")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        accounts.create_editor(name, password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"editor {name!r} created; sign in at /sign-in")


@main.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
def set_password(name: str, password_stdin: bool) -> None:
    """Give the editor NAME a new password (asked twice, or read with --password-stdin).

    Every session of NAME ends: signed-in browsers must sign in again. API
    tokens are not affected (see revoke-tokens).
    """
    from .editing import accounts

    schema.create_all()
    try:
        if accounts.find_editor(name) is None:
            raise accounts.AccountError(f"no editor named {name!r}")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        editor = accounts.set_password(name, password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {name!r} changed; every session of {name!r} has ended")
    if editor.disabled:
        click.echo(f"{name!r} is still disabled: the new password does not sign in", err=True)


@main.command("disable-editor")
@click.argument("name")
@with_appcontext
def disable_editor(name: str) -> None:
    """Disable the editor NAME: no sign-in, every session ends, and NAME's API tokens are refused.

    The account and everything NAME wrote stay; the name cannot be reused.
    """
    from .editing import accounts

    schema.create_all()
    try:
        accounts.disable_editor(name)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"editor {name!r} disabled: signed out everywhere, sign-in and API tokens refused")


@main.command("create-token")
@click.argument("name")
@with_appcontext
def create_token(name: str) -> None:
    """Print a new API token acting for the editor NAME (shown once: store it now)."""
    from .editing import accounts

    try:
        token = accounts.create_token(name)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
    click.echo(f"API token for {name!r}: it will not be shown again. "
               "Send it as `Authorization: Bearer <token>`.", err=True)


@main.command("revoke-tokens")
@click.argument("name")
@click.option("--keep-newest", is_flag=True, help="Keep the most recently created token (rotation).")
@with_appcontext
def revoke_tokens(name: str, keep_newest: bool) -> None:
    """Revoke the API tokens of the editor NAME.

    To rotate without downtime: create-token, move clients to the new
    token, then revoke-tokens NAME --keep-newest.
    """
    from .editing import accounts

    try:
        count = accounts.revoke_tokens(name, keep_newest=keep_newest)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {count} API token{'s' if count != 1 else ''} of {name!r}")


@main.command("routes")
@with_appcontext
def routes() -> None:
    """Every route of the service, one a line: its methods, its path and the function that answers it."""
    rules = sorted(current_app.url_map.iter_rules(), key=lambda rule: (rule.rule, sorted(rule.methods or ())))
    for rule in rules:
        methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        view = current_app.view_functions[rule.endpoint]
        click.echo(f"{methods:9} {rule.rule:52} {view.__module__}.{view.__qualname__}")


@main.command("rebuild")
@click.argument("name", required=False)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="processes folding agreements and meetings (default: one per core on a long log)")
@with_appcontext
def rebuild(name: str | None, workers: int | None) -> None:
    """Fold one read model (NAME) or all of them again from position 0, with a progress bar.

    The rebuild folds new tables while the current ones keep serving every
    reader, and one transaction makes the new ones current once they reach
    the head; the old ones are dropped once no process reads them. It gives
    the same rows, feed ids and times as incremental folding: subscribers
    see nothing change.
    """
    if name is not None and name not in projections.PROJECTIONS:
        raise click.BadParameter(f"no read model named {name!r} (known: {', '.join(projections.PROJECTIONS)})",
                                 param_hint="NAME")
    projections.create_tables()  # no more: the rebuild folds this version's tables, built before or not
    names = [name] if name else list(projections.PROJECTIONS)
    reached = dict.fromkeys(names, 0)
    with click.progressbar(length=events.store.head_position(), label=f"rebuilding {', '.join(names)}") as bar:
        def advance(each: str, position: int) -> None:
            reached[each] = position
            if min(reached.values()) > bar.pos:
                bar.update(min(reached.values()) - bar.pos)

        # This process answers no request: tables no serving process reads can go at once.
        projections.rebuild(name, progress=advance, workers=workers, grace=timedelta(0))
    lines = [line for line in projections.status() if name in (None, line.name)]
    _report(lines)


@main.command("status")
@with_appcontext
def status() -> None:
    """Each read model's checkpoint, its lag behind the log head, what stopped it and the events it set aside.

    Every build of a read model is listed under it: the one served, one
    being built (and how far it got), one still read by processes of an
    older version. Exits 1 when a read model stopped or set aside an event
    it could not fold.
    """
    try:
        projections.create_tables()
        lines = projections.status()
    except DatabaseError as exc:
        raise click.ClickException(f"cannot read the status of the database at {_where()}: {exc} "
                                   "(run `chronology init-db` on a new database)") from None
    _report(lines)


def _report(lines: list[projections.runner.Status]) -> None:
    """Print each read model's line, its builds when it has more than the one served, and every event set aside;
    exit 1 unless all are healthy."""
    for line in lines:
        text = f"{line.name} v{line.version}: at position {line.position} of {line.head}, lag {line.lag}"
        if not any(b.served_here for b in line.builds):
            text = f"{line.name} v{line.version}: not built yet"
        if line.failed_position is not None:
            text += f"; STOPPED at position {line.failed_position}: {line.error}"
        if line.set_aside:
            text += f"; {line.set_aside} event{'s' if line.set_aside != 1 else ''} set aside"
        click.echo(text)
        if len(line.builds) > 1 or not any(b.served_here for b in line.builds):
            for build in line.builds:
                readers = f", read by {build.readers} process{'es' if build.readers != 1 else ''}"
                click.echo(f"  build {build.key} (v{build.version}): {build.state}, {build.phase}{readers}")
    for item in quarantine.pending():
        click.echo(f"  set aside by {item.name}: position {item.position} (event {item.event_id}): {item.error}")
    if not all(line.healthy for line in lines):
        sys.exit(1)


def _where() -> str:
    url = current_app.config["DATABASE_URL"]
    return url.split("@")[-1] if "@" in url else url
