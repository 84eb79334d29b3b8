"""O2Client: the blocking counterpart of the O2 SDK's streaming client."""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, Union, cast, overload
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
from ..endpoints import (
    ENV_O2_API_URL,
    ENV_O2_NETWORK,
    ENV_O2_WS_URL,
    check_http_url,
    check_ws_url,
    o2_from_env,
)
from ..engine.options import Options, Overflow
from ..engine.registry import Topic
from ..engine.stream import StreamEngine
from ..engine.subscription import Subscription
from ..engine.venue import TopicSpec
from ..errors import InvalidArgumentError, O2SyncError
from ..redact import redact_url
from . import protocol
from .api import O2Api
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
from .network import Network, NetworkConfig, get_config
from .resources import AccountInfo, Bar, check_resolution
from .rest import MarketLike, RestClient
from .venue import O2Venue

log = logging.getLogger(__name__)

QueueSize = Optional[int]
OverflowArg = Optional[Union[str, Overflow]]


AccountArg = Union[AccountInfo, str, None]


def _account_id(account: Union[AccountInfo, str, None]) -> str:
    """A trade account id from an AccountInfo or an id string (checked, normalised)."""
    if isinstance(account, AccountInfo) and account.trade_account_id is None:
        raise InvalidArgumentError("AccountInfo has no trade_account_id")
    return protocol.require_account_id(account)


def _api_from_ws(ws_url: str) -> str:
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def _ws_from_api(api_url: str) -> str:
    parts = urlsplit(api_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/v1/ws", "", ""))


def _endpoints(network: Optional[Network], ws_url: Optional[str], api_url: Optional[str]
               ) -> tuple[Network, str, str]:
    """The network and both URLs: the arguments, else the ``O2SYNC_O2_*`` environment
    variables (:mod:`o2sync.endpoints`), else testnet; either URL implies the other."""
    if network is None and ws_url is None and api_url is None:
        env_network, ws_url, api_url = o2_from_env()
        if ws_url is not None:
            check_ws_url(ws_url, ENV_O2_WS_URL)
        if api_url is not None:
            check_http_url(api_url, ENV_O2_API_URL)
        if env_network is not None and ws_url is None and api_url is None:
            try:
                network = Network(env_network.lower())
            except ValueError:
                raise ValueError(f"{ENV_O2_NETWORK}={env_network!r} is not one of "
                                 f"{', '.join(n.value for n in Network)}") from None
    network = Network.TESTNET if network is None else network
    if ws_url is None and api_url is None:
        ws_url, api_url = network.ws_url, network.api_url
    elif ws_url is None:
        ws_url = check_ws_url(_ws_from_api(str(api_url)), "the WebSocket URL derived from api_url")
    elif api_url is None:
        api_url = check_http_url(_api_from_ws(ws_url), "the REST URL derived from ws_url")
    return network, ws_url, str(api_url)


class O2Client(StreamingClient):
    """Synchronous, threaded client for the O2 Exchange streams.

    One WebSocket carries every subscription; three named threads serve it (reader,
    watchdog, dispatcher), however many subscriptions there are. Streams connect
    lazily; ``connect()`` connects eagerly. Use as a context manager, or call
    ``close()``.

    Every ``stream_*`` and ``on_*`` takes ``queue_size=`` and ``overflow=`` to
    override the client's options for that one consumer.

    Args:
        network: a public network, used unless URLs are given. Without a network
            and URLs, the ``O2SYNC_O2_NETWORK`` / ``O2SYNC_O2_WS_URL`` /
            ``O2SYNC_O2_API_URL`` environment variables decide, else testnet.
        ws_url, api_url: a custom deployment or the simulator; either one implies the
            other. Checked here: a malformed URL raises ValueError naming the fault.
        **options: keyword options, checked at the call (see
            :class:`~o2sync.engine.options.Options` for all of them and their defaults):
            ``ping_interval`` (seconds between text ``PING`` heartbeats, default 20; the
            server drops a client that sent nothing for 60 s), ``pong_timeout``
            (seconds without any frame after a heartbeat before the link counts as
            dead, default 20), ``reconnect``, ``max_reconnect_attempts``,
            ``backoff_initial``, ``backoff_max``, ``connect_timeout``, ``queue_size``,
            ``overflow`` (``"drop_newest"`` or ``"drop_oldest"``), ``dispatcher``
            (runs each callback; for Tk pass ``queue.put`` of a queue the Tk main loop
            drains, never ``root.after`` from o2sync's threads), ``inline_callbacks``
            (True: stream callbacks run on the socket's reader thread, for the lowest
            latency; a slow callback then delays reading), ``sslopt``, ``ca_bundle``,
            ``proxy``, ``max_message_size``, ``rest_timeout`` (total seconds of one
            REST call), ``rest_retries``, ``rest_backoff``, ``rest_retry_after_max``.
    """

    def __init__(self, network: Network = Network.TESTNET,
                 custom_config: Optional[NetworkConfig] = None,
                 action_timeout_seconds: float = 30.0, *, ws_url: Optional[str] = None,
                 api_url: Optional[str] = None, **options: Any) -> None:
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {network!r}")
        if custom_config is not None and not isinstance(custom_config, NetworkConfig):
            raise TypeError(f"custom_config must be a NetworkConfig, got {custom_config!r}")
        if isinstance(action_timeout_seconds, bool) or not (
                isinstance(action_timeout_seconds, (int, float)) and action_timeout_seconds > 0):
            raise ValueError("action_timeout_seconds must be greater than zero")
        if ws_url is not None:
            check_ws_url(ws_url, "ws_url")
        if api_url is not None:
            check_http_url(api_url, "api_url")
        self.options = Options.build(**options)
        if ws_url is None and api_url is None and custom_config is not None:
            ws_url, api_url = custom_config.ws_url, custom_config.api_base
        # o2-sdk's default network is testnet; left at that default (and with no URL given),
        # the O2SYNC_O2_* environment variables may name another network or URLs.
        network, ws_url, api_url = _endpoints(
            None if network is Network.TESTNET else network, ws_url, api_url)
        self.network = network
        self.ws_url: str = ws_url
        self.api_url: str = str(api_url)
        self._engine = StreamEngine(O2Venue(), self.options, name=next_client_name())
        opts = self.options
        self.rest = RestClient(self.api_url, timeout=opts.rest_timeout, retries=opts.rest_retries,
                               backoff=opts.rest_backoff, proxy=opts.proxy,
                               ca_bundle=opts.ca_bundle,
                               retry_after_max=opts.rest_retry_after_max)
        if custom_config is None:
            known = get_config(network)
            custom_config = NetworkConfig(self.api_url, self.ws_url, known.fuel_rpc,
                                          known.faucet_url)
        self.config = custom_config
        #: o2-sdk's low-level REST client, over this client's connection pool
        self.api = O2Api(self.config, action_timeout_seconds=action_timeout_seconds,
                         rest=self.rest)

    @classmethod
    def from_relay(cls, url: str, prefix: str = "o2sync", *, api_url: Optional[str] = None,
                   **options: Any) -> O2Client:
        """A client reading the streams an ``o2sync relay`` logs in Redis at ``url``
        (``redis://HOST:PORT[/DB]``) under ``prefix``, not the exchange's sockets.

        ``stream_*``, ``on_*``, ``order_book``, lifecycle and ``stats()`` work as on a
        direct client (the same decoders read the relayed raw frames). The markets
        come from the relay; other REST calls need ``api_url`` (else they raise
        :class:`~o2sync.relay.client.RelayRestError`). Needs ``o2sync[relay]``.
        """
        from ..relay.client import o2_from_relay

        client: O2Client = o2_from_relay(cls, url, prefix, api_url=api_url, **options)
        return client

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
        """Every spot market (fetched once, then cached; ``refresh`` re-reads)."""
        return self.rest.markets(refresh)

    def get_market(self, symbol_pair: MarketLike) -> Market:
        """Resolve a pair name (``"fFUEL/fUSDC"``), a market or contract id, or a Market.

        An unknown market raises :class:`~o2sync.errors.MarketNotFoundError` (an
        o2-sdk ``O2Error``) listing the pairs there are.
        """
        return self.rest.resolve(symbol_pair)

    def get_depth(self, market: MarketLike, precision: int = 1,
                  limit: Optional[int] = None) -> DepthSnapshot:
        """The order book now from ``GET /v1/depth``: a :class:`DepthSnapshot` (absolute
        levels, best first; ``depth.best_bid``, ``depth.bids``), as in o2-sdk."""
        protocol.wire_precision(precision)
        return self.rest.depth(self.get_market(market), precision, limit)

    def get_trades(self, market: MarketLike, count: int = 50, account: AccountArg = None,
                   start_timestamp: Optional[int] = None,
                   start_trade_id: Optional[str] = None) -> list[Trade]:
        """Trades of a market, newest first (``count`` 1..50). With ``account`` (an
        AccountInfo or trade account id) only that account's, each with
        ``trader_side``. Page on with the last trade's ``timestamp`` and ``trade_id``."""
        m = self.get_market(market)
        if account is None:
            return self.api.get_trades(m.market_id, count=count,
                                       start_timestamp=start_timestamp,
                                       start_trade_id=start_trade_id)
        return self.api.get_trades_by_account(m.market_id, _account_id(account), count=count,
                                              start_timestamp=start_timestamp,
                                              start_trade_id=start_trade_id)

    def get_orders(self, market: MarketLike, account: Union[AccountInfo, str],
                   is_open: Optional[bool] = None, count: int = 20,
                   start_timestamp: Optional[int] = None,
                   start_order_id: Optional[str] = None) -> list[Order]:
        """One page of an account's orders on a market, newest first (``count``
        1..200; ``is_open`` True / False / None for all). Page on with the last
        order's ``timestamp`` and ``order_id``; :meth:`get_open_orders` does it all."""
        m = self.get_market(market)
        return self.api.get_orders(m.market_id, contract=_account_id(account),
                                   direction="desc", count=count, is_open=is_open,
                                   start_timestamp=start_timestamp,
                                   start_order_id=start_order_id).orders

    def get_open_orders(self, market: MarketLike, account: Union[AccountInfo, str]
                        ) -> list[Order]:
        """Every open order of an account on a market (to re-sync after RECONNECTED):
        :meth:`get_orders` pages of 200 until the last, so none is lost past the first."""
        return self.rest.open_orders(self.get_market(market), _account_id(account))

    def get_order(self, market: MarketLike, order_id: str) -> Order:
        """One order (to settle an order whose last event was lost)."""
        return self.api.get_order(self.get_market(market).market_id, order_id)

    def get_balances(self, account: Union[AccountInfo, str]) -> dict[str, Balance]:
        """Balances of every asset traded on the exchange, keyed by asset SYMBOL (as
        o2-sdk; ``balance.asset_id`` names the asset). An asset whose call fails is
        left out, as in o2-sdk, and logged."""
        account = _account_id(account)
        out: dict[str, Balance] = {}
        seen: set[str] = set()
        for market in self.get_markets():
            for asset in (market.base, market.quote):
                if asset.asset in seen:
                    continue
                seen.add(asset.asset)
                try:
                    out[asset.symbol] = self.rest.balance(account, asset.asset)
                except O2SyncError as exc:
                    log.warning("balance of %s left out: %s", asset.symbol, exc)
        return out

    def get_nonce(self, trade_account_id: Union[AccountInfo, str]) -> int:
        """The trade account's nonce now (0 when the account does not exist)."""
        return self.api.get_account(trade_account_id=_account_id(trade_account_id)).nonce

    def get_bars(self, market: MarketLike, resolution: str, from_ts: int, to_ts: int
                 ) -> list[Bar]:
        """Candles of a market between two times in ms (``resolution`` ``"1m"``,
        ``"1h"``, ``"1d"``...; an unknown one raises ``ValueError`` first)."""
        check_resolution(resolution)
        return self.api.get_bars(self.get_market(market).market_id, from_ts, to_ts,
                                 resolution)

    def get_ticker(self, market: MarketLike) -> dict[str, Any]:
        """The market's ticker as sent (a dict, with ``market_id``)."""
        return self.api.get_market_ticker(self.get_market(market).market_id).data

    # ------------------------------------------------------------ streams

    def stream_depth(self, market: MarketLike, precision: int = 1, *,
                     queue_size: QueueSize = None, overflow: OverflowArg = None,
                     group: Optional[str] = None) -> Subscription[DepthUpdate]:
        """Depth of a market: a snapshot first (and after every reconnect), then deltas."""
        if group is not None:
            raise ValueError("depth refuses group mode: a book needs every delta "
                             "(group= is for trades and the other streams)")
        return self._depth(market, precision, None, queue_size=queue_size, overflow=overflow)

    def stream_trades(self, market: MarketLike, *, queue_size: QueueSize = None,
                      overflow: OverflowArg = None, group: Optional[str] = None,
                      consumer: Optional[str] = None, claim_after: float = 30.0
                      ) -> Subscription[TradeUpdate]:
        """New trades of a market.

        On a client reading a relay, ``group="workers"`` makes this consumer one member
        of that consumer group: each trade update goes to one member, at least once;
        it is acknowledged when the next is taken (or by ``sub.ack(event)``), and a dead
        member's unacknowledged ones are delivered again after ``claim_after`` seconds.
        """
        if group is not None:
            from ..relay.client import group_trades

            # a GroupSubscription: the Subscription API (it delegates) plus ack()
            return cast(Subscription[TradeUpdate], group_trades(
                self, market, group, consumer, claim_after=claim_after,
                queue_size=queue_size, overflow=overflow))
        return self._trades(market, None, queue_size=queue_size, overflow=overflow)

    def stream_orders(self, account: Union[AccountInfo, str], *, queue_size: QueueSize = None,
                      overflow: OverflowArg = None) -> Subscription[OrderUpdate]:
        """Order changes of a trade account."""
        return self._account("orders", account, None, queue_size=queue_size, overflow=overflow)

    def stream_balances(self, account: Union[AccountInfo, str], *, queue_size: QueueSize = None,
                        overflow: OverflowArg = None) -> Subscription[BalanceUpdate]:
        """Balance changes of a trade account."""
        return self._account("balances", account, None, queue_size=queue_size,
                             overflow=overflow)

    def stream_nonce(self, account: Union[AccountInfo, str], *, queue_size: QueueSize = None,
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

    def _account(self, kind: str, account: Union[AccountInfo, str],
                 callback: Optional[Callback[Any]], *,
                 queue_size: QueueSize = None, overflow: OverflowArg = None
                 ) -> Subscription[Any]:
        account = _account_id(account)
        frame = dumps(protocol.subscribe_account(kind, account))
        spec = TopicSpec((kind, account), self.ws_url, (frame,), account)
        return self._engine.subscribe(spec, name=f"{kind}:{account[:10]}", callback=callback,
                                      queue_size=queue_size, overflow=overflow)
