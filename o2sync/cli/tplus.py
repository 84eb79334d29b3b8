"""The tplus side of ``o2sync watch|record|replay|demo --venue tplus``.

A tplus deployment is two services (market data, MDS; orders, OMS), each a
client of its own with sockets per stream path. :class:`TplusSession` holds both
and looks like one client to the command: ``on_lifecycle``, ``close``,
``stats``, ``add_tap``, so the :class:`~o2sync.cli.status.LifecycleReporter`, the
recorder and the error handling serve both venues alike.

Streams (``KIND [ASSET]``): ``trades`` (finalized), ``trade-events``, ``depth
ASSET``, ``klines ASSET``, ``orders``, ``user-trades``; the last two are the
user's and need ``--user-seed`` (the built-in simulator's user by default).
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import Any, Callable, Optional, TextIO
from urllib.parse import urlsplit

from ..clientbase import StreamingClient
from ..engine.subscription import Subscription
from ..errors import ApiError, ConnectError, MalformedResponseError
from ..numbers import exact_scaleb
from ..tplus import protocol
from ..tplus.asset import AssetIdentifier
from ..tplus.auth import User
from ..tplus.client import MarketDataClient, OrderBookClient
from ..tplus.models import (
    KlineUpdate,
    LimitOrderDetails,
    MarketInfo,
    OrderBook,
    OrderBookDiff,
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderEvent,
    OrderFailedEvent,
    OrderRemovedEvent,
    Trade,
    TradeEvent,
    UserTrade,
)
from ..tplus.symbols import MarketNames, short_asset
from .jsonline import json_line, market_ref
from .status import clock

STREAMS = ("trades", "trade-events", "depth", "klines", "orders", "user-trades")
NEEDS_ASSET = ("depth", "klines")
USER_STREAMS = ("orders", "user-trades")


class _Subscriptions:
    """Several subscriptions closed as one (the reporter keeps one handle)."""

    def __init__(self, subs: list[Any]) -> None:
        self.subs = subs

    def close(self) -> None:
        for sub in self.subs:
            sub.close()


def _base_path_hint(base_url: str) -> str:
    """A 404 under a base URL with a path may be the path's fault, not the market's."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.path.strip("/"):
        root = f"{parts.scheme}://{parts.netloc}"
        return (f" (or the URL's path {parts.path} is wrong: tplus services answer at "
                f"their root, e.g. --mds-url {root})")
    return ""


class TplusSession:
    """The MDS and OMS clients of one command, seen as one client.

    ``user_seed`` (hex) makes the OMS client log in as that user (``orders``,
    ``user-trades``); ``simulator`` is the built-in TplusSimulator, if one runs.
    """

    venue = "tplus"

    def __init__(self, mds_url: str, oms_url: Optional[str], user_seed: Optional[str],
                 options: dict[str, Any], simulator: Any = None) -> None:
        self.mds_url = mds_url
        self.oms_url = oms_url
        self.simulator = simulator
        self.user = User(user_seed) if user_seed else None
        self.md = MarketDataClient(mds_url, **options)
        self.ob: Optional[OrderBookClient] = None
        if oms_url:
            self.ob = OrderBookClient(oms_url, default_user=self.user, **options)
        self._markets: dict[str, Optional[MarketInfo]] = {}
        self._names: Optional[MarketNames] = None

    # what the command's error handling reads
    @property
    def api_url(self) -> str:
        return self.mds_url

    @property
    def ws_url(self) -> str:
        return protocol.websocket_url(self.mds_url, "/")

    @property
    def clients(self) -> list[StreamingClient]:
        return [c for c in (self.md, self.ob) if c is not None]

    def on_lifecycle(self, callback: Callable[[Any], Any]) -> _Subscriptions:
        return _Subscriptions([c.on_lifecycle(callback) for c in self.clients])

    def add_tap(self, tap: Callable[[str, bytes], None]) -> None:
        for c in self.clients:
            c.add_tap(tap)

    def remove_tap(self, tap: Callable[[str, bytes], None]) -> None:
        for c in self.clients:
            c.remove_tap(tap)

    @property
    def closing(self) -> bool:
        return any(c._engine.closing for c in self.clients)

    def stats(self) -> dict[str, Any]:
        """The market-data client's counters, plus the order client's messages etc."""
        merged = dict(self.md.stats())
        if self.ob is not None:
            for key, value in self.ob.stats().items():
                if key != "state" and isinstance(value, int) and isinstance(
                        merged.get(key), int):
                    merged[key] += value
        return merged

    def close(self) -> None:
        for c in self.clients:
            c.close()

    def __enter__(self) -> TplusSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- streams -------------------------------------------------------------------------

    def orders_client(self) -> OrderBookClient:
        if self.ob is None:
            raise CliUsage("the user streams (orders, user-trades) need --oms-url")
        if self.user is None:
            raise CliUsage("the user streams (orders, user-trades) need --user-seed HEX "
                           "(the user's 32-byte Ed25519 seed)")
        return self.ob

    @property
    def names(self) -> MarketNames:
        """The markets and their symbols (``GET /markets?include_symbol_map=true`` of
        the order service, or of the market-data service when it answers), read
        once; empty when neither lists them (assets are then named by id)."""
        if self._names is None:
            try:
                self._names = MarketNames.of(self.ob if self.ob is not None else self.md)
            except (ApiError, ConnectError, MalformedResponseError):
                self._names = MarketNames()
        return self._names

    def label(self, asset: Any) -> str:
        """How lines name ``asset``: its symbol, else its short id."""
        return self.names.label(asset)

    def market(self, asset: AssetIdentifier) -> Optional[MarketInfo]:
        """A market's decimals from the OMS, if there is one (cached; None if unknown)."""
        key = str(asset)
        if key not in self._markets:
            listed = self.names.market(asset)
            try:
                self._markets[key] = listed or (self.ob.get_market(asset) if self.ob else None)
            except ApiError:
                self._markets[key] = None
        return self._markets[key]

    def check(self, kind: str, asset: Optional[str]) -> Optional[AssetIdentifier]:
        """Validate ``KIND [ASSET]`` (ValueError/LookupError); the asset, if any. ASSET
        is an id, a symbol or a short id as the lines show it; an unknown one lists
        the known markets."""
        if kind not in STREAMS:
            raise ValueError(f"unknown tplus stream {kind!r}; choose from {', '.join(STREAMS)}")
        if kind in USER_STREAMS:
            self.orders_client()
        if kind in NEEDS_ASSET and not asset:
            known = self.names.known()
            hint = f"; known: {', '.join(known)}" if known else ""
            raise ValueError(f"the {kind} stream needs an ASSET (e.g. {kind} "
                             f"{self.label(next(iter(self.names), '200'))}){hint}")
        if not asset:
            return None
        a = self.names.resolve(asset, self.mds_url)
        if kind in NEEDS_ASSET and not len(self.names):  # no list: ask the book itself
            try:
                self.md.get_orderbook_snapshot(a)
            except ApiError as exc:
                if exc.status == 404:
                    raise LookupError(f"no tplus market {a} on {self.mds_url}"
                                      f"{_base_path_hint(self.mds_url)}") from None
                raise
        return a

    def open_stream(self, kind: str, asset: Optional[AssetIdentifier]) -> Subscription[Any]:
        """The Subscription for ``KIND [ASSET]``."""
        if kind == "trades":
            return self.md.stream_finalized_trades()
        if kind == "trade-events":
            return self.md.stream_all_trades()
        if kind == "depth":
            assert asset is not None
            return self.md.stream_depth(asset)
        if kind == "klines":
            assert asset is not None
            return self.md.stream_klines(asset)
        if kind == "orders":
            return self.orders_client().stream_orders()
        if kind == "user-trades":
            return self.orders_client().stream_user_trade_events()
        raise ValueError(f"unknown tplus stream {kind!r}; choose from {', '.join(STREAMS)}")

    def stream_url(self, kind: str, asset: Optional[AssetIdentifier]) -> str:
        """The WebSocket URL that ``KIND [ASSET]`` streams from."""
        if kind in USER_STREAMS:
            ob = self.orders_client()
            assert self.user is not None
            path = (protocol.ORDERS if kind == "orders"
                    else protocol.user_trade_events_path(self.user.user_id))
            return protocol.websocket_url(ob.base_url, path)
        path = {"trades": protocol.FINALIZED_TRADES, "trade-events": protocol.TRADE_EVENTS}.get(
            kind, "")
        if kind == "depth":
            assert asset is not None
            path = protocol.depth_path(asset)
        elif kind == "klines":
            assert asset is not None
            path = protocol.klines_path(asset)
        return protocol.websocket_url(self.mds_url, path)

    def connect(self, kind: str, asset: Optional[AssetIdentifier], timeout: float) -> None:
        """Block until the stream's socket is up (ConnectError after ``timeout``)."""
        client = self.orders_client() if kind in USER_STREAMS else self.md
        client._engine.connect(self.stream_url(kind, asset), timeout)


class CliUsage(ValueError):
    """A tplus stream that cannot be opened with the options given."""


def path_of(url: str) -> str:
    """``ws://host:port/marketdepth/diff/200`` -> ``/marketdepth/diff/200``."""
    return urlsplit(url).path or "/"


# -- human lines ------------------------------------------------------------------------


def _d(value: Decimal) -> str:
    return f"{value:f}"


def _short(text: str) -> str:
    return text if len(text) <= 14 else f"{text[:8]}..{text[-4:]}"


Label = Callable[[Any], str]


def _asset(asset: Any) -> str:
    """An asset's short id, for lines without a market list (see :class:`MarketNames`)."""
    return short_asset(asset)


def _scaled(raw: int, decimals: Optional[int]) -> str:
    if decimals is None:
        return str(raw)
    return _d(exact_scaleb(int(raw), -decimals))


def _trade(t: Trade, label: Label = _asset) -> str:
    return (f"{label(t.asset_id)} #{t.trade_id} taker {t.taker_side} "
            f"{_d(t.quantity)} @ {_d(t.price)} {t.status}")


def _level(level: Optional[tuple[Decimal, Decimal]]) -> str:
    return "-" if level is None else f"{_d(level[1])}@{_d(level[0])}"


def _depth(ev: Any, asset: Optional[AssetIdentifier], label: Label = _asset) -> str:
    where = f"{label(asset)} " if asset is not None else ""
    kind = "snapshot" if isinstance(ev, OrderBook) else "diff"
    bids, asks = list(ev.bids), list(ev.asks)
    return (f"depth {where}{kind:8} seq={ev.sequence_number} bids={len(bids):<3} "
            f"asks={len(asks):<3} first bid={_level(bids[0] if bids else None)} "
            f"first ask={_level(asks[0] if asks else None)}")


def _kline(bar: KlineUpdate, asset: Optional[AssetIdentifier], label: Label = _asset) -> str:
    opened = time.strftime("%H:%M:%S", time.localtime(bar.open_timestamp_ns / 1e9))
    closed = time.strftime("%H:%M:%S", time.localtime(bar.close_timestamp_ns / 1e9))
    where = f"{label(asset)} " if asset is not None else ""
    return (f"kline {where}{opened}-{closed} open={_d(bar.open)} high={_d(bar.high)} "
            f"low={_d(bar.low)} close={_d(bar.close)} volume={_d(bar.volume)}")


def _order(ev: OrderEvent, session: Optional[TplusSession], label: Label = _asset) -> str:
    asset = getattr(ev, "asset_id", None)
    if isinstance(ev, OrderCreatedEvent):
        o = ev.user_order
        asset = o.base_asset
        head = f"order {label(asset)} {_short(o.order_id)} Created {o.side.value}"
        if isinstance(o.details, LimitOrderDetails):
            return (f"{head} {_scaled(o.details.quantity, o.book_quantity_decimals)} @ "
                    f"{_scaled(o.details.limit_price, o.book_price_decimals)}")
        return f"{head} market order"
    order_id = _short(getattr(ev, "order_id", "?"))
    where = f"{label(asset)} " if asset is not None else ""
    head = f"order {where}{order_id} {ev.kind}"
    market = session.market(asset) if session is not None and asset is not None else None
    qd = market.book_quantity_decimals if market else None
    pd = market.book_price_decimals if market else None
    if isinstance(ev, OrderRemovedEvent):
        qd = ev.book_quantity_decimals or qd
        return f"{head} {ev.reason} filled {_scaled(ev.filled_quantity, qd)}"
    if isinstance(ev, OrderCancelledEvent):
        return f"{head}" + (f" {ev.reason}" if ev.reason else "")
    if isinstance(ev, OrderFailedEvent):
        return f"{head}" + (f" {ev.reason}" if ev.reason else "")
    parts = []
    for name, scale in (("new_quantity", qd), ("remaining_quantity", qd), ("quantity", qd),
                        ("new_price", pd)):
        value = getattr(ev, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            parts.append(f"{name.replace('_', ' ')} {_scaled(value, scale)}")
    return " ".join([head, *parts])


def _user_trade(t: UserTrade, label: Label = _asset) -> str:
    role = ("buy" if t.is_buyer else "sell") + (" maker" if t.is_maker else " taker")
    extra = f" ({t.rollback_reason})" if t.rollback_reason else ""
    return (f"user-trade {label(t.asset_id)} #{t.trade_id} {t.status} {role} "
            f"{_d(t.quantity)} @ {_d(t.price)} fee={_d(t.trading_fee)}{extra}")


def format_event(event: Any, asset: Optional[AssetIdentifier] = None,
                 session: Optional[TplusSession] = None) -> str:
    """One human line for a tplus event, without the time; exact decimals; markets
    by symbol when the session knows them (else by short id)."""
    label: Label = session.label if session is not None else _asset
    if isinstance(event, TradeEvent):
        return f"trade-event {event.status:<10} " + _trade(event.trade, label)
    if isinstance(event, Trade):
        return "trade " + _trade(event, label)
    if isinstance(event, (OrderBookDiff, OrderBook)):
        return _depth(event, asset, label)
    if isinstance(event, KlineUpdate):
        return _kline(event, asset, label)
    if isinstance(event, UserTrade):
        return _user_trade(event, label)
    if isinstance(event, OrderEvent):
        return _order(event, session, label)
    return repr(event)


def asset_of_event(event: Any, asset: Optional[AssetIdentifier]) -> Optional[AssetIdentifier]:
    """The asset (market) a tplus event is about: its own field, else the one watched."""
    if isinstance(event, TradeEvent):
        return event.trade.asset_id
    if isinstance(event, OrderCreatedEvent):
        return event.user_order.base_asset
    found = getattr(event, "asset_id", None)
    return found if isinstance(found, AssetIdentifier) else asset


def to_json(kind: str, event: Any, asset: Optional[AssetIdentifier] = None,
            session: Optional[TplusSession] = None, received: Optional[float] = None) -> str:
    """One exact JSON line of :mod:`o2sync.cli.jsonline`'s shape (decimals as strings)."""
    about = asset_of_event(event, asset)
    name = session.label(about) if session is not None and about is not None else None
    return json_line("tplus", kind, event, market_ref(about, name),
                     time.time() if received is None else received)


def watch(session: TplusSession, kind: str, asset: Optional[str], *, as_json: bool = False,
          events: int = 0, out: Optional[TextIO] = None,
          connect_timeout: Optional[float] = None) -> int:
    """Print tplus events until ``events`` were printed (0 = until Ctrl-C or close)."""
    out = out if out is not None else sys.stdout
    a = session.check(kind, asset)
    count = 0
    with session.open_stream(kind, a) as sub:
        if connect_timeout:
            session.connect(kind, a, connect_timeout)
        for event in sub:
            if kind == "trades" and a is not None and event.asset_id != a:
                continue  # /trades carries every market; ASSET filters
            if as_json:
                out.write(to_json(kind, event, a, session) + "\n")
            else:
                out.write(f"{clock()} {format_event(event, a, session)}\n")
            out.flush()
            count += 1
            if events and count >= events:
                break
    return count
