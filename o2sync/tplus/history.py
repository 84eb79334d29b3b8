"""The REST shapes a streaming tplus user re-reads: history pages, order state, markets.

Models with tpluspy 0.6.0's names and fields (PARITY §2; wire in
``tplus-streams.md`` §5): the MDS history rows and pages
(:class:`HistoricalUserTrade` / :class:`UserTradesPage`,
:class:`HistoricalUserOrder` / :class:`UserOrdersPage`), the order service's
live order state (:class:`OrderResponse`) and market list
(:class:`MarketResponse` / :class:`MarketsPage`), and the kline
:class:`Interval`. Pages are sequences of their rows. Decimals are exact, and
every row is validated strictly (:meth:`~o2sync.tplus._pydanticish.TplusModel.model_validate`).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal, Optional

from dataclasses_json import config

from ..errors import DecodeError
from ._pydanticish import RowsPage, TplusModel
from .asset import AssetIdentifier
from .models import MarketInfo, Side

__all__ = [
    "Asset",
    "FeeTierConfig",
    "HistoricalUserOrder",
    "HistoricalUserTrade",
    "Interval",
    "MarketFeeSchedule",
    "MarketResponse",
    "MarketsPage",
    "OrderResponse",
    "PageContinuation",
    "PageMeta",
    "UserOrdersPage",
    "UserTradesPage",
    "decode_markets_page",
    "decode_order_responses",
    "decode_user_orders_page",
    "decode_user_trades_page",
]

log = logging.getLogger(__name__)

_ASSET = config(encoder=str, decoder=AssetIdentifier)
TradeStatus = Literal["Pending", "Confirmed", "Rollbacked"]


class Interval(str, enum.Enum):
    """Kline bucket width; the value is what ``interval=`` sends (``str(i)`` too).
    The server also takes suffixed forms (``"5m"``, ``"4h"``); only ``"1M"`` (a month)
    is case-sensitive, ``"1m"`` being a minute."""

    SEC_1 = "1S"
    SEC_5 = "5S"
    SEC_15 = "15S"
    SEC_30 = "30S"
    MIN_1 = "1"
    MIN_3 = "3"
    MIN_5 = "5"
    MIN_15 = "15"
    MIN_30 = "30"
    HOUR_1 = "60"
    HOUR_2 = "120"
    HOUR_4 = "240"
    HOUR_6 = "360"
    HOUR_8 = "480"
    HOUR_12 = "720"
    DAY_1 = "1D"
    DAY_3 = "3D"
    WEEK_1 = "1W"
    MONTH_1 = "1M"

    def __str__(self) -> str:
        return self.value


# ---------------------------------------------------------------- page envelopes


@dataclass(frozen=True)
class PageContinuation(TplusModel):
    """What a continuation page promises: whether, and which, page comes next."""

    has_next_page: bool = False
    next_page: Optional[int] = None


@dataclass(frozen=True)
class PageMeta(TplusModel):
    """Full page metadata (every field required on the wire)."""

    page: int
    limit: int
    total_pages: int
    cursor_size: int
    has_next_page: bool
    next_page: Optional[int] = None


# ---------------------------------------------------------------- MDS history


@dataclass(frozen=True)
class HistoricalUserTrade(TplusModel):
    """One row of ``GET /trades/user/{user}``: a user's settled fill(s). No
    ``trade_id``: one row may merge several fills of one order (0.6.0)."""

    asset_id: AssetIdentifier = field(metadata=_ASSET)
    order_id: str
    price: Decimal
    quantity: Decimal
    timestamp_ns: int
    is_maker: bool
    is_buyer: bool
    status: TradeStatus
    is_liquidation: bool
    is_auto_deleverage: bool
    sub_account: int
    trading_fee: Decimal
    rollback_reason: Optional[str] = None

    @property
    def buyer_is_maker(self) -> bool:
        """tpluspy's derived field: ``is_buyer and is_maker``."""
        return self.is_buyer and self.is_maker


@dataclass(frozen=True, eq=False)
class UserTradesPage(RowsPage, TplusModel):
    """A page of :class:`HistoricalUserTrade` rows (newest first); a sequence of them."""

    _rows_field: ClassVar[str] = "trades"

    trades: list[HistoricalUserTrade] = field(default_factory=list)
    has_next_page: bool = False
    next_page: Optional[int] = None


@dataclass(frozen=True)
class HistoricalUserOrder(TplusModel):
    """One row of the MDS ``GET /orders/user/{user}``: an exported order (history)."""

    order_id: str
    base_asset: AssetIdentifier = field(metadata=_ASSET)
    account_index: int
    is_spot: bool
    side: Side
    limit_price: Optional[Decimal]
    quantity: Optional[Decimal]
    amount: Optional[Decimal]
    confirmed_filled_quantity: Decimal
    confirmed_filled_amount: Decimal
    confirmed_trading_fees_amount: Decimal
    good_until_timestamp_ns: Optional[int]
    timestamp_ns: int
    is_immediate_or_cancel: bool
    is_fill_or_kill: bool
    is_liquidation: bool
    is_auto_deleverage: bool
    is_reduce_only: bool
    canceled: bool
    status: str
    trigger_above_price: Optional[Decimal]
    trigger_below_price: Optional[Decimal]
    trigger_touched: Optional[bool]
    trigger_enabled_quantity: Optional[Decimal]
    parent_id: Optional[str]
    last_update_timestamp_ns: int


@dataclass(frozen=True, eq=False)
class UserOrdersPage(RowsPage, TplusModel):
    """A page of :class:`HistoricalUserOrder` rows (newest first); a sequence of them."""

    _rows_field: ClassVar[str] = "orders"

    orders: list[HistoricalUserOrder] = field(default_factory=list)
    has_next_page: bool = False
    next_page: Optional[int] = None


# ---------------------------------------------------------------- OMS order state


@dataclass(frozen=True)
class OrderResponse(TplusModel):
    """An order as the order service holds it now (``GET /orders/user/{user}[/{asset}]``
    on the OMS): the source of truth for open orders after a reconnect. Fields
    without a default must be present on the wire (``null`` allowed where typed so)."""

    order_id: str
    base_asset: AssetIdentifier = field(metadata=_ASSET)
    side: Side
    limit_price: Optional[Decimal]
    quantity: Optional[Decimal]
    amount: Optional[Decimal]
    max_sellable_amount: Optional[Decimal]
    max_sellable_quantity: Optional[Decimal]
    confirmed_filled_quantity: Decimal
    pending_filled_quantity: Decimal
    confirmed_filled_amount: Decimal
    pending_filled_amount: Decimal
    confirmed_trading_fees_amount: Decimal
    pending_trading_fees_amount: Decimal
    good_until_timestamp_ns: Optional[int]
    timestamp_ns: int
    status: str
    trigger_above_price: Optional[Decimal]
    trigger_below_price: Optional[Decimal]
    last_update_timestamp_ns: Optional[int]
    in_flight: Optional[bool] = None
    canceled: Optional[bool] = None
    trigger_touched: Optional[bool] = None
    parent_id: Optional[str] = None
    is_immediate_or_cancel: Optional[bool] = None
    is_fill_or_kill: Optional[bool] = None
    is_liquidation: Optional[bool] = None
    is_auto_deleverage: Optional[bool] = None
    is_reduce_only: Optional[bool] = None
    trigger_enabled_quantity: Optional[Decimal] = None


# ---------------------------------------------------------------- markets


@dataclass(frozen=True)
class Asset(TplusModel):
    """An entry of the canonical asset table (``symbol_map``)."""

    index: int
    symbol: str
    name: str
    asset_class: str
    representations: list[str]


@dataclass(frozen=True)
class FeeTierConfig(TplusModel):
    """One fee tier (rates as the service sends them)."""

    min_rolling_volume_usd: int
    taker_fee_rate: int
    maker_fee_rate: int
    maker_rebate_rate_of_taker_fee: Optional[int] = None


@dataclass(frozen=True)
class MarketFeeSchedule(TplusModel):
    """A market's fee schedule; ``global_`` is the wire's ``global``."""

    _field_aliases: ClassVar[dict[str, str]] = {"global_": "global"}

    fee_account: str
    global_: list[FeeTierConfig]
    per_asset: list[FeeTierConfig]


@dataclass(frozen=True)
class MarketResponse(MarketInfo):
    """One market of ``GET /markets``: the book decimals of :class:`~o2sync.tplus.models.Market`
    (and its exact scaling helpers) plus leverage, sizes and fees as sent."""

    max_leverage: Optional[str] = None
    current_long_max_leverage: Optional[str] = None
    current_short_max_leverage: Optional[str] = None
    isolated_only: bool = False
    min_order_size: Optional[str] = None
    tick_size: Optional[str] = None
    fee_schedule: Optional[MarketFeeSchedule] = None


@dataclass(frozen=True, eq=False)
class MarketsPage(RowsPage, TplusModel):
    """A page of :class:`MarketResponse`, with full page metadata and, when asked for
    (``include_symbol_map=True``), the asset table; a sequence of its markets."""

    _rows_field: ClassVar[str] = "markets"

    markets: list[MarketResponse]
    total_markets: int
    page: int
    limit: int
    total_pages: int
    cursor_size: int
    has_next_page: bool
    next_page: Optional[int] = None
    symbol_map: Optional[dict[int, Asset]] = None


# ---------------------------------------------------------------- decoders


def _page_meta(data: dict[str, Any]) -> dict[str, Any]:
    return PageContinuation.model_validate(
        {k: data[k] for k in ("has_next_page", "next_page") if k in data}
    ).model_dump()


def decode_user_trades_page(data: Any) -> UserTradesPage:
    """``GET /trades/user/{u}[/{a}]``: the continuation envelope, or a bare array."""
    if isinstance(data, list):
        return UserTradesPage(trades=[HistoricalUserTrade.model_validate(r) for r in data])
    if not isinstance(data, dict):
        raise DecodeError("UserTradesPage: expected an object or an array", data)
    rows = data.get("trades", [])
    if not isinstance(rows, list):
        raise DecodeError("UserTradesPage.trades: expected an array", rows)
    return UserTradesPage(trades=[HistoricalUserTrade.model_validate(r) for r in rows],
                          **_page_meta(data))


def decode_user_orders_page(data: Any) -> UserOrdersPage:
    """MDS ``GET /orders/user/{u}[/{a}]``: the continuation envelope, or a bare array."""
    if isinstance(data, list):
        return UserOrdersPage(orders=[HistoricalUserOrder.model_validate(r) for r in data])
    if not isinstance(data, dict):
        raise DecodeError("UserOrdersPage: expected an object or an array", data)
    rows = data.get("orders", [])
    if not isinstance(rows, list):
        raise DecodeError("UserOrdersPage.orders: expected an array", rows)
    return UserOrdersPage(orders=[HistoricalUserOrder.model_validate(r) for r in rows],
                          **_page_meta(data))


def decode_order_responses(rows: Any, where: str, report: Any = None) -> list[OrderResponse]:
    """OMS order rows. As tpluspy, a row that fails validation is skipped, not fatal
    (one odd order must not hide the others); each skip is logged and handed to
    ``report`` (the client's ``on_error``) when given."""
    if not isinstance(rows, list):
        raise DecodeError(f"{where}: expected an array of orders", rows)
    out: list[OrderResponse] = []
    for row in rows:
        try:
            out.append(OrderResponse.model_validate(row))
        except DecodeError as exc:
            log.warning("%s: skipped an order row: %s", where, exc.reason)
            if report is not None:
                report(exc)
    return out


def decode_markets_page(data: Any) -> MarketsPage:
    """``GET /markets``: a full-page-meta page of markets."""
    return MarketsPage.model_validate(data)
