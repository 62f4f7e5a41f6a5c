"""Editors and their API tokens: who may write, and how they prove it.

Passwords are hashed with Argon2 (argon2-cffi); API tokens are random,
shown once, and stored only as their SHA-256, so a copy of the database
gives neither away. Both tables live beside the log in the same database.
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
from peewee import AutoField, CharField, ForeignKeyField, TextField

from events.db import database
from events.models import BaseModel, UTCTimeField

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

    class Meta:
        table_name = "editor"


class ApiToken(BaseModel):
    """A bearer token for the JSON API, acting for one editor."""

    digest = CharField(max_length=64, primary_key=True)
    editor = ForeignKeyField(Editor, backref="tokens", on_delete="CASCADE")
    created_at = UTCTimeField()

    class Meta:
        table_name = "api_token"


def create_tables() -> None:
    database.create_tables([Editor, ApiToken], safe=True)


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
    with database.atomic():
        if Editor.select().where(Editor.name == name).exists():
            raise AccountError(f"an editor named {name!r} already exists")
        return Editor.create(name=name, password_hash=_hasher.hash(password), created_at=datetime.now(UTC))


def authenticate(name: str, password: str) -> Editor | None:
    """The editor whose name and password these are, or None (same cost either way).

    Raises ChecksBusy when the password checkers do not get to it in time.
    """
    editor = Editor.get_or_none(Editor.name == name) if NAME_PATTERN.match(name or "") else None
    try:
        _in_checker(_hasher.verify, editor.password_hash if editor else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if editor is None:
        return None
    if _hasher.check_needs_rehash(editor.password_hash):
        editor.password_hash = _in_checker(_hasher.hash, password)
        Editor.update(password_hash=editor.password_hash).where(Editor.id == editor.id).execute()
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
    """The editor a bearer token acts for, or None for an unknown token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = ApiToken.select(ApiToken, Editor).join(Editor).where(ApiToken.digest == _digest(token)).first()
    return row.editor if row else None


def revoke_tokens(name: str, *, keep_newest: bool = False) -> int:
    """Revoke the API tokens of the editor ``name`` (all, or all but the newest: rotation); return how many."""
    editor = find_editor(name)
    if editor is None:
        raise AccountError(f"no editor named {name!r}")
    doomed = ApiToken.select(ApiToken.digest).where(ApiToken.editor == editor)
    if keep_newest:
        newest = ApiToken.select().where(ApiToken.editor == editor).order_by(ApiToken.created_at.desc()).first()
        if newest is not None:
            doomed = doomed.where(ApiToken.digest != newest.digest)
    return ApiToken.delete().where(ApiToken.digest.in_([t.digest for t in doomed])).execute()
