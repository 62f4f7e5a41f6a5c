"""A document's text as HTML with every quoted passage in ``<mark>``, each quote reachable by its own anchor.

The offsets come from ``events.quotes.spans`` (the log's own rule for where a
quote lies); this only cuts the escaped text at every quote's edges. Shown
with ``white-space: pre-wrap``, the text keeps its line breaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from html import escape
from itertools import pairwise
from typing import Any, NamedTuple

from markupsafe import Markup

from events.quotes import Normalised, spans


class Highlighted(NamedTuple):
    html: Markup
    missing: list[str]  # the ids of quotes not found in the text: listed, not marked


def highlight(document_text: str, quotes: Mapping[str, str | Mapping[str, Any]],
              norm: Normalised | None = None, links: Mapping[str, str] | None = None) -> Highlighted:
    """The document as escaped HTML with every quote in ``<mark>``; overlapping quotes share marks.

    Each mark lists the quotes it belongs to in ``data-quotes``; the first mark of a quote carries its id
    (when several quotes start at one place, the others get an empty mark with their id just before it),
    so ``#id`` links to the quote and every id appears once. With ``links`` (quote id to address), a mark's
    text links to the address of the first quote it belongs to: the event that quotes it.
    """
    found, missing = spans(document_text, quotes, norm)
    cuts = sorted({0, len(document_text)} | {s.start for s in found} | {s.end for s in found})
    starting_at: dict[int, list[int]] = defaultdict(list)
    ending_at: dict[int, list[int]] = defaultdict(list)
    for k, span in enumerate(found):
        starting_at[span.start].append(k)
        ending_at[span.end].append(k)
    out: list[str] = []
    active: set[int] = set()
    for a, b in pairwise(cuts):  # one sweep: the quotes open over [a, b) change only at a cut
        active.difference_update(ending_at.get(a, ()))
        active.update(starting_at.get(a, ()))
        piece = escape(document_text[a:b], quote=False)
        if not active:
            out.append(piece)
            continue
        ids = [found[k].id for k in sorted(active)]
        starting = [found[k].id for k in starting_at.get(a, ())]
        out.extend(f'<mark class="quote" id="{escape(i)}"></mark>' for i in starting[1:])
        anchor = f' id="{escape(starting[0])}"' if starting else ""
        href = (links or {}).get(ids[0])
        if href:
            piece = f'<a href="{escape(href)}">{piece}</a>'
        out.append(f'<mark class="quote"{anchor} data-quotes="{escape(" ".join(ids))}">{piece}</mark>')
    return Highlighted(Markup("".join(out)), missing)
