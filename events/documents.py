"""What the log checks of sources against registered documents, before anything is written.

A source that names a document must name one the log holds (registered by
a ``DocumentRegistered`` event on ``source/<id>``, not retracted) and quote
it verbatim (``quotes.locate``); a source given only by a URL is not checked,
and says so wherever it is shown. A document is registered once, and its
text never changes: quotes were checked against it. The store reads the
documents; these rules only look at what it hands them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from .declaration import DOCUMENT_KIND, DOCUMENT_TYPE, FIXED_DOCUMENT_FIELDS, FIXED_REASON
from .errors import ValidationError
from .quotes import locate, normalise

#: Where an editor registers a document, as a refusal names it.
HOW_TO_REGISTER = "register it first (its text: /sources/new, or POST /api/documents), or cite the source by its url"


class Copy(NamedTuple):
    """A registered document as quotes are checked against it: its text (normalised once) and whether it was
    withdrawn."""

    text: str
    normalised: str
    retracted: bool

    @classmethod
    def of(cls, text: str, retracted: bool = False) -> Copy:
        return cls(text, normalise(text), retracted)


def stream_of(document_id: str) -> str:
    """The subject a document is registered on: ``source/<document id>``."""
    return f"{DOCUMENT_KIND}/{document_id}"


def id_of(stream: str) -> str | None:
    """The document id a ``source/...`` subject names (None for any other subject)."""
    kind, _, rest = stream.partition("/")
    return rest if kind == DOCUMENT_KIND and rest else None


def named(sources: Iterable[Mapping[str, Any]]) -> set[str]:
    """The document ids ``sources`` name."""
    return {str(s["document"]) for s in sources if isinstance(s, Mapping) and s.get("document") is not None}


def check_sources(sources: Iterable[Mapping[str, Any]], path: str, find: Callable[[str], Copy | None],
                  indexes: Iterable[int] | None = None) -> None:
    """Refuse a source naming a document the log does not hold, or holds withdrawn, or whose quote it lacks.

    ``path`` names the list (``sources``, ``data.changes.sources``); ``indexes`` are the places of the
    sources given when they are not 0, 1, 2... (a correction checks only the sources it adds).
    """
    listed = list(sources)
    for i, source in zip(indexes if indexes is not None else range(len(listed)), listed, strict=True):
        document = source.get("document")
        if document is None:
            continue
        copy = find(str(document))
        if copy is None:
            raise ValidationError(f"{path}[{i}].document", f"no document {document!r} is registered: "
                                                           f"{HOW_TO_REGISTER}")
        if copy.retracted:
            raise ValidationError(f"{path}[{i}].document", f"document {document!r} was retracted and can no longer "
                                                           "be cited; cite another document or a url")
        quote = source["quote"]
        locate(copy.text, quote["exact"], prefix=quote.get("prefix"), suffix=quote.get("suffix"),
               field=f"{path}[{i}].quote", document=str(document), normalised=copy.normalised)


def added_sources(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The sources of ``after`` not already among ``before``, with their places: what a correction adds."""
    return [(i, source) for i, source in enumerate(after) if source not in before]


def check_correction(target_type: str, changes: Mapping[str, Any]) -> None:
    """A correction of a registered document may change its metadata, never its text."""
    if target_type != DOCUMENT_TYPE:
        return
    data = changes.get("data") or {}
    fixed = next((name for name in FIXED_DOCUMENT_FIELDS if name in data), None)
    if fixed:
        raise ValidationError(f"data.changes.data.{fixed}", FIXED_REASON)


def already_registered(document_id: str, version: int) -> ValidationError:
    """The refusal of a second registration on a document's subject."""
    return ValidationError("stream", f"document {document_id!r} is already registered (its subject is at version "
                                     f"{version}); correct its metadata, or register a new text under another id")
