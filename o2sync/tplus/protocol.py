"""tplus wire conventions: stream paths, and WebSocket URLs from a service's base URL.

See ``shared/protocol/tplus-streams.md`` sections 1.1 and 2. The path *is* the
subscription: nothing is sent on a tplus socket, one socket per path.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from .asset import AssetIdentifier

FINALIZED_TRADES = "/trades"
TRADE_EVENTS = "/trades/events"
ORDERS = "/orders"


def depth_path(asset: AssetIdentifier) -> str:
    return f"/marketdepth/diff/{asset}"


def klines_path(asset: AssetIdentifier) -> str:
    return f"/klines/diff/{asset}"


def user_trade_events_path(user_id: str) -> str:
    return f"/trades/user/events/{user_id}"


def check_base_url(base_url: object, what: str) -> str:
    """An ``http(s)://host[:port][/prefix]`` base URL, or ValueError naming it."""
    if not isinstance(base_url, str):
        raise TypeError(f"{what} must be a URL string, got {base_url!r}")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must look like http://host:port, got {base_url!r}")
    return base_url.rstrip("/")


def websocket_url(base_url: str, path: str) -> str:
    """The stream URL of ``path`` on a service (§1.1): ``https`` -> ``wss``, anything
    else -> ``ws``; host and port kept; a path prefix of the base URL is dropped; no
    query string."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, path, "", ""))
