"""The pages people read: home, events and subjects (``log``), the read models' views (``readmodels``), the
documents and citations (``sources``)."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    """This surface's blueprints (imported when the app is built, so importing a module here builds nothing)."""
    from .log import bp as log
    from .readmodels import bp as readmodels
    from .search import bp as search
    from .sources import bp as sources

    return (log, readmodels, search, sources)
