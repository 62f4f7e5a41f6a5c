"""The Atom feeds: routes, documents, entries, and the HTTP manners (validators, 304s, gzip) that serve them."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    """This surface's blueprints (imported when the app is built, so importing a module here builds nothing)."""
    from .routes import bp as routes

    return (routes,)
