"""Proxy option: parsed and validated at construction, for REST and WebSocket alike.

Accepted: ``http://``, ``https://`` (both as HTTP CONNECT), ``socks4://``,
``socks5://``, ``socks5h://`` (name resolution by the proxy), each with a host, an
optional port (default 8080 for HTTP, 1080 for SOCKS) and optional
``user:password@``. SOCKS needs the ``socks`` extra: ``pip install "o2sync[socks]"``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from .redact import redact_url

SOCKS_HINT = 'SOCKS proxies need extra packages: pip install "o2sync[socks]"'
_DEFAULT_PORTS = {"http": 8080, "https": 8080, "socks4": 1080, "socks5": 1080, "socks5h": 1080}


@dataclass(frozen=True)
class Proxy:
    """A validated proxy. ``url`` keeps the credentials; ``repr``/``str`` never show them."""

    scheme: str
    host: str
    port: int
    username: Optional[str] = None
    password: Optional[str] = None
    url: str = ""

    @property
    def is_socks(self) -> bool:
        return self.scheme.startswith("socks")

    def requests_proxies(self) -> dict[str, str]:
        """The ``proxies`` mapping of a requests Session (``socks5h`` kept as given)."""
        return {"http": self.url, "https": self.url}

    def websocket_options(self) -> dict[str, Any]:
        """websocket-client connect options (``http_proxy_host`` ...)."""
        proxy_type = "http" if self.scheme in ("http", "https") else self.scheme
        opts: dict[str, Any] = {"http_proxy_host": self.host, "http_proxy_port": self.port,
                                "proxy_type": proxy_type}
        if self.username is not None:
            opts["http_proxy_auth"] = (self.username, self.password or "")
        return opts

    def __repr__(self) -> str:
        return f"Proxy({redact_url(self.url)!r})"

    __str__ = __repr__


def parse_proxy(value: Optional[str]) -> Optional[Proxy]:
    """``None`` -> None; a proxy URL -> :class:`Proxy`; anything else raises ValueError
    naming the (redacted) value. A SOCKS proxy without the ``socks`` extra installed
    raises ImportError with the install hint."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"proxy must be a URL string, got {type(value).__name__}")
    shown = redact_url(value)
    if not value.strip() or value != value.strip():
        raise ValueError(f"proxy must be a URL like http://host:port, got {shown!r}")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f"proxy has an invalid host or port (0..65535): {shown!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"proxy scheme must be one of http, https, socks4, socks5, socks5h; "
                         f"got {shown!r}")
    if not parts.hostname:
        raise ValueError(f"proxy has no host: {shown!r}")
    if port == 0:
        raise ValueError(f"proxy port must be 1..65535: {shown!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"proxy URL must be scheme://[user:password@]host[:port]: {shown!r}")
    if scheme.startswith("socks"):
        missing = [mod for mod in ("socks", "python_socks")
                   if importlib.util.find_spec(mod) is None]
        if missing:
            raise ImportError(f"{SOCKS_HINT} (missing {', '.join(missing)}; proxy {shown!r})")
    return Proxy(scheme, parts.hostname, port or _DEFAULT_PORTS[scheme],
                 None if parts.username is None else unquote(parts.username),
                 None if parts.password is None else unquote(parts.password), value)
