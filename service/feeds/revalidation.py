"""Revalidations answered before Flask: a feed poll that changed nothing costs a lookup.

Most requests for a feed are a reader asking "anything new?" with the ETag
it was given. Flask's dispatch (request context, hooks, routing, a response
object) costs several times what that answer needs. So when a feed view
answers 304 it says in the WSGI environ how long that answer stays true (the
subscription document: as long as the head of the log it was built on, that
is the head cache's TTL or the next append in this process; a full archive
page: for ever), and this middleware keeps the exact status and headers
sent. A revalidation of the same URL with a matching tag inside that window
gets the same 304 here; anything else goes to Flask.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.http import parse_etags

from .caching import names_current

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ENVIRON_KEY = "chronology.reuse_304"
FOREVER = float("inf")
#: Made-up hosts and encodings multiply keys: past this many answers, start again from none.
MAX_ANSWERS = 1024
#: Everything a 304's headers can depend on: the URL as the client named it, and how it asked.
_KEY_VARIABLES = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME", "PATH_INFO",
                  "HTTP_ACCEPT_ENCODING", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO")


@dataclass(frozen=True, slots=True)
class _Answer:
    status: str
    headers: list[tuple[str, str]]
    etag: str
    until: float  # time.monotonic() deadline
    generation: int | None  # None: no append can change it


def allow_reuse(environ: WSGIEnvironment, until: float, generation: int | None = None) -> None:
    """Let this request's 304 answer the same revalidation until ``until`` while ``generation`` holds."""
    environ[ENVIRON_KEY] = (until, generation)


class Revalidations:
    """WSGI middleware answering repeated revalidations with the 304 the view gave last time."""

    def __init__(self, app: WSGIApplication, generation: Callable[[], int]) -> None:
        self.app = app
        self._generation = generation
        self._answers: dict[tuple[Any, ...], _Answer] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        tags = environ.get("HTTP_IF_NONE_MATCH")
        if (not tags or environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("QUERY_STRING")
                or "HTTP_COOKIE" in environ):  # a signed-in editor's answers may differ: always ask Flask
            return self.app(environ, start_response)
        key = tuple(environ.get(name) for name in _KEY_VARIABLES)
        answer = self._answers.get(key)
        if (answer is not None and time.monotonic() < answer.until
                and (answer.generation is None or answer.generation == self._generation())
                and names_current(parse_etags(tags), answer.etag)):
            start_response(answer.status, list(answer.headers))
            return []

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            reuse = environ.get(ENVIRON_KEY)
            if reuse is not None and status.startswith("304"):
                self._keep(key, status, headers, *reuse)
            return start_response(status, headers, exc_info)

        return self.app(environ, remember)

    def _keep(self, key: tuple[Any, ...], status: str, headers: list[tuple[str, str]], until: float,
              generation: int | None) -> None:
        etag = next((value for name, value in headers if name.lower() == "etag"), None)
        if etag is None:
            return
        if len(self._answers) >= MAX_ANSWERS:
            self._answers.clear()
        self._answers[key] = _Answer(status, list(headers), etag, until, generation)
