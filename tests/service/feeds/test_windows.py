"""The subscription document's window: every item of the last span, between a floor and a ceiling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.feeds.windows import Window

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = Window(timedelta(days=30), least=3, most=6)


def items(*days: int) -> list[tuple[str, datetime]]:
    """Items newest first, each recorded ``day`` days after T0."""
    return [(f"item-{i}", T0 + timedelta(days=day)) for i, day in enumerate(days)]


def cut(*days: int) -> list[str]:
    return [name for name, _ in WINDOW.cut(items(*days), lambda item: item[1])]


def test_every_item_within_the_span_of_the_newest_oldest_first():
    assert cut(100, 90, 80, 71, 69, 10) == ["item-3", "item-2", "item-1", "item-0"]


def test_never_fewer_than_the_floor_even_when_older():
    assert cut(100, 50, 40, 30, 20) == ["item-2", "item-1", "item-0"]
    assert cut(100) == ["item-0"] and cut() == []


def test_never_more_than_the_ceiling():
    assert cut(*[100] * 10) == [f"item-{i}" for i in range(5, -1, -1)]


def test_measured_from_the_newest_item_not_the_clock():
    """The document then depends on the log alone: the same head, the same document, whenever it is asked."""
    assert cut(1000, 990, 980, 975) == cut(10, 0, -10, -15)
