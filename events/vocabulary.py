"""The closed vocabulary of stream kinds and event types the log accepts, as the rest of the code reads it.

Everything here comes from the declaration (``declaration.py``), where each
type's kinds, meaning and fields are written once: the store refuses any type
not declared, so a typo can never become a new kind of fact.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import declaration

#: Stream kinds: the part of a stream id before the slash (``agreement/acsa``).
STREAM_KINDS: dict[str, str] = dict(declaration.KINDS)


@dataclass(frozen=True)
class EventType:
    name: str
    kinds: frozenset[str]
    description: str


#: Every event type, past tense, with the stream kinds it may be appended to.
EVENT_TYPES: dict[str, EventType] = {
    name: EventType(name, frozenset(spec.kinds), spec.description) for name, spec in declaration.TYPES.items()}

#: Types that act on another event rather than state a fact of their own.
META_TYPES = declaration.META_TYPES

#: Roles a participant can hold in an exercise or a meeting.
PARTICIPANT_ROLES = frozenset(declaration.PARTICIPANT_ROLES)

#: How much a source's kind is trusted when claims disagree: lower ranks first.
SOURCE_KIND_RANK: dict[str, int] = {kind: rank for rank, kind in enumerate(declaration.SOURCE_KINDS)}

#: Categories of agreement that apply from their signature or adoption; the others need an entry into force.
SIGNATURE_APPLIES = declaration.SIGNATURE_APPLIES


def applies_on_signature(category: object) -> bool:
    """Whether a signature alone puts an agreement of this category in force (the declaration's rule)."""
    return isinstance(category, str) and category in SIGNATURE_APPLIES
