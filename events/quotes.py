"""Quotes found in a registered document's text: the rule that makes a quote verbatim, and where it lies.

The rule is the seeds' (``seeds.catalog``): a quote is verbatim when it is
found in the document once every run of whitespace, in both, counts as one
space (``str.split``'s whitespace, so a no-break space U+00A0 and French
typography's narrow U+202F count too). A quote that is not found is refused
with the nearest passage of the document, so whoever typed it sees what the
document says. Pure functions over text: the store asks, the pages show.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import accumulate
from typing import Any, NamedTuple

from .errors import ValidationError

#: Characters of context kept on each side of a quote (the seeds' selectors use the same).
CONTEXT_CHARS = 32
#: The nearest passage shown in an error is cut in the middle beyond this many characters.
MAX_SHOWN = 500

_RUN = re.compile(r"\S+")
_SPACES = re.compile(r"\s+")
_PUNCTUATION = "\"'“”‘’«»()[]{}.,;:!?*_-–—…"


class QuoteNotFound(ValidationError):
    """A quote the document does not contain; ``nearest`` is the closest passage, or None."""

    def __init__(self, field: str, document: str | None, nearest: str | None) -> None:
        self.document = document
        self.nearest = nearest
        where = f"document {document}" if document else "the document"
        hint = f"the nearest passage is: {_shorten(nearest)!r}" if nearest else "no passage shares its words"
        super().__init__(field, f"not found in {where}; {hint}")


def normalise(text: str) -> str:
    """The seeds' whitespace rule: runs of whitespace count as one space, none at either end."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Normalised:
    """A text in normalised form, with the way back to the original's offsets (for highlighting)."""

    text: str
    norm_starts: list[int]
    orig_starts: list[int]

    @classmethod
    def of(cls, original: str) -> Normalised:
        runs = list(_RUN.finditer(original))
        norm_starts, at = [], 0
        for run in runs:
            norm_starts.append(at)
            at += len(run.group()) + 1
        return cls(" ".join(run.group() for run in runs), norm_starts, [run.start() for run in runs])

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of the normalised span [start, end), which begins and ends on a non-space."""
        return self._at(start), self._at(end - 1) + 1

    def _at(self, k: int) -> int:
        run = bisect_right(self.norm_starts, k) - 1
        return self.orig_starts[run] + (k - self.norm_starts[run])


def locate(document_text: str, quote: str, *, prefix: str | None = None, suffix: str | None = None,
           field: str = "quote", document: str | None = None, normalised: str | None = None) -> dict[str, Any]:
    """A TextQuoteSelector for ``quote`` with its ``start``/``end`` in the normalised text, or a refusal.

    ``prefix`` and ``suffix`` (a selector's context) must agree with the
    document where the quote is found, and choose among several places; with
    neither, the first place is taken. Only ``type``, ``exact``, ``prefix``
    and ``suffix`` belong in a stored source. ``field`` and ``document`` name
    the quote in the error ("sources[0].quote: not found in document
    ifri-pajon-2018; the nearest passage is: ..."). ``normalised`` is
    ``normalise(document_text)`` when the caller keeps it.
    """
    text = normalise(document_text) if normalised is None else normalised
    exact = normalise(_comparable(quote, text))
    if not exact:
        raise ValidationError(field, "must not be empty")
    hits = _occurrences(text, exact)
    if not hits:
        raise QuoteNotFound(field, document, nearest_passage(text, exact))
    at = hits[0] if prefix is None and suffix is None else _agreeing(text, exact, hits, prefix, suffix, field,
                                                                     document)
    end = at + len(exact)
    return {"type": "TextQuoteSelector", "exact": exact, "prefix": text[max(0, at - CONTEXT_CHARS):at],
            "suffix": text[end:end + CONTEXT_CHARS], "start": at, "end": end}


def _agreeing(text: str, exact: str, hits: list[int], prefix: str | None, suffix: str | None, field: str,
              document: str | None) -> int:
    """The place whose context is the selector's; a context the document has at no place is refused, shown."""
    before, after = _context(text, prefix), _context(text, suffix)
    for at in hits:
        end = at + len(exact)
        if text.endswith(before, 0, at) and text.startswith(after, end):  # no copy of the document's text
            return at
    at = _best(text, exact, hits, before, after)
    end = at + len(exact)
    if not text.endswith(before, 0, at):
        shown = text[max(0, at - max(len(before), CONTEXT_CHARS)):at]
        raise ValidationError(f"{field}.prefix", f"is not what comes before the quote in {_where(document)}: "
                                                 f"the document has {shown!r} there")
    shown = text[end:end + max(len(after), CONTEXT_CHARS)]
    raise ValidationError(f"{field}.suffix", f"is not what comes after the quote in {_where(document)}: "
                                             f"the document has {shown!r} there")


def _where(document: str | None) -> str:
    return f"document {document}" if document else "the document"


def _context(text: str, context: str | None) -> str:
    """A prefix or suffix under the whitespace rule, keeping the single space it may start or end with."""
    return _SPACES.sub(" ", _comparable(context or "", text))


def _comparable(quote: str, text: str) -> str:
    return _composed(quote, _is_nfc(text))


@lru_cache(maxsize=32)
def _is_nfc(text: str) -> bool:
    """Whether a document's text is composed: asked of the few texts being cited, once each, not per quote."""
    return unicodedata.is_normalized("NFC", text)


def _composed(quote: str, composed: bool) -> str:
    # A quote pasted from a decomposing system (macOS) is the same text as a stored NFC document.
    return unicodedata.normalize("NFC", quote) if composed else quote


def _occurrences(text: str, exact: str) -> list[int]:
    hits, at = [], text.find(exact)
    while at >= 0:
        hits.append(at)
        at = text.find(exact, at + 1)
    return hits


def _best(text: str, exact: str, hits: list[int], before: str, after: str) -> int:
    """The place whose surroundings share the most characters with the context (the first of equals)."""

    def agreement(at: int) -> int:
        left = text[max(0, at - len(before)):at]
        right = text[at + len(exact):at + len(exact) + len(after)]
        return _common_prefix(left[::-1], before[::-1]) + _common_prefix(right, after)

    return max(hits, key=lambda at: (agreement(at), -at))


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def nearest_passage(document_text: str, quote: str) -> str | None:
    """The passage of the document closest to ``quote`` (whole words, normalised), or None when none shares a word.

    Word by word: each word of the document that occurs in the quote votes
    for where the quote would start there; the place with most votes
    (smoothed over a few words, so a missing or extra word does not split
    them) is aligned with the quote (difflib); the passage runs from the
    first to the last matching word, widened by as many words as the quote
    has unmatched at either end (a typo in its last word still shows the
    document's last word).
    """
    text = normalise(document_text)
    words = text.split(" ") if text else []
    wanted = normalise(quote).split(" ")
    keys, quote_keys = [_key(w) for w in words], [_key(w) for w in wanted]
    positions: dict[str, list[int]] = {}
    for j, key in enumerate(quote_keys):
        if key:
            positions.setdefault(key, []).append(j)
    votes = [0] * (len(words) + len(wanted))  # votes[d + len(wanted)]: the quote starting at word d
    for i, key in enumerate(keys):
        for j in positions.get(key, ()):
            votes[i - j + len(wanted)] += 1
    if not any(votes):
        return None
    slack = max(2, len(wanted) // 10)
    running = [0, *accumulate(votes)]
    smoothed = [running[min(len(votes), k + slack + 1)] - running[max(0, k - slack)] for k in range(len(votes))]
    best = max(range(len(votes)), key=lambda k: (smoothed[k], votes[k], -k))
    start = best - len(wanted)
    lo, hi = max(0, start - slack), min(len(words), start + len(wanted) + slack)
    blocks = [b for b in SequenceMatcher(None, keys[lo:hi], quote_keys, autojunk=False).get_matching_blocks()
              if b.size]
    first = max(0, lo + blocks[0].a - blocks[0].b)
    last = min(len(words), lo + blocks[-1].a + len(wanted) - blocks[-1].b)
    return " ".join(words[first:last])


def _key(word: str) -> str:
    return word.strip(_PUNCTUATION).casefold()


def _shorten(passage: str | None) -> str:
    if passage is None or len(passage) <= MAX_SHOWN:
        return passage or ""
    half = MAX_SHOWN // 2
    return f"{passage[:half].rstrip()} … {passage[-half:].lstrip()}"


class Span(NamedTuple):
    """Where one quote lies in the original (not normalised) document text."""

    id: str
    start: int
    end: int


def spans(document_text: str, quotes: Mapping[str, str | Mapping[str, Any]],
          norm: Normalised | None = None) -> tuple[list[Span], list[str]]:
    """Each quote's span in the original text, and the ids of those not found.

    A quote is its exact words or a stored selector, whose context chooses
    among several places (the best agreeing one: a page shows what it can).
    """
    norm = norm or Normalised.of(document_text)
    composed = unicodedata.is_normalized("NFC", norm.text)
    found, missing = [], []
    for quote_id, quote in quotes.items():
        selector: Mapping[str, Any] = {"exact": quote} if isinstance(quote, str) else quote
        exact = normalise(_composed(str(selector.get("exact") or ""), composed))
        hits = _occurrences(norm.text, exact) if exact else []
        if not hits:
            missing.append(quote_id)
            continue
        before = _SPACES.sub(" ", _composed(selector.get("prefix") or "", composed))
        after = _SPACES.sub(" ", _composed(selector.get("suffix") or "", composed))
        at = _best(norm.text, exact, hits, before, after)
        found.append(Span(quote_id, *norm.original(at, at + len(exact))))
    return found, missing
