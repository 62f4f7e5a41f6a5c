"""Typed errors of the event store: each names what is wrong, so a caller can
show it at the right field or map it to the right HTTP status."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of every error the store raises on purpose."""


class ValidationError(EventStoreError, ValueError):
    """An event that cannot be appended as given. ``field`` is a dotted path
    (``sources[0].quote``); ``index`` is the event's place in its batch;
    ``errors`` holds every problem found as (field, reason), the first one
    first, so a form can mark each field at once."""

    def __init__(self, field: str, reason: str, index: int | None = None,
                 errors: tuple[tuple[str, str], ...] = ()) -> None:
        self.field = field
        self.reason = reason
        self.index = index
        self.errors = errors or ((field, reason),)
        where = f"event {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {reason}")

    def at(self, index: int) -> ValidationError:
        return ValidationError(self.field, self.reason, index, self.errors)


class InvalidDate(ValidationError):
    """An EDTF string that does not parse or names an impossible day."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        super().__init__("occurred", f"{text!r} {reason}")
        self.reason = f"{text!r} {reason}"


class UnknownEventType(ValidationError):
    def __init__(self, type_: str, reason: str) -> None:
        self.type = type_
        super().__init__("type", reason)


class ConcurrencyConflict(EventStoreError):
    """The stream moved on since the writer read it."""

    def __init__(self, stream: str, expected: int, current: int) -> None:
        self.stream = stream
        self.expected = expected
        self.current = current
        super().__init__(
            f"stream {stream!r} is at version {current}, not at the expected version {expected}"
        )


class IdempotencyConflict(EventStoreError):
    """An event id already recorded with different content."""

    def __init__(self, event_id: str, position: int) -> None:
        self.event_id = event_id
        self.position = position
        super().__init__(
            f"event_id {event_id} is already recorded at position {position} with different content"
        )


class UnknownEvent(EventStoreError, LookupError):
    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(f"no event with id {event_id}")


class ImportRejected(EventStoreError):
    """A line of an import file that cannot extend the log; nothing was written."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


class StoreBusy(EventStoreError):
    """Another writer (an import, a rebuild) held the log for longer than a
    writer waits. Nothing was written: the same request succeeds later."""

    def __init__(self, waited: float) -> None:
        self.waited = waited
        super().__init__(f"the log stayed locked by another writer for {waited:g} s; nothing was written, try again")
