"""Search: every fact's words, found in French or English, accents folded, with facets to narrow the answer.

Each fact in its current form (corrections folded, retractions removed) is
one entry: its title, summary, place, participants, subject name, quotes
and their translations, and its sources' document names. Words are
folded (``Pégase`` and ``pegase`` are one word) and split into runs of
letters and digits: by FTS5's unicode61 tokenizer on SQLite, by
``text.words`` for PostgreSQL's ``tsvector`` and for every query, which agree
on them, so both backends answer the same questions. No stemming: a French
and an English word are each found as written, on either backend.

SQLite keeps the words in an FTS5 table (``SearchText``, a peewee
``FTS5Model``), PostgreSQL in a ``tsvector`` column with a GIN index
(``SearchWords``); each backend creates only its own. ``search_entry`` holds
what the facets count and the order answers come in (the timeline's valid-time
sort key), ``search_facet`` the facets a fact has several of (participants,
source documents, languages).

An answer is bounded at any size of log: its facets and its count are taken
over at most ``FACET_SCAN`` matches (the page says so when there were more),
and a page is a keyset range of the sort key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import orjson
from peewee import CharField, CompositeKey, IntegerField, Model, TextField
from playhouse.postgres_ext import TSVectorField
from playhouse.sqlite_ext import FTS5Model, SearchField

from events import dates, derived
from events.declaration import DOCUMENT_TYPE, UNSOURCED_TYPES
from events.records import RecordedEvent

from . import tables
from .base import Projection
from .binding import VersionedMetadata
from .facts import BASE_COLUMNS, Batch, Fact, FactRow, date_of, fact_of, latest, participants_of
from .paging import DEFAULT_LIMIT, check_limit
from .tables import ViewModel, delete_positions, execute_many, insert_rows, is_postgres, query
from .text import WORD, fold, words
from .timeline import CURSOR, sort_key

#: The most matches an answer counts and draws its facets from; past it, the answer says "more than".
FACET_SCAN = 10_000
#: The facets an answer counts, in the order a page shows them.
FACETS = ("kind", "type", "year", "participant", "document", "language")
#: Facets a fact has several values of: kept as rows of ``search_facet``.
MANY = ("participant", "document", "language")
#: The longest query accepted, in characters, and the most words in it.
MAX_QUERY = 200
MAX_TERMS = 12
#: Data fields that name a subject (an agreement, a series, a mechanism) and are searched with its names.
NAME_FIELDS = ("agreement", "short", "series", "mechanism", "name", "edition", "first", "category")

# --- what a fact says, in words and facets (pure) ----------------------------


def _texts(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str | int) and not isinstance(item, bool):
                yield str(item)


def _quote(source: dict[str, Any]) -> str:
    quote = source.get("quote")
    if isinstance(quote, dict):
        return str(quote.get("exact") or "")
    return quote if isinstance(quote, str) else ""


def _translation(source: dict[str, Any]) -> dict[str, Any]:
    found = source.get("translation")
    return found if isinstance(found, dict) else {}


def subject_words(stream: str) -> str:
    """A subject key's slug as words (``exercise/jeanne-d-arc`` → ``jeanne d arc``)."""
    return stream.split("/", 1)[-1].replace("-", " ")


def fields_of(stream: str, data: dict[str, Any], sources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every searched text of a fact with what it is, in the order a snippet looks for a match."""
    out: list[tuple[str, str]] = []
    for name, value in (("title", data.get("title")), ("summary", data.get("summary")), ("place", data.get("place"))):
        if isinstance(value, str) and value:
            out.append((name, value))
    out += [("participant", p["name"]) for p in participants_of(data) if p["name"]]
    for key in NAME_FIELDS:
        out += [("name", text) for text in _texts(data.get(key)) if text]
    for source in sources:
        if not isinstance(source, dict):
            continue
        if _quote(source):
            out.append(("quote", _quote(source)))
        text = _translation(source).get("text")
        if isinstance(text, str) and text:
            out.append(("translation", text))
        out += [("document", str(source[k])) for k in ("document", "title", "publisher") if source.get(k)]
    out.append(("subject", subject_words(stream)))
    return out


def searched_text(stream: str, data: dict[str, Any], sources: list[dict[str, Any]]) -> str:
    """Every text of a fact that is searched, one per line, as written: ``fields_of``'s texts, in its order.

    Written out rather than joined from ``fields_of``: a rebuild does this
    for every fact (a test holds the two equal).
    """
    parts = [v for v in (data.get("title"), data.get("summary"), data.get("place")) if isinstance(v, str) and v]
    listed = data.get("participants")
    if listed:
        parts += [p["name"] for p in participants_of(data) if p["name"]]
    for key in NAME_FIELDS:
        value = data.get(key)
        if value:
            parts += [text for text in _texts(value) if text]
    for source in sources:
        if isinstance(source, dict):
            quote = _quote(source)
            if quote:
                parts.append(quote)
            translated = source.get("translation")
            if isinstance(translated, dict) and isinstance(translated.get("text"), str) and translated["text"]:
                parts.append(translated["text"])
            parts += [str(source[k]) for k in ("document", "title", "publisher") if source.get(k)]
    parts.append(subject_words(stream))
    return "\n".join(parts)


def indexed_words(text: str) -> str:
    """``searched_text`` as the folded words PostgreSQL's index is given, one space apart."""
    return " ".join(words(text))


def facet_values(data: dict[str, Any], sources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (facet, value) pairs of the facets a fact can have several of, each once."""
    pairs: dict[tuple[str, str], None] = {}
    for p in participants_of(data):
        if p["name"]:
            pairs[("participant", p["name"][:200])] = None
    for source in sources:
        if not isinstance(source, dict):
            continue
        document = source.get("document") or source.get("title")
        if isinstance(document, str) and document:
            pairs[("document", document[:200])] = None
        for language in (source.get("language"), _translation(source).get("language")):
            if isinstance(language, str) and language:
                pairs[("language", language[:35])] = None
    return list(pairs)


def year_of(type_: str, data: dict[str, Any], occurred: str) -> int | None:
    """The year a fact is counted under: the first year its date (a plan's: the planned date) can fall in."""
    try:
        period = dates.parse(date_of(type_, data, occurred))
    except ValueError:
        return None
    day = period.lo or period.hi
    return day.year if day is not None else None


# --- tables ----------------------------------------------------------------------


class SearchEntry(FactRow):
    """One fact in the search: what the single-valued facets count and the order answers come in."""

    kind = CharField(max_length=64)
    type = CharField(max_length=64)
    year = IntegerField(null=True)
    sort_key = CharField(max_length=20, unique=True)

    class Meta:
        table_name = "search_entry"
        indexes = ((("stream", "sort_key"), False),)  # a subject's facts in date order


class SearchFacet(ViewModel):
    """A facet a fact has several values of: each participant, source document and language."""

    position = IntegerField()
    facet = CharField(max_length=16)
    value = TextField()

    class Meta:
        table_name = "search_facet"
        primary_key = CompositeKey("position", "facet", "value")
        indexes = ((("facet", "value", "position"), False),)


class SearchText(FTS5Model):  # type: ignore[misc]  # playhouse publishes no types
    """SQLite's full-text index of every fact's folded words (rowid = the fact's position)."""

    words = SearchField()

    class Meta:
        database = tables.BaseModel._meta.database
        model_metadata_class = VersionedMetadata  # named per build, as every read model's table
        table_name = "search_text"
        # The words arrive folded and split; unicode61 with diacritics removed agrees with ``words`` on them.
        options: ClassVar[dict[str, str]] = {"tokenize": "unicode61 remove_diacritics 2"}

    @classmethod
    def create_table(cls, safe: bool = True, **options: Any) -> None:
        if not is_postgres():
            super().create_table(safe=safe, **options)

    @classmethod
    def drop_table(cls, safe: bool = True, drop_sequences: bool = True, **options: Any) -> None:
        if not is_postgres():
            super().drop_table(safe=safe, drop_sequences=drop_sequences, **options)


class SearchWords(ViewModel):
    """PostgreSQL's full-text index: each fact's folded words as a ``tsvector`` (the 'simple' configuration)."""

    position = IntegerField(primary_key=True)
    words = TSVectorField(index=False)  # its GIN index is made by create_table

    class Meta:
        table_name = "search_words"

    @classmethod
    def create_table(cls, safe: bool = True, **options: Any) -> None:
        if is_postgres():
            super().create_table(safe=safe, **options)
            table = tables.name(cls)
            tables.execute(f"CREATE INDEX IF NOT EXISTS {table}_gin ON {table} USING GIN (words)")

    @classmethod
    def drop_table(cls, safe: bool = True, drop_sequences: bool = True, **options: Any) -> None:
        if is_postgres():
            super().drop_table(safe=safe, drop_sequences=drop_sequences, **options)


COLUMNS = (*BASE_COLUMNS, "kind", "type", "year", "sort_key")


def _row(fact: Fact) -> tuple[Any, ...]:
    return (*fact.row(), fact.stream.split("/", 1)[0], fact.type, year_of(fact.type, fact.data, fact.occurred),
            sort_key(fact.occurred, fact.position))


def _write_words(rows: list[tuple[int, str]]) -> None:
    """Index each (position, ``searched_text``).

    SQLite's tokenizer (unicode61, diacritics removed) folds and splits the
    text itself, in C, as ``text.words`` does for a query; PostgreSQL has no
    accent folding without an extension, so it is given the words folded here.
    Measured on 20,000 generated facts: folding and splitting them in Python
    cost 36 µs a fact, more than FTS5's whole insert.
    """
    if not rows:
        return
    if is_postgres():
        words = tables.name(SearchWords)
        execute_many(f"INSERT INTO {words} (position, words) VALUES (?, to_tsvector('simple', ?))",
                     [(position, indexed_words(text)) for position, text in rows])
    else:
        execute_many(f"INSERT INTO {tables.name(SearchText)} (rowid, words) VALUES (?, ?)", rows)


def _delete_words(positions: list[int]) -> None:
    if positions:
        delete_positions(SearchFacet, positions)
        if is_postgres():
            delete_positions(SearchWords, positions)
        else:
            execute_many(f"DELETE FROM {tables.name(SearchText)} WHERE rowid = ?", [(p,) for p in positions])


def _searched(event: RecordedEvent) -> bool:
    """Every fact; not a document's registration, which is a source (its page is /sources/<id>), not a fact."""
    return event.type != DOCUMENT_TYPE


class Search(Projection):
    name = "search"
    version = 1
    models: ClassVar[list[type[Model]]] = [SearchEntry, SearchFacet, SearchText, SearchWords]
    # The fold reads entries and facets by position only (their keys); the other indexes serve the queries.
    deferred: ClassVar[list[type[Model]]] = [SearchEntry, SearchFacet]

    def apply(self, event: RecordedEvent) -> None:
        self.apply_batch([event])

    def apply_batch(self, events: list[RecordedEvent]) -> None:
        batch = Batch(SearchEntry, COLUMNS, _row, events, _searched, set_aside=self.name)
        if not batch.steps:
            return
        batch.write()
        _delete_words([batch.stored[eid].position for eid in batch.current if eid in batch.stored])
        texts, facets = [], []
        for fact in batch.current.values():
            if fact is not None:
                texts.append((fact.position, searched_text(fact.stream, fact.data, fact.sources)))
                facets += [(fact.position, f, v) for f, v in facet_values(fact.data, fact.sources)]
        _write_words(texts)
        insert_rows(SearchFacet, ("position", "facet", "value"), facets)

    def refold(self, upto: int) -> Iterator[int]:
        """Every fact as logged, read raw from the log a page at a time; then the corrections and retractions."""
        done = 0
        for rows in derived.raw_facts(upto, skip_types=sorted(UNSOURCED_TYPES)):
            entries, texts, facets = [], [], []
            for position, _event_id, stream, type_, occurred, _recorded, data_text, sources_text in rows:
                data, sources = orjson.loads(data_text), orjson.loads(sources_text)
                lo, hi = dates.bounds(occurred)
                entries.append((position, stream, occurred, None, None, lo, hi, stream.split("/", 1)[0], type_,
                                year_of(type_, data, occurred), sort_key(occurred, position)))
                texts.append((position, searched_text(stream, data, sources)))
                facets += [(position, f, v) for f, v in facet_values(data, sources)]
            insert_rows(SearchEntry, COLUMNS, entries)
            _write_words(texts)
            insert_rows(SearchFacet, ("position", "facet", "value"), facets)
            done += len(rows)
            yield done
        yield from self.refold_revisions(upto, done)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the tables this backend has (the other backend's index is never created)."""
        return tables.dump([SearchEntry, SearchFacet, SearchWords if is_postgres() else SearchText])


# --- queries -----------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What was asked: words that must all be found, phrases found as written, words that are prefixes."""

    text: str
    terms: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]
    prefixes: tuple[str, ...]

    def fts5(self) -> str:
        parts = [f'"{t}"' for t in self.terms] + ['"' + " ".join(p) + '"' for p in self.phrases]
        return " AND ".join(parts + [f'"{p}"*' for p in self.prefixes])

    def tsquery(self) -> str:
        parts = list(self.terms) + ["(" + " <-> ".join(p) + ")" for p in self.phrases]
        return " & ".join(parts + [f"{p}:*" for p in self.prefixes])


_QUOTED = re.compile(r'"([^"]*)"')


def parse_query(text: str) -> Query:
    """A query from what a person typed: words, "a phrase in quotes", ``prefix*``; raises ValueError naming ``q``."""
    if len(text) > MAX_QUERY:
        raise ValueError(f"q: at most {MAX_QUERY} characters")
    phrases = [tuple(words(p)) for p in _QUOTED.findall(text)]
    rest = _QUOTED.sub(" ", text).replace('"', " ")
    terms, prefixes = [], []
    for token in rest.split():
        found = words(token)
        if token.endswith("*") and found:
            terms += found[:-1]
            prefixes.append(found[-1])
        else:
            terms += found
    multi = [p for p in phrases if len(p) > 1]
    terms += [p[0] for p in phrases if len(p) == 1]
    terms = list(dict.fromkeys(terms))
    if not (terms or multi or prefixes):
        raise ValueError("q: give at least one word to search for (letters or digits)")
    if len(terms) + sum(len(p) for p in multi) + len(prefixes) > MAX_TERMS:
        raise ValueError(f"q: at most {MAX_TERMS} words")
    return Query(text, tuple(terms), tuple(multi), tuple(dict.fromkeys(prefixes)))


@dataclass(frozen=True)
class Filters:
    """The facets an answer is narrowed to (each one value, as a facet's link gives it)."""

    kind: str | None = None
    type: str | None = None
    year: int | None = None
    participant: str | None = None
    document: str | None = None
    language: str | None = None

    def chosen(self) -> dict[str, str]:
        return {f: str(getattr(self, f)) for f in FACETS if getattr(self, f) is not None}


@dataclass
class Result:
    event_id: str
    position: int
    stream: str
    type: str
    title: str
    occurred: str
    when: str
    lo: date | None
    hi: date | None
    place: str | None
    cursor: str
    #: Where the words were found (title, summary, quote, ...) and the snippet as (text, matched) pieces.
    found_in: str
    snippet: list[tuple[str, bool]]
    sources: list[dict[str, Any]]

    @property
    def snippet_text(self) -> str:
        return "".join(text for text, _ in self.snippet)

    def to_dict(self) -> dict[str, Any]:
        highlights, at = [], 0
        for text, matched in self.snippet:
            if matched:
                highlights.append([at, at + len(text)])
            at += len(text)
        return {
            "event_id": self.event_id, "position": self.position, "stream": self.stream, "type": self.type,
            "title": self.title, "occurred": self.occurred, "when": self.when,
            "lo": self.lo.isoformat() if self.lo else None, "hi": self.hi.isoformat() if self.hi else None,
            "place": self.place, "found_in": self.found_in, "snippet": self.snippet_text,
            "highlights": highlights, "sources": self.sources, "cursor": self.cursor,
        }


@dataclass
class Answer:
    """A page of results in valid-time order, how many matched (up to ``FACET_SCAN``), and the facets' counts."""

    query: Query
    filters: Filters
    results: list[Result]
    total: int
    more_than: bool  # the count stopped at FACET_SCAN: there are more matches
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    next_after: str | None = None


def _matching(q: Query) -> tuple[str, list[Any]]:
    """A subquery of the positions whose words match ``q``."""
    if is_postgres():
        words = tables.name(SearchWords)
        return f"SELECT position FROM {words} WHERE words @@ to_tsquery('simple', ?)", [q.tsquery()]
    text = tables.name(SearchText)
    return f"SELECT rowid FROM {text} WHERE {text} MATCH ?", [q.fts5()]


def _narrowed(filters: Filters) -> tuple[list[str], list[Any]]:
    """Conditions on search_entry ``t`` for the chosen facets."""
    where: list[str] = []
    params: list[Any] = []
    for name in ("kind", "type", "year"):
        value = getattr(filters, name)
        if value is not None:
            where.append(f"t.{name} = ?")
            params.append(value)
    for name in MANY:
        value = getattr(filters, name)
        if value is not None:
            facets = tables.name(SearchFacet)
            where.append(f"t.position IN (SELECT position FROM {facets} WHERE facet = ? AND value = ?)")
            params += [name, value]
    return where, params


def _counts(match: str, match_params: list[Any], where: list[str], params: list[Any]) -> tuple[int, dict[str, Any]]:
    """How many facts match (at most FACET_SCAN + 1), and each facet's values with their counts among them."""
    scope = " AND ".join([f"t.position IN ({match})", *where])
    statement = (
        f"WITH m AS (SELECT t.position, t.kind, t.type, t.year FROM {tables.name(SearchEntry)} t WHERE {scope} "
        "LIMIT ?) "
        "SELECT 'total', '', COUNT(*) FROM m "
        "UNION ALL SELECT 'kind', kind, COUNT(*) FROM m GROUP BY kind "
        "UNION ALL SELECT 'type', type, COUNT(*) FROM m GROUP BY type "
        "UNION ALL SELECT 'year', CAST(year AS TEXT), COUNT(*) FROM m WHERE year IS NOT NULL GROUP BY year "
        # m first, each match's facets by their key: SQLite otherwise may scan every facet of the log (on the
        # 1M-event log: 174 ms a search, against 1 ms). CROSS JOIN fixes the order in SQLite; PostgreSQL plans it.
        f"UNION ALL SELECT f.facet, f.value, COUNT(*) FROM m CROSS JOIN {tables.name(SearchFacet)} f "
        "WHERE f.position = m.position GROUP BY f.facet, f.value")
    total = 0
    counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
    for facet, value, n in query(statement, (*match_params, *params, FACET_SCAN + 1)):
        if facet == "total":
            total = int(n)
        else:
            counts[facet][str(value)] = int(n)
    return total, counts


def _ordered(counts: dict[str, int], facet: str, chosen: str | None, top: int) -> list[tuple[str, int]]:
    """A facet's values, most frequent first (years and kinds in their own order), the chosen one always kept."""
    if facet == "year":
        items = sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
    else:
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
    shown = items[:top]
    if chosen is not None and chosen not in dict(shown):
        shown.append((chosen, counts.get(chosen, 0)))
    return shown


def search(q: Query, filters: Filters = Filters(), *, after: str | None = None, newest_first: bool = False,
           limit: int = DEFAULT_LIMIT, facet_top: int = 12) -> Answer:
    """One page of the facts matching ``q`` and ``filters`` in valid-time order, after the cursor ``after``.

    Raises ValueError naming ``after`` when it is not a cursor of this order.
    """
    check_limit(limit)
    if after is not None and not CURSOR.match(after):
        raise ValueError(f"after: {after[:40]!r} is not a search cursor (the 'cursor' of the last result seen)")
    match, match_params = _matching(q)
    where, params = _narrowed(filters)
    total, counts = _counts(match, match_params, where, params)
    more_than = total > FACET_SCAN
    facets = {f: _ordered(counts[f], f, filters.chosen().get(f), facet_top) for f in FACETS}
    if total == 0:
        return Answer(q, filters, [], 0, False, facets)
    page_where = list(where)
    page_params = list(params)
    if after is not None:
        page_where.append("t.sort_key < ?" if newest_first else "t.sort_key > ?")
        page_params.append(after)
    rows = _page(match, match_params, page_where, page_params, newest_first, limit + 1, dense=more_than)
    results = [_result(row, q) for row in rows[:limit]]
    return Answer(q, filters, results, min(total, FACET_SCAN), more_than, facets,
                  results[-1].cursor if len(rows) > limit else None)


def _page(match: str, match_params: list[Any], where: list[str], params: list[Any], newest_first: bool,
          limit: int, *, dense: bool) -> list[tuple[Any, ...]]:
    """The page's rows, the query planned for how many matched.

    Few matches (SQLite): read them from the index and sort them. Many: walk
    the sort key's index and ask the index of each fact whether it matches,
    which stops once the page is full. PostgreSQL plans this itself.
    """
    order = "t.sort_key DESC" if newest_first else "t.sort_key"
    if is_postgres() or not dense:
        return derived.joined_facts(tables.name(SearchEntry), where=" AND ".join([f"t.position IN ({match})", *where]),
                                    params=(*match_params, *params), extra=("sort_key",), order=order, limit=limit)
    text = tables.name(SearchText)
    probe = f"SELECT 1 FROM {text} WHERE rowid = t.position AND {text} MATCH ?"
    return derived.joined_facts(tables.name(SearchEntry), where=" AND ".join([f"EXISTS ({probe})", *where]),
                                params=(*match_params, *params), extra=("sort_key",), order=order, limit=limit)


def _result(row: Sequence[Any], q: Query) -> Result:
    fact = Fact.from_row(row)
    found_in, snippet = snippet_of(fields_of(fact.stream, fact.data, fact.sources), q)
    about = date_of(fact.type, fact.data, fact.occurred)
    period = dates.parse(about)
    place = fact.data.get("place")
    return Result(fact.event_id, fact.position, fact.stream, fact.type, fact.title, about, dates.describe(about),
                  period.lo, period.hi, place if isinstance(place, str) else None, row[9], found_in, snippet,
                  fact.sources)


# --- snippets ------------------------------------------------------------------

SNIPPET_WORDS = 16  # words of context either side of the first match


def _folded_with_map(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each of its characters, the index of the character of ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = fold(ch)
        out.append(folded)
        where += [i] * len(folded)
    return "".join(out), where


def _spans(text: str, q: Query) -> tuple[set[str], list[tuple[int, int]]]:
    """Where ``q`` is found in ``text``: the asked-for things found, and their spans (a phrase as one span)."""
    folded, where = _folded_with_map(text)
    found = [(m.group(), where[m.start()], where[m.end() - 1] + 1) for m in WORD.finditer(folded)]
    seen: set[str] = set()
    spans: list[tuple[int, int]] = []
    for i, (word, lo, hi) in enumerate(found):
        if word in q.terms or word.startswith(q.prefixes or ("\0",)):
            spans.append((lo, hi))
            seen.add(word)
        for phrase in q.phrases:
            if tuple(w for w, _, _ in found[i:i + len(phrase)]) == phrase:
                spans.append((lo, found[i + len(phrase) - 1][2]))
                seen.add(" ".join(phrase))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return seen, merged


def snippet_of(fields: list[tuple[str, str]], q: Query) -> tuple[str, list[tuple[str, bool]]]:
    """The field holding most of what was asked (the first such), cut to the words around it, as pieces.

    When no field shows it (only the subject's key matched), the title is
    shown as it is.
    """
    best: tuple[int, str, str, list[tuple[int, int]]] | None = None
    for name, text in fields:
        if name == "subject":
            continue
        seen, spans = _spans(text, q)
        if spans and (best is None or len(seen) > best[0]):
            best = (len(seen), name, text, spans)
    if best is not None:
        return best[1], _cut(best[2], best[3])
    title = next((text for name, text in fields if name == "title"), "")
    return "title", [(title, False)] if title else []


def _cut(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` around its first matched span, with every matched span in the window marked."""
    bounds = [m.start() for m in re.finditer(r"\S+", text)]
    first = spans[0][0]
    index = max((i for i, b in enumerate(bounds) if b <= first), default=0)
    start = bounds[max(0, index - SNIPPET_WORDS // 2)] if bounds else 0
    stop_word = index + SNIPPET_WORDS + SNIPPET_WORDS // 2
    stop = bounds[stop_word] if stop_word < len(bounds) else len(text)
    pieces: list[tuple[str, bool]] = [("… ", False)] if start > 0 else []
    at = start
    for lo, hi in spans:
        if lo < at or hi > stop:
            continue
        if lo > at:
            pieces.append((text[at:lo], False))
        pieces.append((text[lo:hi], True))
        at = hi
    if stop > at:
        pieces.append((text[at:stop].rstrip(), False))
    if stop < len(text):
        pieces.append((" …", False))
    return pieces



# --- a subject's facts ----------------------------------------------------------

#: Data fields that name a subject, the most telling first.
SUBJECT_NAMES = ("agreement", "series", "mechanism", "name", "short")
#: The newest facts of a subject read to find its name: a subject's name is stated again and again.
NAME_SCAN = 50


def subject_name(stream: str) -> str | None:
    """The subject's name as its newest facts state it (an agreement's full name, a series, a mechanism)."""
    rows = derived.joined_facts(tables.name(SearchEntry), where="t.stream = ?", params=[stream],
                                order="t.position DESC", limit=NAME_SCAN)
    return latest([Fact.from_row(row) for row in rows], *SUBJECT_NAMES)


@dataclass
class SubjectFact:
    """One fact of a subject in its current form, and whether a correction made it so."""

    fact: Fact
    corrected: bool
    cursor: str


def subject_facts(stream: str, *, after: str | None = None, limit: int = DEFAULT_LIMIT) -> tuple[list[SubjectFact],
                                                                                                  str | None]:
    """A page of a subject's facts in date order (retracted ones left out), and the cursor of the next page.

    Raises ValueError naming ``after`` when it is not a cursor of this order.
    """
    check_limit(limit)
    if after is not None and not CURSOR.match(after):
        raise ValueError(f"after: {after[:40]!r} is not a cursor of this subject's facts")
    where, params = ["t.stream = ?"], [stream]
    if after is not None:
        where.append("t.sort_key > ?")
        params.append(after)
    rows = derived.joined_facts(tables.name(SearchEntry), where=" AND ".join(where), params=params, extra=("sort_key",),
                                order="t.sort_key", limit=limit + 1)
    shown = [SubjectFact(fact_of(row), not row[8], row[9]) for row in rows[:limit]]
    return shown, shown[-1].cursor if len(rows) > limit else None
