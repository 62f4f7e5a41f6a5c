"""The log's schema on each backend: its table and indexes, and the triggers that refuse UPDATE and DELETE.

The table itself is declared once, as a peewee model (``models.Event``);
what peewee cannot declare (a partial index on a JSON expression, the guard
triggers) is written here, for SQLite and for PostgreSQL.
"""

from __future__ import annotations

from .db import APPEND_LOCK_KEY, backend_name, database, is_postgres
from .models import Event, RevisionTarget

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
_TARGET = {"sqlite": "json_extract({}data, '$.target')", "postgresql": "({}data::jsonb ->> 'target')"}


def target_expression(row: str = "") -> str:
    """The SQL of a revision's target event id, for the backend in use (of the row named ``row``, if given)."""
    return _TARGET[backend_name()].format(f"{row}." if row else "")


def _revision_trigger() -> list[str]:
    """The trigger that records, as each revision is inserted, the type of the event it acts on.

    In the database rather than in ``append``: every writer (an import, an
    older version of this code in a rolling deploy) fills it alike. Its
    condition is tested in the engine, so an ordinary append pays no lookup.
    """
    if is_postgres():
        return [
            """CREATE OR REPLACE FUNCTION event_revision_target() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 INSERT INTO revision_target (position, target_type)
                   SELECT NEW.position, type FROM event WHERE event_id = (NEW.data::jsonb ->> 'target');
                 RETURN NULL;
               END $$""",
            f"""CREATE OR REPLACE TRIGGER event_revision_target AFTER INSERT ON event
               FOR EACH ROW WHEN (NEW.{REVISION_TYPES}) EXECUTE FUNCTION event_revision_target()""",
        ]
    return [f"""CREATE TRIGGER IF NOT EXISTS event_revision_target AFTER INSERT ON event WHEN NEW.{REVISION_TYPES}
                BEGIN
                  INSERT INTO revision_target (position, target_type)
                    SELECT NEW.position, type FROM event WHERE event_id = json_extract(NEW.data, '$.target');
                END"""]


def drop_revision_trigger() -> None:
    """Stop filling ``revision_target`` row by row (an import into an empty log fills it once at the end)."""
    database.execute_sql("DROP TRIGGER IF EXISTS event_revision_target" + (" ON event" if is_postgres() else ""))


def fill_revision_targets() -> None:
    """Record the target type of every revision that has none yet, then keep doing so on every insert.

    A log written before the table existed, or an import that suspended the
    trigger, is brought level in one statement: one lookup per revision.
    """
    database.execute_sql(
        f"INSERT INTO revision_target (position, target_type) SELECT r.position, t.type FROM event r "
        f"JOIN event t ON t.event_id = {target_expression('r')} WHERE r.{REVISION_TYPES} "
        "AND NOT EXISTS (SELECT 1 FROM revision_target x WHERE x.position = r.position)")
    for statement in _revision_trigger():
        database.execute_sql(statement)


def create_schema() -> None:
    """Create the log's table, indexes, guard triggers and the revisions' target types; safe to run again."""
    with database.atomic():
        if is_postgres():
            # Two processes creating the schema at once must not race.
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY + 1,))
        database.create_tables([Event, RevisionTarget], safe=True)
        # Only corrections and retractions have an entry: an ordinary append pays nothing for it.
        database.execute_sql(f"CREATE INDEX IF NOT EXISTS event_target ON event ({target_expression()}) "
                             f"WHERE {REVISION_TYPES}")
        for statement in POSTGRES_GUARDS if is_postgres() else SQLITE_GUARDS:
            database.execute_sql(statement)
        fill_revision_targets()
