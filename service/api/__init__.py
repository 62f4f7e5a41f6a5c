"""The JSON API and the downloads: the log (``log``), the read models (``readmodels``), ``/log.jsonl``, and the
API's own description (``openapi``)."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    """This surface's blueprints (imported when the app is built, so importing a module here builds nothing)."""
    from .documents import bp as documents
    from .downloads import bp as downloads
    from .log import bp as log
    from .openapi import bp as openapi
    from .readmodels import bp as readmodels

    return (log, documents, readmodels, downloads, openapi)
