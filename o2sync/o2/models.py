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


@dataclass
class DepthLevel(DataClassJsonMixin):
    """A price level: raw chain ``price`` and ``quantity`` (0 in a delta = removed)."""

    price: int
    quantity: int


@dataclass(eq=False)
class DepthChanges(DataClassJsonMixin):
    """Levels of one depth message: the whole book (snapshot) or what changed (delta).

    ``bids`` best (highest) first and ``asks`` best (lowest) first, as the server sends them.
    """

    bids: list[DepthLevel] = field(default_factory=list)
    asks: list[DepthLevel] = field(default_factory=list)

    @property
    def best_bid(self) -> Optional[DepthLevel]:
        """The first bid level, or None."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> Optional[DepthLevel]:
        """The first ask level, or None."""
        return self.asks[0] if self.asks else None

    def pairs(self, side: str) -> Iterator[tuple[int, int]]:
        """``(price, quantity)`` of each level of ``"bids"`` or ``"asks"``, in order."""
        return ((lv.price, lv.quantity) for lv in getattr(self, side))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DepthChanges):
            return NotImplemented
        return self.bids == other.bids and self.asks == other.asks


def columns_of(bid_ints: tuple[int, ...], ask_ints: tuple[int, ...]
               ) -> tuple[tuple[int, ...], int, int]:
    """Flat ``(price, quantity, ...)`` tuples, one a side -> the arguments of
    :meth:`PackedDepthChanges.from_columns`."""
    return (bid_ints[::2] + bid_ints[1::2] + ask_ints[::2] + ask_ints[1::2],
            len(bid_ints) // 2, len(ask_ints) // 2)


class PackedDepthChanges(DepthChanges):
    """The DepthChanges the decoder builds: exact ints, DepthLevel objects on demand.

    Levels arrive as one tuple of ints, already validated, in columns: the bid
    prices, the bid quantities, the ask prices, the ask quantities. The DepthLevel
    lists are built the first time ``bids`` or ``asks`` is read. That keeps a score
    of small objects per message off the reader thread, and out of the garbage
    collector's way while events wait in a queue (a tuple of ints is not tracked by
    it). To everything else it is a DepthChanges.
    """

    _bids: Optional[list[DepthLevel]]
    _asks: Optional[list[DepthLevel]]
    _ints: tuple[int, ...]
    _nbids: int
    _nasks: int

    @classmethod
    def from_columns(cls, ints: tuple[int, ...], nbids: int, nasks: int) -> PackedDepthChanges:
        """``ints`` = ``nbids`` bid prices, their quantities, ``nasks`` ask prices, theirs."""
        obj = cls.__new__(cls)
        obj._ints, obj._nbids, obj._nasks = ints, nbids, nasks
        obj._bids = obj._asks = None
        return obj

    @classmethod
    def from_ints(cls, bid_ints: tuple[int, ...], ask_ints: tuple[int, ...]
                  ) -> PackedDepthChanges:
        """From flat ``(price, quantity, price, quantity, ...)`` tuples, one a side."""
        return cls.from_columns(*columns_of(bid_ints, ask_ints))

    def _columns(self, side: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(prices, quantities) of one side."""
        ints, nb = self._ints, self._nbids
        if side == "bids":
            return ints[:nb], ints[nb:2 * nb]
        start = 2 * nb + self._nasks
        return ints[2 * nb:start], ints[start:]

    def _get_bids(self) -> list[DepthLevel]:
        if self._bids is None:
            self._bids = list(map(DepthLevel, *self._columns("bids")))
        return self._bids

    def _set_bids(self, levels: list[DepthLevel]) -> None:
        self._bids = levels

    def _get_asks(self) -> list[DepthLevel]:
        if self._asks is None:
            self._asks = list(map(DepthLevel, *self._columns("asks")))
        return self._asks

    def _set_asks(self, levels: list[DepthLevel]) -> None:
        self._asks = levels

    bids = property(_get_bids, _set_bids)
    asks = property(_get_asks, _set_asks)

    @property
    def best_bid(self) -> Optional[DepthLevel]:
        if self._bids is not None:
            return self._bids[0] if self._bids else None
        nb = self._nbids
        return DepthLevel(self._ints[0], self._ints[nb]) if nb else None

    @property
    def best_ask(self) -> Optional[DepthLevel]:
        if self._asks is not None:
            return self._asks[0] if self._asks else None
        if not self._nasks:
            return None
        first = 2 * self._nbids
        return DepthLevel(self._ints[first], self._ints[first + self._nasks])

    def __repr__(self) -> str:
        # what it is to its users: a DepthChanges (the packing is an implementation detail)
        return f"DepthChanges(bids={self.bids!r}, asks={self.asks!r})"

    def pairs(self, side: str) -> Iterator[tuple[int, int]]:
        levels = self._bids if side == "bids" else self._asks
        if levels is not None:
            return super().pairs(side)
        return zip(*self._columns(side))


@dataclass
class DepthUpdate(DataClassJsonMixin):
    """One message of a depth stream.

    ``is_snapshot`` True: ``changes`` is the full book at the subscribed precision;
    replace your book. False: ``changes`` holds levels whose new absolute quantity
    is given (0 removes the level).
    """

    market_id: str
    changes: DepthChanges
    is_snapshot: bool = False
    onchain_timestamp: Optional[str] = None
    seen_timestamp: Optional[str] = None


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
