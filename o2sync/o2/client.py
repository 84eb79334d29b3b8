"""O2Client: the blocking counterpart of the O2 SDK's streaming client."""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, Union, overload
from urllib.parse import urlsplit, urlunsplit

from .._json import dumps
from ..clientbase import (
    Callback,
    Decorator,
    Registration,
    StreamingClient,
    next_client_name,
    register,
)
from ..engine.options import Options, Overflow
from ..engine.registry import Topic
from ..engine.stream import StreamEngine
from ..engine.subscription import Subscription
from ..engine.venue import TopicSpec
from ..redact import redact_url
from . import protocol
from .book import LiveOrderBook
from .depth import DepthTopic
from .models import (
    Balance,
    BalanceUpdate,
    DepthSnapshot,
    DepthUpdate,
    Market,
    NonceUpdate,
    Order,
    OrderUpdate,
    Trade,
    TradeUpdate,
)
from .network import Network
from .rest import MarketLike, RestClient
from .venue import O2Venue

log = logging.getLogger(__name__)

QueueSize = Optional[int]
OverflowArg = Optional[Union[str, Overflow]]


def _api_from_ws(ws_url: str) -> str:
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def _ws_from_api(api_url: str) -> str:
    parts = urlsplit(api_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/v1/ws", "", ""))


class O2Client(StreamingClient):
    """Synchronous, threaded client for the O2 Exchange streams.

    One WebSocket carries every subscription; three named threads serve it (reader,
    watchdog, dispatcher), however many subscriptions there are. Streams connect
    lazily; ``connect()`` connects eagerly. Use as a context manager, or call
    ``close()``.

    Every ``stream_*`` and ``on_*`` takes ``queue_size=`` and ``overflow=`` to
    override the client's options for that one consumer.

    Args:
        network: a public network (default testnet), used unless URLs are given.
        ws_url, api_url: a custom deployment or the simulator; either one implies the other.
        **options: keyword options, checked at the call (see
            :class:`~o2sync.engine.options.Options` for all of them and their defaults):
            ``ping_interval`` (seconds between text ``PING`` heartbeats, default 20; the
            server drops a client that sent nothing for 60 s), ``pong_timeout``
            (seconds without any frame after a heartbeat before the link counts as
            dead, default 20), ``reconnect``, ``max_reconnect_attempts``,
            ``backoff_initial``, ``backoff_max``, ``connect_timeout``, ``queue_size``,
            ``overflow`` (``"drop_newest"`` or ``"drop_oldest"``), ``dispatcher``
            (e.g. ``lambda fn: root.after(0, fn)`` for Tk), ``sslopt``, ``ca_bundle``,
            ``proxy``, ``max_message_size``, ``rest_timeout`` (total seconds of one
            REST call), ``rest_retries``, ``rest_backoff``, ``rest_retry_after_max``.
    """

    def __init__(self, network: Network = Network.TESTNET, *, ws_url: Optional[str] = None,
                 api_url: Optional[str] = None, **options: Any) -> None:
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {network!r}")
        self.options = Options.build(**options)
        if ws_url is None and api_url is None:
            ws_url, api_url = network.ws_url, network.api_url
        elif ws_url is None:
            ws_url = _ws_from_api(str(api_url))
        elif api_url is None:
            api_url = _api_from_ws(ws_url)
        self.network = network
        self.ws_url: str = ws_url
        self.api_url: str = str(api_url)
        self._engine = StreamEngine(O2Venue(), self.options, name=next_client_name())
        opts = self.options
        self.rest = RestClient(self.api_url, timeout=opts.rest_timeout, retries=opts.rest_retries,
                               backoff=opts.rest_backoff, proxy=opts.proxy,
                               ca_bundle=opts.ca_bundle,
                               retry_after_max=opts.rest_retry_after_max)

    # ------------------------------------------------------------ connection

    def connect(self, timeout: Optional[float] = 10.0) -> O2Client:
        """Connect now and wait until connected (streams also connect by themselves).

        Raises ConnectError if not connected within ``timeout`` (retries go on in the
        background unless the client closed), or at once if the socket can never
        connect (HTTP 404 on the handshake, a bad URL).
        """
        self._engine.connect(self.ws_url, timeout)
        return self

    def _close_rest(self) -> None:
        self.rest.close()

    def __repr__(self) -> str:
        s = self._engine.stats()
        return (f"<O2Client {redact_url(self.ws_url)} state={s['state']} "
                f"subscriptions={s['subscriptions']} "
                f"messages={s['messages']} dropped={s['dropped']}>")

    # ------------------------------------------------------------ REST

    def get_markets(self, refresh: bool = False) -> list[Market]:
        """Every spot market (fetched once, then cached)."""
        return self.rest.markets(refresh)

    def get_market(self, market: MarketLike) -> Market:
        """Resolve a pair name (``"fFUEL/fUSDC"``), a market id, or a Market."""
        return self.rest.resolve(market)

    def get_depth(self, market: MarketLike, precision: int = 1,
                  limit: Optional[int] = None) -> DepthSnapshot:
        """The order book now from ``GET /v1/depth``: a :class:`DepthSnapshot` (absolute
        levels, best first; ``depth.best_bid``, ``depth.bids``), as in o2-sdk."""
        protocol.wire_precision(precision)
        return self.rest.depth(self.get_market(market), precision, limit)

    def get_trades(self, market: MarketLike, count: int = 50) -> list[Trade]:
        """Recent trades, newest first."""
        return self.rest.trades(self.get_market(market), count)

    def get_open_orders(self, market: MarketLike, account: str) -> list[Order]:
        """An account's open orders on a market (to re-sync after RECONNECTED)."""
        return self.rest.open_orders(self.get_market(market),
                                     protocol.require_account_id(account))

    def get_balances(self, account: str) -> dict[str, Balance]:
        """Balances of every asset traded on the exchange, keyed by asset id."""
        account = protocol.require_account_id(account)
        assets = {a.asset for m in self.get_markets() for a in (m.base, m.quote)}
        return {asset: self.rest.balance(account, asset) for asset in sorted(assets)}

    def get_nonce(self, account: str) -> Optional[int]:
        """The trade account's nonce now."""
        return self.rest.nonce(protocol.require_account_id(account))

    # ------------------------------------------------------------ streams

    def stream_depth(self, market: MarketLike, precision: int = 1, *,
                     queue_size: QueueSize = None, overflow: OverflowArg = None
                     ) -> Subscription[DepthUpdate]:
        """Depth of a market: a snapshot first (and after every reconnect), then deltas."""
        return self._depth(market, precision, None, queue_size=queue_size, overflow=overflow)

    def stream_trades(self, market: MarketLike, *, queue_size: QueueSize = None,
                      overflow: OverflowArg = None) -> Subscription[TradeUpdate]:
        """New trades of a market."""
        return self._trades(market, None, queue_size=queue_size, overflow=overflow)

    def stream_orders(self, account: str, *, queue_size: QueueSize = None,
                      overflow: OverflowArg = None) -> Subscription[OrderUpdate]:
        """Order changes of a trade account."""
        return self._account("orders", account, None, queue_size=queue_size, overflow=overflow)

    def stream_balances(self, account: str, *, queue_size: QueueSize = None,
                        overflow: OverflowArg = None) -> Subscription[BalanceUpdate]:
        """Balance changes of a trade account."""
        return self._account("balances", account, None, queue_size=queue_size,
                             overflow=overflow)

    def stream_nonce(self, account: str, *, queue_size: QueueSize = None,
                     overflow: OverflowArg = None) -> Subscription[NonceUpdate]:
        """Nonce changes of a trade account."""
        return self._account("nonce", account, None, queue_size=queue_size, overflow=overflow)

    def order_book(self, market: MarketLike, precision: int = 1) -> LiveOrderBook:
        """A :class:`~o2sync.o2.book.LiveOrderBook` kept live from the depth stream.

        It resets on every reconnect (or lost event) from the fresh snapshot and is
        not ready in between. ``book.wait_ready(timeout)`` before reading.
        """
        protocol.wire_precision(precision)
        m = self.get_market(market)
        return LiveOrderBook(
            self._engine, m, precision,
            subscribe=lambda sink, on_gap: self._depth(m, precision, None, sink=sink,
                                                       on_gap=on_gap),
            fetch_depth=lambda: self.rest.depth(m, precision))

    # ------------------------------------------------------------ callbacks

    @overload
    def on_depth(self, market: MarketLike, callback: Callback[DepthUpdate],
                 precision: int = 1, **queue: Any) -> Subscription[DepthUpdate]: ...

    @overload
    def on_depth(self, market: MarketLike, callback: None = None,
                 precision: int = 1, **queue: Any) -> Decorator[DepthUpdate]: ...

    def on_depth(self, market: MarketLike, callback: Optional[Callback[DepthUpdate]] = None,
                 precision: int = 1, **queue: Any) -> Registration:
        """Call ``callback(update)`` for each depth message; decorator when omitted."""
        protocol.wire_precision(precision)
        resolved = self.get_market(market)
        return register(callback, lambda cb: self._depth(resolved, precision, cb, **queue))

    @overload
    def on_trades(self, market: MarketLike, callback: Callback[TradeUpdate],
                  **queue: Any) -> Subscription[TradeUpdate]: ...

    @overload
    def on_trades(self, market: MarketLike, callback: None = None,
                  **queue: Any) -> Decorator[TradeUpdate]: ...

    def on_trades(self, market: MarketLike, callback: Optional[Callback[TradeUpdate]] = None,
                  **queue: Any) -> Registration:
        """Call ``callback(update)`` for each trades message; decorator when omitted."""
        resolved = self.get_market(market)
        return register(callback, lambda cb: self._trades(resolved, cb, **queue))

    @overload
    def on_orders(self, account: str, callback: Callback[OrderUpdate],
                  **queue: Any) -> Subscription[OrderUpdate]: ...

    @overload
    def on_orders(self, account: str, callback: None = None,
                  **queue: Any) -> Decorator[OrderUpdate]: ...

    def on_orders(self, account: str, callback: Optional[Callback[OrderUpdate]] = None,
                  **queue: Any) -> Registration:
        """Call ``callback(update)`` for each orders message; decorator when omitted."""
        account = protocol.require_account_id(account)
        return register(callback, lambda cb: self._account("orders", account, cb, **queue))

    @overload
    def on_balances(self, account: str, callback: Callback[BalanceUpdate],
                    **queue: Any) -> Subscription[BalanceUpdate]: ...

    @overload
    def on_balances(self, account: str, callback: None = None,
                    **queue: Any) -> Decorator[BalanceUpdate]: ...

    def on_balances(self, account: str, callback: Optional[Callback[BalanceUpdate]] = None,
                    **queue: Any) -> Registration:
        """Call ``callback(update)`` for each balances message; decorator when omitted."""
        account = protocol.require_account_id(account)
        return register(callback, lambda cb: self._account("balances", account, cb, **queue))

    @overload
    def on_nonce(self, account: str, callback: Callback[NonceUpdate],
                 **queue: Any) -> Subscription[NonceUpdate]: ...

    @overload
    def on_nonce(self, account: str, callback: None = None,
                 **queue: Any) -> Decorator[NonceUpdate]: ...

    def on_nonce(self, account: str, callback: Optional[Callback[NonceUpdate]] = None,
                 **queue: Any) -> Registration:
        """Call ``callback(update)`` for each nonce message; decorator when omitted."""
        account = protocol.require_account_id(account)
        return register(callback, lambda cb: self._account("nonce", account, cb, **queue))

    # ------------------------------------------------------------ internals

    def _depth(self, market: MarketLike, precision: int, callback: Optional[Callback[Any]],
               sink: Optional[Callable[[Any], None]] = None, queue_size: QueueSize = None,
               overflow: OverflowArg = None, on_gap: Optional[Callable[[], None]] = None
               ) -> Subscription[DepthUpdate]:
        protocol.wire_precision(precision)  # a bad precision raises before any REST call
        m = self.get_market(market)
        frame = dumps(protocol.subscribe_depth(m.market_id, precision))

        def conflict(topic: Topic) -> None:
            if topic.info.precision != precision:
                raise ValueError(
                    f"{m.pair} depth is already streamed at precision {topic.info.precision} "
                    f"on this client; the protocol allows one precision per market and "
                    f"connection")

        spec = TopicSpec(("depth", m.market_id), self.ws_url, (frame,), DepthTopic(precision))
        return self._engine.subscribe(spec, name=f"depth:{m.pair}@{precision}",
                                      callback=callback, is_depth=True, conflict=conflict,
                                      sink=sink, queue_size=queue_size, overflow=overflow,
                                      on_gap=on_gap)

    def _trades(self, market: MarketLike, callback: Optional[Callback[Any]], *,
                queue_size: QueueSize = None, overflow: OverflowArg = None
                ) -> Subscription[TradeUpdate]:
        m = self.get_market(market)
        frame = dumps(protocol.subscribe_trades(m.market_id))
        spec = TopicSpec(("trades", m.market_id), self.ws_url, (frame,))
        return self._engine.subscribe(spec, name=f"trades:{m.pair}", callback=callback,
                                      queue_size=queue_size, overflow=overflow)

    def _account(self, kind: str, account: str, callback: Optional[Callback[Any]], *,
                 queue_size: QueueSize = None, overflow: OverflowArg = None
                 ) -> Subscription[Any]:
        account = protocol.require_account_id(account)
        frame = dumps(protocol.subscribe_account(kind, account))
        spec = TopicSpec((kind, account), self.ws_url, (frame,), account)
        return self._engine.subscribe(spec, name=f"{kind}:{account[:10]}", callback=callback,
                                      queue_size=queue_size, overflow=overflow)
