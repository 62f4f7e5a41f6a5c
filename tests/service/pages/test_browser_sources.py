"""In Chromium: a reader follows an event's quote to its highlighted place in the document; the sources pages and
the registration form have no WCAG 2.1 A or AA violation (axe-core)."""

from __future__ import annotations

import re

import pytest

from seeds.catalog import event_id_for
from service.sources import quote_anchor
from tests.accessibility import AXE, described, violations
from tests.conftest import sign_in_browser

pytestmark = pytest.mark.slow

ACSA_SIGNED = event_id_for("ifri-pajon-2018/acsa-signed")
THIRD_2PLUS2 = event_id_for("joint-statement-2017-2plus2/2plus2-third-session")


def test_a_reader_follows_a_quote_to_its_highlighted_place_in_the_document(live, page):
    from playwright.sync_api import expect

    page.goto(f"{live.url}/events/{ACSA_SIGNED}")
    page.get_by_role("link", name="See this quote in place in the document").first.click()
    anchor = quote_anchor(ACSA_SIGNED, 0)
    page.wait_for_url(re.compile(rf".*/sources/ifri-pajon-2018\?event={ACSA_SIGNED}#{anchor}$"))
    mark = page.locator(f"mark#{anchor}")
    expect(mark).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == anchor
    marked = " ".join(page.locator(f'mark[data-quotes~="{anchor}"]').all_text_contents())
    assert "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed" in " ".join(marked.split())
    # The highlight is drawn: a marked passage does not look like the text around it.
    background = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    text = page.locator(".document-text").evaluate("t => getComputedStyle(t).backgroundColor")
    assert background != text
    mark.locator("a").click()  # and the passage leads back to the event quoting it
    page.wait_for_url(re.compile(rf".*/events/{ACSA_SIGNED}$"))
    assert page.csp_errors == []


def test_a_french_quote_reads_with_its_translation_beside_it(live, page):
    page.goto(f"{live.url}/events/{THIRD_2PLUS2}")
    translation = page.locator("p.translation", has_text="met on 6 January 2017 in Paris").first
    assert translation.is_visible()
    assert translation.get_attribute("lang") == "en"
    assert "English translation (unofficial), not the source's words:" in translation.inner_text()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is missing (make node-deps installs it)")
def test_the_sources_pages_have_no_wcag_a_or_aa_violations(live, browser):
    context = browser.new_context(bypass_csp=True)  # axe is injected: the CSP would refuse it
    tab = context.new_page()
    for path in ("/sources", "/sources/joint-statement-2017-2plus2", f"/events/{THIRD_2PLUS2}"):
        tab.goto(f"{live.url}{path}")
        found = violations(tab)
        assert found == [], (path, described(found))
    sign_in_browser(tab, live.url, "/sources/new")
    tab.click("input[type=submit][value='Register the document']")  # refused: every error shown
    assert tab.locator(".field-error").count() >= 3
    found = violations(tab)
    assert found == [], described(found)
    context.close()
