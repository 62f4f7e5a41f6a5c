"""Which address a request came from, believing X-Forwarded-For only from our own reverse proxies.

The rule is gunicorn's for X-Forwarded-Proto: a peer listed in
FORWARDED_ALLOW_IPS (addresses or networks, comma-separated; ``*`` for any;
default loopback) may say who its client was, anyone else may not. Sign-in
throttling counts per client address, so a header any client can write must
never choose the address it is counted under.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

DEFAULT = "127.0.0.1,::1"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BadProxySetting(ValueError):
    """FORWARDED_ALLOW_IPS names something that is neither an address nor a network."""


class TrustedProxies:
    """The parsed FORWARDED_ALLOW_IPS: ``*``, or a list of networks (a single address is a /32 or /128)."""

    def __init__(self, setting: str) -> None:
        entries = [entry.strip() for entry in setting.split(",") if entry.strip()]
        self.any = "*" in entries
        self.networks: list[Network] = []
        for entry in entries:
            if entry == "*":
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise BadProxySetting(f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network "
                                      "(give addresses or networks separated by commas, or *)") from None

    def trust(self, address: str) -> bool:
        """Whether ``address`` may speak for its client.

        A peer with no IP address (a UNIX socket) is trusted, as gunicorn does.
        """
        if self.any:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return True
        return any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client's address: walk X-Forwarded-For from the right past our own proxies.

        Each trusted proxy appends the address it received the request from
        (nginx's ``$proxy_add_x_forwarded_for``), so the first address from the
        right that is not one of ours is the client; anything to its left was
        written by the client and is ignored.
        """
        if not self.trust(peer):
            return peer
        client = peer
        for entry in reversed(forwarded_for.split(",")):
            candidate = entry.strip()
            try:
                ipaddress.ip_address(candidate)
            except ValueError:
                break  # garbage where an address should be: stop at the last address we could believe
            client = candidate
            if not self.trust(candidate):
                break
        return client


class ClientAddress:
    """WSGI middleware: REMOTE_ADDR becomes the client's address when a trusted proxy forwarded the request."""

    def __init__(self, app: WSGIApp, proxies: TrustedProxies) -> None:
        self.app, self.proxies = app, proxies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded:
            environ["REMOTE_ADDR"] = self.proxies.client(environ.get("REMOTE_ADDR") or "", forwarded)
        return self.app(environ, start_response)
