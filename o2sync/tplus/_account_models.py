"""Typed tplus account state and market summaries, with tpluspy 0.6.0's names.

Tickers and open interest (MDS), positions, account events, the intent feed,
margin, solvency, position basis and sub-account names: the items of the
``stream_ticker``/``stream_tickers``/``stream_user_positions``/``stream_user_events``/
``stream_intent`` streams and of the REST reads a streaming user re-syncs with.
Attribute names, types and defaults follow tpluspy's ``tplus/model/ticker.py``,
``open_interest.py``, ``position.py``, ``user_event.py``, ``intent.py``,
``user_margin.py``, ``user_solvency.py``, ``position_basis.py`` and
``sub_account.py`` (PARITY.md section 2), except that every number is an exact
``Decimal`` or ``int``. Frozen dataclasses with dataclasses-json, like
:mod:`o2sync.tplus.models`; decoded strictly by :mod:`o2sync.tplus._account_decode`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional, Union

from dataclasses_json import config

from ._pydanticish import TplusModel
from .asset import AssetIdentifier

__all__ = [
    "AccountMarginInfo",
    "AccountSolvency",
    "AssetNettingInfo",
    "BookLevel",
    "CalledVenue",
    "DepositLanded",
    "IntentAggregateUpdate",
    "MarginCallInfo",
    "MarginCallUpdated",
    "MarginPositionSide",
    "MarginWarning",
    "OpenInterest",
    "PositionBasisResponse",
    "PositionCleared",
    "PositionMarginInfo",
    "PositionResponse",
    "PositionUpdate",
    "SubAccountAssetTransferred",
    "SubAccountNameEntry",
    "SubAccountNamesResponse",
    "Ticker",
    "TickerOpenInterest",
    "UserActivityEvent",
    "UserMarginInfo",
    "UserPositionsPage",
    "UserSolvency",
    "WithdrawalCompleted",
]

_ASSET = config(encoder=str, decoder=AssetIdentifier)

#: The base of every model here: the conveniences every tplus model has (to_dict /
#: to_json, and tpluspy's pydantic-style model_dump / model_validate).
_Model = TplusModel


def _larger_side(long: Optional[Decimal], short: Optional[Decimal]) -> Optional[Decimal]:
    # tpluspy takes the larger side, not the sum (the engine caps on the larger one)
    sides = [s for s in (long, short) if s is not None]
    return max(sides) if sides else None


# ---------------------------------------------------------------------- tickers


@dataclass(frozen=True)
class BookLevel(_Model):
    """One book level of a ticker: the price and the size resting there."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True)
class TickerOpenInterest(_Model):
    """Open interest inside a :class:`Ticker`, per side, in asset quantity."""

    timestamp_ns: int
    long: Optional[Decimal] = None
    short: Optional[Decimal] = None

    @property
    def total_open_interest(self) -> Optional[Decimal]:
        """The larger of ``long`` and ``short`` (``None`` when neither is known)."""
        return _larger_side(self.long, self.short)


@dataclass(frozen=True, repr=False)
class Ticker(_Model):
    """A market's 24 h summary (``/ticker/ws/{asset}``, ``/tickers/ws``, REST)."""

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    volume_24h: Decimal
    timestamp_ns: int
    last_price: Optional[Decimal] = None
    mark_price: Optional[Decimal] = None
    index_price: Optional[Decimal] = None
    best_bid: Optional[BookLevel] = None
    best_ask: Optional[BookLevel] = None
    open_interest: Optional[TickerOpenInterest] = None
    high_24h: Optional[Decimal] = None
    low_24h: Optional[Decimal] = None
    price_change_24h: Optional[Decimal] = None
    price_change_pct_24h: Optional[Decimal] = None

    def __repr__(self) -> str:
        bid = self.best_bid.price if self.best_bid is not None else None
        ask = self.best_ask.price if self.best_ask is not None else None
        return (f"Ticker({self.asset_id} last={self.last_price} mark={self.mark_price} "
                f"bid={bid} ask={ask} vol24h={self.volume_24h} ts={self.timestamp_ns})")


@dataclass(frozen=True)
class OpenInterest(_Model):
    """A market's open interest per side (``GET /openinterest[/{asset}]``); the sides
    are ``None`` until the market first reports."""

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    long: Optional[Decimal] = None
    short: Optional[Decimal] = None
    timestamp_ns: Optional[int] = None

    @property
    def total_open_interest(self) -> Optional[Decimal]:
        """The larger of ``long`` and ``short`` (``None`` when neither is known)."""
        return _larger_side(self.long, self.short)


# ---------------------------------------------------------------------- positions


@dataclass(frozen=True, repr=False)
class PositionResponse(_Model):
    """One position (a row of :class:`PositionUpdate` and of the REST positions page).

    ``side`` is ``"long"``, ``"short"`` or ``"closed"`` as sent.
    """

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    sub_account_index: int
    name: str
    side: str
    size: Decimal
    base_credits: Decimal
    base_liabilities: Decimal
    quote_credits: Decimal
    quote_liabilities: Decimal
    entry_price: Optional[Decimal] = None
    mark_price: Optional[Decimal] = None
    unrealized_pnl: Optional[Decimal] = None
    margin: Optional[Decimal] = None
    leverage: Optional[Decimal] = None
    liquidation_price: Optional[Decimal] = None

    def __repr__(self) -> str:
        return (f"PositionResponse({self.asset_id}#{self.sub_account_index} {self.side} "
                f"{self.size} entry={self.entry_price} mark={self.mark_price} "
                f"upnl={self.unrealized_pnl})")


@dataclass(frozen=True)
class PositionUpdate(_Model):
    """A ``/positions/ws/{user}`` frame: the user's **complete** position list, which
    replaces the previous one (an empty list means no positions)."""

    user_id: str
    positions: list[PositionResponse]
    timestamp_ns: int


@dataclass(frozen=True)
class UserPositionsPage(_Model):
    """One page of ``GET /positions/{user}``: rows plus the page meta.

    Not a sequence of its rows (tpluspy's is not either): read ``page.positions``.
    """

    positions: list[PositionResponse]
    total_positions: int
    page: int
    limit: int
    total_pages: int
    cursor_size: int
    has_next_page: bool
    next_page: Optional[int] = None


# ---------------------------------------------------------------------- account events


@dataclass(frozen=True)
class DepositLanded(_Model):
    """An on-chain deposit reached the user's inventory. ``amount`` is a base-10
    string in inventory units of 1e18, as sent."""

    user: str
    asset: str
    amount: str
    chain_id: str
    deposit_nonce: int
    timestamp_ns: int


@dataclass(frozen=True)
class WithdrawalCompleted(_Model):
    """An on-chain withdrawal left the user's inventory (``amount``: 1e18 units, text)."""

    user: str
    asset: str
    amount: str
    chain_id: str
    withdrawal_nonce: int
    timestamp_ns: int


@dataclass(frozen=True)
class PositionCleared(_Model):
    """A margin position was cleared by the close-position flow."""

    user: str
    sub_account_index: int
    asset: str
    timestamp_ns: int


@dataclass(frozen=True)
class SubAccountAssetTransferred(_Model):
    """The user moved an asset between two of their sub-accounts (``amount``: 1e18 units)."""

    user: str
    source_sub_account_index: int
    target_sub_account_index: int
    asset: str
    amount: str
    timestamp_ns: int


@dataclass(frozen=True)
class CalledVenue(_Model):
    """One called venue of a margin call and the moment its offsets lapse."""

    venue: int
    deadline_ns: int


@dataclass(frozen=True)
class MarginCallUpdated(_Model):
    """A sub-account's margin call opened, moved or cleared (``called_venues`` empty)."""

    user: str
    sub_account_index: int
    timestamp_ns: int
    called_venues: list[CalledVenue] = field(default_factory=list)


UserActivityEvent = Union[DepositLanded, WithdrawalCompleted, PositionCleared,
                          SubAccountAssetTransferred, MarginCallUpdated]
"""What ``stream_user_events`` yields: the inner model of the tagged frame."""


# ---------------------------------------------------------------------- intent


@dataclass(frozen=True)
class IntentAggregateUpdate(_Model):
    """One asset's anonymous intent aggregate over a 100 ms window (``/intent/ws``):
    the window's signed movement (``*_delta``) and the totals after it."""

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    watchers_delta: int
    quantity_delta: Decimal
    watchers: int
    quantity: Decimal
    window_end_ns: int


# ---------------------------------------------------------------------- margin


class MarginPositionSide(str, enum.Enum):
    """Direction of a margin position (tpluspy's ``user_margin.PositionSide``).

    A ``str``: ``info.side == "Long"`` holds; lowercase wire values are accepted.
    """

    LONG = "Long"
    SHORT = "Short"

    @classmethod
    def _missing_(cls, value: object) -> Optional[MarginPositionSide]:
        if isinstance(value, str):
            folded = value.strip().lower()
            for member in cls:
                if member.value.lower() == folded:
                    return member
        return None

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PositionMarginInfo(_Model):
    """One position's margin: size, notional value and maintenance requirement."""

    asset_id: str
    side: MarginPositionSide
    size: Decimal
    notional_value: Decimal
    margin: Decimal


@dataclass(frozen=True)
class MarginWarning(_Model):
    """A partial-computation warning of the margin endpoint."""

    sub_account: int
    code: str
    message: str
    asset: Optional[str] = None


@dataclass(frozen=True)
class AssetNettingInfo(_Model):
    """Per-asset netting from the engine's liquidation decomposition."""

    asset_id: str
    gross_long: Decimal
    gross_short: Decimal
    offset_long: Decimal
    offset_short: Decimal
    residual_long: Decimal
    residual_short: Decimal
    closeout: Decimal
    residual_ppm: Optional[int] = None
    cost_ppm: Optional[int] = None


@dataclass(frozen=True)
class MarginCallInfo(_Model):
    """An open margin call on one venue's offsets."""

    venue: int
    started_at_ns: int
    deadline_ns: int


@dataclass(frozen=True)
class AccountMarginInfo(_Model):
    """One sub-account's margin breakdown (``GET /margin/user/{user}``)."""

    account_equity: Decimal
    available_margin: Decimal
    utilized_margin: Decimal
    maintenance_margin_surplus: Decimal
    mm_requirement: Optional[Decimal]
    account_leverage: Optional[Decimal]
    is_solvent: bool
    is_liquidatable: bool
    total_upnl: Decimal
    im_surplus: Optional[Decimal]
    net_apy: Optional[Decimal]
    margin_calls: list[MarginCallInfo] = field(default_factory=list)
    netting: Optional[list[AssetNettingInfo]] = None
    positions: Optional[list[PositionMarginInfo]] = None


@dataclass(frozen=True)
class UserMarginInfo(_Model):
    """Margin of every sub-account, keyed by sub-account index (``int``)."""

    accounts: dict[int, AccountMarginInfo]
    warnings: list[MarginWarning] = field(default_factory=list)


# ---------------------------------------------------------------------- solvency


@dataclass(frozen=True)
class AccountSolvency(_Model):
    """One sub-account's solvency."""

    is_solvent: bool
    distance_from_liquidation: Decimal


@dataclass(frozen=True)
class UserSolvency(_Model):
    """Solvency of every sub-account, keyed by sub-account index (``int``)."""

    accounts: dict[int, AccountSolvency]


# ---------------------------------------------------------------------- MDS user reads


@dataclass(frozen=True)
class PositionBasisResponse(_Model):
    """A trade-derived position-basis estimate (not authoritative inventory).

    ``domain`` is ``"spot"`` or ``"margin"``; ``side`` ``"long"``, ``"short"`` or None.
    """

    sub_account: int
    asset_id: AssetIdentifier = field(metadata=_ASSET)
    domain: str
    quantity: Decimal
    cost: Decimal
    side: Optional[str] = None
    entry_price: Optional[Decimal] = None
    avg_acquisition_price: Optional[Decimal] = None
    mark_price: Optional[Decimal] = None
    unrealized_pnl: Optional[Decimal] = None


@dataclass(frozen=True)
class SubAccountNameEntry(_Model):
    """A sub-account's index and the name its owner gave it."""

    account_index: int
    name: str


@dataclass(frozen=True)
class SubAccountNamesResponse(_Model):
    """The names a user gave their sub-accounts, lowest index first."""

    names: list[SubAccountNameEntry] = field(default_factory=list)
