"""Where the clients connect: URL checks and the environment variables of both venues.

Every client checks its URLs when it is built, so a typo fails at the call with one
line naming the URL and what is wrong with it, not later as a connect error:

>>> check_ws_url("127.0.0.1:8765", "ws_url")
Traceback (most recent call last):
ValueError: ws_url '127.0.0.1:8765' has no scheme; write ws://127.0.0.1:8765/... \
(or wss:// for TLS)

Environment variables (read when a client is built without URLs; arguments win):

=============================  ========================================================
``O2SYNC_O2_NETWORK``          ``mainnet``, ``testnet`` or ``devnet`` (the default of
                               ``O2Client()`` is testnet)
``O2SYNC_O2_WS_URL``           the O2 WebSocket URL (``wss://host/v1/ws``)
``O2SYNC_O2_API_URL``          the O2 REST base URL (``https://host``); either of the two
                               URLs implies the other
``O2SYNC_TPLUS_MDS_URL``       the tplus market-data service (``MarketDataClient()``)
``O2SYNC_TPLUS_OMS_URL``       the tplus order service (``OrderBookClient()``)
=============================  ========================================================

For tplus the names tpluspy's own command line reads are honoured too, after ours:
``TPLUS_MARKET_DATA_BASE_URL``, ``TPLUS_ORDERBOOK_BASE_URL`` and ``TPLUS_API_BASE_URL``
(the order service; the market-data URL follows from it by turning a leading ``oms``
host label into ``mds``, as tpluspy does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

from .redact import redact_url

__all__ = [
    "ENV_O2_API_URL", "ENV_O2_NETWORK", "ENV_O2_WS_URL", "ENV_TPLUS_MDS_URL",
    "ENV_TPLUS_OMS_URL", "check_http_url", "check_ws_url", "o2_from_env",
    "tplus_mds_from_env", "tplus_oms_from_env",
]

ENV_O2_NETWORK = "O2SYNC_O2_NETWORK"
ENV_O2_WS_URL = "O2SYNC_O2_WS_URL"
ENV_O2_API_URL = "O2SYNC_O2_API_URL"
ENV_TPLUS_MDS_URL = "O2SYNC_TPLUS_MDS_URL"
ENV_TPLUS_OMS_URL = "O2SYNC_TPLUS_OMS_URL"

_WS = ("ws", "wss")
_HTTP = ("http", "https")
_OTHER = {"ws": "http", "wss": "https", "http": "ws", "https": "wss"}


def check_ws_url(url: object, what: str) -> str:
    """``url`` if it is a ``ws://`` or ``wss://`` URL with a host, else ValueError
    (TypeError for a non-string) naming ``what`` and the fault in one line."""
    return _check(url, what, _WS, "WebSocket")


def check_http_url(url: object, what: str) -> str:
    """``url`` if it is an ``http://`` or ``https://`` URL with a host, else ValueError
    (TypeError for a non-string) naming ``what`` and the fault in one line."""
    return _check(url, what, _HTTP, "REST")


def _check(url: object, what: str, schemes: tuple[str, str], kind: str) -> str:
    if not isinstance(url, str):
        raise TypeError(f"{what} must be a URL string, got {type(url).__name__} {url!r}")
    plain, tls = schemes
    shown = redact_url(url)  # a URL's password or token never reaches an error text
    if not url.strip():
        raise ValueError(f"{what} is empty; expected a {plain}:// or {tls}:// URL")
    if url != url.strip() or any(ch.isspace() for ch in url):
        raise ValueError(f"{what} {shown!r} contains white space")
    if "://" not in url:
        raise ValueError(f"{what} {shown!r} has no scheme; write {plain}://{shown}/... "
                         f"(or {tls}:// for TLS)")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        hint = ""
        if scheme in _OTHER:  # the other family: say which one was meant
            fixed = redact_url(urlunsplit((_OTHER[scheme], *parts[1:])))
            hint = f" (did you mean {fixed}?)"
        raise ValueError(f"{what} {shown!r} has scheme {parts.scheme}://; a {kind} URL starts "
                         f"with {plain}:// or {tls}://{hint}")
    if not parts.hostname:
        raise ValueError(f"{what} {shown!r} has no host")
    try:
        parts.port  # noqa: B018  (urlsplit checks the port only when asked)
    except ValueError:
        port = parts.netloc.rsplit(":", 1)[-1]
        raise ValueError(f"{what} {shown!r} has an invalid port {port!r} "
                         "(expected 1-65535)") from None
    return url


def _env(name: str, environ: Mapping[str, str]) -> Optional[str]:
    value = environ.get(name, "").strip()
    return value or None


def o2_from_env(environ: Optional[Mapping[str, str]] = None
                ) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """``(network, ws_url, api_url)`` from the ``O2SYNC_O2_*`` variables (None if unset)."""
    env = os.environ if environ is None else environ
    return (_env(ENV_O2_NETWORK, env), _env(ENV_O2_WS_URL, env), _env(ENV_O2_API_URL, env))


def tplus_oms_from_env(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The order service URL from the environment, or None."""
    env = os.environ if environ is None else environ
    return (_env(ENV_TPLUS_OMS_URL, env) or _env("TPLUS_ORDERBOOK_BASE_URL", env)
            or _env("TPLUS_API_BASE_URL", env))


def tplus_mds_from_env(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The market-data service URL from the environment, or None."""
    env = os.environ if environ is None else environ
    found = _env(ENV_TPLUS_MDS_URL, env) or _env("TPLUS_MARKET_DATA_BASE_URL", env)
    if found:
        return found
    api = _env("TPLUS_API_BASE_URL", env)
    return _mds_of(api) if api else None


def _mds_of(oms_url: str) -> str:
    """tpluspy's rule: ``oms.example`` / ``oms-x.example`` -> ``mds.`` / ``mds-``; any
    other host (localhost) is the URL unchanged."""
    parts = urlsplit(oms_url)
    host = parts.hostname or ""
    for sep in (".", "-"):
        if host.startswith("oms" + sep):
            userinfo, at, hostport = parts.netloc.rpartition("@")
            netloc = userinfo + at + "mds" + hostport[3:]
            return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return oms_url
