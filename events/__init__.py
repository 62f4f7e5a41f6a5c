"""The append-only event log of the chronology: every fact, dated, sourced, chained.

Imports nothing from ``projections`` or ``service``; everything else builds on it.
"""

from .corrections import EventState, Form
from .db import connect, describe_database
from .errors import (
    ConcurrencyConflict,
    EventStoreError,
    IdempotencyConflict,
    ImportRejected,
    InvalidDate,
    StoreBusy,
    UnknownEvent,
    UnknownEventType,
    ValidationError,
)
from .records import NewEvent, RecordedEvent
from .schema import create_schema
from .store import append, current_form, get, head, read, read_all, read_stream, state, stream_version, streams

__all__ = [
    "ConcurrencyConflict",
    "EventState",
    "EventStoreError",
    "Form",
    "IdempotencyConflict",
    "ImportRejected",
    "InvalidDate",
    "NewEvent",
    "RecordedEvent",
    "StoreBusy",
    "UnknownEvent",
    "UnknownEventType",
    "ValidationError",
    "append",
    "connect",
    "create_schema",
    "current_form",
    "describe_database",
    "get",
    "head",
    "read",
    "read_all",
    "read_stream",
    "state",
    "stream_version",
    "streams",
]
