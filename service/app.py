"""The application factory: configuration, the web manners every surface shares, and every blueprint.

Each surface of the service is a subpackage with its blueprints: ``pages``,
``feeds``, ``api``, ``editing`` and ``operations``. ``chronology routes``
lists every route and the function that answers it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

import events
from events import tables

from . import proxies


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'chronology.sqlite3'}"


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


#: Host names a request may carry when the service is not told its public address: the machine itself.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(config: Any) -> list[str] | None:
    """The Host headers Flask accepts (any other is a 400): TRUSTED_HOSTS, else loopback unless PUBLIC_URL is set.

    Feeds and archive pages cached for a year name their own address; built
    from a Host header anyone can send, one request could plant another
    site's links in them. With PUBLIC_URL every link is built from it, and
    the Host header changes no byte.
    """
    configured = config.get("TRUSTED_HOSTS") or os.environ.get("TRUSTED_HOSTS")
    if isinstance(configured, str):
        configured = [host.strip() for host in configured.split(",") if host.strip()]
    if configured:
        return list(configured)
    return None if config.get("PUBLIC_URL") else list(LOOPBACK_HOSTS)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; it connects lazily and starts no background work."""
    app = Flask(__name__, instance_relative_config=True)
    instance = os.environ.get("CHRONOLOGY_INSTANCE")
    if instance:
        app.instance_path = os.path.abspath(instance)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL") or default_database_url(app.instance_path),
        MAX_CONTENT_LENGTH=256 * 1024,  # an event with long quotes is a few KB; anything this big is a mistake
        # Behind TLS, the session cookie must never travel in clear.
        SESSION_COOKIE_SECURE=os.environ.get("CHRONOLOGY_SECURE_COOKIES", "").lower() in ("1", "true", "yes", "on"),
        # gunicorn reads the same variable: one setting says whose X-Forwarded-* headers both believe.
        FORWARDED_ALLOW_IPS=os.environ.get("FORWARDED_ALLOW_IPS", proxies.DEFAULT),
    )
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    events.connect(app.config["DATABASE_URL"])
    _install(app)

    @app.teardown_appcontext
    def close_connection(_exc: BaseException | None) -> None:
        tables.close()

    return app


def _install(app: Flask) -> None:
    """Headers, error pages, template helpers, every blueprint (one concern each), repeated 304s in front,
    and the client's address from a trusted proxy's X-Forwarded-For before anything reads it."""
    from . import api, editing, errors, feeds, operations, pages, pipeline, security, templating, uploads
    from .feeds.heads import heads
    from .feeds.revalidation import Revalidations
    from .operations import integrity, readers

    uploads.init_app(app)  # before the CSRF check, which reads a form's body
    security.init_app(app)
    readers.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    integrity.init_app(app)
    pipeline.install(app)
    for surface in (pages, editing, feeds, api, operations):
        for blueprint in surface.blueprints():
            app.register_blueprint(blueprint)
    app.wsgi_app = Revalidations(app.wsgi_app, lambda: heads.generation)  # type: ignore[method-assign]
    trusted = proxies.TrustedProxies(app.config["FORWARDED_ALLOW_IPS"])
    app.wsgi_app = proxies.ClientAddress(app.wsgi_app, trusted)  # type: ignore[method-assign]
