"""Typed events and market metadata.

Every class is a dataclass with dataclasses-json, so users get ``to_dict()``,
``to_json()``, ``from_dict()``, ``from_json()`` and ``schema()``. Attribute names
follow the O2 SDK guide (``update.is_snapshot``, ``update.changes.best_bid.price``,
``order.is_open``, ``trade.side``, ``update.nonce`` ...).

Chain amounts (prices, quantities, balances) are exact Python ``int`` values in
chain units, never floats; :class:`Market` scales them: ``format_price`` /
``format_quantity`` give the exact ``Decimal`` (for arithmetic), ``display_price`` /
``display_quantity`` the ``str`` a person reads (rounded down to the asset's
``max_precision``).

Frames from the wire are decoded by :mod:`o2sync.o2.decode`, which calls these
constructors directly: dataclasses-json's generic ``from_dict`` is far too slow for
the per-message path.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, Optional, Union

from dataclasses_json import DataClassJsonMixin, config

from ..engine.lifecycle import ConnectionEvent as ConnectionEvent  # re-exported (Event)

Number = Union[int, str, Decimal]


class Side(str, enum.Enum):
    """Order or trade side. A ``str``, so ``side == "Buy"`` holds."""

    BUY = "Buy"
    SELL = "Sell"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------- markets


@dataclass(frozen=True)
class MarketAsset(DataClassJsonMixin):
    """One side of a market: symbol, Fuel asset id, chain decimals, max precision."""

    symbol: str
    asset: str
    decimals: int
    max_precision: int


@dataclass(frozen=True)
class Market(DataClassJsonMixin):
    """Market metadata from ``GET /v1/markets``; scales chain integers.

    Two families, one idea (chain integer -> human number), two return types:

    =====================  ===========  ==============================================
    method                 returns      use it for
    =====================  ===========  ==============================================
    ``format_price``       ``Decimal``  arithmetic, comparisons, your own formatting:
    ``format_quantity``                 exact, every chain digit kept
    ``display_price``      ``str``      showing to people: rounded down to the asset's
    ``display_quantity``                ``max_precision``, e.g. ``"0.012505"``
    =====================  ===========  ==============================================

    ``display_*(raw) == f"{format_*(raw)}"`` rounded down to ``max_precision``
    places; ``scale_*`` go the other way (human -> chain integer).
    """

    market_id: str
    contract_id: str
    base: MarketAsset
    quote: MarketAsset
    maker_fee: str = "0"
    taker_fee: str = "0"
    min_order: str = "0"
    dust: str = "0"
    price_window: int = 0

    @property
    def pair(self) -> str:
        """``"BASE/QUOTE"``, e.g. ``"fFUEL/fUSDC"``."""
        return f"{self.base.symbol}/{self.quote.symbol}"

    def format_price(self, raw: Number) -> Decimal:
        """Chain price (quote units, scaled) -> exact human ``Decimal`` (for arithmetic).

        ``raw`` is the chain integer (an ``int`` or a digit string).
        See :meth:`display_price` for the rounded ``str`` to show.
        """
        return Decimal(int(raw)).scaleb(-self.quote.decimals)

    def format_quantity(self, raw: Number) -> Decimal:
        """Chain quantity (base units, scaled) -> exact human ``Decimal`` (for arithmetic)."""
        return Decimal(int(raw)).scaleb(-self.base.decimals)

    def display_price(self, raw: Number) -> str:
        """Price for people, a ``str``: :meth:`format_price` rounded down to the quote's
        max precision, e.g. ``"0.012505"``."""
        return _display(self.format_price(raw), self.quote.max_precision)

    def display_quantity(self, raw: Number) -> str:
        """Quantity for people, a ``str``: :meth:`format_quantity` rounded down to the
        base's max precision, e.g. ``"1500.000"``."""
        return _display(self.format_quantity(raw), self.base.max_precision)

    def scale_price(self, human: Number) -> int:
        """Human price -> chain integer, rounded down to the quote's max precision."""
        return _scale_down(human, self.quote)

    def scale_quantity(self, human: Number) -> int:
        """Human quantity -> chain integer, rounded down to the base's max precision."""
        return _scale_down(human, self.base)


def _display(value: Decimal, places: int) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):f}"


def _scale_down(human: Number, asset: MarketAsset) -> int:
    scaled = (Decimal(str(human)).scaleb(asset.decimals)).to_integral_value(rounding=ROUND_DOWN)
    step: int = 10 ** max(asset.decimals - asset.max_precision, 0)
    return int(scaled) // step * step


# ----------------------------------------------------------------------- depth
#
# The shapes of o2-sdk 0.5.0 (a snapshot's ``changes`` is a DepthSnapshot of absolute
# DepthLevels, a delta's a DepthChanges of signed DepthChanges), with exact ints
# (PARITY exception 1) and, on a delta, the book's best levels (PARITY exception 3).

#: One level as ``(price, quantity)`` ints, the form books keep.
LevelPair = tuple[int, int]


@dataclass
class DepthLevel(DataClassJsonMixin):
    """An absolute price level: raw chain ``price`` and the resting ``quantity`` there."""

    price: int
    quantity: int


@dataclass
class DepthChange(DataClassJsonMixin):
    """One signed, relative change of a delta: add ``quantity`` to the level at ``price``.

    Positive: liquidity added; negative: removed by a fill or a cancel. The level is
    gone once its sum reaches zero (or less); a change of 0 changes nothing.
    """

    price: int
    quantity: int


class _DepthSides:
    """What both sides of a depth message share: ``(price, quantity)`` pairs per side."""

    bids: list[Any]
    asks: list[Any]

    def pairs(self, side: str) -> Iterator[LevelPair]:
        """``(price, quantity)`` of each entry of ``"bids"`` or ``"asks"``, in order."""
        return ((lv.price, lv.quantity) for lv in getattr(self, side))


@dataclass(eq=False)
class DepthSnapshot(_DepthSides, DataClassJsonMixin):
    """The whole book at one precision: the ``changes`` of a snapshot DepthUpdate and
    what ``O2Client.get_depth`` returns. Quantities are absolute.

    ``bids`` best (highest) first and ``asks`` best (lowest) first, as the server sends them.
    """

    bids: list[DepthLevel] = field(default_factory=list)
    asks: list[DepthLevel] = field(default_factory=list)
    market_id: Optional[str] = None

    @property
    def best_bid(self) -> Optional[DepthLevel]:
        """The first bid level, or None."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> Optional[DepthLevel]:
        """The first ask level, or None."""
        return self.asks[0] if self.asks else None

    @classmethod
    def from_dict(cls, kvs: Any, *, infer_missing: bool = False) -> DepthSnapshot:
        """From :meth:`to_dict` output (``bids``/``asks``) or, as o2-sdk's, from the
        wire's shape (levels under ``orders``, ``view`` or ``buys``/``sells``)."""
        if isinstance(kvs, dict) and "bids" not in kvs and "asks" not in kvs:
            from .decode import decode_depth_snapshot  # decode imports this module

            return decode_depth_snapshot(kvs)
        return super().from_dict(kvs, infer_missing=infer_missing)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DepthSnapshot):
            return NotImplemented
        return ((self.bids, self.asks, self.market_id)
                == (other.bids, other.asks, other.market_id))


class _BookBest:
    """The book's best levels after a delta. Not a dataclass, so these are not fields
    (``asdict()`` and ``to_dict()`` show what o2-sdk shows); the class defaults hold
    until the engine sets them."""

    _book_bid: Optional[LevelPair] = None
    _book_ask: Optional[LevelPair] = None


@dataclass(eq=False)
class DepthChanges(_DepthSides, _BookBest, DataClassJsonMixin):
    """What one delta changed: signed relative :class:`DepthChange` entries per side.

    ``best_bid`` / ``best_ask`` (not in o2-sdk, where they raise AttributeError on a
    delta) are the best levels of the BOOK after this update, which o2sync's engine
    keeps for every depth stream: the seed guide's loop reading
    ``update.changes.best_bid.price`` prints the truth (PARITY exception 3). They are
    None on a side the book has empty, and on a DepthChanges built by hand.
    """

    bids: list[DepthChange] = field(default_factory=list)
    asks: list[DepthChange] = field(default_factory=list)

    def set_book_best(self, bid: Optional[LevelPair], ask: Optional[LevelPair]) -> None:
        """Record the book's best ``(price, quantity)`` per side after this update
        (the engine calls it on the reader thread, before any consumer sees the update)."""
        self._book_bid = bid
        self._book_ask = ask

    @property
    def best_bid(self) -> Optional[DepthLevel]:
        """The book's highest bid after this update, or None."""
        best = self._book_bid
        return None if best is None else DepthLevel(*best)

    @property
    def best_ask(self) -> Optional[DepthLevel]:
        """The book's lowest ask after this update, or None."""
        best = self._book_ask
        return None if best is None else DepthLevel(*best)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DepthChanges):
            return NotImplemented
        return self.bids == other.bids and self.asks == other.asks


def columns_of(bid_ints: tuple[int, ...], ask_ints: tuple[int, ...]
               ) -> tuple[tuple[int, ...], int, int]:
    """Flat ``(price, quantity, ...)`` tuples, one a side -> the arguments of
    ``from_columns`` of the packed depth classes."""
    return (bid_ints[::2] + bid_ints[1::2] + ask_ints[::2] + ask_ints[1::2],
            len(bid_ints) // 2, len(ask_ints) // 2)


class _Packed:
    """The decoder's form of a depth message's sides: exact ints, level objects on demand.

    Levels arrive as one tuple of ints, already validated, in columns: the bid
    prices, the bid quantities, the ask prices, the ask quantities. The level lists
    are built the first time ``bids`` or ``asks`` is read. That keeps a score of
    small objects per message off the reader thread, and out of the garbage
    collector's way while events wait in a queue (a tuple of ints is not tracked by
    it). To everything else it is the class it packs.
    """

    _level: Any  # DepthLevel or DepthChange
    _bids: Optional[list[Any]]
    _asks: Optional[list[Any]]
    _ints: tuple[int, ...]
    _nbids: int
    _nasks: int

    def _pack(self, ints: tuple[int, ...], nbids: int, nasks: int) -> None:
        self._ints, self._nbids, self._nasks = ints, nbids, nasks
        self._bids = self._asks = None

    def _columns(self, side: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(prices, quantities) of one side."""
        ints, nb = self._ints, self._nbids
        if side == "bids":
            return ints[:nb], ints[nb:2 * nb]
        start = 2 * nb + self._nasks
        return ints[2 * nb:start], ints[start:]

    def _first(self, side: str) -> Optional[LevelPair]:
        """The first (price, quantity) of a side as sent, without building the list."""
        levels = self._bids if side == "bids" else self._asks
        if levels is not None:
            return (levels[0].price, levels[0].quantity) if levels else None
        prices, quantities = self._columns(side)
        return (prices[0], quantities[0]) if prices else None

    def _get_bids(self) -> list[Any]:
        if self._bids is None:
            self._bids = list(map(self._level, *self._columns("bids")))
        return self._bids

    def _set_bids(self, levels: list[Any]) -> None:
        self._bids = levels

    def _get_asks(self) -> list[Any]:
        if self._asks is None:
            self._asks = list(map(self._level, *self._columns("asks")))
        return self._asks

    def _set_asks(self, levels: list[Any]) -> None:
        self._asks = levels

    bids = property(_get_bids, _set_bids)
    asks = property(_get_asks, _set_asks)

    def pairs(self, side: str) -> Iterator[LevelPair]:
        """``(price, quantity)`` of each entry of ``"bids"`` or ``"asks"``, in order."""
        levels = self._bids if side == "bids" else self._asks
        if levels is not None:
            return ((lv.price, lv.quantity) for lv in levels)
        return zip(*self._columns(side))


class PackedDepthSnapshot(_Packed, DepthSnapshot):
    """The DepthSnapshot the decoder builds (see :class:`_Packed`)."""

    _level = DepthLevel

    @classmethod
    def from_columns(cls, ints: tuple[int, ...], nbids: int, nasks: int,
                     market_id: Optional[str] = None) -> PackedDepthSnapshot:
        """``ints`` = ``nbids`` bid prices, their quantities, ``nasks`` ask prices, theirs."""
        obj = cls.__new__(cls)
        obj._pack(ints, nbids, nasks)
        obj.market_id = market_id
        return obj

    @classmethod
    def from_ints(cls, bid_ints: tuple[int, ...], ask_ints: tuple[int, ...],
                  market_id: Optional[str] = None) -> PackedDepthSnapshot:
        """From flat ``(price, quantity, price, quantity, ...)`` tuples, one a side."""
        return cls.from_columns(*columns_of(bid_ints, ask_ints), market_id)

    @property
    def best_bid(self) -> Optional[DepthLevel]:
        first = self._first("bids")
        return None if first is None else DepthLevel(*first)

    @property
    def best_ask(self) -> Optional[DepthLevel]:
        first = self._first("asks")
        return None if first is None else DepthLevel(*first)

    def __repr__(self) -> str:
        # what it is to its users: a DepthSnapshot (the packing is an implementation detail)
        return (f"DepthSnapshot(bids={self.bids!r}, asks={self.asks!r}, "
                f"market_id={self.market_id!r})")


class PackedDepthChanges(_Packed, DepthChanges):
    """The DepthChanges the decoder builds (see :class:`_Packed`)."""

    _level = DepthChange

    @classmethod
    def from_columns(cls, ints: tuple[int, ...], nbids: int, nasks: int) -> PackedDepthChanges:
        """``ints`` = ``nbids`` bid prices, their changes, ``nasks`` ask prices, theirs."""
        obj = cls.__new__(cls)
        obj._pack(ints, nbids, nasks)
        return obj

    @classmethod
    def from_ints(cls, bid_ints: tuple[int, ...], ask_ints: tuple[int, ...]
                  ) -> PackedDepthChanges:
        """From flat ``(price, change, price, change, ...)`` tuples, one a side."""
        return cls.from_columns(*columns_of(bid_ints, ask_ints))

    def __repr__(self) -> str:
        return f"DepthChanges(bids={self.bids!r}, asks={self.asks!r})"


@dataclass
class DepthUpdate(DataClassJsonMixin):
    """One message of a depth stream (fields and order as in o2-sdk).

    ``is_snapshot`` True (the subscribe answer, and again after every reconnect):
    ``changes`` is a :class:`DepthSnapshot`, the whole book with absolute
    quantities; replace your book. False: ``changes`` is a :class:`DepthChanges` of
    signed relative changes; add each to its level (:class:`DepthBook` does it).
    """

    changes: Union[DepthSnapshot, DepthChanges]
    market_id: str
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None
    is_snapshot: bool = False

    @classmethod
    def from_dict(cls, kvs: Any, *, infer_missing: bool = False) -> DepthUpdate:
        """From :meth:`to_dict` output (``is_snapshot`` says which ``changes`` class;
        the Union alone would leave dataclasses-json guessing) or, as o2-sdk's, from a
        wire frame (it has an ``action``), decoded as the client decodes frames."""
        if "action" in kvs:
            from .decode import decode_depth  # decode imports this module

            return decode_depth(kvs)
        kind: Any = DepthSnapshot if kvs.get("is_snapshot") else DepthChanges
        changes = kvs.get("changes")
        return cls(
            changes=kind.from_dict(changes, infer_missing=infer_missing)
            if isinstance(changes, dict) else changes,
            market_id=kvs["market_id"],
            onchain_timestamp=kvs.get("onchain_timestamp"),
            seen_timestamp=kvs.get("seen_timestamp"),
            is_snapshot=bool(kvs.get("is_snapshot", False)),
        )


class DepthBook:
    """A local book kept from a depth stream, as o2-sdk's ``DepthBook``.

    ``bids`` / ``asks`` map each non-empty level's integer price to its integer
    quantity. :meth:`apply` takes every :class:`DepthUpdate` in stream order: a
    snapshot replaces the book (levels of quantity 0 left out); a delta adds each
    signed change to its level, creating it when the sum is positive and removing it
    when the sum reaches zero or less. A change of 0, or a non-positive change to a
    level the book does not have, changes nothing. Each update is applied whole or,
    when an entry is not an integer, not at all (ValueError, book untouched).

    Superset: ``inconsistencies`` counts the changes whose sum went below zero
    (more removed than the book held: a lost or duplicated message upstream).
    """

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.inconsistencies = 0

    def apply(self, update: DepthUpdate) -> None:
        """Apply one snapshot or delta (atomically: entries are parsed first)."""
        changes = update.changes
        entries = [(self.bids, _as_int(lv.price), _as_int(lv.quantity)) for lv in changes.bids]
        entries += [(self.asks, _as_int(lv.price), _as_int(lv.quantity)) for lv in changes.asks]
        if update.is_snapshot:
            self.bids.clear()
            self.asks.clear()
            for side, price, quantity in entries:
                if quantity > 0:
                    side[price] = quantity
            return
        for side, price, change in entries:
            total = side.get(price, 0) + change
            if total > 0:
                side[price] = total
            else:
                side.pop(price, None)
                if total < 0:
                    self.inconsistencies += 1

    @property
    def best_bid(self) -> Optional[int]:
        """The highest bid price, or None when there are no bids."""
        return max(self.bids) if self.bids else None

    @property
    def best_ask(self) -> Optional[int]:
        """The lowest ask price, or None when there are no asks."""
        return min(self.asks) if self.asks else None

    def __repr__(self) -> str:
        return (f"<DepthBook bids={len(self.bids)} asks={len(self.asks)} "
                f"best_bid={self.best_bid} best_ask={self.best_ask}>")


def _as_int(value: Any) -> int:
    """An entry's number as an int: o2sync's ints pass, an SDK-style digit string is
    parsed; anything else (a fraction, a bool, text) raises ValueError."""
    if value.__class__ is int:
        return int(value)
    if isinstance(value, str):
        return int(value, 10)
    raise ValueError(f"depth entry is not an integer: {value!r}")


# ---------------------------------------------------------------------- orders


@dataclass
class Order(DataClassJsonMixin):
    """Full current state of one order (the stream sends whole orders, not diffs)."""

    order_id: str
    side: Side
    order_type: Any
    price: int
    quantity: int
    quantity_fill: int = 0
    price_fill: int = 0
    timestamp: Optional[str] = None
    close: bool = False
    partially_filled: bool = False
    cancel: bool = False
    market_id: Optional[str] = None
    owner: Optional[dict[str, str]] = None
    account: Optional[dict[str, str]] = None
    desired_quantity: Optional[Any] = None
    base_decimals: Optional[int] = None
    history: Optional[Any] = None
    fills: Optional[Any] = None

    @property
    def is_open(self) -> bool:
        """True while the order rests on the book (not closed)."""
        return not self.close

    @property
    def status(self) -> str:
        """``"cancelled"``, ``"filled"``, ``"partially_filled"`` or ``"open"``."""
        if self.cancel:
            return "cancelled"
        if self.close:
            return "filled"
        return "partially_filled" if self.partially_filled else "open"


@dataclass
class OrderUpdate(DataClassJsonMixin):
    """Orders of the subscribed account that changed."""

    orders: list[Order]
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


# ---------------------------------------------------------------------- trades


@dataclass(frozen=True, eq=False)
class Identity(DataClassJsonMixin):
    """A Fuel identity: a contract (an O2 trade account) or an address.

    On the wire it is ``{"ContractId": "0x..."}`` or ``{"Address": "0x..."}``; that is
    also what ``to_wire()`` and a Trade's ``to_dict()`` give back. For code written
    against the raw dict, ``identity["ContractId"]``, ``.get()`` and ``==`` with
    such a dict still work.
    """

    contract_id: Optional[str] = None
    address: Optional[str] = None

    @property
    def value(self) -> Optional[str]:
        """The id, whichever kind it is."""
        return self.contract_id if self.contract_id is not None else self.address

    @property
    def kind(self) -> str:
        """``"ContractId"`` or ``"Address"`` (the wire key)."""
        return "ContractId" if self.contract_id is not None else "Address"

    @classmethod
    def from_wire(cls, raw: Any) -> Optional[Identity]:
        """From the wire dict (or an Identity, a ``contract_id``/``address`` dict, None)."""
        if raw is None or isinstance(raw, Identity):
            return raw
        if not isinstance(raw, dict):
            raise TypeError(f"an identity is a dict like {{'ContractId': '0x...'}}, got {raw!r}")
        contract = raw.get("ContractId", raw.get("contract_id"))
        address = raw.get("Address", raw.get("address"))
        return cls(None if contract is None else str(contract),
                   None if address is None else str(address))

    def to_wire(self) -> dict[str, str]:
        """``{"ContractId": "0x..."}`` / ``{"Address": "0x..."}``, as the exchange sends it."""
        out: dict[str, str] = {}
        if self.contract_id is not None:
            out["ContractId"] = self.contract_id
        if self.address is not None:
            out["Address"] = self.address
        return out

    def __getitem__(self, key: str) -> str:
        return self.to_wire()[key]

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        return self.to_wire().get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Identity):
            return (self.contract_id, self.address) == (other.contract_id, other.address)
        if isinstance(other, dict):
            return self.to_wire() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.contract_id, self.address))

    def __repr__(self) -> str:
        return f"Identity({self.kind}={self.value!r})"


def _identity_to_wire(identity: Optional[Identity]) -> Optional[dict[str, str]]:
    return None if identity is None else Identity.from_wire(identity).to_wire()  # type: ignore[union-attr]


_IDENTITY_JSON = config(encoder=_identity_to_wire, decoder=Identity.from_wire)


@dataclass
class Trade(DataClassJsonMixin):
    """One execution. ``side`` is the maker's side; ``timestamp`` is in milliseconds.

    ``maker`` and ``taker`` are :class:`Identity` objects (``.contract_id``,
    ``.address``); the constructor also takes the wire dict ``{"ContractId": ...}``.
    """

    trade_id: str
    side: Side
    price: int
    quantity: int
    total: int
    timestamp: int
    maker: Optional[Identity] = field(default=None, metadata=_IDENTITY_JSON)
    taker: Optional[Identity] = field(default=None, metadata=_IDENTITY_JSON)
    trader_side: Optional[str] = None

    def __post_init__(self) -> None:
        if self.maker is not None and not isinstance(self.maker, Identity):
            self.maker = Identity.from_wire(self.maker)
        if self.taker is not None and not isinstance(self.taker, Identity):
            self.taker = Identity.from_wire(self.taker)


@dataclass
class TradeUpdate(DataClassJsonMixin):
    """New trades of a market, oldest first."""

    market_id: str
    trades: list[Trade]
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


# -------------------------------------------------------------------- balances


@dataclass
class OrderBookBalance(DataClassJsonMixin):
    """Locked/unlocked amounts of one asset inside one order-book contract."""

    locked: int
    unlocked: int
    fee: int = 0


@dataclass
class Balance(DataClassJsonMixin):
    """Full current balance of one asset of one account (replace, do not add).

    ``total_unlocked`` already includes ``trading_account_balance``.
    """

    asset_id: str
    total_locked: int
    total_unlocked: int
    trading_account_balance: int
    identity: Optional[dict[str, str]] = None
    order_books: dict[str, OrderBookBalance] = field(default_factory=dict)

    @property
    def available(self) -> int:
        """What can be spent: ``total_unlocked``."""
        return self.total_unlocked

    @property
    def total(self) -> int:
        """Locked plus unlocked."""
        return self.total_locked + self.total_unlocked


@dataclass
class BalanceUpdate(DataClassJsonMixin):
    """Balances of the subscribed account that changed, one entry per asset."""

    balance: list[Balance]
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


# ----------------------------------------------------------------------- nonce


@dataclass
class NonceUpdate(DataClassJsonMixin):
    """The trading account's nonce changed."""

    contract_id: str
    nonce: int
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


Event = Union[DepthUpdate, TradeUpdate, OrderUpdate, BalanceUpdate, NonceUpdate, ConnectionEvent]
