"""Every refusal says what went wrong, as a page for people and as JSON under /api/.

Bad input is always a 4xx with a reason; a 500 means a bug of ours, and its
page says nothing about the internals.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, SecurityError, ServiceUnavailable

import events

from .params import BadParameter

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in to do this.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request is larger than the service accepts.",
}

#: What a 503 for a busy log asks a client to wait before trying again.
RETRY_BUSY_SECONDS = 30


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def json_error(status: int, message: str, **extra: Any) -> Response:
    """A JSON refusal: ``{"error": message, ...extra}`` with ``status``."""
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _message(exc: HTTPException) -> str:
    if exc.code == 413:
        limit = request.max_content_length  # a request that may carry a document is allowed more
        return f"The request is larger than the limit of {limit // 1024} KB." if limit else MESSAGES[413]
    description = exc.description or ""
    default = type(exc).description
    if description and description != default:
        return description  # a message written for this refusal
    return MESSAGES.get(exc.code or 500, description)


def http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = _message(exc)
    if wants_json():
        response = json_error(status, message)
    else:
        response = current_app.make_response(
            (render_template("error.html", status=status, title=exc.name, message=message), status)
        )
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def csrf_error(exc: CSRFError) -> Response:
    exc.description = (f"The form was refused and nothing was saved: {exc.description} "
                       "Reload the page and submit the form again.")
    return http_error(exc)


def store_busy(exc: events.StoreBusy) -> Response:
    """A write that waited too long for another (an import, a rebuild): 503, and nothing was saved."""
    log.warning("write refused on %s %s: %s", request.method, request.path, exc)
    return http_error(ServiceUnavailable(
        description=f"Nothing was saved: {exc}. Another write (an import or a rebuild) is running.",
        retry_after=RETRY_BUSY_SECONDS,
    ))


def server_error(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    wrapped = InternalServerError(description="Something went wrong on our side. It has been logged.")
    return http_error(wrapped)


def bad_parameter(exc: BadParameter) -> Response:
    """A query parameter that does not parse: 400 naming it, as JSON or as a page (the same words)."""
    if wants_json():
        return json_error(400, str(exc), parameter=exc.name)
    return http_error(BadRequest(description=f"{exc}."))


def untrusted_host(exc: SecurityError) -> Response:
    """A Host header outside TRUSTED_HOSTS: plain text, since no URL can be built for a host we do not serve."""
    return Response(f"400 Bad Request: {exc.description}\n", status=400, mimetype="text/plain")


def init_app(app: Flask) -> None:
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(BadParameter, bad_parameter)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(events.StoreBusy, store_busy)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, server_error)
