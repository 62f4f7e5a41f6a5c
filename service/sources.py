"""How each source of an event stands against the documents the chronology keeps: checked, or not.

A source is *checked* when it names a document the log had registered before
the event that wrote the source: the log then refused any quote not found
verbatim in that document's text, so the quote is there, in place. Any other
source (given by a URL alone, or naming a document registered later or not
at all) is shown as "not checked against a stored copy". The rule reads the
log alone (positions never change), so a feed entry says the same forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from events import store
from events.corrections import EventState
from events.documents import named
from events.store import Registration

from .citations import UNCHECKED


@dataclass(frozen=True)
class Check:
    """One source of an event and how it stands: checked against a registered copy, or not (and why)."""

    index: int
    source: Mapping[str, Any]
    registration: Registration | None  # the document the source names, when the log holds it
    checked: bool

    @property
    def document(self) -> str | None:
        document = self.source.get("document")
        return str(document) if document is not None else None

    @property
    def registered_later(self) -> bool:
        """The source names a document the log registered only after the source was written."""
        return self.registration is not None and not self.checked

    @property
    def note(self) -> str | None:
        """What a reader is told of an unchecked source (None when it was checked)."""
        return None if self.checked else UNCHECKED


def checks(sources: Sequence[Mapping[str, Any]], written_at: int,
           registrations: Mapping[str, Registration] | None = None) -> list[Check]:
    """How each of ``sources``, written by the event at position ``written_at``, stands.

    ``registrations`` are the documents' registrations when the caller read them already (a page of entries
    reads them once for all); otherwise they are read here, in one query.
    """
    found = registrations if registrations is not None else store.registrations(named(sources))
    out = []
    for index, source in enumerate(sources):
        document = source.get("document")
        registration = found.get(str(document)) if document is not None else None
        out.append(Check(index, source, registration,
                         registration is not None and registration.position < written_at))
    return out


def quote_anchor(event_id: str, index: int) -> str:
    """The id of a quote's place in its document's page: the event and the source's place among its sources."""
    return f"quote-{event_id}-{index}"


def quote_link(document_id: str, event_id: str, index: int) -> str:
    """Where an event's quote is shown in place: its document's page, asked to mark that event's quotes."""
    return f"/sources/{document_id}?event={event_id}#{quote_anchor(event_id, index)}"


def sources_written_at(state: EventState) -> int:
    """The position of the event that gave a fact its current sources: its last correction of them, or itself."""
    changed = [r.event.position for r in state.revisions
               if r.event.type == "EventCorrected" and "sources" in (r.event.data.get("changes") or {})]
    return changed[-1] if changed else state.original.position


def documents_named(sources_lists: Iterable[Sequence[Mapping[str, Any]]]) -> set[str]:
    """Every document id the lists of sources name."""
    out: set[str] = set()
    for sources in sources_lists:
        out |= named(sources)
    return out
