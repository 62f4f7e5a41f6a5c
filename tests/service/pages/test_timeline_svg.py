"""The timeline picture: lanes, a year axis, date shapes that say how well a date is known, and links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from lxml import etree

from events import dates
from service.pages.timeline_svg import draw, legend, short_label

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


@dataclass
class Typed(Item):
    type: str = "IncidentOccurred"


def labels(root: etree._Element) -> dict[str, str]:
    out = {}
    for link in root.xpath("//s:a", namespaces=NS):
        text = link.xpath("s:text[@class='mark-label']", namespaces=NS)
        out[link.get("href").rsplit("/", 1)[1]] = text[0].text if text else ""
    return out


def test_agreement_stages_and_sessions_are_always_labelled_even_when_crowded():
    items = [Typed(f"a{i}", "agreement", f"Agreement stage number {i}", "2017-01-06", type="AgreementSigned")
             for i in range(6)]
    items += [Typed(f"m{i}", "meeting", f"Session {i} of the 2+2 in Tokyo and Paris", "2017-01-06",
                    type="MeetingHeld") for i in range(4)]
    items += [Typed(f"o{i}", "other", f"Crowded fact {i}", "2017-01-06") for i in range(3)]
    found = labels(parse(draw(items, TODAY)))
    assert all(found[f"a{i}"] == f"Agreement stage number {i}" for i in range(6))
    assert all(found[f"m{i}"].startswith(f"Session {i}") and found[f"m{i}"].endswith("…") for i in range(4))


def test_labels_never_overlap_another_mark_in_their_row():
    items = [Typed(f"x{i}", "other", f"Fact number {i} with a long title", f"2017-{1 + i % 12:02d}-0{1 + i % 9}")
             for i in range(40)]
    items += [Typed(f"s{i}", "agreement", f"Stage {i}", f"2018-0{1 + i}-01", type="AgreementSigned") for i in range(8)]
    root = parse(draw(items, TODAY))
    rows: dict[str, list[tuple[float, float]]] = {}
    for link in root.xpath("//s:a", namespaces=NS):
        shape = link[1]
        y = shape.get("cy") or str(float(shape.get("y")) + 4.5)
        x0 = float(shape.get("cx") or shape.get("x")) - (4.5 if shape.get("cx") else 0)
        x1 = x0 + (9 if shape.get("cx") else float(shape.get("width")))
        text = link.xpath("s:text", namespaces=NS)
        if text:
            tx = float(text[0].get("x"))
            width = len(text[0].text) * 6.0
            x0, x1 = (min(x0, tx - width), x1) if text[0].get("text-anchor") == "end" else (x0, max(x1, tx + width))
        rows.setdefault(f"{float(y):.1f}", []).append((x0, x1))
    for spans in rows.values():
        spans.sort()
        assert all(a[1] <= b[0] + 0.5 for a, b in pairwise(spans)), spans


def test_every_mark_is_named_for_keyboard_and_touch():
    root = parse(draw([Typed("a", "exercise", "Pegase 2023", "2023-07")], TODAY))
    link = root.xpath("//s:a", namespaces=NS)[0]
    assert link.get("aria-label") == link.get("data-title") == "Pegase 2023 — July 2023"


def test_a_label_is_cut_after_a_whole_word_so_its_words_are_in_the_links_name():
    title = "Franco-Japanese discussion group on industrial cooperation"
    assert short_label(title) == "Franco-Japanese…"
    assert short_label(title, 10) == "Franco…"
    assert short_label("Interoperability exercise", 12) == ""  # no whole word fits: no label rather than half a word
    assert short_label("ACSA signed") == "ACSA signed"
    svg = draw([Item("a" * 8, "meeting", title, "2019-06")], TODAY)
    for text in re.findall(r'<text class="mark-label"[^>]*>([^<]+)</text>', svg):
        words = re.findall(r"\w+", text)
        assert all(word in re.findall(r"\w+", title) for word in words), text
