"""The client's address: X-Forwarded-For believed only from the proxies in FORWARDED_ALLOW_IPS."""

from __future__ import annotations

import pytest
from flask import request

from service import proxies
from service.operations import server
from tests.conftest import make_app


def _whoami_app(sqlite_url, tmp_path, **config):
    app = make_app(sqlite_url, tmp_path / "instance", **config)
    app.add_url_rule("/test-whoami", "test_whoami", lambda: request.remote_addr or "")
    return app


def _seen(app, peer: str, forwarded: str | None = None) -> str:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    response = app.test_client().get("/test-whoami", headers=headers, environ_base={"REMOTE_ADDR": peer})
    return response.get_data(as_text=True)


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(sqlite_url, tmp_path):
    app = _whoami_app(sqlite_url, tmp_path, FORWARDED_ALLOW_IPS="10.0.0.2")
    assert _seen(app, "203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert _seen(app, "203.0.113.9") == "203.0.113.9"


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(sqlite_url, tmp_path):
    app = _whoami_app(sqlite_url, tmp_path, FORWARDED_ALLOW_IPS="10.0.0.2, 10.1.0.0/16")
    assert _seen(app, "10.0.0.2", "198.51.100.1") == "198.51.100.1"
    # What the client wrote itself is left of the address nginx appended, and is not believed.
    assert _seen(app, "10.0.0.2", "192.0.2.66, 198.51.100.1") == "198.51.100.1"
    # A chain of our own proxies (a network in the setting) is walked past.
    assert _seen(app, "10.0.0.2", "192.0.2.66, 198.51.100.1, 10.1.4.5") == "198.51.100.1"
    # Garbage where an address should be: the last address that could be believed.
    assert _seen(app, "10.0.0.2", "nonsense, 10.1.4.5") == "10.1.4.5"


def test_the_default_trusts_loopback_only(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    app = _whoami_app(sqlite_url, tmp_path)
    assert _seen(app, "127.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert _seen(app, "::1", "2001:db8::7") == "2001:db8::7"
    assert _seen(app, "10.0.0.2", "198.51.100.1") == "10.0.0.2"


def test_the_environment_variable_gunicorn_reads_sets_the_rule(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.2")
    app = _whoami_app(sqlite_url, tmp_path)
    assert _seen(app, "10.0.0.2", "198.51.100.1") == "198.51.100.1"
    assert _seen(app, "127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_star_trusts_every_peer():
    assert proxies.TrustedProxies("*").client("203.0.113.9", "198.51.100.1") == "198.51.100.1"


def test_a_bad_setting_is_refused_and_named():
    with pytest.raises(proxies.BadProxySetting) as refused:
        proxies.TrustedProxies("10.0.0.2,10.0.0.300")
    assert "'10.0.0.300' is not an IP address or network" in str(refused.value)


def test_gunicorn_is_given_the_same_setting():
    settings = server.Server(server.Options(forwarded_allow_ips="10.0.0.2,10.1.0.0/16")).cfg
    assert settings.forwarded_allow_ips == ["10.0.0.2", "10.1.0.0/16"]
