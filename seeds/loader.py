"""Appending the seed catalogue to the log, idempotently, through the one ``append``.

Each document is registered (its text byte for byte) before the entries that
quote it, so the log checks every seed quote against the registered text. A
new entry becomes an event whose id derives from the entry id. An entry
edited since it was appended becomes an ``EventCorrected`` carrying only what
the seed changed (with the entry's ``correction`` as its reason), so
corrections editors made to other fields survive. An entry listed in
``retractions.yaml`` becomes an ``EventRetracted`` of its event, with its
reason, in a log that has it. A type or a subject cannot be corrected: an
entry whose type or stream differs from its event's is refused, naming it,
so such a fix goes through a retraction and a new entry. An unchanged
catalogue appends nothing, and a log seeded by an earlier version gets only
what is new (the documents, the translations, the fixes).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import events
from events import Form, NewEvent
from events.canonical import dumps
from events.corrections import apply_changes, diff
from events.declaration import DOCUMENT_TYPE
from events.validation import prepare

from .catalog import (
    NAMESPACE,
    SEEDS_DIR,
    Entry,
    Retraction,
    SeedError,
    load_documents,
    load_entries,
    load_registrations,
    load_retractions,
)

AUTHOR = "seed"


@dataclass(frozen=True)
class SeedReport:
    appended: int
    corrected: int
    unchanged: int
    retracted_kept: int  # entries an editor retracted: the seed does not bring them back
    retracted: int = 0  # entries the catalogue withdrew, retracted now
    registered: int = 0  # documents among the appended events


def _desired(entry: Entry) -> Form:
    p = prepare(entry.event)
    return Form(p.occurred, p.data, p.sources)


def _seed_form(state: events.EventState) -> Form:
    """The form the seed itself last gave the event (editors' corrections left out)."""
    form = Form.of(state.original)
    for revision in state.revisions:
        if revision.event.type == "EventCorrected" and revision.event.author == AUTHOR:
            form = apply_changes(form, revision.event.data["changes"])
    return form


def plan(entries: list[Entry], today: date | None = None,
         retractions: list[Retraction] | None = None) -> tuple[list[NewEvent], SeedReport]:
    """The events that bring the log in line with the catalogue (nothing when it already is)."""
    today = today or date.today()
    new, corrections = [], []
    unchanged = retracted = 0
    for entry in entries:
        existing = events.store.find(entry.event_id)
        if existing is None:
            new.append(entry.event)
            continue
        _same_kind(entry, existing)
        state = events.state(entry.event_id)
        if state.retracted:
            retracted += 1
            continue
        seeded, desired = _seed_form(state), _desired(entry)
        changes = diff(seeded, desired)
        if not changes:
            unchanged += 1
            continue
        if apply_changes(state.current, changes) == state.current:
            unchanged += 1  # an editor already made the same change
            continue
        done = sum(1 for r in state.revisions if r.event.author == AUTHOR)
        digest = hashlib.sha256(dumps([desired.occurred, desired.data, desired.sources])).hexdigest()
        corrections.append(NewEvent(
            existing.stream, "EventCorrected", today.isoformat(),
            {"target": entry.event_id, "changes": changes, "reason": entry.correction or
             f"seed entry {entry.id} was edited"},
            [], str(uuid.uuid5(NAMESPACE, f"seed:{entry.id}:correction:{done}:{digest}")),
        ))
    withdrawn = [w for w in (_retraction(r, today) for r in retractions or []) if w is not None]
    registered = sum(1 for event in new if event.type == DOCUMENT_TYPE)
    report = SeedReport(len(new), len(corrections), unchanged, retracted, len(withdrawn), registered)
    return new + corrections + withdrawn, report


def _same_kind(entry: Entry, existing: events.RecordedEvent) -> None:
    """A correction can change a fact's date, data and sources, never what kind of fact it is or its subject."""
    for field, logged, wanted in (("type", existing.type, entry.event.type),
                                  ("stream", existing.stream, entry.event.stream)):
        if logged != wanted:
            raise SeedError(entry.where, field, f"is {logged!r} in the log, and a correction cannot change it: list "
                                                f"{entry.id!r} in retractions.yaml and add the fact again under a new "
                                                "id")


def _retraction(retraction: Retraction, today: date) -> NewEvent | None:
    """The retraction of a withdrawn entry's event, if the log has the event and it is not retracted yet."""
    existing = events.store.find(retraction.event_id)
    if existing is None or events.state(retraction.event_id).retracted:
        return None
    reason = retraction.reason
    if retraction.replaced_by:
        reason += f" Replaced by seed entry {retraction.replaced_by}."
    return NewEvent(existing.stream, "EventRetracted", today.isoformat(),
                    {"target": retraction.event_id, "reason": reason},
                    [], str(uuid.uuid5(NAMESPACE, f"seed:{retraction.id}:retraction")))


def seed(directory: Path = SEEDS_DIR) -> SeedReport:
    """Check the whole catalogue, then append what is missing in one atomic batch: documents first."""
    documents = load_documents(directory)
    facts = load_entries(directory, documents)
    entries = load_registrations(directory, documents) + facts
    retractions = load_retractions(directory, facts)
    batch, report = plan(entries, retractions=retractions)
    if batch:
        events.append(batch, author=AUTHOR)
    return report
