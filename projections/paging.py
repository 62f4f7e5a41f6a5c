"""One page of a read model, and where the next one starts.

At a million events a read model holds a hundred thousand subjects: no view
may list them all. A query answers one page, found by keyset (the subject
key of the last row shown, never an OFFSET, which costs every row skipped),
and says the key to ask for next.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")

#: The page size when the caller does not say, and the most it may ask for.
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class Page(list[T]):
    """A list of rows that also knows ``next_after``: the cursor of the following page, None on the last."""

    def __init__(self, rows: Iterable[T] = (), next_after: str | None = None) -> None:
        super().__init__(rows)
        self.next_after = next_after


def check_limit(limit: int) -> int:
    """A page size the query can honour; a bad one is a caller's mistake, said plainly."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit: must be a whole number between 1 and {MAX_LIMIT}, not {limit!r}")
    return limit


def like_escaped(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (with ``ESCAPE '\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
