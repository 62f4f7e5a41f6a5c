"""The search page: words found across every fact, narrowed by facets, each choice kept in the URL."""

from __future__ import annotations

from flask import Blueprint, render_template

from events.vocabulary import STREAM_KINDS
from projections import search as search_model

from .. import filters

bp = Blueprint("search", __name__)

SEARCH_PAGE = 20

#: Each facet's heading on the page.
FACET_HEADINGS = {"kind": "Kind of subject", "type": "What happened", "year": "Year", "participant": "Participant",
                  "document": "Source document", "language": "Language of the source"}


@bp.get("/search")
def search() -> str:
    """Facts matching ``q`` in date order, with snippets and facets; ``kind``, ``type``, ... narrow them."""
    asked = filters.search_query(required=False)
    answer = None
    if asked.query is not None:
        answer = search_model.search(asked.query, asked.filters, after=asked.after, newest_first=asked.newest_first,
                                     limit=SEARCH_PAGE)
    return render_template("search.html", asked=asked, answer=answer, headings=FACET_HEADINGS,
                           kinds=STREAM_KINDS, page_size=SEARCH_PAGE)
