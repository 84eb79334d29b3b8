"""The Redis client the relay uses (redis-py), with bounded timeouts."""

from __future__ import annotations

from typing import Any

#: Seconds one command may take before the relay counts the engine as down.
SOCKET_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0


def connect_redis(url: str, socket_timeout: float = SOCKET_TIMEOUT) -> Any:
    """A client of the server at ``url`` (``redis://HOST:PORT[/DB]``); nothing is sent
    yet. Raises ValueError for a URL that is not a Redis URL."""
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"the relay URL must look like redis://HOST:PORT[/DB], got {url!r}")
    try:
        import redis
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ModuleNotFoundError(
            "the relay needs the redis package: pip install 'o2sync[relay]'") from exc
    return redis.Redis.from_url(url, socket_timeout=socket_timeout,
                                socket_connect_timeout=CONNECT_TIMEOUT)
