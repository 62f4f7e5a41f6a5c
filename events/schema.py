"""The log's schema on each backend: its table and indexes, and the triggers that refuse UPDATE and DELETE.

The table itself is declared once, as a peewee model (``models.Event``);
what peewee cannot declare (a partial index on a JSON expression, the guard
triggers) is written here, for SQLite and for PostgreSQL.
"""

from __future__ import annotations

from .db import APPEND_LOCK_KEY, backend_name, database, is_postgres
from .models import Event

SQLITE_GUARDS = [
    """CREATE TRIGGER IF NOT EXISTS event_refuse_update BEFORE UPDATE ON event
       BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS event_refuse_delete BEFORE DELETE ON event
       BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END""",
]

POSTGRES_GUARDS = [
    # psycopg2 formats every statement, so the plpgsql placeholder % is written %%.
    """CREATE OR REPLACE FUNCTION event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'the event log is append-only: %% refused', TG_OP
           USING ERRCODE = 'restrict_violation';
       END $$""",
    """CREATE OR REPLACE TRIGGER event_refuse_update_delete BEFORE UPDATE OR DELETE ON event
       FOR EACH ROW EXECUTE FUNCTION event_refuse_change()""",
    """CREATE OR REPLACE TRIGGER event_refuse_truncate BEFORE TRUNCATE ON event
       FOR EACH STATEMENT EXECUTE FUNCTION event_refuse_change()""",
]


#: What a correction or retraction acts on, as SQL over the log's row (``data`` is JSON text on both backends),
#: and the condition of the partial index that finds an event's revisions without reading its whole stream.
REVISION_TYPES = "type IN ('EventCorrected', 'EventRetracted')"
_TARGET = {"sqlite": "json_extract(data, '$.target')", "postgresql": "(data::jsonb ->> 'target')"}


def target_expression() -> str:
    """The SQL of a revision's target event id, for the backend in use."""
    return _TARGET[backend_name()]


def create_schema() -> None:
    """Create the log's table, indexes and guard triggers; safe to run again."""
    with database.atomic():
        if is_postgres():
            # Two processes creating the schema at once must not race.
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY + 1,))
        database.create_tables([Event], safe=True)
        # Only corrections and retractions have an entry: an ordinary append pays nothing for it.
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS event_target ON event ({target_expression()}) "
                             f"WHERE {REVISION_TYPES}")
        for statement in POSTGRES_GUARDS if is_postgres() else SQLITE_GUARDS:
            database.execute_sql(statement)
