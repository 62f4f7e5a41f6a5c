"""The log as read models read it in bulk: joined to their fact tables, counted, copied, scanned raw.

Read models keep tables keyed by the position of the event that recorded
each fact, and leave the event's id, type, recording time (and, while
uncorrected, its data) to the log. Every statement that reads the log's
table for them is written here, so only ``events`` knows that table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from . import db
from .db import database
from .store import sql

#: What ``joined_facts`` gives first, in this order, before the caller's ``extra`` columns of its table.
FACT_FIELDS = ("event_id", "stream", "type", "occurred", "data", "sources", "position", "recorded_at", "as_logged")


def _select(table: str, extra: Sequence[str] = ()) -> str:
    more = "".join(f", t.{c}" for c in extra)
    return ("SELECT e.event_id, t.stream, e.type, t.occurred, COALESCE(t.data, e.data), "
            f"COALESCE(t.sources, e.sources), t.position, e.recorded_at, t.data IS NULL{more} "
            f"FROM {table} t JOIN event e ON e.position = t.position")


def joined_facts(table: str, *, where: str = "", params: Sequence[Any] = (), extra: Sequence[str] = (),
                 order: str = "", limit: int | None = None) -> list[tuple[Any, ...]]:
    """Rows of a fact table ``t`` with what the log holds of each fact's event (``FACT_FIELDS``, then ``extra``).

    ``data`` and ``sources`` are the table's where it keeps a corrected form,
    else the event's; ``as_logged`` says which. ``where`` and ``order`` name
    only the table's own columns, as ``t.column``.
    """
    statement = _select(table, extra)
    if where:
        statement += f" WHERE {where}"
    if order:
        statement += f" ORDER BY {order}"
    values = list(params)
    if limit is not None:
        statement += " LIMIT ?"
        values.append(limit)
    return list(database.execute_sql(sql(statement), tuple(values)).fetchall())


def facts_of_events(table: str, event_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """``joined_facts`` of the facts the events ``event_ids`` recorded."""
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(event_ids), 500):
        chunk = list(event_ids[i:i + 500])
        statement = f"{_select(table)} WHERE e.event_id IN ({', '.join('?' * len(chunk))})"
        out += database.execute_sql(sql(statement), tuple(chunk)).fetchall()
    return out


def stream_tallies(upto: int) -> list[tuple[str, int, int]]:
    """Per stream up to position ``upto``: its name, how many events, and its first version (1 once it began)."""
    return [(row[0], row[1], row[2]) for row in database.execute_sql(sql(
        "SELECT stream, COUNT(*), MIN(version) FROM event WHERE position <= ? GROUP BY stream"), (upto,))]


def subject_ranges(kind: str, upto: int, size: int) -> list[tuple[str | None, str]]:
    """The subjects of ``kind`` up to ``upto``, cut into ranges of about ``size`` events, in the index's order.

    Each range is (after, through) for ``store.subjects``: the stream before
    it (None for the first) and its last stream. A subject is never cut, so
    ranges can be folded apart, by different processes, in any order.
    """
    if db.is_postgres():
        where, params = "substr(stream, 1, ?) = ?", [len(kind) + 1, f"{kind}/"]
    else:
        where, params = "stream > ? AND stream < ?", [f"{kind}/", f"{kind}0"]
    rows = database.execute_sql(sql(f"SELECT stream, COUNT(*) FROM event WHERE {where} AND position <= ? "
                                    "GROUP BY stream ORDER BY stream"), (*params, upto)).fetchall()
    ranges: list[tuple[str | None, str]] = []
    start: str | None = None
    held = 0
    for i, (stream, n) in enumerate(rows):
        held += n
        if held >= size or i == len(rows) - 1:
            ranges.append((start, stream))
            start, held = stream, 0
    return ranges


#: What ``raw_pages`` gives of each event, in this order: its JSON ``data`` still as text.
RAW_FIELDS = ("position", "event_id", "stream", "type", "occurred", "occurred_lo", "occurred_hi", "recorded_at",
              "data")


def raw_pages(types: Sequence[str], kind: str, upto: int, *, batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
    """Every event of ``types`` on subjects of ``kind`` up to ``upto``, a keyset page at a time, undecoded."""
    prefix = f"{kind}/"
    statement = sql(f"SELECT {', '.join(RAW_FIELDS)} FROM event WHERE type IN ({', '.join('?' * len(types))}) "
                    "AND substr(stream, 1, ?) = ? AND position > ? AND position <= ? ORDER BY position LIMIT ?")
    after = 0
    while True:
        rows = database.execute_sql(statement, (*types, len(prefix), prefix, after, upto, batch)).fetchall()
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


#: What ``raw_facts`` gives of each event, in this order: its JSON ``data`` and ``sources`` still as text.
RAW_FACT_FIELDS = ("position", "event_id", "stream", "type", "occurred", "recorded_at", "data", "sources")


def raw_facts(upto: int, *, skip_types: Sequence[str], batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
    """Every event up to ``upto`` not of ``skip_types``, of any subject, a keyset page at a time, undecoded."""
    statement = sql(f"SELECT {', '.join(RAW_FACT_FIELDS)} FROM event WHERE position > ? AND position <= ? "
                    f"AND type NOT IN ({', '.join('?' * len(skip_types))}) ORDER BY position LIMIT ?")
    after = 0
    while True:
        rows = database.execute_sql(statement, (after, upto, *skip_types, batch)).fetchall()
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after = rows[-1][0]


def copy_dated_facts(table: str, columns: Sequence[str], *, upto: int, skip_types: Sequence[str],
                     labels: Mapping[str, Mapping[str | None, str]], default_label: str,
                     prefix_of: Callable[[str], str]) -> None:
    """Copy every fact up to ``upto`` (not of ``skip_types``) into a fact table as logged, in one statement.

    ``columns`` name the table's columns for: position, stream, date, data and
    sources (left NULL: the log has them), lower and upper bounds, a label and
    a sort key. The label is ``labels[kind][type]`` (``None`` as the type: the
    kind's default), else ``default_label``; the sort key is
    ``prefix_of(date)``, worked out once per distinct date, then the position
    zero-padded to twelve digits, so text order is key order.
    """
    with _sort_days(upto, prefix_of):
        skipped = ", ".join(f"'{t}'" for t in sorted(skip_types))
        database.execute_sql(sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            "SELECT e.position, e.stream, e.occurred, NULL, NULL, e.occurred_lo, e.occurred_hi, "
            f"{_label_sql(labels, default_label)}, d.prefix || {_padded()} "
            "FROM event e JOIN derived_day d ON d.occurred = e.occurred "
            f"WHERE e.position <= ? AND e.type NOT IN ({skipped}) ORDER BY e.position"), (upto,))


def copy_citations(table: str, columns: Sequence[str], *, upto: int, skip_types: Sequence[str],
                   prefix_of: Callable[[str], str]) -> None:
    """Copy, as logged, one row per fact up to ``upto`` and per document its sources name, in one statement.

    ``columns`` name the table's columns for: position, stream, date, data and
    sources (left NULL: the log has them), lower and upper bounds, the
    document's id and a sort key (``prefix_of(date)`` and the position, as
    ``copy_dated_facts`` makes it). The sources are taken apart by the
    database's own JSON functions: no event is decoded in Python.
    """
    if db.is_postgres():
        each = "CROSS JOIN LATERAL jsonb_array_elements(e.sources::jsonb) AS j(value)"
        document = "j.value ->> 'document'"
    else:
        each, document = ", json_each(e.sources) AS j", "json_extract(j.value, '$.document')"
    with _sort_days(upto, prefix_of):
        skipped = ", ".join(f"'{t}'" for t in sorted(skip_types))
        database.execute_sql(sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            "SELECT DISTINCT e.position, e.stream, e.occurred, NULL, NULL, e.occurred_lo, e.occurred_hi, "
            f"{document}, d.prefix || {_padded()} "
            f"FROM event e JOIN derived_day d ON d.occurred = e.occurred {each} "
            f"WHERE e.position <= ? AND e.type NOT IN ({skipped}) AND {document} IS NOT NULL "
            "ORDER BY e.position"), (upto,))


@contextmanager
def _sort_days(upto: int, prefix_of: Callable[[str], str]) -> Iterator[None]:
    """A temporary table ``derived_day``: each distinct date up to ``upto`` with its sort key's prefix."""
    days = [(occurred, prefix_of(occurred)) for (occurred,) in database.execute_sql(
        sql("SELECT DISTINCT occurred FROM event WHERE position <= ?"), (upto,)).fetchall()]
    database.execute_sql("CREATE TEMPORARY TABLE derived_day (occurred VARCHAR(100) PRIMARY KEY, "
                         "prefix VARCHAR(20) NOT NULL)")
    try:
        database.cursor().executemany(sql("INSERT INTO derived_day (occurred, prefix) VALUES (?, ?)"), days)
        yield
    finally:
        database.execute_sql("DROP TABLE derived_day")


def _padded() -> str:
    """The event's position as twelve zero-padded digits, in the backend's SQL."""
    return ("lpad(CAST(e.position AS TEXT), 12, '0')" if db.is_postgres()
            else "substr('000000000000' || e.position, -12)")


def _label_sql(labels: Mapping[str, Mapping[str | None, str]], default: str) -> str:
    """``labels`` as a CASE over the event's stream kind and type (names and labels are fixed identifiers)."""
    arms = []
    for kind, by_type in labels.items():
        prefix = f"{kind}/"
        inner = " ".join(f"WHEN e.type = '{t}' THEN '{label}'" for t, label in by_type.items() if t is not None)
        fallback = f"'{by_type.get(None, default)}'"
        value = f"CASE {inner} ELSE {fallback} END" if inner else fallback
        arms.append(f"WHEN substr(e.stream, 1, {len(prefix)}) = '{prefix}' THEN {value}")
    return f"CASE {' '.join(arms)} ELSE '{default}' END"


#: Per backend: the key of a source (its document id, else its URL; NULL for neither) and the sources an event
#: cites (its own, and a correction's ``changes.sources``), as rows of (position, key).
_CITED = {
    "sqlite": (
        "SELECT e.position AS p, CASE WHEN json_type(s.value, '$.document') = 'text' "
        "THEN 'document:' || json_extract(s.value, '$.document') WHEN json_type(s.value, '$.url') = 'text' "
        "THEN 'url:' || json_extract(s.value, '$.url') END AS k FROM event e, json_each(e.{column}{path}) s "
        "WHERE e.position <= ?{where}"),
    "postgresql": (
        "SELECT e.position AS p, CASE WHEN jsonb_typeof(s.value -> 'document') = 'string' "
        "THEN 'document:' || (s.value ->> 'document') WHEN jsonb_typeof(s.value -> 'url') = 'string' "
        "THEN 'url:' || (s.value ->> 'url') END AS k FROM event e CROSS JOIN LATERAL jsonb_array_elements("
        "CASE WHEN jsonb_typeof(e.{column}::jsonb{path}) = 'array' THEN e.{column}::jsonb{path} ELSE '[]'::jsonb END"
        ") s WHERE e.position <= ?{where}"),
}


def newest_citations(upto: int) -> list[tuple[int, str, str, str]]:
    """Per source cited by an event up to ``upto`` (a document by its id, else a URL), the newest such event:
    its position, type, sources and data (JSON text), so a read model can take the source's metadata from it.

    One statement over the log: the database reads each event's sources where they lie, no event is decoded in
    Python, and only the (few) newest citing events come back whole.
    """
    backend = db.backend_name()
    path = {"sqlite": ", '$.changes.sources'", "postgresql": " #> '{changes,sources}'"}[backend]
    template = _CITED[backend]
    own = template.format(column="sources", path="", where="")
    corrected = template.format(column="data", path=path, where=" AND e.type = 'EventCorrected'")
    statement = (f"SELECT e.position, e.type, e.sources, e.data FROM event e WHERE e.position IN ("
                 f"SELECT MAX(p) FROM ({own} UNION ALL {corrected}) cited WHERE k IS NOT NULL GROUP BY k) "
                 "ORDER BY e.position")
    if backend == "sqlite":  # json_type needs a JSON array to walk; an old log's odd value is skipped
        statement = statement.replace("json_each(e.sources)", "json_each(CASE WHEN json_type(e.sources) = 'array' "
                                      "THEN e.sources ELSE '[]' END)")
    return [(row[0], row[1], row[2], row[3]) for row in database.execute_sql(sql(statement), (upto, upto)).fetchall()]
