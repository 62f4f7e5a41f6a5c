"""axe-core in Debian's Chromium: no WCAG 2.1 A or AA violation on any reading page, at desktop and phone sizes.

axe-core comes from npm (``package.json``; ``make test`` installs it). It is
injected as a script, which the service's CSP rightly forbids: this test
alone opens its pages with ``bypass_csp``.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.liveserver import CHROMIUM, ROOT, live_service

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is missing (make test installs it)"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is missing: npm ci (make test runs it)"),
]

#: Every page a reader reads (an event's page is found from the agreements page).
READING_PAGES = ("/", "/agreements", "/agreements?as_of=2016-06-01", "/exercises", "/exercises?sort=-where",
                 "/meetings", "/timeline", "/subjects", "/subjects/agreement/acsa",
                 "/subjects/agreement/acsa?order=recorded", "/search", "/search?q=pegase",
                 "/search?q=france&kind=agreement")
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with live_service(tmp_path_factory.mktemp("axe") / "instance") as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    assert len(result["passes"]) > 10  # axe ran its rules on the page
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]]


@pytest.mark.parametrize("size", SIZES)
def test_no_wcag_a_or_aa_violation_on_any_reading_page(service, browser, size):
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone", bypass_csp=True)
    page = context.new_page()
    page.goto(service.url + "/agreements")
    event = page.locator("ol.lifecycle li > a").first.get_attribute("href")
    assert event and re.fullmatch(r"/events/[0-9a-f-]{36}", event)
    found = {}
    for path in (*READING_PAGES, event):
        page.goto(service.url + path)
        assert page.locator("h1").count() == 1, path
        found[path] = violations(page)
    context.close()
    assert {path: v for path, v in found.items() if v} == {}
