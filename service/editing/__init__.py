"""Editors and their writes: accounts, signing in (``auth``), the forms and the views that append."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    """This surface's blueprints (imported when the app is built, so importing a module here builds nothing)."""
    from .auth import bp as auth
    from .documents import bp as documents
    from .views import bp as views

    return (auth, views, documents)
