"""Screenshots of the main pages for the README, taken with the same headless Chromium as the browser test.

Run with ``python -m tests.screenshots`` (writes ``docs/screenshots/*.png``), or name the ones to take again
(``python -m tests.screenshots document``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from seeds.catalog import event_id_for
from tests.liveserver import CHROMIUM, EDITOR, ROOT, live_service

ACSA_SIGNED = event_id_for("ifri-pajon-2018/acsa-signed")

OUT = ROOT / "docs" / "screenshots"

#: (file name, path, full page?) in the order the README's tour shows them.
PAGES = (
    ("home", "/", False),
    ("agreements", "/agreements", False),
    ("exercises", "/exercises", False),
    ("meetings", "/meetings", False),
    ("timeline", "/timeline", False),
    ("subject", "/subjects/agreement/acsa", False),
    ("search", "/search?q=jeanne", False),
)


#: Every screenshot, by name: the pages above, then those reached by a reader's or an editor's steps.
NAMES = (*(name for name, _, _ in PAGES), "event", "document", "form", "phone-agreements")


def take(out: Path = OUT, names: tuple[str, ...] = NAMES) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp, live_service(Path(tmp) / "instance") as service, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, path, full in PAGES:
            if name in names:
                page.goto(service.url + path)
                written.append(_shot(page, out / f"{name}.png", full))
        if "event" in names:
            page.goto(service.url + "/agreements")
            page.locator("ol.lifecycle li > a").first.click()
            written.append(_shot(page, out / "event.png", False))
        if "document" in names:  # a quote followed from its event to its highlighted place
            page.goto(service.url + "/events/" + ACSA_SIGNED)
            page.get_by_role("link", name="See this quote in place in the document").first.click()
            page.evaluate("document.querySelector(':target').scrollIntoView({block: 'center'})")
            written.append(_shot(page, out / "document.png", False))
        if "form" in names:
            page.goto(service.url + "/sign-in?next=/events/new")
            page.fill("#name", EDITOR[0])
            page.fill("#password", EDITOR[1])
            page.click("input[type=submit]")
            page.fill("#occurred", "spring 2026")
            page.click("#preview")
            written.append(_shot(page, out / "form.png", False))
        if "phone-agreements" in names:
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.goto(service.url + "/agreements")
            written.append(_shot(phone, out / "phone-agreements.png", False))
        browser.close()
    return written


def _shot(page, path: Path, full: bool) -> Path:
    page.screenshot(path=str(path), full_page=full)
    return path


if __name__ == "__main__":
    unknown = set(sys.argv[1:]) - set(NAMES)
    if unknown:
        sys.exit(f"no screenshot named {', '.join(sorted(unknown))} (known: {', '.join(NAMES)})")
    for path in take(names=tuple(sys.argv[1:]) or NAMES):
        print(path.relative_to(ROOT))
    sys.exit(0)
