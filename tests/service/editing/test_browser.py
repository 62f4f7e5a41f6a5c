"""The form in Debian's Chromium: one event of each kind appended as an editor would, every typed field on the pages.

The form's script makes the fields follow the type; Enter submits; the
pages an event lands on show what was typed, typed (a session's number, an
agreement's parties, an exercise's domains, a plan's date).
"""

from __future__ import annotations

import re

import pytest

from tests.accessibility import AXE, described, violations
from tests.conftest import sign_in_browser

pytestmark = pytest.mark.slow

EVENT_PAGE = re.compile(r".*/events/[0-9a-f-]{36}$")


def fill_common(page, occurred: str, title: str, url: str, quote: str) -> None:
    page.fill("#occurred", occurred)
    page.fill("#title", title)
    page.fill("#sources-0-url", url)
    page.fill("#sources-0-quote", quote)


def details(page) -> dict[str, str]:
    """The event page's facts, label to text."""
    labels = page.locator("dl.facts >> nth=0 >> dt").all_text_contents()
    values = page.locator("dl.facts >> nth=0 >> dd").all_text_contents()
    return {k.strip(): " ".join(v.split()) for k, v in zip(labels, values, strict=True)}


def append_by_enter(page) -> None:
    """Enter in the title field submits the form (its first button is the one that appends)."""
    page.focus("#title")
    page.keyboard.press("Enter")
    page.wait_for_url(EVENT_PAGE)


def test_an_editor_appends_each_kind_of_event_and_the_pages_show_every_field(live, page):
    from playwright.sync_api import expect

    sign_in_browser(page, live.url)

    # An agreement stage, with the agreement's own fields.
    expect(page.locator("#data-short")).to_be_hidden()
    page.fill("#new_stream", "agreement/maritime-arrangement")
    page.select_option("#type", "AgreementSigned")
    expect(page.locator("#data-short")).to_be_visible()
    expect(page.locator("#data-series")).to_be_hidden()
    fill_common(page, "13 July 2024", "Maritime security arrangement signed", "https://example.org/arrangement",
                "The two ministers signed an arrangement on maritime security")
    page.fill("#data-agreement", "Arrangement on Maritime Security Cooperation")
    page.fill("#data-short", "Maritime arrangement")
    page.select_option("#data-category", "arrangement")
    page.fill("#data-parties", "France\nJapan")
    page.fill("#data-term", "2024 to 2029")
    append_by_enter(page)
    shown = details(page)
    assert shown["Short name"] == "Maritime arrangement" and shown["Category"] == "arrangement"
    assert shown["Parties"] == "France, Japan" and "2024" in shown["Term"] and "2024/2029" in shown["Term"]
    page.goto(f"{live.url}/agreements?as_of=2025-01-01")
    card = page.locator("section", has_text="Maritime arrangement")
    expect(card).to_contain_text("arrangement")
    expect(card).to_contain_text("France, Japan")

    # An exercise, with its series, edition and domains.
    page.goto(f"{live.url}/events/new")
    page.fill("#new_stream", "exercise/pegase-2026")
    page.select_option("#type", "ExerciseConducted")
    fill_common(page, "spring 2026", "Pégase 2026 air deployment to Japan", "https://example.org/pegase",
                "Rafale fighters flew to Hyakuri")
    page.fill("#data-series", "Pégase")
    page.fill("#data-edition", "2026")
    page.check("input[name=data-domains][value=air]")
    append_by_enter(page)
    shown = details(page)
    assert shown["Series"] == "Pégase" and shown["Edition"] == "2026" and shown["Domains"] == "air"
    page.goto(f"{live.url}/exercises?domain=air")
    expect(page.locator("main")).to_contain_text("Pégase 2026 air deployment to Japan")

    # A meeting session, numbered.
    page.goto(f"{live.url}/events/new?stream=meeting/2plus2")
    page.select_option("#type", "MeetingHeld")
    fill_common(page, "8 March 2019", "Fifth France-Japan 2+2 held in Brest", "https://example.org/2plus2-5",
                "The fifth 2+2 was held in Brest")
    page.fill("#place", "Brest")
    page.fill("#data-mechanism", "2+2")
    page.fill("#data-session", "5")
    page.fill("#data-level", "ministerial")
    append_by_enter(page)
    assert details(page)["Session"] == "5"
    page.goto(f"{live.url}/meetings")
    row = page.locator("tr", has_text="Fifth France-Japan 2+2 held in Brest")
    expect(row).to_contain_text("5")
    expect(row).to_contain_text("Brest")

    # A planned session: the date it names is its own field.
    page.goto(f"{live.url}/events/new?stream=meeting/2plus2")
    page.select_option("#type", "MeetingPlanned")
    fill_common(page, "8 March 2019", "Next 2+2 to be held in Japan", "https://example.org/2plus2-6",
                "The next 2+2 will be held in Japan in 2020")
    page.fill("#data-mechanism", "2+2")
    page.fill("#data-session", "6")
    page.fill("#data-planned_for", "2020")
    append_by_enter(page)
    assert "2020" in details(page)["Planned for"]
    page.goto(f"{live.url}/meetings")
    expect(page.locator("main")).to_contain_text("Next 2+2 to be held in Japan")

    # A second claim about a fact on record: from the event's page, refining its date.
    page.goto(f"{live.url}/subjects/agreement/acsa")
    page.click("text=France-Japan Acquisition and Cross-Servicing Agreement (ACSA) signed")
    page.click("text=Add another claim about this fact")
    expect(page.locator("h1")).to_have_text("Add another claim about a fact")
    expect(page.locator("#data-short")).to_have_value("ACSA")
    page.fill("#occurred", "13 July 2018")
    page.fill("#title", "ACSA signed in Paris")
    page.fill("#sources-0-url", "https://example.org/acsa")
    page.fill("#sources-0-quote", "The ACSA was signed in Paris on 13 July 2018")
    append_by_enter(page)
    assert re.search(r"acsa-signed-[0-9a-f]{8}|-[0-9a-f]{8}$", details(page)["Disputed fact"])
    page.goto(f"{live.url}/agreements?as_of=2019-01-01")
    acsa = page.locator("section", has_text="Acquisition and Cross-Servicing Agreement")
    expect(acsa).to_contain_text("disputed")
    expect(acsa).to_contain_text("treaty")
    assert page.csp_errors == []


def test_without_javascript_the_form_takes_two_steps(live, browser):
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    sign_in_browser(tab, live.url)
    expect(tab.locator("#data-session")).to_be_hidden()
    tab.fill("#stream", "meeting/2plus2")
    tab.select_option("#type", "MeetingHeld")
    expect(tab.locator("#data-session")).to_be_hidden()  # no script: nothing follows the type yet
    tab.fill("#title", "Sixth France-Japan 2+2")
    tab.click("input[type=submit][value=Continue]")
    expect(tab.locator("#data-session")).to_be_visible()
    expect(tab.locator("#title")).to_have_value("Sixth France-Japan 2+2")
    context.close()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is missing (make node-deps installs it)")
def test_the_forms_have_no_wcag_a_or_aa_violations(live, browser):
    context = browser.new_context(bypass_csp=True)  # axe is injected: the CSP would refuse it
    tab = context.new_page()
    sign_in_browser(tab, live.url)
    tab.select_option("#type", "AgreementSigned")
    tab.click("input[type=submit][value='Append the event']")  # refused: every error shown
    found = violations(tab)
    assert found == [], described(found)
    tab.goto(f"{live.url}/subjects/agreement/acsa")
    tab.locator("a", has_text="Correct").first.click()
    found = violations(tab)
    assert found == [], described(found)
    context.close()
