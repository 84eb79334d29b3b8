"""Typed tplus events, with tpluspy 0.6.0's attribute names (protocol §6).

Frozen dataclasses with pydantic-style ``model_dump()``, ``model_dump_json()``,
``model_validate()`` (:mod:`._pydanticish`) and dataclasses-json (``to_dict()``, ``to_json()``,
``from_dict()``...). Prices and quantities in human units are exact ``Decimal``
(never binary floats, even when the wire sent a JSON float); ids, timestamps and
book-unit integers are exact ``int``. Frames are decoded by
:mod:`o2sync.tplus.decode`, which validates strictly and calls these constructors
directly (dataclasses-json's reflective ``from_dict`` is too slow per message).
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Optional, Union

from dataclasses_json import config

from ..numbers import exact_scaleb
from ._pydanticish import RowsPage, TplusModel
from .asset import AssetIdentifier

__all__ = [
    "GTC",
    "GTD",
    "IOC",
    "KlineUpdate",
    "KlinesPage",
    "Level",
    "LimitOrderDetails",
    "MarketBaseQuantity",
    "MarketInfo",
    "MarketOrderDetails",
    "MarketQuantity",
    "MarketQuoteQuantity",
    "Order",
    "OrderAmendFailedEvent",
    "OrderAmendedEvent",
    "OrderBook",
    "OrderBookDiff",
    "OrderCancelFailedEvent",
    "OrderCanceledEvent",
    "OrderCancelledEvent",
    "OrderCreateFailedEvent",
    "OrderCreatedEvent",
    "OrderEvent",
    "OrderFailedEvent",
    "OrderRemovedEvent",
    "OrderReplaceFailedEvent",
    "OrderReplacedEvent",
    "OrderTrigger",
    "OrderTriggeredEvent",
    "OrderUpdatedEvent",
    "Side",
    "Timebar",
    "Trade",
    "TradeConfirmedEvent",
    "TradeEvent",
    "TradePendingEvent",
    "TradeRollbackedEvent",
    "TradeTarget",
    "UserTrade",
]

Level = tuple[Decimal, Decimal]
"""One depth level: ``(price, quantity)``, so ``for price, qty in diff.asks`` works."""


# dataclasses-json metadata: an asset serialises as its wire string.
_ASSET = config(encoder=str, decoder=AssetIdentifier)


def _dt(ns: int) -> datetime.datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc) + (
        datetime.timedelta(microseconds=rest // 1000)
    )


def _scale(raw: int, decimals: int) -> Decimal:
    return exact_scaleb(raw, -decimals)


def _unscale(human: Union[Decimal, int, str], decimals: int, what: str) -> int:
    value = Decimal(human) if not isinstance(human, Decimal) else human
    scaled = exact_scaleb(value, decimals) if value.is_finite() else value
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {human} is not a multiple of 10^-{decimals}")
    return int(scaled)


class Side(str, enum.Enum):
    """Order side. A ``str``: ``order.side == "Buy"`` holds."""

    BUY = "Buy"
    SELL = "Sell"
    BID = "Buy"  # aliases, as tpluspy's
    ASK = "Sell"

    @classmethod
    def _missing_(cls, value: object) -> Any:
        # as tpluspy: "buy", "BUY", "bid" are Buy; "sell", "ask" are Sell
        if isinstance(value, str):
            lower = value.lower()
            if lower in ("buy", "bid"):
                return cls.BUY
            if lower in ("sell", "ask"):
                return cls.SELL
        return None

    def __str__(self) -> str:
        return self.value


# ---------------------------------------------------------------------- trades


@dataclass(frozen=True, repr=False)
class Trade(TplusModel):
    """A public trade (``/trades``, inside a :class:`TradeEvent`, REST lists).

    ``status`` is ``"Pending"``, ``"Confirmed"`` (the default) or ``"Rollbacked"``.
    """

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    trade_id: int
    price: Decimal
    quantity: Decimal
    timestamp_ns: int
    buyer_is_maker: bool
    order_id: str = ""
    status: str = "Confirmed"

    @property
    def datetime(self) -> datetime.datetime:
        """``timestamp_ns`` as an aware UTC datetime (microsecond precision)."""
        return _dt(self.timestamp_ns)

    @property
    def taker_side(self) -> str:
        """The aggressor's side, ``"Buy"`` or ``"Sell"``, as a tape shows it:
        ``buyer_is_maker`` means a seller took the bid. An O2 ``Trade.taker_side`` is
        the same (O2 sends the maker's side)."""
        return "Sell" if self.buyer_is_maker else "Buy"

    def __repr__(self) -> str:
        maker = "buyer" if self.buyer_is_maker else "seller"
        return (
            f"Trade(#{self.trade_id} {self.asset_id} {self.quantity} @ {self.price} "
            f"{self.status}, {maker} maker, ts={self.timestamp_ns})"
        )


@dataclass(frozen=True, repr=False)
class TradeEvent(TplusModel):
    """A ``/trades/events`` frame: ``{"Pending"|"Confirmed"|"Rollbacked": Trade}``.

    ``status`` is the tag; ``trade`` the trade as sent (its own ``status`` kept as
    the server wrote it). The decoder returns the subclass matching the tag
    (:class:`TradePendingEvent`, :class:`TradeConfirmedEvent`,
    :class:`TradeRollbackedEvent`), as tpluspy's ``parse_trade_event`` does, and
    the trade's fields read through: ``event.price``, ``event.trade_id``...
    """

    STATUS: ClassVar[str] = ""
    _dump_extra: ClassVar[tuple[str, ...]] = ("event_type",)
    _field_aliases: ClassVar[dict[str, str]] = {"status": "event_type"}

    status: str
    trade: Trade

    def __post_init__(self) -> None:
        if self.STATUS and self.status != self.STATUS:
            raise ValueError(f"{type(self).__name__} has status {self.STATUS!r}")

    @property
    def event_type(self) -> str:
        """tpluspy's name for the tag: ``"Pending"``, ``"Confirmed"`` or ``"Rollbacked"``."""
        return self.status

    @property
    def is_pending(self) -> bool:
        """The trade happened and awaits settlement."""
        return self.status == "Pending"

    @property
    def is_confirmed(self) -> bool:
        """The trade is final."""
        return self.status == "Confirmed"

    @property
    def is_rollbacked(self) -> bool:
        """The trade was undone (it failed to settle)."""
        return self.status == "Rollbacked"

    @property
    def asset_id(self) -> AssetIdentifier:
        """The trade's asset."""
        return self.trade.asset_id

    @property
    def trade_id(self) -> int:
        """The trade's id."""
        return self.trade.trade_id

    @property
    def order_id(self) -> str:
        """The trade's order id (often ``""`` on public streams)."""
        return self.trade.order_id

    @property
    def price(self) -> Decimal:
        """The trade's price."""
        return self.trade.price

    @property
    def quantity(self) -> Decimal:
        """The trade's quantity."""
        return self.trade.quantity

    @property
    def timestamp_ns(self) -> int:
        """The trade's time, Unix ns."""
        return self.trade.timestamp_ns

    @property
    def buyer_is_maker(self) -> bool:
        """True if the buyer was the maker."""
        return self.trade.buyer_is_maker

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.trade!r})"


@dataclass(frozen=True, repr=False)
class TradePendingEvent(TradeEvent):
    """A trade that happened and awaits confirmation (``{"Pending": Trade}``)."""

    STATUS: ClassVar[str] = "Pending"


@dataclass(frozen=True, repr=False)
class TradeConfirmedEvent(TradeEvent):
    """A finalised trade (``{"Confirmed": Trade}``)."""

    STATUS: ClassVar[str] = "Confirmed"


@dataclass(frozen=True, repr=False)
class TradeRollbackedEvent(TradeEvent):
    """A trade rolled back after being pending (``{"Rollbacked": Trade}``)."""

    STATUS: ClassVar[str] = "Rollbacked"


@dataclass(frozen=True, repr=False)
class UserTrade(TplusModel):
    """One of this user's fills (``/trades/user/events/{user_id}``, §6.7).

    ``is_maker`` / ``is_buyer`` are this user's role. One trade arrives several
    times on the events path (Pending, then Confirmed or Rollbacked): key state by
    ``(asset_id, trade_id)``. ``trading_fee`` is USD, positive paid, negative rebate.
    """

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    trade_id: int
    order_id: str
    price: Decimal
    quantity: Decimal
    timestamp_ns: int
    is_maker: bool
    is_buyer: bool
    status: str
    rollback_reason: Optional[str] = None
    is_liquidation: bool = False
    is_auto_deleverage: bool = False
    sub_account: int = 0
    trading_fee: Decimal = Decimal(0)

    @property
    def buyer_is_maker(self) -> bool:
        """tpluspy's derived field: ``is_buyer and is_maker``."""
        return self.is_buyer and self.is_maker

    @property
    def key(self) -> tuple[AssetIdentifier, int]:
        """``(asset_id, trade_id)``: the identity shared by a trade's Pending/final frames."""
        return (self.asset_id, self.trade_id)

    def __repr__(self) -> str:
        role = ("buy" if self.is_buyer else "sell") + (" maker" if self.is_maker else " taker")
        extra = f", rollback_reason={self.rollback_reason!r}" if self.rollback_reason else ""
        return (
            f"UserTrade(#{self.trade_id} {self.asset_id} {role} {self.quantity} @ {self.price} "
            f"{self.status}, fee={self.trading_fee}, order={self.order_id!r}{extra})"
        )


# ----------------------------------------------------------------------- depth


def _levels_repr(levels: list[Level]) -> str:
    shown = ", ".join(f"{p}x{q}" for p, q in levels[:3])
    return f"[{shown}{', ...' if len(levels) > 3 else ''}]"


@dataclass(frozen=True, repr=False)
class OrderBookDiff(TplusModel):
    """A ``/marketdepth/diff/{asset}`` frame: changed levels only.

    ``asks`` / ``bids`` are ``(price, quantity)`` tuples of exact ``Decimal``;
    quantity ``0`` removes the level, otherwise it is the level's new total.
    """

    sequence_number: int
    asks: list[Level] = field(default_factory=list)
    bids: list[Level] = field(default_factory=list)

    #: A diff is never a snapshot (a healed stream hands an :class:`OrderBook` first).
    is_snapshot = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(seq={self.sequence_number}, "
            f"asks={_levels_repr(self.asks)}, bids={_levels_repr(self.bids)})"
        )


def _levels_from_text(text: str) -> list[Level]:
    """``[[p,q],...]`` as the decoder checked it (digits and points, no spaces, signs
    or exponents; all numbers or all plain decimal strings) -> ``(Decimal, Decimal)``
    tuples. Each ``Decimal`` is built from the number's own text, as
    ``parse_float=Decimal`` (or strict_decimal, for a string) builds it: nothing rounds."""
    if len(text) <= 2:
        return []
    if '"' in text:
        text = text.replace('"', "")
    numbers = map(Decimal, text[2:-2].replace("],[", ",").split(","))
    return list(zip(numbers, numbers))


class PackedOrderBookDiff(OrderBookDiff):
    """The :class:`OrderBookDiff` the fast decoder builds: levels kept as checked JSON
    text, their ``Decimal`` tuples built the first time ``asks`` or ``bids`` is read.

    The decoder has already checked every level strictly (a frame that is not exact,
    non-negative and in range never becomes one of these), so building them later
    cannot fail. That keeps 40 ``Decimal`` objects and 20 tuples per 10+10-level diff
    off the reader thread, and out of the garbage collector's way while the diff
    waits in a queue. To everything else it is an ``OrderBookDiff``: equal to one
    with the same fields, the same name, pickled as one.
    """

    _asks_text: Any
    _bids_text: Any

    @classmethod
    def from_text(cls, sequence_number: int, asks: Any, bids: Any) -> PackedOrderBookDiff:
        """From the checked JSON text (``str`` or a bytes-like) of each side's array."""
        obj = cls.__new__(cls)
        state = obj.__dict__
        state["sequence_number"] = sequence_number
        state["_asks_text"], state["_bids_text"] = asks, bids
        state["_asks"] = state["_bids"] = None
        return obj

    def _side(self, name: str) -> list[Level]:
        state = self.__dict__
        levels: Optional[list[Level]] = state[name]
        if levels is None:
            text = state[name + "_text"]
            if type(text) is not str:
                text = bytes(text).decode("ascii")
            levels = state[name] = _levels_from_text(text)
        return levels

    def _get_asks(self) -> list[Level]:
        return self._side("_asks")

    def _set_asks(self, levels: list[Level]) -> None:  # the dataclass __init__ (replace())
        self.__dict__["_asks"] = levels

    def _get_bids(self) -> list[Level]:
        return self._side("_bids")

    def _set_bids(self, levels: list[Level]) -> None:
        self.__dict__["_bids"] = levels

    asks = property(_get_asks, _set_asks)
    bids = property(_get_bids, _set_bids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrderBookDiff):
            return NotImplemented
        return (self.sequence_number, self.asks, self.bids) == (
            other.sequence_number, other.asks, other.bids)

    __hash__ = None  # type: ignore[assignment]  # lists inside, as OrderBookDiff

    def __reduce__(self) -> tuple[Any, ...]:
        return (OrderBookDiff, (self.sequence_number, self.asks, self.bids))


# what it is to its users (type names in the CLI's JSON, reprs): an OrderBookDiff
PackedOrderBookDiff.__name__ = PackedOrderBookDiff.__qualname__ = "OrderBookDiff"


@dataclass(frozen=True, repr=False)
class OrderBook(TplusModel):
    """The ``GET /marketdepth/{asset}`` snapshot: every level, plus the sequence
    number of the last diff folded into it (``0`` when the server sent none)."""

    asks: list[Level] = field(default_factory=list)
    bids: list[Level] = field(default_factory=list)
    sequence_number: int = 0

    #: On a depth stream that lost diffs (overflow), a fresh snapshot comes first.
    is_snapshot = True

    def __repr__(self) -> str:
        return (
            f"OrderBook(seq={self.sequence_number}, {len(self.asks)} asks "
            f"{_levels_repr(self.asks)}, {len(self.bids)} bids {_levels_repr(self.bids)})"
        )


# ---------------------------------------------------------------------- klines


@dataclass(frozen=True, repr=False)
class KlineUpdate(TplusModel):
    """One candle (tpluspy's ``Timebar``). A bar repeats while open; update it in
    place by ``open_timestamp_ns``."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    open_timestamp_ns: int
    close_timestamp_ns: int

    @property
    def open_datetime(self) -> datetime.datetime:
        """``open_timestamp_ns`` as an aware UTC datetime."""
        return _dt(self.open_timestamp_ns)

    @property
    def close_datetime(self) -> datetime.datetime:
        """``close_timestamp_ns`` as an aware UTC datetime."""
        return _dt(self.close_timestamp_ns)

    def __repr__(self) -> str:
        return (
            f"KlineUpdate(open_ts={self.open_timestamp_ns} O={self.open} H={self.high} "
            f"L={self.low} C={self.close} V={self.volume})"
        )


Timebar = KlineUpdate


@dataclass(frozen=True, eq=False)
class KlinesPage(RowsPage, TplusModel):
    """One ``GET /klines/{asset}`` page (0.6 envelope), newest bar first. Also the
    sequence of its bars (``for bar in page``, ``len(page)``, ``page[0]``), like
    o2sync's other pages."""

    _rows_field: ClassVar[str] = "items"

    items: list[KlineUpdate] = field(default_factory=list)
    has_next_page: bool = False
    next_page: Optional[int] = None
    truncated_before_ns: Optional[int] = None


# ---------------------------------------------------------------------- market


@dataclass(frozen=True)
class MarketInfo(TplusModel):
    """``GET /market/{asset}``: the decimals that scale book-unit integers.

    Order events carry prices and quantities as integers in book units:
    human = int / 10^decimals. :meth:`price` / :meth:`quantity` scale them exactly.
    """

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    book_price_decimals: int
    book_quantity_decimals: int

    def price(self, raw: int) -> Decimal:
        """Book-unit price -> exact human ``Decimal``."""
        return _scale(raw, self.book_price_decimals)

    def quantity(self, raw: int) -> Decimal:
        """Book-unit quantity -> exact human ``Decimal``."""
        return _scale(raw, self.book_quantity_decimals)

    def price_to_book(self, human: Union[Decimal, int, str]) -> int:
        """Human price -> book units; ``ValueError`` if it is finer than the book's tick."""
        return _unscale(human, self.book_price_decimals, "price")

    def quantity_to_book(self, human: Union[Decimal, int, str]) -> int:
        """Human quantity -> book units; ``ValueError`` if finer than the book's lot."""
        return _unscale(human, self.book_quantity_decimals, "quantity")


# ---------------------------------------------------------------------- orders


@dataclass(frozen=True)
class GTC(TplusModel):
    """Good till canceled (``{"GTC": {"post_only"}}``)."""

    post_only: bool


@dataclass(frozen=True)
class GTD(TplusModel):
    """Good till ``timestamp_ns`` (``{"GTD": {"post_only", "timestamp_ns"}}``)."""

    post_only: bool
    timestamp_ns: int


@dataclass(frozen=True)
class IOC(TplusModel):
    """Immediate or cancel (``{"IOC": {"fill_or_kill"}}``)."""

    fill_or_kill: bool


@dataclass(frozen=True)
class LimitOrderDetails(TplusModel):
    """``{"Limit": {...}}``: price and quantity in book units."""

    limit_price: int
    quantity: int
    time_in_force: Union[GTC, GTD, IOC]


@dataclass(frozen=True)
class MarketBaseQuantity(TplusModel):
    """A market order sized in the base asset (book units)."""

    quantity: int
    max_sellable_amount: Optional[int] = None


@dataclass(frozen=True)
class MarketQuoteQuantity(TplusModel):
    """A market order sized in the quote asset."""

    quantity: int
    max_sellable_quantity: Optional[int] = None


@dataclass(frozen=True)
class MarketQuantity(TplusModel):
    """Exactly one of ``base_asset`` / ``quote_asset`` is set."""

    base_asset: Optional[MarketBaseQuantity] = None
    quote_asset: Optional[MarketQuoteQuantity] = None


@dataclass(frozen=True)
class MarketOrderDetails(TplusModel):
    """``{"Market": {"quantity": ..., "fill_or_kill"}}``."""

    quantity: MarketQuantity
    fill_or_kill: bool


@dataclass(frozen=True)
class OrderTrigger(TplusModel):
    """A trigger: ``condition`` is ``"PriceAbove"`` or ``"PriceBelow"`` at book-unit ``price``."""

    condition: str
    price: int
    parent_order_id: Optional[str] = None


@dataclass(frozen=True)
class TradeTarget(TplusModel):
    """Which sub-account (0 main, 1 margin) and balance (spot or margin) an order uses."""

    account: int = 1
    is_spot: bool = True


@dataclass(frozen=True)
class Order(TplusModel):
    """The book ``Order`` inside a ``Created`` event (prices/quantities in book units)."""

    signer: str
    order_id: str
    base_asset: AssetIdentifier = field(metadata=_ASSET)
    book_price_decimals: int
    book_quantity_decimals: int
    details: Union[LimitOrderDetails, MarketOrderDetails]
    side: Side
    creation_timestamp_ns: int
    trigger: Optional[OrderTrigger] = None
    target: TradeTarget = field(default_factory=TradeTarget)
    reduce_only: bool = False
    max_trading_fees_rate: int = 50_000
    protocol_version: int = 1

    @property
    def limit_price(self) -> Optional[Decimal]:
        """The limit price in human units (``None`` for a market order)."""
        if isinstance(self.details, LimitOrderDetails):
            return _scale(self.details.limit_price, self.book_price_decimals)
        return None

    @property
    def quantity(self) -> Optional[Decimal]:
        """The base quantity in human units (``None`` for a quote-sized market order)."""
        details = self.details
        if isinstance(details, LimitOrderDetails):
            return _scale(details.quantity, self.book_quantity_decimals)
        if isinstance(details, MarketOrderDetails) and details.quantity.base_asset is not None:
            return _scale(details.quantity.base_asset.quantity, self.book_quantity_decimals)
        return None


@dataclass(frozen=True)
class OrderEvent(TplusModel):
    """Base of every ``/orders`` event (§6.6). ``kind`` names it (``"Created"``,
    ``"Removed"``...); ``event_type`` is tpluspy's upper-case spelling."""

    kind: ClassVar[str] = ""
    _dump_extra: ClassVar[tuple[str, ...]] = ("event_type",)

    @property
    def event_type(self) -> str:
        """tpluspy's spelling of :attr:`kind`: ``"CREATED"``, ``"CREATEFAILED"``..."""
        return self.kind.upper()


@dataclass(frozen=True)
class OrderCreatedEvent(OrderEvent):
    """``Created``: the full book order, its signature and the book's timestamp.

    ``limit_overrides``, ``limit_overrides_signature`` and ``amend_overrides`` are
    kept as decoded JSON (numbers exact), not interpreted.
    """

    kind: ClassVar[str] = "Created"

    user_order: Order
    signature: list[int]
    book_timestamp_ns: int
    limit_overrides: Any = None
    limit_overrides_signature: Any = None
    amend_overrides: Any = None
    trigger_touched: Optional[bool] = None
    is_liquidation: bool = False
    is_auto_deleverage: bool = False

    @property
    def order_id(self) -> str:
        """The created order's id."""
        return self.user_order.order_id


@dataclass(frozen=True)
class OrderCancelledEvent(OrderEvent):
    """``Canceled`` (one L on the wire; tpluspy's class name has two)."""

    kind: ClassVar[str] = "Canceled"

    order_id: str
    asset_id: AssetIdentifier = field(metadata=_ASSET)
    user_id: str
    timestamp_ns: int
    reason: Optional[str] = None
    operator_pubkey: Optional[str] = None
    initial_receive_timestamp_ns: Optional[int] = None


OrderCanceledEvent = OrderCancelledEvent


@dataclass(frozen=True)
class OrderRemovedEvent(OrderEvent):
    """``Removed``: the order left the book. ``reason`` is ``Completed``,
    ``Canceled``, ``Expired``, ``Rejected``, ``SelfTradePrevented`` or other text."""

    kind: ClassVar[str] = "Removed"

    order_id: str
    asset_id: AssetIdentifier = field(metadata=_ASSET)
    user_id: str
    timestamp_ns: int
    reason: str
    operator_pubkey: Optional[str] = None
    filled_quantity: int = 0
    confirmed_quantity: int = 0
    filled_amount: int = 0
    confirmed_amount: int = 0
    book_quantity_decimals: int = 0
    initial_receive_timestamp_ns: Optional[int] = None


@dataclass(frozen=True)
class OrderReplacedEvent(OrderEvent):
    """``Replaced``: new price and quantity (book units)."""

    kind: ClassVar[str] = "Replaced"

    order_id: str
    asset_id: AssetIdentifier = field(metadata=_ASSET)
    user_id: str
    new_quantity: int
    new_price: int
    timestamp_ns: Optional[int] = None
    authorization_revision: int = 0
    operator_pubkey: Optional[str] = None
    initial_receive_timestamp_ns: Optional[int] = None


@dataclass(frozen=True)
class OrderAmendedEvent(OrderEvent):
    """``Amended`` (0.6): new total and remaining quantity (book units)."""

    kind: ClassVar[str] = "Amended"

    order_id: str
    asset_id: AssetIdentifier = field(metadata=_ASSET)
    user_id: str
    new_quantity: int
    remaining_quantity: int
    authorization_revision: int = 0
    book_quantity_decimals: int = 0
    timestamp_ns: Optional[int] = None
    operator_pubkey: Optional[str] = None


@dataclass(frozen=True)
class OrderTriggeredEvent(OrderEvent):
    """``Triggered`` (0.6): a trigger order entered the book with ``quantity``."""

    kind: ClassVar[str] = "Triggered"

    order_id: str
    asset_id: AssetIdentifier = field(metadata=_ASSET)
    user_id: str
    timestamp_ns: int
    quantity: int
    trigger_touched: bool
    operator_pubkey: Optional[str] = None


@dataclass(frozen=True)
class OrderFailedEvent(OrderEvent):
    """Base of the four ``*Failed`` events: ``order_id``, ``user_id``, ``reason``."""

    order_id: str
    user_id: str
    reason: Optional[str] = None


@dataclass(frozen=True)
class OrderCreateFailedEvent(OrderFailedEvent):
    """``CreateFailed``: the order was never placed."""

    kind: ClassVar[str] = "CreateFailed"


@dataclass(frozen=True)
class OrderReplaceFailedEvent(OrderFailedEvent):
    """``ReplaceFailed``."""

    kind: ClassVar[str] = "ReplaceFailed"


@dataclass(frozen=True)
class OrderCancelFailedEvent(OrderFailedEvent):
    """``CancelFailed``."""

    kind: ClassVar[str] = "CancelFailed"


@dataclass(frozen=True)
class OrderAmendFailedEvent(OrderFailedEvent):
    """``AmendFailed``."""

    kind: ClassVar[str] = "AmendFailed"


@dataclass(frozen=True)
class OrderUpdatedEvent(OrderEvent):
    """LEGACY internally tagged ``{"type": "updated", ...}``; current servers never
    send it on ``/orders`` (fills arrive as :class:`UserTrade`)."""

    kind: ClassVar[str] = "Updated"

    order_id: str
    status: str
    filled_quantity: int
    remaining_quantity: int
    update_timestamp_ns: int
