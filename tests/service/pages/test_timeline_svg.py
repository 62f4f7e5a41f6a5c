"""The timeline picture: lanes, a year axis, date shapes that say how well a date is known, and links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lxml import etree

from events import dates
from service.pages.timeline_svg import draw, legend

TODAY = date(2026, 11, 23)


@dataclass
class Item:
    event_id: str
    lane: str
    title: str
    occurred: str
    when: str = ""
    lo: date | None = None
    hi: date | None = None

    def __post_init__(self) -> None:
        period = dates.parse(self.occurred)
        self.lo, self.hi, self.when = period.lo, period.hi, dates.describe(self.occurred)


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode())


NS = {"s": "http://www.w3.org/2000/svg"}


def mark(root: etree._Element, event_id: str) -> etree._Element:
    found = root.xpath(f"//s:a[@href='/events/{event_id}']/*[2]", namespaces=NS)
    assert found, event_id
    return found[0]


def test_each_date_is_drawn_as_well_as_it_is_known():
    items = [
        Item("a", "agreement", "Signed on a day", "2017-01-06"),
        Item("b", "exercise", "Some time in 2018", "2018"),
        Item("c", "agreement", "Roadmap", "2023/2027"),
        Item("d", "other", "Since 2011", "2011/.."),
        Item("e", "meeting", "Around July 2023", "2023-07~"),
    ]
    root = parse(draw(items, TODAY))
    assert mark(root, "a").tag.endswith("circle") and "dot" in mark(root, "a").get("class")
    assert "vague" in mark(root, "b").get("class")
    assert "span" in mark(root, "c").get("class")
    assert "open" in mark(root, "d").get("class")
    assert "uncertain" in mark(root, "e").get("class")
    year = float(mark(root, "b").get("width"))
    assert float(mark(root, "c").get("width")) > 4 * year  # five years drawn as five years
    assert float(mark(root, "d").get("width")) > 14 * year  # still running: drawn up to today


def test_every_mark_links_its_event_with_a_tooltip_and_text_is_escaped():
    items = [Item("x", "exercise", "<script>alert(1)</script>", "2017-21")]
    svg = str(draw(items, TODAY))
    assert "<script>" not in svg
    root = parse(svg)
    (title,) = root.xpath("//s:a[@href='/events/x']/s:title", namespaces=NS)
    assert title.text == "<script>alert(1)</script> — spring 2017"


def test_lanes_and_year_axis():
    items = [Item("a", "agreement", "A", "2013-06-07"), Item("b", "dialogue", "B", "2019")]
    root = parse(draw(items, TODAY))
    labels = root.xpath("//s:text[@class='lane-label']/text()", namespaces=NS)
    assert labels == ["Agreements", "Exercises", "Meetings", "Dialogues set up", "Other facts"]
    years = [int(t) for t in root.xpath("//s:text[@class='year-label']/text()", namespaces=NS)]
    assert years == list(range(2013, 2020))  # from the first fact to the last


def test_a_long_empty_stretch_is_squeezed_into_a_break():
    items = [Item("old", "agreement", "Old", "1979"), Item("new", "agreement", "New", "2018"),
             Item("newer", "exercise", "Newer", "2023")]
    root = parse(draw(items, TODAY))
    (gap,) = root.xpath("//s:g[@class='axis-break']/s:title/text()", namespaces=NS)
    assert gap.startswith("1981–2016")
    new, newer = float(mark(root, "new").get("x")), float(mark(root, "newer").get("x"))
    old = float(mark(root, "old").get("x"))
    assert newer - new > new - old  # five real years take more room than the forty squeezed ones


def test_undated_entries_are_left_to_the_list_and_an_empty_picture_still_draws():
    root = parse(draw([Item("u", "other", "Unknown", "2011/")], TODAY))
    assert root.xpath("//s:a[@href='/events/u']", namespaces=NS)  # a start is known: drawn
    empty = parse(draw([], TODAY))
    assert empty.xpath("//s:text[@class='lane-label']", namespaces=NS)


def test_legend_explains_every_shape():
    text = re.sub(r"<[^>]+>", "", str(legend()))
    for words in ("an exact day", "month, season or year", "span of time", "still running", "uncertain"):
        assert words in text
