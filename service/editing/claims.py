"""Another claim about a fact already on record: a second source giving its own date or words for the same fact.

Rival claims share a fact key (``data.fact``) within their subject; the read
models rank them by source and mark the fact disputed when they disagree, as
they do for the seeds. A fact recorded without a key gets one when its first
rival is added: a correction of the original, appended in the same batch as
the new claim, so the two stand or fall together and the history shows why
the key appeared.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import events
from events.corrections import EventState
from events.declaration import SLUG_PATTERN

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class Claim:
    """What a new claim about ``state``'s fact shares with it."""

    state: EventState
    fact: str

    @property
    def keyed(self) -> bool:
        """Whether the original already carries the fact key (else a correction adds it)."""
        return self.state.current.data.get("fact") == self.fact

    @property
    def stream(self) -> str:
        return self.state.original.stream

    @property
    def type(self) -> str:
        return self.state.original.type


def claim_about(state: EventState) -> Claim:
    """The fact key a rival of this event's fact shares: its own, or one made from its title and id."""
    own = state.current.data.get("fact")
    if isinstance(own, str) and _SLUG.fullmatch(own):
        return Claim(state, own)
    words = _NOT_SLUG.sub("-", str(state.current.data.get("title", "")).lower()).strip("-")[:48].strip("-")
    return Claim(state, f"{words or 'fact'}-{state.original.event_id[:8]}")


def batch(claim: Claim, new: events.NewEvent, reason: str) -> list[events.NewEvent]:
    """The events that record ``new`` as a rival claim: the key added to the original first, when it lacks it."""
    if claim.keyed:
        return [new]
    original = claim.state.original
    key_added = events.NewEvent(
        stream=original.stream, type="EventCorrected", occurred=datetime.now(UTC).date().isoformat(),
        # Derived from the new claim's id: sending the form twice appends the pair once.
        event_id=str(uuid.uuid5(uuid.UUID(str(new.event_id)), "fact key")) if new.event_id else None,
        data={"title": f"Correction: {claim.state.current.data.get('title', '')}"[:300], "target": original.event_id,
              "changes": {"data": {"fact": claim.fact}}, "reason": reason},
    )
    return [key_added, new]
