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
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Optional, Union

from dataclasses_json import DataClassJsonMixin, config

from ..engine.lifecycle import ConnectionEvent as ConnectionEvent  # re-exported (Event)
from .ids import Id

Number = Union[int, str, Decimal]


class Side(str, enum.Enum):
    """Order or trade side names. ``Order.side`` and ``Trade.side`` are the wire text as
    sent (as in o2-sdk); these members are ``str``, so ``trade.side == Side.BUY`` holds
    for a wire ``"Buy"``."""

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
    places; ``scale_*`` go the other way (human -> chain integer). Fields, and their
    order, are o2-sdk's; ``format_*`` give the exact ``Decimal`` where o2-sdk gives a
    ``float`` (README, deliberate exception 1).
    """

    contract_id: Id
    market_id: Id
    maker_fee: str
    taker_fee: str
    min_order: str
    dust: str
    price_window: int
    base: MarketAsset
    quote: MarketAsset

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
        return _scale_down(human, self.quote, self.quote.max_precision)

    def scale_quantity(self, human: Number) -> int:
        """Human quantity -> chain integer, rounded down to whole base units (as o2-sdk:
        quantities keep every atomic digit; only prices follow ``max_precision``)."""
        return _scale_down(human, self.base, self.base.decimals)


def _display(value: Decimal, places: int) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):f}"


def _scale_down(human: Number, asset: MarketAsset, places: int) -> int:
    """``human`` in chain units of ``asset``, rounded down to ``places`` decimals.
    A negative, non-finite or non-numeric value raises ValueError (as in o2-sdk)."""
    try:
        value = Decimal(str(human).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"invalid amount {human!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"an amount must be finite and non-negative, got {human!r}")
    scaled = value.scaleb(asset.decimals).to_integral_value(rounding=ROUND_DOWN)
    step: int = 10 ** max(asset.decimals - places, 0)
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


@dataclass(frozen=True, eq=False)
class Identity(DataClassJsonMixin):
    """A Fuel identity: a contract (an O2 trade account) or an address.

    As in o2-sdk, ``value`` is the id and the concrete class says its kind:
    :class:`ContractIdentity` or :class:`AddressIdentity` (``Identity.from_dict`` /
    ``from_wire`` pick it). On the wire it is ``{"ContractId": "0x..."}`` or
    ``{"Address": "0x..."}``; that is what ``to_dict()``, ``to_wire()`` and a Trade's
    ``to_dict()`` give back. For code written against the raw dict,
    ``identity["ContractId"]``, ``.get()`` and ``==`` with such a dict still work, and
    ``contract_id`` / ``address`` / ``kind`` name the id by its kind.
    """

    value: str

    #: the wire key of this kind of identity (set by the two subclasses)
    _KIND = ""

    @property
    def kind(self) -> str:
        """``"ContractId"`` or ``"Address"`` (the wire key)."""
        return self._KIND

    @property
    def contract_id(self) -> Optional[str]:
        """The id if this is a contract, else None."""
        return self.value if self._KIND == "ContractId" else None

    @property
    def address(self) -> Optional[str]:
        """The id if this is an address, else None."""
        return self.value if self._KIND == "Address" else None

    @property
    def discriminant(self) -> int:
        """0 for an address, 1 for a contract (the Fuel ``Identity`` enum tag)."""
        return 1 if self._KIND == "ContractId" else 0

    @property
    def address_bytes(self) -> bytes:
        """The 32 id bytes."""
        return bytes.fromhex(self.value[2:] if self.value[:2] in ("0x", "0X") else self.value)

    @classmethod
    def from_wire(cls, raw: Any) -> Optional[Identity]:
        """From the wire dict (or an Identity, a ``contract_id``/``address`` dict, None)."""
        if raw is None or isinstance(raw, Identity):
            return raw
        if not isinstance(raw, dict):
            raise TypeError(f"an identity is a dict like {{'ContractId': '0x...'}}, got {raw!r}")
        contract = raw.get("ContractId", raw.get("contract_id"))
        if contract is not None:
            return ContractIdentity(str(contract))
        address = raw.get("Address", raw.get("address"))
        if address is not None:
            return AddressIdentity(str(address))
        raise ValueError(f"an identity has a ContractId or an Address, got {raw!r}")

    @classmethod
    def from_dict(cls, kvs: Any, *, infer_missing: bool = False) -> Identity:
        """From the wire dict ``{"ContractId": ...}`` / ``{"Address": ...}`` (as o2-sdk);
        ``{"value": ...}`` (what ``dataclasses.asdict`` gives) keeps this class's kind."""
        if isinstance(kvs, dict) and set(kvs) == {"value"} and cls._KIND:
            return cls(str(kvs["value"]))
        found = cls.from_wire(kvs)
        if found is None:
            raise ValueError("an identity cannot be None")
        return found

    def to_wire(self) -> dict[str, str]:
        """``{"ContractId": "0x..."}`` / ``{"Address": "0x..."}``, as the exchange sends it."""
        return {self._KIND or "Address": self.value}

    def to_dict(self, encode_json: bool = False) -> dict[str, Any]:
        """The wire dict, as o2-sdk's ``Identity.to_dict()``."""
        return dict(self.to_wire())

    def __getitem__(self, key: str) -> str:
        return self.to_wire()[key]

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        return self.to_wire().get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Identity):
            return (self.kind, self.value) == (other.kind, other.value)
        if isinstance(other, dict):
            return self.to_wire() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.kind, self.value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind}={self.value!r})"


@dataclass(frozen=True, eq=False, repr=False)
class ContractIdentity(Identity):
    """A contract id identity (``{"ContractId": ...}``): an O2 trade account."""

    _KIND = "ContractId"


@dataclass(frozen=True, eq=False, repr=False)
class AddressIdentity(Identity):
    """A wallet address identity (``{"Address": ...}``)."""

    _KIND = "Address"


def _identity_to_wire(identity: Optional[Identity]) -> Optional[dict[str, str]]:
    return None if identity is None else Identity.from_wire(identity).to_wire()  # type: ignore[union-attr]


_IDENTITY_JSON = config(encoder=_identity_to_wire, decoder=Identity.from_wire)


@dataclass
class Order(DataClassJsonMixin):
    """Full current state of one order (the stream sends whole orders, not diffs).

    Fields, order and defaults are o2-sdk's ``Order``: ``side`` and ``order_type`` as
    sent (``"Buy"`` stays ``"Buy"``, ``"buy"`` stays ``"buy"``); ``fill``,
    ``order_tx_history``, ``history`` and ``fills`` are four separate raw fields;
    ``account`` / ``owner`` are :class:`Identity` objects. Prices and quantities are
    exact ``int`` chain units where o2-sdk keeps the digit string (README, deliberate
    exception 1); ``timestamp`` stays the digit string it is in o2-sdk.
    """

    order_id: Id
    side: Optional[str]  # as sent; None where the wire sends null (o2-sdk keeps it)
    order_type: Any
    quantity: int
    quantity_fill: int = 0
    price: int = 0
    price_fill: int = 0
    timestamp: str = "0"
    close: bool = False
    partially_filled: bool = False
    cancel: bool = False
    account: Optional[Identity] = field(default=None, metadata=_IDENTITY_JSON)
    desired_quantity: Optional[Any] = None
    fill: Optional[Any] = None
    order_tx_history: Optional[list[Any]] = None
    base_decimals: Optional[int] = None
    market_id: Optional[Id] = None
    owner: Optional[Identity] = field(default=None, metadata=_IDENTITY_JSON)
    history: Optional[list[Any]] = None
    fills: Optional[list[Any]] = None

    def __post_init__(self) -> None:
        if self.account is not None and not isinstance(self.account, Identity):
            self.account = Identity.from_wire(self.account)
        if self.owner is not None and not isinstance(self.owner, Identity):
            self.owner = Identity.from_wire(self.owner)

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


@dataclass
class Trade(DataClassJsonMixin):
    """One execution, with o2-sdk's fields, order and defaults.

    ``side`` is the maker's side as sent (``""`` when absent); ``timestamp`` is in
    milliseconds; ``trader_side`` (``"maker"``, ``"taker"``, ``"both"``) comes with
    account-filtered trades; ``market_id`` is the trade's own field (None when the
    trade does not carry one). ``total``, ``quantity`` and ``price`` are exact ``int``
    chain units (README, deliberate exception 1). ``maker`` and ``taker`` are
    :class:`Identity` objects; the constructor also takes the wire dict.
    """

    trade_id: str
    side: Optional[str]  # as sent; None where the wire sends null (o2-sdk keeps it)
    total: int
    quantity: int
    price: int
    timestamp: int
    trader_side: Optional[str] = None
    maker: Optional[Identity] = field(default=None, metadata=_IDENTITY_JSON)
    taker: Optional[Identity] = field(default=None, metadata=_IDENTITY_JSON)
    market_id: Optional[Id] = None

    def __post_init__(self) -> None:
        if self.maker is not None and not isinstance(self.maker, Identity):
            self.maker = Identity.from_wire(self.maker)
        if self.taker is not None and not isinstance(self.taker, Identity):
            self.taker = Identity.from_wire(self.taker)

    @property
    def taker_side(self) -> Optional[str]:
        """The aggressor's side, ``"Buy"`` or ``"Sell"``, as a tape shows it: the
        opposite of ``side`` (the maker's, in any casing). None when ``side`` is
        neither (absent or null on the wire). A tplus ``Trade.taker_side`` is the same."""
        maker = self.side.lower() if isinstance(self.side, str) else ""
        return {"buy": "Sell", "sell": "Buy"}.get(maker)


@dataclass
class TradeUpdate(DataClassJsonMixin):
    """New trades of a market, oldest first."""

    trades: list[Trade]
    market_id: Id
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


# -------------------------------------------------------------------- balances


@dataclass
class OrderBookBalance(DataClassJsonMixin):
    """Locked/unlocked amounts of one asset inside one order-book contract
    (``fee`` is o2sync's extra: o2-sdk drops it)."""

    locked: int = 0
    unlocked: int = 0
    fee: int = 0


@dataclass
class Balance(DataClassJsonMixin):
    """Full current balance of one asset of one account (replace, do not add).

    o2-sdk's fields first, in its order; ``asset_id`` and ``identity`` are o2sync's
    extras (set when the answer or stream entry names them). ``total_unlocked``
    already includes ``trading_account_balance``.
    """

    order_books: dict[str, OrderBookBalance] = field(default_factory=dict)
    total_locked: int = 0
    total_unlocked: int = 0
    trading_account_balance: int = 0
    asset_id: Optional[Id] = None
    identity: Optional[dict[str, str]] = None

    @property
    def available(self) -> int:
        """What can be spent: ``total_unlocked``."""
        return self.total_unlocked

    @property
    def locked(self) -> int:
        """Locked as collateral of open orders: ``total_locked``."""
        return self.total_locked

    @property
    def total(self) -> int:
        """Locked plus unlocked."""
        return self.total_locked + self.total_unlocked


class BalanceEntry(dict):  # type: ignore[type-arg]
    """One entry of a balances message: the wire dict as sent (o2-sdk gives the raw
    dict, so ``entry["asset_id"]`` and ``entry["total_locked"]`` work), which also
    reads as the exact :class:`Balance`: ``entry.total_locked`` (an ``int``),
    ``entry.available``, ``entry.order_books``, ``entry.balance``.

    The decoder checks every entry before the message is delivered, so the
    attribute view never fails on a delivered entry.
    """

    __slots__ = ("_parsed",)
    _parsed: Balance

    @property
    def balance(self) -> Balance:
        """The entry as an exact :class:`Balance`."""
        try:
            return self._parsed
        except AttributeError:
            from .decode import decode_balance  # the decoder imports this module

            parsed = decode_balance(dict(self))
            self._parsed = parsed
            return parsed

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.balance, name)

    def __repr__(self) -> str:
        return f"BalanceEntry({dict.__repr__(self)})"


@dataclass
class BalanceUpdate(DataClassJsonMixin):
    """Balances of the subscribed account that changed, one entry per asset.

    ``balance`` holds the wire entries as dicts, as in o2-sdk (see
    :class:`BalanceEntry` for the exact attribute view of each).
    """

    balance: list[dict[str, Any]]
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


# ----------------------------------------------------------------------- nonce


@dataclass
class NonceUpdate(DataClassJsonMixin):
    """The trading account's nonce changed (``nonce`` an exact ``int``: README,
    deliberate exception 1)."""

    contract_id: Id
    nonce: int
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


Event = Union[DepthUpdate, TradeUpdate, OrderUpdate, BalanceUpdate, NonceUpdate, ConnectionEvent]
