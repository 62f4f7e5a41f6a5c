"""Editor accounts: the columns an older database lacks, and hashes made with older Argon2 parameters."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from peewee import AutoField, CharField, TextField

import events
from events.db import database
from events.models import BaseModel, UTCTimeField
from service import schema
from service.editing import accounts
from tests.conftest import EDITOR_NAME, EDITOR_PASSWORD, sign_in


class EditorAsFirstReleased(BaseModel):
    """The ``editor`` table as the first release created it: no session generation, no disabling."""

    id = AutoField()
    name = CharField(max_length=64, unique=True)
    password_hash = TextField()
    created_at = UTCTimeField()

    class Meta:
        table_name = "editor"


def test_an_older_editor_table_gets_the_new_columns(log):
    database.create_tables([EditorAsFirstReleased])
    EditorAsFirstReleased.create(name=EDITOR_NAME, password_hash=PasswordHasher().hash(EDITOR_PASSWORD),
                                 created_at=datetime.now(UTC))
    schema.create_all()
    schema.create_all()  # safe to run again
    columns = {column.name for column in database.get_columns("editor")}
    assert {"session_generation", "disabled_at"} <= columns
    editor = accounts.find_editor(EDITOR_NAME)
    assert editor.session_generation == 0 and not editor.disabled
    assert accounts.authenticate(EDITOR_NAME, EDITOR_PASSWORD).id == editor.id
    accounts.disable_editor(EDITOR_NAME)
    assert accounts.authenticate(EDITOR_NAME, EDITOR_PASSWORD) is None


def test_a_hash_with_older_parameters_is_replaced_at_the_next_sign_in(app):
    older = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)  # argon2-cffi's default
    with app.app_context():
        accounts.Editor.create(name=EDITOR_NAME, password_hash=older.hash(EDITOR_PASSWORD),
                               created_at=datetime.now(UTC))
    assert sign_in(app.test_client(), EDITOR_NAME, EDITOR_PASSWORD).status_code == 302
    with app.app_context():
        stored = accounts.find_editor(EDITOR_NAME).password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert sign_in(app.test_client(), EDITOR_NAME, EDITOR_PASSWORD).status_code == 302
    if not events.db.database.is_closed():
        events.db.database.close()
