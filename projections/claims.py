"""Rival claims about one fact: which one a view shows, and that it is disputed.

Entries that disagree (two dates for one joint statement) share a
``data.fact`` key. The preferred claim is the one whose best source ranks
highest — official text before press before analysis (``SOURCE_KIND_RANK``)
— and, between equals, the one recorded first. The others stay visible as
alternatives; nothing is silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from events.vocabulary import SOURCE_KIND_RANK

T = TypeVar("T")

UNRANKED = max(SOURCE_KIND_RANK.values()) + 1


def source_rank(sources: list[dict[str, Any]]) -> int:
    """The rank of a claim's most authoritative source (lower is better)."""
    return min((SOURCE_KIND_RANK.get(s.get("kind", "other"), UNRANKED) for s in sources), default=UNRANKED)


def resolve(
    items: Iterable[T], fact: Callable[[T], str | None], rank: Callable[[T], tuple[int, int]]
) -> dict[int, tuple[bool, list[T]]]:
    """For each item (by ``id``): is it the preferred claim of its fact, and what are its rivals.

    Items without a fact key are preferred and have no rivals.
    """
    groups: dict[str, list[T]] = {}
    out: dict[int, tuple[bool, list[T]]] = {}
    for item in items:
        key = fact(item)
        if key is None:
            out[id(item)] = (True, [])
        else:
            groups.setdefault(key, []).append(item)
    for claims in groups.values():
        best = min(claims, key=rank)
        for item in claims:
            out[id(item)] = (item is best, [c for c in claims if c is not item])
    return out
