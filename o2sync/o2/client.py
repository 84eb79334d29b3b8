"""O2Client: the blocking counterpart of the O2 SDK's streaming client."""

from __future__ import annotations

import itertools
import logging
import os
from typing import Any, Callable, Optional, TypeVar, Union, cast
from urllib.parse import urlsplit, urlunsplit

from .._json import dumps
from ..book import LiveOrderBook
from ..engine.dispatcher import Scheduler
from ..engine.stream import ERRORS, LIFECYCLE, StreamEngine, Topic
from ..engine.subscription import Overflow, Subscription
from ..models import (
    Balance,
    BalanceUpdate,
    ConnectionEvent,
    DepthUpdate,
    Market,
    NonceUpdate,
    Order,
    OrderUpdate,
    Trade,
    TradeUpdate,
)
from ..proxy import parse_proxy
from ..redact import redact_url
from . import protocol
from .network import Network
from .rest import MarketLike, RestClient
from .router import O2Router

log = logging.getLogger(__name__)

E = TypeVar("E")
Callback = Callable[[E], Any]
_client_ids = itertools.count(1)  # names threads o2sync-1-reader, o2sync-2-...


def _api_from_ws(ws_url: str) -> str:
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def _ws_from_api(api_url: str) -> str:
    parts = urlsplit(api_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/v1/ws", "", ""))


class O2Client:
    """Synchronous, threaded client for the O2 Exchange streams.

    One WebSocket carries every subscription; three named threads serve it (reader,
    watchdog, dispatcher), however many subscriptions there are. Streams connect
    lazily; ``connect()`` connects eagerly. Use as a context manager, or call
    ``close()``.

    Args:
        network: a public network (default testnet), used unless URLs are given.
        ws_url, api_url: a custom deployment or the simulator; either one implies the other.
        ping_interval: seconds between text ``PING`` heartbeats (default 20; the
            server drops a client that sent nothing for 60 s).
        pong_timeout: seconds without any frame (``PONG`` or data) after a heartbeat
            before the link counts as dead (half-open) and is reconnected (default
            20, so a dead link is noticed within about 40 s).
        reconnect: reconnect after a loss (True), or close (False).
        max_reconnect_attempts: give up (CLOSED) after this many failed attempts; None = never.
        backoff_initial, backoff_max: reconnect delay bounds; exponential with jitter.
        connect_timeout: seconds for one WebSocket connect attempt.
        queue_size: events each subscription may hold before overflow.
        overflow: ``"drop_newest"`` or ``"drop_oldest"`` (depth streams always resync).
        dispatcher: optional ``fn -> None`` that runs callbacks elsewhere, e.g.
            ``lambda fn: root.after(0, fn)`` for Tk.
        sslopt: websocket-client SSL options.
        ca_bundle: path of a PEM CA bundle trusted by REST (``verify=ca_bundle``) and
            the WebSocket (``sslopt["ca_certs"]``) alike; certificates are verified by
            default either way.
        proxy: ``http://``, ``https://``, ``socks4://``, ``socks5://`` or
            ``socks5h://`` ``[user:password@]host[:port]`` for WS and REST, checked
            here (SOCKS needs ``pip install "o2sync[socks]"``).
        rest_timeout: total seconds one REST call may take, retries and body included.
        rest_retries, rest_backoff: REST retry settings; ``rest_retry_after_max``
            is the longest ``Retry-After`` waited (a longer one raises RateLimitedError).
    """

    def __init__(self, network: Network = Network.TESTNET, *, ws_url: Optional[str] = None,
                 api_url: Optional[str] = None, ping_interval: float = 20.0,
                 pong_timeout: float = 20.0, reconnect: bool = True,
                 max_reconnect_attempts: Optional[int] = None, backoff_initial: float = 0.25,
                 backoff_max: float = 30.0, connect_timeout: float = 10.0,
                 queue_size: int = 10_000, overflow: Union[str, Overflow] = "drop_newest",
                 dispatcher: Optional[Scheduler] = None,
                 sslopt: Optional[dict[str, Any]] = None, proxy: Optional[str] = None,
                 rest_timeout: float = 10.0, rest_retries: int = 3,
                 rest_backoff: float = 1.0, ca_bundle: Optional[str] = None,
                 rest_retry_after_max: float = 10.0) -> None:
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {network!r}")
        if ws_url is None and api_url is None:
            ws_url, api_url = network.ws_url, network.api_url
        elif ws_url is None:
            ws_url = _ws_from_api(str(api_url))
        elif api_url is None:
            api_url = _api_from_ws(ws_url)
        parse_proxy(proxy)  # ValueError (or ImportError for SOCKS without the extra) now
        if ca_bundle is not None:
            if not isinstance(ca_bundle, str) or not os.path.isfile(ca_bundle):
                raise ValueError(f"ca_bundle must be the path of a PEM file, got {ca_bundle!r}")
            sslopt = {**(sslopt or {}), "ca_certs": ca_bundle}
        if dispatcher is not None and not callable(dispatcher):
            raise TypeError("dispatcher must be a callable taking a zero-argument function")
        self.network = network
        self.ws_url: str = ws_url
        self.api_url: str = str(api_url)
        name = f"o2sync-{next(_client_ids)}"
        self._engine = StreamEngine(
            ws_url, name=name, ping_text=protocol.PING, ping_interval=ping_interval,
            pong_timeout=pong_timeout, reconnect=reconnect,
            max_reconnect_attempts=max_reconnect_attempts, backoff_initial=backoff_initial,
            backoff_max=backoff_max, connect_timeout=connect_timeout, queue_size=queue_size,
            overflow=overflow, dispatcher=dispatcher, sslopt=sslopt, proxy=proxy,
            unsubscribe_frames=self._unsubscribe_frames)
        self._engine.router = O2Router(self._engine)
        self.rest = RestClient(self.api_url, timeout=rest_timeout, retries=rest_retries,
                               backoff=rest_backoff, proxy=proxy, ca_bundle=ca_bundle,
                               retry_after_max=rest_retry_after_max)

    # ------------------------------------------------------------ connection

    def connect(self, timeout: Optional[float] = 10.0) -> O2Client:
        """Connect now and wait until connected (streams also connect by themselves).

        Raises ConnectError if not connected within ``timeout`` (retries go on in the
        background unless the client closed).
        """
        self._engine.wait_connected(timeout)
        return self

    @property
    def is_connected(self) -> bool:
        """True while a socket is up and subscriptions are replayed."""
        return self._engine.is_connected

    def run_forever(self) -> None:
        """Block until ``close()`` (from any thread or a callback) or Ctrl-C, then close."""
        try:
            self._engine.start()
            self._engine.wait_closed(None)
        except KeyboardInterrupt:
            log.info("interrupted; closing")
        finally:
            self.close()

    def close(self, timeout: float = 5.0) -> bool:
        """Close in bounded time (idempotent, any thread, also from a callback).

        Emits CLOSED, ends every iterator, stops every o2sync thread of this client.
        Returns True if every thread ended within ``timeout``.
        """
        ok = self._engine.close(timeout)
        self.rest.close()
        return ok

    def stats(self) -> dict[str, Any]:
        """Counters: messages, events, decode_errors, server_errors, ignored,
        resync_skipped (deltas skipped until a fresh snapshot), dropped,
        callback_errors, reconnects, pings_sent, pongs, subscriptions, state."""
        return self._engine.stats()

    def __enter__(self) -> O2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self._engine.stats()
        return (f"<O2Client {redact_url(self.ws_url)} state={s['state']} "
                f"subscriptions={s['subscriptions']} messages={s['messages']} "
                f"dropped={s['dropped']}>")

    # ------------------------------------------------------------ REST

    def get_markets(self, refresh: bool = False) -> list[Market]:
        """Every spot market (fetched once, then cached)."""
        return self.rest.markets(refresh)

    def get_market(self, market: MarketLike) -> Market:
        """Resolve a pair name (``"fFUEL/fUSDC"``), a market id, or a Market."""
        return self.rest.resolve(market)

    def get_depth(self, market: MarketLike, precision: int = 1,
                  limit: Optional[int] = None) -> DepthUpdate:
        """The order book now (a snapshot DepthUpdate) from ``GET /v1/depth``."""
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

    def stream_depth(self, market: MarketLike, precision: int = 1
                     ) -> Subscription[DepthUpdate]:
        """Depth of a market: a snapshot first (and after every reconnect), then deltas."""
        return self._depth(market, precision, None)

    def stream_trades(self, market: MarketLike) -> Subscription[TradeUpdate]:
        """New trades of a market."""
        return self._trades(market, None)

    def stream_orders(self, account: str) -> Subscription[OrderUpdate]:
        """Order changes of a trade account."""
        return self._account("orders", account, None)

    def stream_balances(self, account: str) -> Subscription[BalanceUpdate]:
        """Balance changes of a trade account."""
        return self._account("balances", account, None)

    def stream_nonce(self, account: str) -> Subscription[NonceUpdate]:
        """Nonce changes of a trade account."""
        return self._account("nonce", account, None)

    def stream_lifecycle(self) -> Subscription[ConnectionEvent]:
        """Connection events: CONNECTED, DISCONNECTED, RECONNECTING, RECONNECTED, CLOSED."""
        return self._engine.local(LIFECYCLE, "lifecycle", None)

    def stream_errors(self) -> Subscription[Exception]:
        """Reports of dropped frames, overflows and failed callbacks, as exceptions."""
        return self._engine.local(ERRORS, "errors", None)

    def order_book(self, market: MarketLike, precision: int = 1) -> LiveOrderBook:
        """A :class:`~o2sync.book.LiveOrderBook` kept live from the depth stream.

        It resets on every reconnect (or lost event) from the fresh snapshot and is
        not ready in between. ``book.wait_ready(timeout)`` before reading.
        """
        protocol.wire_precision(precision)
        m = self.get_market(market)
        return LiveOrderBook(
            self._engine, m, precision,
            subscribe=lambda sink: self._depth(m, precision, None, sink),
            fetch_depth=lambda: self.rest.depth(m, precision))

    # ------------------------------------------------------------ callbacks

    def on_depth(self, market: MarketLike, callback: Optional[Callback[DepthUpdate]] = None,
                 precision: int = 1) -> Any:
        """Call ``callback(update)`` for each depth message; decorator when omitted."""
        protocol.wire_precision(precision)
        resolved = self.get_market(market)
        return _register(callback, lambda cb: self._depth(resolved, precision, cb))

    def on_trades(self, market: MarketLike, callback: Optional[Callback[TradeUpdate]] = None
                  ) -> Any:
        """Call ``callback(update)`` for each trades message; decorator when omitted."""
        resolved = self.get_market(market)
        return _register(callback, lambda cb: self._trades(resolved, cb))

    def on_orders(self, account: str, callback: Optional[Callback[OrderUpdate]] = None) -> Any:
        """Call ``callback(update)`` for each orders message; decorator when omitted."""
        account = protocol.require_account_id(account)
        return _register(callback, lambda cb: self._account("orders", account, cb))

    def on_balances(self, account: str, callback: Optional[Callback[BalanceUpdate]] = None
                    ) -> Any:
        """Call ``callback(update)`` for each balances message; decorator when omitted."""
        account = protocol.require_account_id(account)
        return _register(callback, lambda cb: self._account("balances", account, cb))

    def on_nonce(self, account: str, callback: Optional[Callback[NonceUpdate]] = None) -> Any:
        """Call ``callback(update)`` for each nonce message; decorator when omitted."""
        account = protocol.require_account_id(account)
        return _register(callback, lambda cb: self._account("nonce", account, cb))

    def on_lifecycle(self, callback: Optional[Callback[ConnectionEvent]] = None) -> Any:
        """Call ``callback(event)`` on each connection event; decorator when omitted."""
        return _register(callback, lambda cb: self._engine.local(LIFECYCLE, "lifecycle", cb))

    def on_error(self, callback: Optional[Callback[Exception]] = None) -> Any:
        """Call ``callback(error)`` for each reported problem (decode errors, overflow,
        callback exceptions, server error frames); decorator when omitted."""
        return _register(callback, lambda cb: self._engine.local(ERRORS, "errors", cb))

    # ------------------------------------------------------------ internals

    def _depth(self, market: MarketLike, precision: int, callback: Optional[Callback[Any]],
               sink: Optional[Callable[[Any], None]] = None) -> Subscription[DepthUpdate]:
        protocol.wire_precision(precision)  # a bad precision raises before any REST call
        m = self.get_market(market)
        frame = protocol.subscribe_depth(m.market_id, precision)

        def conflict(topic: Topic) -> None:
            if topic.info != precision:
                raise ValueError(
                    f"{m.pair} depth is already streamed at precision {topic.info} on this "
                    f"client; the protocol allows one precision per market and connection")

        return self._engine.subscribe(("depth", m.market_id), [dumps(frame)],
                                      name=f"depth:{m.pair}@{precision}", callback=callback,
                                      is_depth=True, info=precision, conflict=conflict,
                                      sink=sink)

    def _trades(self, market: MarketLike, callback: Optional[Callback[Any]]
                ) -> Subscription[TradeUpdate]:
        m = self.get_market(market)
        return self._engine.subscribe(("trades", m.market_id),
                                      [dumps(protocol.subscribe_trades(m.market_id))],
                                      name=f"trades:{m.pair}", callback=callback)

    def _account(self, kind: str, account: str, callback: Optional[Callback[Any]]
                 ) -> Subscription[Any]:
        account = protocol.require_account_id(account)
        frame = dumps(protocol.subscribe_account(kind, account))
        return self._engine.subscribe((kind, account), [frame],
                                      name=f"{kind}:{account[:10]}", callback=callback,
                                      info=account)

    @staticmethod
    def _unsubscribe_frames(topic: Topic, remaining: dict[Any, Topic]) -> list[str]:
        kind, ident = cast(tuple[str, str], topic.key)
        if kind == "depth":
            return [dumps(protocol.unsubscribe_depth(ident))]
        if kind == "trades":
            return [dumps(protocol.unsubscribe_trades(ident))]
        frames = [dumps(protocol.unsubscribe_account(kind, ident))]
        if kind == "orders":
            # unsubscribe_orders is connection-global: put the other accounts back
            frames += [f for t in remaining.values()
                       if t is not topic and cast(tuple, t.key)[0] == "orders"
                       for f in t.subscribe_frames]
        return frames



def _register(callback: Optional[Callable[..., Any]],
              make: Callable[[Callable[..., Any]], Subscription[Any]]) -> Any:
    if callback is None:
        def decorator(fn: Callable[..., Any]) -> Subscription[Any]:
            if not callable(fn):
                raise TypeError(f"callback must be callable, got {fn!r}")
            return make(fn)
        return decorator
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    return make(callback)
