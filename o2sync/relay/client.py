"""Clients that read a relay: the venue's own client, its streams read back from Redis."""

from __future__ import annotations

from typing import Any, Optional

from .._json import loads
from ..errors import ConnectError, O2SyncError
from ..o2.rest import RestClient
from ..redact import redact_url
from ._o2 import O2Reading
from ._redis import connect_redis
from .groups import GroupInfo, GroupSubscription, check_group, default_consumer
from .source import RelaySource

#: The URLs a relay-reading client without an exchange URL is given: never dialled
#: (its sockets are the relay; its REST calls say they need ``api_url``).
NO_EXCHANGE_WS = "ws://relay.invalid/v1/ws"
NO_EXCHANGE_API = "http://relay.invalid"


class RelayRestError(O2SyncError):
    """A REST call on a client that reads a relay and was given no exchange URL."""


class _RelayRest(RestClient):
    """The markets from the relay; every other REST call refuses, clearly."""

    def __init__(self, relay_url: str, markets_body: Any) -> None:
        super().__init__(NO_EXCHANGE_API)
        self._relay_url = relay_url
        self._markets_body = markets_body

    def get(self, path: str, **params: Any) -> Any:
        if path == "markets":
            return self._markets_body
        raise RelayRestError(
            f"this client reads the relay at {redact_url(self._relay_url)} and has no "
            f"exchange URL; pass api_url= to O2Client.from_relay for REST calls "
            f"(GET /v1/{path})")


def _markets_body(url: str, prefix: str) -> Any:
    redis = connect_redis(url)
    try:
        raw = redis.get(f"{prefix}:o2:markets")
    except Exception as exc:  # any failure is "cannot reach"
        raise ConnectError(f"could not reach the relay at {redact_url(url)} ({exc})") from exc
    finally:
        redis.close()
    if raw is None:
        raise ConnectError(f"no relay has published O2 markets at {redact_url(url)} under "
                           f"the prefix {prefix!r} (is `o2sync relay` running?)")
    return loads(raw)


def o2_from_relay(cls: Any, url: str, prefix: str = "o2sync", *,
                  api_url: Optional[str] = None, **options: Any) -> Any:
    """An ``O2Client`` (``cls``) reading the relay at ``url`` (see O2Client.from_relay)."""
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"prefix must be a non-empty string, got {prefix!r}")
    connect_redis(url).close()  # a bad URL raises here, at the call
    if api_url is None:
        body = _markets_body(url, prefix)
        client = cls(ws_url=NO_EXCHANGE_WS, api_url=NO_EXCHANGE_API, **options)
        client.rest.close()
        client.rest = _RelayRest(url, body)
        client.api.rest = client.rest
    else:
        client = cls(api_url=api_url, **options)
    client._engine.attach_source(RelaySource(url, prefix, O2Reading(client, prefix)))
    client.relay_url = url
    return client


def group_trades(client: Any, market: Any, group: str, consumer: Optional[str], *,
                 claim_after: float = 30.0, queue_size: Any = None, overflow: Any = None
                 ) -> GroupSubscription:
    """``stream_trades(market, group=...)`` of a client reading a relay."""
    from ..engine.venue import TopicSpec

    check_group(group, consumer)
    if not claim_after > 0:
        raise ValueError(f"claim_after must be > 0, got {claim_after!r}")
    source = client._engine.source
    if not isinstance(source, RelaySource):
        raise ValueError("group= needs a client that reads a relay (O2Client.from_relay)")
    m = client.get_market(market)
    info = GroupInfo(group, consumer or default_consumer(), claim_after)
    key = ("trades", m.market_id)
    if key in client._engine.topics:
        raise ValueError(f"trades of {m.pair} are already streamed on this client; a "
                         f"group member reads a stream on its own (use another client)")
    spec = TopicSpec(key, client.ws_url, (), info)
    inner = client._engine.subscribe(spec, name=f"trades:{m.pair}@{group}",
                                     queue_size=queue_size, overflow=overflow)
    info.sub = inner
    stream = source.reading.stream_for(client._engine.topics[key])
    assert stream is not None

    def acker(ids: list[bytes]) -> None:
        source.ack(stream, group, ids)

    return GroupSubscription(inner, info, acker)
