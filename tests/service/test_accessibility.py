"""axe-core in Debian's Chromium: no WCAG 2.1 A or AA violation on any reading page, at desktop and phone sizes.

axe-core is injected as a script, which the service's CSP rightly forbids: this
test alone opens its pages with ``bypass_csp`` (``tests.accessibility``).
"""

from __future__ import annotations

import re

import pytest

from tests.accessibility import AXE, described, violations

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is missing (make node-deps installs it)"),
]

#: Every page a reader reads (an event's page is found from the agreements page).
READING_PAGES = ("/", "/agreements", "/agreements?as_of=2016-06-01", "/exercises", "/exercises?sort=-where",
                 "/meetings", "/timeline", "/subjects", "/subjects/agreement/acsa",
                 "/subjects/agreement/acsa?order=recorded", "/search", "/search?q=pegase",
                 "/search?q=france&kind=agreement", "/sources", "/sources/joint-statement-2017-2plus2")
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", SIZES)
def test_no_wcag_a_or_aa_violation_on_any_reading_page(live, browser, size):
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone", bypass_csp=True)
    page = context.new_page()
    page.goto(live.url + "/agreements")
    event = page.locator("ol.lifecycle li > a").first.get_attribute("href")
    assert event and re.fullmatch(r"/events/[0-9a-f-]{36}", event)
    found = {}
    for path in (*READING_PAGES, event):
        page.goto(live.url + path)
        assert page.locator("h1").count() == 1, path
        found[path] = described(violations(page))
    context.close()
    assert {path: v for path, v in found.items() if v} == {}
