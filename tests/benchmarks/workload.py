"""Synthetic logs shaped like the seeds, at any size, for the benchmarks.

Events are deterministic for a given seed: streams of every kind with a few
to a few dozen events each, types valid for their kind, EDTF dates of varied
precision (days, months, years, seasons, intervals, ranges, qualifiers),
data with title/summary/place/participants, and one source naming a seed
document with a verbatim quote of 100-200 characters taken from its text
(a log starts with the five documents' registrations, so every quote is
checked against the registered text as it is appended).
"""

from __future__ import annotations

import random
import re
import sqlite3
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import orjson

import events
from events import NewEvent, declaration
from events.transfer import export
from events.vocabulary import EVENT_TYPES, META_TYPES, STREAM_KINDS
from seeds.catalog import CITED_FIELDS, SEEDS_DIR, load_registrations, normalise

from .harness import Context, log

AUTHOR = "bench"
#: Types whose declaration requires ``planned_for``.
PLANNED = frozenset({"ExercisePlanned", "MeetingPlanned"})

TYPES_BY_KIND = {
    kind: sorted(t.name for t in EVENT_TYPES.values() if kind in t.kinds and t.name not in META_TYPES)
    for kind in STREAM_KINDS
}
# Roughly the mix of the seeds: many meetings, agreements and exercises.
KIND_WEIGHTS = {"agreement": 18, "exercise": 18, "meeting": 22, "institution": 5, "cooperation": 10,
                "partnership": 4, "policy": 12, "context": 11}
SLUG_WORDS = ("acsa", "2plus2", "jeanne-d-arc", "pegase", "space", "cyber", "maritime", "dialogue", "roadmap",
              "indo-pacific", "defence", "equipment", "technology", "security", "summit", "strategic", "nato",
              "tokyo", "paris", "noumea", "djibouti", "mine-countermeasures", "amphibious", "air", "navy",
              "coast-guard", "export-control", "reciprocal-access", "information-security", "pacific")
PLACES = ("Paris", "Tokyo", "Nouméa, New Caledonia", "Djibouti", "near Guam", "Brest", "Yokosuka", "Singapore",
          "Papeete, French Polynesia", "Hyakuri Air Base", "the Indian Ocean", "the South China Sea", "Canberra",
          "New Delhi", "Saint-Mandrier", "Kyoto")
PEOPLE = (("Jean-Yves Le Drian", "France"), ("Fumio Kishida", "Japan"), ("Tomomi Inada", "Japan"),
          ("Jean-Marc Ayrault", "France"), ("Florence Parly", "France"), ("Taro Kono", "Japan"),
          ("Itsunori Onodera", "Japan"), ("Emmanuel Macron", "France"), ("Shinzo Abe", "Japan"),
          ("French Navy", "France"), ("Japan Maritime Self-Defense Force", "Japan"),
          ("Royal Australian Navy", "Australia"), ("US Navy", "United States"), ("Indian Navy", "India"))
ROLES = ("participant", "host", "observer", "organizer")


@cache
def _documents() -> list[tuple[dict, str]]:
    """(source metadata, normalised text) for each seed document, as the seed loader builds sources."""
    import yaml

    docs = yaml.safe_load((SEEDS_DIR / "documents.yaml").read_text(encoding="utf-8"))
    out = []
    for doc in docs:
        text = normalise((SEEDS_DIR / doc["file"]).read_text(encoding="utf-8"))
        meta = {k: doc[k] for k in CITED_FIELDS if k in doc}
        out.append(({"document": doc["id"], **meta}, text))
    return out


def registrations() -> list[NewEvent]:
    """The seed documents' registrations: a log's first events, so the sources naming them are checked."""
    return [entry.event for entry in load_registrations()]


def _excerpt(rng: random.Random, text: str, lo: int, hi: int) -> tuple[str, int, int]:
    """A word-aligned slice of ``text`` between ``lo`` and ``hi`` characters long."""
    length = rng.randint(lo, hi)
    start = rng.randrange(0, max(1, len(text) - length - 1))
    start = text.find(" ", start) + 1 if start else 0
    end = text.rfind(" ", start, start + length)
    if end <= start + lo // 2:
        end = start + length
    return text[start:end].strip(), start, end


def _occurred(rng: random.Random) -> str:
    y = rng.randint(1995, 2030)
    m = rng.randint(1, 12)
    d = rng.randint(1, 28)
    r = rng.random()
    if r < 0.40:
        return f"{y}-{m:02d}-{d:02d}"
    if r < 0.60:
        return f"{y}-{m:02d}"
    if r < 0.72:
        return f"{y}"
    if r < 0.77:
        return f"{y}-{rng.randint(21, 24)}"
    if r < 0.82:
        return f"{y}/{y + rng.randint(1, 6)}"
    if r < 0.86:
        return f"{y}/.."
    if r < 0.88:
        return f"{y}/"
    if r < 0.92:
        return f"[..{y}-{m:02d}-{d:02d}]"
    if r < 0.95:
        return f"[{y}-{m:02d}..{y + 1}-{m:02d}]"
    return rng.choice((f"{y}?", f"{y}-{m:02d}~", f"{y}-{m:02d}-{d:02d}?"))


def generate(count: int, seed: int = 2017) -> Iterator[NewEvent]:
    """``count`` valid events over streams of a few to a few dozen events each, interleaved."""
    rng = random.Random(seed)
    docs = _documents()
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    open_streams: list[str] = []
    n_stream = 0
    for _ in range(count):
        if not open_streams or rng.random() < 0.12:
            kind = rng.choices(kinds, weights)[0]
            n_stream += 1
            slug = "-".join(rng.sample(SLUG_WORDS, rng.randint(1, 2)))
            open_streams.append(f"{kind}/{slug}-{n_stream}")
            if len(open_streams) > 400:
                open_streams.pop(rng.randrange(len(open_streams)))
        stream = rng.choice(open_streams)
        kind = stream.split("/", 1)[0]
        type_ = rng.choice(TYPES_BY_KIND[kind])
        meta, text = rng.choice(docs)
        title, _, _ = _excerpt(rng, text, 40, 90)
        summary, _, _ = _excerpt(rng, text, 150, 320)
        data: dict = {"title": title[:1].upper() + title[1:], "summary": summary}
        if rng.random() < 0.7:
            data["place"] = rng.choice(PLACES)
        if kind in ("exercise", "meeting") or rng.random() < 0.3:
            data["participants"] = [
                {"name": name, "country": country, "role": rng.choice(ROLES)}
                for name, country in rng.sample(PEOPLE, rng.randint(1, 4))
            ]
        if kind == "meeting":
            session = rng.randint(1, 12)  # drawn for every meeting event, so the rest of the log stays as it was
            if "session" in declaration.TYPES[type_].data.model_fields:
                data["session"] = session
        elif kind == "agreement" and "parties" in declaration.TYPES[type_].data.model_fields:
            data["parties"] = ["France", "Japan"]
        quote, start, end = _excerpt(rng, text, 100, 200)
        source = {**meta, "quote": {"exact": quote, "prefix": text[max(0, start - 32):start],
                                    "suffix": text[end:end + 32]}}
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        occurred = _occurred(rng)
        if type_ in PLANNED:  # a plan names the date it is for apart from its announcement (no extra draw)
            data["planned_for"] = str(int(re.search(r"[0-9]{4}", occurred).group()) + 1)
        yield NewEvent(stream, type_, occurred, data, [source], event_id)


def build_log(url: str, count: int, *, batch: int = 5000, seed: int = 2017) -> None:
    """Create a log at ``url`` holding ``count`` events: the documents' registrations, then generated events
    appended in batches."""
    events.connect(url)
    events.create_schema()
    registered = events.append(registrations(), author=AUTHOR) if events.store.head() is None else []
    pending: list[NewEvent] = []
    done = len(registered)
    for event in generate(count - done, seed):
        pending.append(event)
        if len(pending) >= batch:
            events.append(pending, author=AUTHOR)
            done += len(pending)
            pending = []
            if (done - len(registered)) % 50_000 == 0:
                log(f"built {done}/{count} events")
    if pending:
        events.append(pending, author=AUTHOR)


def build_export(directory: Path, count: int, *, seed: int = 2017) -> tuple[Path, Path]:
    """A scratch SQLite log of ``count`` events and its JSON Lines export: (db path, export path).

    Areas share one per run through ``shared_log``. Nothing may append to that log afterwards.
    """
    db_path, export_path = directory / f"source-{count}.sqlite3", directory / f"export-{count}.jsonl"
    build_log(f"sqlite:///{db_path}", count, seed=seed)
    with export_path.open("wb") as out:
        export(out)
    events.db.database.close()
    return db_path, export_path


def shared_log(ctx: Context, count: int) -> tuple[Path, Path]:
    """The run's ``count``-event log and its export, built by the first area that asks for them."""

    def build() -> tuple[Path, Path]:
        log(f"building a {count}-event log through events.append and exporting it")
        return build_export(ctx.workdir, count)

    return ctx.once(("log", count), build)


#: What the read baselines name in their reports.
RAW_SCAN = "sqlite3 SELECT * ORDER BY position + orjson.loads(data), orjson.loads(sources)"


def raw_scan(conn: sqlite3.Connection) -> int:
    """The read baseline: every row of the log in position order, data and sources decoded; returns the count."""
    n = 0
    loads = orjson.loads
    for row in conn.execute("SELECT * FROM event ORDER BY position"):
        loads(row[9])
        loads(row[10])
        n += 1
    return n
