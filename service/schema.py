"""Every table a deployment needs, created in one step: `chronology init-db` and the tests call it."""

from __future__ import annotations

import events
import projections

from .editing import accounts, signins
from .operations import jobs


def create_all() -> None:
    """The log, the read models, the accounts, the sign-in failures and the job records; safe to run again."""
    events.create_schema()
    projections.ensure_schema()
    accounts.create_tables()
    signins.create_tables()
    jobs.create_tables()
