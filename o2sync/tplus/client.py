"""MarketDataClient and OrderBookClient: the tpluspy streams, for blocking code.

A script written against the tpluspy streams guide ports by deleting
``async``/``await``: ``async with MarketDataClient() as md`` becomes ``with
MarketDataClient() as md``, ``async for trade in md.stream_finalized_trades()``
becomes ``for trade in md.stream_finalized_trades()``. Unlike tpluspy, every stream
reconnects by itself (with backoff, a fresh token, a ``RECONNECTED`` lifecycle
event naming the stream), and ``order_book(asset)`` keeps a correct book through
gaps and reconnects.

Each stream path has its own socket, opened with its first consumer and closed
with its last; a client has 2 threads plus one per open socket.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union, overload

from ..clientbase import (
    Callback,
    Decorator,
    Registration,
    StreamingClient,
    next_client_name,
    register,
)
from ..endpoints import (
    ENV_TPLUS_MDS_URL,
    ENV_TPLUS_OMS_URL,
    check_http_url,
    tplus_mds_from_env,
    tplus_oms_from_env,
)
from ..engine.options import Options, Overflow
from ..engine.stream import StreamEngine
from ..engine.subscription import Subscription
from ..engine.venue import TopicSpec
from ..redact import redact_url
from . import protocol
from ._account_streams import MarketDataAccountMixin, OrderBookAccountMixin
from ._rest_calls import MarketDataRest, OrderBookRest, UserCalls, UserType, markets_page
from .asset import AssetIdentifier
from .auth import TokenStore, User
from .book import SequencedBook
from .errors import MissingClientUserError, NotFoundError
from .history import MarketsPage, OrderResponse
from .models import (
    KlineUpdate,
    OrderBook,
    OrderBookDiff,
    OrderEvent,
    Trade,
    TradeEvent,
    UserTrade,
)
from .rest import TplusRest
from .venue import DepthSplice, StreamInfo, TplusVenue

AssetLike = Union[AssetIdentifier, int, str]
#: What a depth stream yields: diffs, and a fresh snapshot (``is_snapshot``) after a
#: consumer fell behind and lost diffs (tpluspy's stream has diffs only).
DepthEvent = Union[OrderBook, OrderBookDiff]
QueueSize = Optional[int]
OverflowArg = Optional[Union[str, Overflow]]

MDS_DEFAULT = "http://localhost:8011"
OMS_DEFAULT = "http://localhost:3032"


def _from_env(base_url: Optional[str], from_env: Callable[[], Optional[str]], name: str,
              default: str) -> str:
    """``base_url``, else the service's environment variable (checked, and named in
    the error), else tpluspy's localhost default. tpluspy's default URL is the
    parameter's default, so left at it (or None) the environment may name another."""
    if base_url is not None and base_url != default:
        return base_url
    found = from_env()
    return check_http_url(found, name) if found is not None else default


def _user(user: object) -> Optional[User]:
    if user is None or isinstance(user, User):
        return user
    raise TypeError(f"default_user must be a User (User(), User(seed), load_user(name)), "
                    f"got {type(user).__name__}")


class _TplusClient(UserCalls, StreamingClient):
    """What both tplus clients share: one service origin, its REST, its login, its engine."""

    _service = "tplus"

    def __init__(self, base_url: str, default_user: Optional[User], options: dict[str, Any]
                 ) -> None:
        self.base_url = protocol.check_base_url(check_http_url(base_url, "base_url"), "base_url")
        self.default_user = _user(default_user)
        prefix = options.pop("auth_path_prefix", "")
        if not isinstance(prefix, str):
            raise TypeError(f"auth_path_prefix must be a str, got {prefix!r}")
        self.options = Options.build(**options)
        self.rest = TplusRest(self.base_url, self.options, prefix)
        self._auth = (TokenStore(self.default_user, self.rest.nonce, self.rest.auth)
                      if self.default_user is not None else None)
        self._init_users()
        self._venue = TplusVenue(self.rest, self._auth)
        self._engine = StreamEngine(self._venue, self.options, name=next_client_name())

    def _close_rest(self) -> None:
        self.rest.close()

    def _stream(self, path: str, kind: str, callback: Optional[Callback[Any]], *,
                asset: Optional[AssetIdentifier] = None, authenticated: bool = False,
                sink: Optional[Callable[[Any], None]] = None,
                on_gap: Optional[Callable[[], None]] = None,
                queue_size: QueueSize = None, overflow: OverflowArg = None
                ) -> Subscription[Any]:
        url = protocol.websocket_url(self.base_url, path)
        depth = kind == "depth"
        info = StreamInfo(kind, asset, authenticated, DepthSplice() if depth else None)
        return self._engine.subscribe(TopicSpec(url, url, (), info), name=f"{kind}:{path}",
                                      callback=callback, is_depth=depth, sink=sink,
                                      on_gap=on_gap, queue_size=queue_size, overflow=overflow)

    def _require_user(self) -> User:
        if self.default_user is None:
            raise MissingClientUserError(f"{type(self).__name__} needs default_user=User(...) "
                                         f"for this")
        return self.default_user

    def __repr__(self) -> str:
        s = self._engine.stats()
        return (f"<{type(self).__name__} {redact_url(self.base_url)} state={s['state']} "
                f"sockets={len(s['sockets'])} subscriptions={s['subscriptions']} "
                f"messages={s['messages']} dropped={s['dropped']}>")


class MarketDataClient(MarketDataAccountMixin, MarketDataRest, _TplusClient):
    """The market-data service (MDS): trades, trade events, depth, klines, tickers,
    open interest, history (history pages: :mod:`._rest_calls`; tickers and account
    reads: :mod:`._account_streams`).

    Args:
        base_url: the MDS base URL; without one, ``O2SYNC_TPLUS_MDS_URL`` (or tpluspy's
            ``TPLUS_MARKET_DATA_BASE_URL`` / ``TPLUS_API_BASE_URL``) from the
            environment, else tpluspy's default ``http://localhost:8011``.
        default_user: optional :class:`~o2sync.tplus.auth.User`; with one, the client
            logs in (as tpluspy 0.6 does) and sends the token on every handshake,
            falling back to anonymous when the login fails; user history needs it.
        **options: the same keyword options as :class:`~o2sync.O2Client` (see
            :class:`~o2sync.engine.options.Options`); heartbeats are WebSocket pings.
            ``auth_path_prefix=`` (tpluspy's) puts the login under a path prefix
            (``"/market-data"`` behind the single-origin gateway).
        oms_url: optional order service base URL (o2sync only), where
            :meth:`get_markets` reads the market list; without one,
            ``O2SYNC_TPLUS_OMS_URL`` (or tpluspy's ``TPLUS_ORDERBOOK_BASE_URL`` /
            ``TPLUS_API_BASE_URL``) if set.

    Every ``stream_*``/``on_*`` takes ``queue_size=`` and ``overflow=`` overrides.
    """

    def __init__(self, base_url: Optional[str] = MDS_DEFAULT,
                 default_user: Optional[User] = None, *, oms_url: Optional[str] = None,
                 **options: Any) -> None:
        super().__init__(_from_env(base_url, tplus_mds_from_env, ENV_TPLUS_MDS_URL,
                                   MDS_DEFAULT), default_user, options)
        if oms_url is None:
            found = tplus_oms_from_env()
            oms_url = check_http_url(found, ENV_TPLUS_OMS_URL) if found else None
        else:
            oms_url = protocol.check_base_url(check_http_url(oms_url, "oms_url"), "oms_url")
        self.oms_url = oms_url
        self._oms_rest: Optional[TplusRest] = None

    def get_markets(self, include_symbol_map: bool = False, *, page: Optional[int] = None,
                    limit: Optional[int] = None) -> MarketsPage:
        """The markets, as ``OrderBookClient.get_markets`` reads them (o2sync only:
        tpluspy's MDS client has no market list): from the order service at
        :attr:`oms_url` when one is configured, else from this client's own origin
        (a gateway that serves both services answers ``/markets`` there). Raises
        ``NotFoundError`` saying how to configure one when neither lists markets."""
        if self.oms_url is not None:
            if self._oms_rest is None:
                self._oms_rest = TplusRest(self.oms_url, self.options)
            return markets_page(self._oms_rest, include_symbol_map, page, limit)
        try:
            return markets_page(self.rest, include_symbol_map, page, limit)
        except NotFoundError as exc:
            why = (f"the market-data service at {redact_url(self.base_url)} lists no markets "
                   "(GET /markets: 404); they come from the order service: "
                   f"MarketDataClient(..., oms_url=...) or {ENV_TPLUS_OMS_URL}")
            raise NotFoundError(str(exc.code), why, exc.status, exc.details, exc.retryable,
                                response=exc.response, url=exc.url) from None

    def _close_rest(self) -> None:
        super()._close_rest()
        if self._oms_rest is not None:
            self._oms_rest.close()

    # ------------------------------------------------------------ streams

    def stream_finalized_trades(self, *, queue_size: QueueSize = None,
                                overflow: OverflowArg = None) -> Subscription[Trade]:
        """Every finalized trade (``/trades``), one :class:`Trade` per event."""
        return self._stream(protocol.FINALIZED_TRADES, "trades", None,
                            queue_size=queue_size, overflow=overflow)

    def stream_all_trades(self, *, queue_size: QueueSize = None,
                          overflow: OverflowArg = None) -> Subscription[TradeEvent]:
        """Every trade event (``/trades/events``): Pending, then Confirmed or Rollbacked."""
        return self._stream(protocol.TRADE_EVENTS, "trade_events", None,
                            queue_size=queue_size, overflow=overflow)

    def stream_depth(self, asset_id: AssetLike, *, queue_size: QueueSize = None,
                     overflow: OverflowArg = None) -> Subscription[DepthEvent]:
        """The raw depth diffs of ``asset_id`` (``/marketdepth/diff/{asset}``), as the guide
        shows them. If this consumer falls behind and loses diffs, it is handed a fresh
        :class:`OrderBook` snapshot and the diffs after it (``event.is_snapshot``).
        For a maintained book use :meth:`order_book`."""
        a = AssetIdentifier(asset_id)
        return self._stream(protocol.depth_path(a), "depth", None, asset=a,
                            queue_size=queue_size, overflow=overflow)

    def stream_klines(self, asset_id: AssetLike, *, queue_size: QueueSize = None,
                      overflow: OverflowArg = None) -> Subscription[KlineUpdate]:
        """Candle updates of ``asset_id``: one :class:`KlineUpdate` per bar, although the
        wire packs a list per frame."""
        a = AssetIdentifier(asset_id)
        return self._stream(protocol.klines_path(a), "klines", None, asset=a,
                            queue_size=queue_size, overflow=overflow)

    def order_book(self, asset: AssetLike) -> SequencedBook:
        """A live book of ``asset`` from snapshot + diffs by ``sequence_number``; on a
        gap, a crossed book or a reconnect it rebuilds itself from a new snapshot.
        ``book.wait_ready(timeout)`` before reading."""
        a = AssetIdentifier(asset)
        path = protocol.depth_path(a)
        return SequencedBook(
            self._engine, a, protocol.websocket_url(self.base_url, path),
            subscribe=lambda sink, on_gap: self._stream(path, "depth", None, asset=a,
                                                        sink=sink, on_gap=on_gap),
            fetch_snapshot=lambda: self.rest.orderbook(a))

    # ------------------------------------------------------------ callbacks

    @overload
    def on_finalized_trades(self, callback: Callback[Trade],
                            **queue: Any) -> Subscription[Trade]: ...

    @overload
    def on_finalized_trades(self, callback: None = None,
                            **queue: Any) -> Decorator[Trade]: ...

    def on_finalized_trades(self, callback: Optional[Callback[Trade]] = None,
                            **queue: Any) -> Registration:
        """Call ``callback(trade)`` for each finalized trade; decorator when omitted."""
        return register(callback, lambda cb: self._stream(protocol.FINALIZED_TRADES, "trades",
                                                          cb, **queue))

    @overload
    def on_all_trades(self, callback: Callback[TradeEvent],
                      **queue: Any) -> Subscription[TradeEvent]: ...

    @overload
    def on_all_trades(self, callback: None = None,
                      **queue: Any) -> Decorator[TradeEvent]: ...

    def on_all_trades(self, callback: Optional[Callback[TradeEvent]] = None,
                      **queue: Any) -> Registration:
        """Call ``callback(event)`` for each trade event; decorator when omitted."""
        return register(callback, lambda cb: self._stream(protocol.TRADE_EVENTS,
                                                          "trade_events", cb, **queue))

    @overload
    def on_depth(self, asset: AssetLike, callback: Callback[DepthEvent],
                 **queue: Any) -> Subscription[DepthEvent]: ...

    @overload
    def on_depth(self, asset: AssetLike, callback: None = None,
                 **queue: Any) -> Decorator[DepthEvent]: ...

    def on_depth(self, asset: AssetLike, callback: Optional[Callback[DepthEvent]] = None,
                 **queue: Any) -> Registration:
        """Call ``callback(diff)`` for each depth diff of ``asset``; decorator when omitted."""
        a = AssetIdentifier(asset)
        return register(callback, lambda cb: self._stream(protocol.depth_path(a), "depth", cb,
                                                          asset=a, **queue))

    @overload
    def on_klines(self, asset: AssetLike, callback: Callback[KlineUpdate],
                  **queue: Any) -> Subscription[KlineUpdate]: ...

    @overload
    def on_klines(self, asset: AssetLike, callback: None = None,
                  **queue: Any) -> Decorator[KlineUpdate]: ...

    def on_klines(self, asset: AssetLike, callback: Optional[Callback[KlineUpdate]] = None,
                  **queue: Any) -> Registration:
        """Call ``callback(bar)`` for each candle update of ``asset``; decorator when omitted."""
        a = AssetIdentifier(asset)
        return register(callback, lambda cb: self._stream(protocol.klines_path(a), "klines",
                                                          cb, asset=a, **queue))

    # ------------------------------------------------------------ REST

    def get_orderbook_snapshot(self, asset_id: AssetLike) -> OrderBook:
        """The order book now, with the ``sequence_number`` of the last diff in it."""
        return self.rest.orderbook(AssetIdentifier(asset_id))


class OrderBookClient(OrderBookAccountMixin, OrderBookRest, _TplusClient):
    """The order service (OMS): a user's order events, trade events, positions,
    account events and the market makers' intent feed, with the open orders
    (:mod:`._rest_calls`) and the positions, inventory, margin and solvency reads
    (:mod:`._account_streams`) that re-sync them.

    Args:
        base_url: the OMS base URL; without one, ``O2SYNC_TPLUS_OMS_URL`` (or tpluspy's
            ``TPLUS_ORDERBOOK_BASE_URL`` / ``TPLUS_API_BASE_URL``) from the environment,
            else tpluspy's default ``http://localhost:3032``.
        default_user: the :class:`~o2sync.tplus.auth.User` whose streams these are
            (``User()``, ``User(seed)``, ``load_user(name)``). It logs in before the
            first authenticated handshake and again before the token expires.
        market_data_url: optional MDS base URL: :attr:`market_data` is then an MDS
            client with the same user, for the history a resync re-reads (recent
            fills). Open orders come from this service: :meth:`get_open_orders_for_book`.
        **options: the same keyword options as :class:`~o2sync.O2Client`.
    """

    def __init__(self, base_url: Optional[str] = OMS_DEFAULT,
                 default_user: Optional[User] = None, *,
                 market_data_url: Optional[str] = None, **options: Any) -> None:
        super().__init__(_from_env(base_url, tplus_oms_from_env, ENV_TPLUS_OMS_URL,
                                   OMS_DEFAULT), default_user, options)
        self._init_markets()
        self._history = (MarketDataClient(market_data_url, self.default_user, **options)
                         if market_data_url is not None else None)

    def stream_orders(self, user: Optional[UserType] = None, *, queue_size: QueueSize = None,
                      overflow: OverflowArg = None) -> Subscription[OrderEvent]:
        """The order events of ``user`` (default: the default user): Created, Canceled,
        Removed, Replaced, Amended, Triggered and the ``*Failed`` kinds."""
        who = self._who(user, "stream_orders")
        return self._user_stream(protocol.ORDERS, "orders", who, None, "stream_orders",
                                 queue_size=queue_size, overflow=overflow)

    def stream_user_trade_events(self, user: Optional[UserType] = None, *,
                                 queue_size: QueueSize = None,
                                 overflow: OverflowArg = None) -> Subscription[UserTrade]:
        """The fills of ``user`` as they go Pending, then Confirmed or Rollbacked."""
        who = self._who(user, "stream_user_trade_events")
        return self._user_stream(protocol.user_trade_events_path(who.user_id), "user_trades",
                                 who, None, "stream_user_trade_events",
                                 queue_size=queue_size, overflow=overflow)

    def on_orders(self, callback: Optional[Callback[OrderEvent]] = None, *,
                  user: Optional[UserType] = None, **queue: Any) -> Registration:
        """Call ``callback(event)`` for each order event; decorator when omitted."""
        who = self._who(user, "on_orders")
        self._token_of(who, "on_orders")
        return register(callback, lambda cb: self._user_stream(
            protocol.ORDERS, "orders", who, cb, "on_orders", **queue))

    def on_user_trade_events(self, callback: Optional[Callback[UserTrade]] = None, *,
                             user: Optional[UserType] = None, **queue: Any) -> Registration:
        """Call ``callback(trade)`` for each user trade event; decorator when omitted."""
        who = self._who(user, "on_user_trade_events")
        self._token_of(who, "on_user_trade_events")
        path = protocol.user_trade_events_path(who.user_id)
        return register(callback, lambda cb: self._user_stream(
            path, "user_trades", who, cb, "on_user_trade_events", **queue))

    def set_default_user(self, user: Optional[User]) -> None:
        """Replace the default user (of :attr:`market_data` too, when there is one)."""
        super().set_default_user(user)
        if self._history is not None:
            self._history.set_default_user(user)

    @property
    def market_data(self) -> MarketDataClient:
        """The MDS client of ``market_data_url`` (same user and options), for the
        history a resync re-reads (``ob.market_data.get_user_trades(start_time=...)``)."""
        if self._history is None:
            raise ValueError("OrderBookClient(market_data_url=...) is needed for user history "
                             "(it lives on the market-data service)")
        return self._history

    def get_open_orders(self, asset: Optional[AssetLike] = None) -> list[OrderResponse]:
        """The default user's open orders from the order service: on ``asset``, or on
        every listed market (:meth:`get_open_orders_for_book` per market)."""
        if asset is not None:
            return self.get_open_orders_for_book(asset)
        self._require_user()
        found: list[OrderResponse] = []
        for market in self.get_markets():
            found.extend(self.get_open_orders_for_book(market.asset_id))
        return found

    def _close_rest(self) -> None:
        super()._close_rest()
        if self._history is not None:
            self._history.close()

    @property
    def token_expiry_ns(self) -> Optional[int]:
        """Expiry (Unix ns) of the token held for the default user, if any."""
        return self._auth.expiry_ns if self._auth is not None else None


__all__ = ["MarketDataClient", "OrderBookClient"]


def __getattr__(name: str) -> Any:
    # tpluspy's import path ``from tplus.client import TplusApiClient``, without a cycle
    if name == "TplusApiClient":
        from .api import TplusApiClient

        return TplusApiClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
