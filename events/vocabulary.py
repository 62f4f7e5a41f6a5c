"""The closed vocabulary of stream kinds and event types the log accepts.

The store refuses any type not listed here, so a typo can never become a new
kind of fact. ``seeds/README.md`` documents the same list for people; a test
fails when the two drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Stream kinds: the part of a stream id before the slash (``agreement/acsa``).
STREAM_KINDS: dict[str, str] = {
    "agreement": "A treaty, arrangement, roadmap, plan or partnership framework.",
    "exercise": "An exercise series or a one-off exercise, training or deployment.",
    "meeting": "A dialogue mechanism: 2+2, strategic dialogue, working group, committee, summit.",
    "institution": "A base, office, observatory, consulate or other standing body.",
    "cooperation": "A cooperation programme or project: space, cyber, industry, development.",
    "partnership": "The standing of a relationship as a whole (France-Japan, EU-Japan, NATO-Japan).",
    "policy": "A strategy, review, speech or position of one party.",
    "context": "A dated event outside the partnership that the sources tie to it (a summit, an attack, "
    "a third country's agreement).",
}


@dataclass(frozen=True)
class EventType:
    name: str
    kinds: frozenset[str]
    description: str


def _types(*rows: tuple[str, tuple[str, ...], str]) -> dict[str, EventType]:
    return {name: EventType(name, frozenset(kinds), text) for name, kinds, text in rows}


ANY = tuple(STREAM_KINDS)

#: Every event type, past tense, with the stream kinds it may be appended to.
EVENT_TYPES: dict[str, EventType] = _types(
    ("AgreementNegotiationsOpened", ("agreement",), "The parties opened or agreed to open negotiations."),
    ("AgreementSigned", ("agreement", "context"), "The agreement was signed."),
    ("AgreementApproved", ("agreement",), "The agreement was approved or ratified by a party."),
    ("AgreementAdopted", ("agreement", "context"),
     "A roadmap, plan or partnership framework was adopted; it applies from adoption "
     "(or over data.term when given)."),
    ("AgreementEnteredIntoForce", ("agreement",), "The agreement entered into force."),
    ("AgreementAmended", ("agreement",), "The agreement was amended."),
    ("AgreementExpired", ("agreement",), "The agreement reached the end of its term."),
    ("AgreementTerminated", ("agreement",), "A party terminated the agreement."),
    ("AgreementSuperseded", ("agreement",), "The agreement was replaced by another (data.superseded_by)."),
    ("ExerciseConducted", ("exercise",), "An exercise or an edition of an exercise series took place."),
    ("TrainingConducted", ("exercise",), "A training activity took place."),
    ("DeploymentConducted", ("exercise",), "A deployment, mission or port call took place."),
    ("ExercisePlanned", ("exercise",), "An exercise or training was announced for a future date."),
    ("DialogueEstablished", ("meeting",), "A dialogue, working group or committee was set up."),
    ("MeetingHeld", ("meeting", "context"), "A session of a dialogue or a meeting took place."),
    ("MeetingPlanned", ("meeting", "context"), "A future session was announced (place and date as stated)."),
    ("StatementIssued", ("meeting", "policy", "partnership", "context"), "A joint or official statement was issued."),
    ("InstitutionEstablished", ("institution",), "A base, office, observatory or body was opened or set up."),
    ("ProposalMade", ("institution", "cooperation", "partnership", "policy", "context"), "A party proposed a step."),
    ("ProposalBlocked", ("institution", "cooperation", "partnership", "policy", "context"),
     "A party blocked a proposal."),
    ("CooperationLaunched", ("cooperation", "institution"),
     "A cooperation programme or project began (including the joint running of an institution)."),
    ("MilestoneReached", ("cooperation",), "A cooperation programme reached a dated milestone."),
    ("PartnershipUpgraded", ("partnership",), "The relationship was raised to a new status."),
    ("PolicyPublished", ("policy", "context"), "A strategy, review or official document was published."),
    ("PolicyAdopted", ("policy", "context"), "A party took up a policy line (no document is published)."),
    ("PolicyReviewed", ("policy",), "A strategy or policy was under review."),
    ("ResolutionAdopted", ("context",), "An international organisation adopted a resolution."),
    ("StatementMade", ("policy", "context"), "A leader or minister made a dated public statement."),
    ("VisitMade", ("policy", "partnership", "context"), "An official visit took place."),
    ("IncidentOccurred", ("context",), "An attack, a weapons test, an annexation or another dated incident."),
    ("EventCorrected", ANY, "Corrects fields of an earlier event (data.target, data.changes, data.reason)."),
    ("EventRetracted", ANY, "Withdraws an earlier event (data.target, data.reason)."),
)

#: Types that act on another event rather than state a fact of their own.
META_TYPES = frozenset({"EventCorrected", "EventRetracted"})

#: Roles a participant can hold in an exercise or a meeting.
PARTICIPANT_ROLES = frozenset({"participant", "observer", "host", "organizer"})

#: How much a source's kind is trusted when claims disagree: lower ranks first.
SOURCE_KIND_RANK: dict[str, int] = {"official": 0, "press": 1, "analysis": 2, "other": 3}
