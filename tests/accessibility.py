"""axe-core in a real page: WCAG 2.1 A and AA violations, as the browser tests check them.

axe-core comes from npm (``make node-deps`` installs it under tests/a11y).
The script is injected into the page, which the service's Content Security
Policy refuses: only a browser context opened with ``bypass_csp`` (in the
accessibility tests, never in the others) can run it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Any) -> list[dict[str, Any]]:
    """Every WCAG 2.1 A/AA violation axe finds on the page as it stands, each with the elements at fault."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        WCAG_A_AA)
    return found


def described(found: list[dict[str, Any]]) -> list[str]:
    """A violation per line, with the first elements at fault: what an assertion message should show."""
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["html"][:120] for n in v["nodes"][:3])
            for v in found]
