"""Search as JSON: the same answer as the page, a keyset page at a time (``next`` is the following ``after``)."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response

from projections import search as search_model

from .. import filters, params

bp = Blueprint("search_api", __name__, url_prefix="/api")

PAGE = 50
MAX_LIMIT = 1000


@bp.get("/search")
def search() -> Response:
    """Facts matching ``q`` (required) and the facets chosen, in date order, with every facet's counts."""
    asked = filters.search_query(required=True)
    assert asked.query is not None  # required
    limit = params.integer("limit", PAGE, 1, MAX_LIMIT)
    answer = search_model.search(asked.query, asked.filters, after=asked.after, newest_first=asked.newest_first,
                                 limit=limit)
    return Response(orjson.dumps({
        "q": asked.query.text, "filters": asked.filters.chosen(), "sort": "-date" if asked.newest_first else "date",
        "total": answer.total, "more_than": answer.more_than, "facet_scan": search_model.FACET_SCAN,
        "facets": {name: [{"value": v, "count": n} for v, n in values] for name, values in answer.facets.items()},
        "results": [r.to_dict() for r in answer.results], "next": answer.next_after,
    }), mimetype="application/json")
