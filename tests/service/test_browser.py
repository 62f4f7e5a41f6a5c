"""The editor's path in a real browser: Debian's Chromium driven by Playwright against the real service.

The service runs as an operator would run it (``chronology init-db``,
``seed``, ``create-editor``, ``serve``) in a subprocess; no browser is
downloaded, the system Chromium is used.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request

import pytest

from tests.conftest import sign_in_browser as sign_in
from tests.liveserver import CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is missing (make test installs it)"),
]

TITLE = "Pégase 2026: French Rafales land at Hyakuri"


def head(url: str) -> int:
    """The log's last position, as the service reports it."""
    with urllib.request.urlopen(f"{url}/api/status", timeout=10) as response:
        return json.load(response)["head"]


def test_an_editor_appends_an_event_and_finds_it_everywhere(live, page):
    sign_in(page, live.url)
    page.fill("#stream", "exercise/pegase")
    page.select_option("#type", "ExerciseConducted")
    page.fill("#occurred", "spring 2026")
    from playwright.sync_api import expect

    expect(page.locator("#date-preview")).to_contain_text("2026-21")  # no eval: the CSP forbids it
    assert "spring 2026" in page.text_content("#date-preview")  # the optional script, allowed by the CSP
    page.fill("#title", TITLE)
    page.fill("#summary", "Three Rafale fighters flew to Japan for joint drills.")
    page.fill("#participants", "French Air and Space Force; participant; France\nJASDF; host; Japan")
    page.fill("#place", "Hyakuri Air Base")
    page.fill("#sources-0-url", "https://example.org/pegase-2026")
    page.fill("#sources-0-quote", "Three Rafale fighters landed at Hyakuri")
    page.click("input[type=submit][value='Append the event']")
    page.wait_for_url(re.compile(r".*/events/[0-9a-f-]{36}$"))
    event_url = page.url

    assert page.text_content("h1") == TITLE
    body = page.text_content("main")
    assert "spring 2026" in body and "2026-21" in body and "Three Rafale fighters landed at Hyakuri" in body
    assert "ada" in body

    page.goto(f"{live.url}/exercises?year=2026")
    page.click(f"text={TITLE}")
    assert page.url == event_url

    with urllib.request.urlopen(f"{live.url}/feed.atom", timeout=10) as response:
        assert response.status == 200
        assert TITLE in response.read().decode()
    assert page.csp_errors == []


def test_a_bad_date_is_shown_at_the_date_field_and_nothing_is_written(live, page):
    sign_in(page, live.url)
    head_before = head(live.url)
    page.fill("#stream", "agreement/acsa")
    page.select_option("#type", "AgreementSigned")
    page.fill("#occurred", "31 February 2026")
    page.fill("#title", "A date that does not exist")
    page.fill("#sources-0-document", "ifri-pajon-2018")
    page.fill("#sources-0-quote", "In July 2018")
    page.click("input[type=submit][value='Append the event']")
    error = page.text_content("#occurred-error-1")
    assert "day 31 does not exist in February 2026" in error
    assert page.get_attribute("#occurred", "aria-invalid") == "true"
    assert page.input_value("#title") == "A date that does not exist"  # what was typed is kept
    assert page.input_value("#occurred") == "31 February 2026"
    assert head(live.url) == head_before
    assert page.csp_errors == []


def test_pages_read_on_a_phone(live, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    for path in ("/", "/agreements", "/exercises", "/meetings", "/timeline"):
        tab.goto(live.url + path)
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)  # no sideways scrolling of the page (wide tables scroll in place)
    context.close()


def test_a_reader_searches_narrows_by_a_facet_and_downloads_the_csv(live, page, tmp_path):
    import csv

    page.goto(f"{live.url}/search")
    page.fill("#q", "jeanne")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r".*/search\?q=jeanne.*"))
    every = page.locator("ol.search-results > li").count()
    assert every > 1
    facet = page.locator("ul[data-facet='type'] a").first
    label = facet.text_content()
    facet.click()
    page.wait_for_url(re.compile(r".*[?&]type=.*"))
    narrowed = page.locator("ol.search-results > li")
    assert 0 < narrowed.count() < every
    assert all(label in text for text in narrowed.locator("p.muted").all_text_contents())
    titles = narrowed.locator("h3 a").all_text_contents()
    with page.expect_download() as download:
        page.click("p.downloads >> text=CSV")
    path = tmp_path / "search.csv"
    download.value.save_as(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["title"] for r in rows] == titles
    assert all(r["type_label"] == label for r in rows)
    assert page.csp_errors == []


def test_a_timeline_mark_is_followed_by_keyboard(live, page):
    page.goto(f"{live.url}/timeline")
    page.focus("a.skip-figure")
    for _ in range(8):  # from the skip link, Tab reaches the figure's first mark
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('svg.timeline') !== null"):
            break
    else:
        raise AssertionError("Tab never reached a mark of the figure")
    title = page.evaluate("document.activeElement.getAttribute('data-title')")
    assert title and " — " in title
    from playwright.sync_api import expect

    expect(page.locator("#timeline-caption")).to_have_text(title)  # shown on focus, not only on hover
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/events/[0-9a-f-]{36}$"))
    assert page.text_content("h1") == title.split(" — ")[0]
    page.goto(f"{live.url}/timeline")
    page.click("a.skip-figure")
    assert page.evaluate("location.hash") == "#timeline-list"
    assert page.csp_errors == []


def test_on_a_phone_the_timeline_opens_at_its_busiest_years_and_says_it_scrolls(live, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    tab.goto(f"{live.url}/timeline")
    assert tab.is_visible("#timeline-hint")
    scrolled = tab.evaluate("document.getElementById('timeline-figure').scrollLeft")
    assert scrolled > 100  # not the empty years at the start
    for path in ("/exercises", "/meetings"):  # tables reflow into cards: nothing cut off, nothing to scroll
        tab.goto(live.url + path)
        assert tab.evaluate("[...document.querySelectorAll('.table-wrap')].every(w => w.scrollWidth <= "
                            "w.clientWidth + 1)"), path
    context.close()
