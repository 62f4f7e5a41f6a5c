"""Editor accounts: hashes made with older Argon2 parameters."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher

import events
from service import accounts
from tests.conftest import EDITOR_NAME, EDITOR_PASSWORD, sign_in


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
    if not events.database.is_closed():
        events.database.close()
