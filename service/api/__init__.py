"""The JSON API and the downloads: the log, the read models, search, ``/log.jsonl``, CSV of every view, calendars,
and the API's own description (``openapi``)."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    """This surface's blueprints (imported when the app is built, so importing a module here builds nothing)."""
    from .calendar import bp as calendar
    from .documents import bp as documents
    from .downloads import bp as downloads
    from .exports import bp as exports
    from .log import bp as log
    from .openapi import bp as openapi
    from .readmodels import bp as readmodels
    from .search import bp as search

    return (log, documents, readmodels, search, downloads, exports, calendar, openapi)
