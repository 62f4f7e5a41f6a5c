"""Running a deployment: status and health (``status``), the scheduled jobs and their scheduler, the server."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    """This surface's blueprints (imported when the app is built, so importing a module here builds nothing)."""
    from .status import bp as status

    return (status,)
