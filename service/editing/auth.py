"""Who is signed in: the editor's session, the sign-in and sign-out pages, and the guard on every write.

Reading is public. Writing needs an editor, identified by the session cookie
(signed with SECRET_KEY); ``g.editor`` is set on every request so templates
and views can ask who is there. A cookie is only as good as the session
generation it carries (see ``accounts``): signing out ends the session
for every copy of the cookie, not only in this browser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session
from werkzeug.wrappers import Response

from . import accounts, signins
from .forms import SignInForm

bp = Blueprint("auth", __name__)

SESSION_KEY = "editor_id"
GENERATION_KEY = "generation"
#: What a sign-in answered "busy" asks the browser to wait.
RETRY_BUSY_SECONDS = 5

P = ParamSpec("P")


@bp.before_app_request
def load_editor() -> None:
    """Set ``g.editor`` from the session (an API view may have set it from a token already)."""
    if g.get("editor") is not None:
        return
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        # Not touching the session keeps `Vary: Cookie` off public responses, so shared caches keep one copy.
        g.editor = None
        return
    g.editor = accounts.session_is_current(session.get(SESSION_KEY), session.get(GENERATION_KEY))
    if g.editor is None and SESSION_KEY in session:
        session.pop(SESSION_KEY)  # ended by sign-out, a new password or disabling: the browser forgets it too
        session.pop(GENERATION_KEY, None)


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the home page: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def editor_required(view: Callable[P, Any]) -> Callable[P, Any]:
    """Send a visitor who is not signed in to the sign-in page, and back here afterwards."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        if g.get("editor") is None:
            return redirect("/sign-in?" + urlencode({"next": request.full_path.rstrip("?")}))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    """The editor's name and password; a failure never says which of the two was wrong."""
    form = SignInForm()
    target = safe_next(request.values.get("next"))
    if form.validate_on_submit():
        name = form.name.data or ""
        try:
            attempt = signins.attempt(name, request.remote_addr or "")
        except signins.Throttled as exc:
            abort(429, description=str(exc), retry_after=exc.wait)
        try:
            editor = accounts.authenticate(name, form.password.data or "")
        except accounts.ChecksBusy:
            abort(503, description="Too many sign-ins are being checked at once; try again in a few seconds.",
                  retry_after=RETRY_BUSY_SECONDS)
        if editor is not None:
            signins.succeeded(attempt)
            session.clear()  # a fresh session: nothing carried over from before sign-in
            session[SESSION_KEY] = editor.id
            session[GENERATION_KEY] = editor.session_generation
            flash(f"Signed in as {editor.name}.", "info")
            return redirect(target)
        form.form_errors.append("That name and password do not match an editor account.")
    status = 400 if request.method == "POST" else 200
    return render_template("sign_in.html", form=form, next=target), status


@bp.route("/sign-out", methods=["GET", "POST"])
def sign_out() -> str | Response:
    """GET asks to confirm (a link must not sign anyone out); POST, with its CSRF token, ends every session."""
    if request.method == "GET":
        return render_template("sign_out.html")
    if g.get("editor") is not None:
        accounts.end_sessions(g.editor.id)
    session.clear()
    flash("Signed out, in every browser.", "info")
    return redirect("/")
