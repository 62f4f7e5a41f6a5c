"""Editors and their API tokens: who may write, and how they prove it.

Passwords are hashed with Argon2 (argon2-cffi); API tokens are random,
shown once, and stored only as their SHA-256, so a copy of the database
gives neither away. Both tables live beside the log in the same database.

Every session carries its editor's session generation: signing out, a new
password or disabling the editor bumps it, which ends every session issued
before, wherever its cookie was copied to.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from datetime import UTC, datetime
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import AutoField, CharField, ForeignKeyField, IntegerField, TextField

from events import tables
from events.tables import BaseModel, UTCTimeField

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TOKEN_PREFIX = "chr_"

# OWASP's Argon2id floor (19 MiB, 2 passes, 1 lane). Hashes made with other parameters are rehashed at
# their next successful sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

#: Threads of one process that check passwords for sign-ins; the other sign-ins wait their turn.
#: Only these threads ever hold Argon2's memory: a request thread's freed 19 MiB would stay in its own
#: malloc arena, so checking in all 8 request threads would keep 8 x 19 MiB however few ran at once.
CONCURRENT_CHECKS = 2
#: How long a sign-in waits for its turn before it is answered "busy" instead.
CHECK_WAIT = 5.0
_checkers = ThreadPoolExecutor(max_workers=CONCURRENT_CHECKS, thread_name_prefix="password-check")
T = TypeVar("T")


class AccountError(ValueError):
    """A name, password or token that cannot be accepted, with the reason."""


class ChecksBusy(Exception):
    """The password checkers of this process stayed busy for CHECK_WAIT seconds."""


class Editor(BaseModel):
    """A person who may append, correct and retract events; their name becomes the events' author."""

    id = AutoField()
    name = CharField(max_length=64, unique=True)
    password_hash = TextField()
    created_at = UTCTimeField()
    #: A session is honoured only while it carries this number: bumping it ends every session.
    session_generation = IntegerField(default=0)
    #: Set by `chronology disable-editor`: no sign-in, session or API token works for the editor.
    disabled_at = UTCTimeField(null=True)

    class Meta:
        table_name = "editor"

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


class ApiToken(BaseModel):
    """A bearer token for the JSON API, acting for one editor."""

    digest = CharField(max_length=64, primary_key=True)
    editor = ForeignKeyField(Editor, backref="tokens", on_delete="CASCADE")
    created_at = UTCTimeField()

    class Meta:
        table_name = "api_token"


#: Columns added to ``editor`` since its first release, with their DDL, for databases created before.
_ADDED_COLUMNS = {
    "session_generation": "INTEGER NOT NULL DEFAULT 0",
    "disabled_at": "{UTCTIME}",
}


def create_tables() -> None:
    """Create the tables, and add to an older ``editor`` table the columns it lacks; safe to run again."""
    tables.create_tables([Editor, ApiToken])
    _add_missing_columns()


def _add_missing_columns() -> None:
    def missing() -> list[str]:
        present = tables.columns(Editor._meta.table_name)
        return [name for name in _ADDED_COLUMNS if name not in present]

    if not missing():
        return  # the usual start: nothing to lock
    with tables.exclusive():
        for name in missing():  # again, under the lock: another process may have just added them
            tables.add_column("editor", name, _ADDED_COLUMNS[name])


def has_editors() -> bool:
    return Editor.select().exists()


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise AccountError(
            f"{name!r} is not a usable editor name: letters, digits, '.', '_' or '-', at most 64 characters"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must be at most {MAX_PASSWORD} characters long")
    return password


def create_editor(name: str, password: str) -> Editor:
    """Create an editor account; refuse a taken name or a short password."""
    check_name(name)
    check_password(password)
    with tables.atomic():
        if Editor.select().where(Editor.name == name).exists():
            raise AccountError(f"an editor named {name!r} already exists")
        return Editor.create(name=name, password_hash=_hasher.hash(password), created_at=datetime.now(UTC))


def authenticate(name: str, password: str) -> Editor | None:
    """The enabled editor whose name and password these are, or None (same cost either way).

    Raises ChecksBusy when the password checkers do not get to it in time.
    """
    editor = Editor.get_or_none(Editor.name == name) if NAME_PATTERN.match(name or "") else None
    try:
        _in_checker(_hasher.verify, editor.password_hash if editor else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if editor is None or editor.disabled:
        return None
    if _hasher.check_needs_rehash(editor.password_hash):
        checked, editor.password_hash = editor.password_hash, _in_checker(_hasher.hash, password)
        # Only over the hash just checked: a password set meanwhile (set-password) is not undone.
        (Editor.update(password_hash=editor.password_hash)
         .where(Editor.id == editor.id, Editor.password_hash == checked).execute())
    return editor


def _in_checker(work: Callable[..., T], *args: str) -> T:
    """Run an Argon2 computation on a password-checker thread and wait for it (ChecksBusy if it never starts)."""
    future = _checkers.submit(work, *args)
    try:
        return future.result(timeout=CHECK_WAIT)
    except WaitedTooLong:
        if future.cancel():
            raise ChecksBusy(f"the {CONCURRENT_CHECKS} password checkers were busy for {CHECK_WAIT:g} s") from None
        return future.result()  # already running: it finishes in a moment


def session_is_current(editor_id: object, generation: object) -> Editor | None:
    """The editor a session names, if it is enabled and the session was issued since the last bump."""
    if not isinstance(editor_id, int) or not isinstance(generation, int):
        return None
    editor = Editor.get_or_none(Editor.id == editor_id)
    if editor is None or editor.disabled or editor.session_generation != generation:
        return None
    return editor


def end_sessions(editor_id: int) -> None:
    """End every session of the editor, in every browser: the generation they carry is no longer current."""
    Editor.update(session_generation=Editor.session_generation + 1).where(Editor.id == editor_id).execute()


def set_password(name: str, password: str) -> Editor:
    """Give the editor ``name`` a new password and end every session they have."""
    editor = _existing(name)
    check_password(password)
    (Editor.update(password_hash=_hasher.hash(password), session_generation=Editor.session_generation + 1)
     .where(Editor.id == editor.id).execute())
    return Editor.get_by_id(editor.id)


def disable_editor(name: str) -> Editor:
    """Stop the editor ``name`` from signing in, end their sessions, and make their API tokens refuse."""
    editor = _existing(name)
    (Editor.update(disabled_at=editor.disabled_at or datetime.now(UTC),
                   session_generation=Editor.session_generation + 1)
     .where(Editor.id == editor.id).execute())
    return Editor.get_by_id(editor.id)


def _existing(name: str) -> Editor:
    editor = find_editor(name)
    if editor is None:
        raise AccountError(f"no editor named {name!r}")
    return editor


def find_editor(name: str) -> Editor | None:
    return Editor.get_or_none(Editor.name == name)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(name: str) -> str:
    """Issue a new API token for the editor ``name`` and return it: it is never shown again."""
    editor = find_editor(name)
    if editor is None:
        raise AccountError(f"no editor named {name!r}: create one first with `chronology create-editor {name}`")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.create(digest=_digest(token), editor=editor, created_at=datetime.now(UTC))
    return token


def editor_for_token(token: str) -> Editor | None:
    """The editor a bearer token acts for, or None for an unknown token or a disabled editor."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (ApiToken.select(ApiToken, Editor).join(Editor)
           .where(ApiToken.digest == _digest(token), Editor.disabled_at.is_null()).first())
    return row.editor if row else None


def revoke_tokens(name: str, *, keep_newest: bool = False) -> int:
    """Revoke the API tokens of the editor ``name`` (all, or all but the newest: rotation); return how many."""
    editor = _existing(name)
    doomed = ApiToken.select(ApiToken.digest).where(ApiToken.editor == editor)
    if keep_newest:
        newest = ApiToken.select().where(ApiToken.editor == editor).order_by(ApiToken.created_at.desc()).first()
        if newest is not None:
            doomed = doomed.where(ApiToken.digest != newest.digest)
    return ApiToken.delete().where(ApiToken.digest.in_([t.digest for t in doomed])).execute()
