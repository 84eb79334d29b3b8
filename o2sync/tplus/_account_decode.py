"""tplus account and summary JSON -> the models of :mod:`o2sync.tplus._account_models`.

The same strict rules as :mod:`o2sync.tplus.decode` (exact decimals from JSON
numbers or decimal strings, integers as JSON integers or digit strings, JSON
booleans only, strings only as strings; unknown fields ignored): a frame or a
REST row is decoded whole or raises :class:`~o2sync.errors.DecodeError` naming
the field. Fields that can be negative (PnL, surpluses, deltas, costs) are read
signed; prices and sizes are not.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Optional

from ..errors import DecodeError
from ..numbers import strict_decimal, strict_int, strict_str
from ._account_models import (
    AccountMarginInfo,
    AccountSolvency,
    AssetNettingInfo,
    BookLevel,
    CalledVenue,
    DepositLanded,
    IntentAggregateUpdate,
    MarginCallInfo,
    MarginCallUpdated,
    MarginPositionSide,
    MarginWarning,
    OpenInterest,
    PositionBasisResponse,
    PositionCleared,
    PositionMarginInfo,
    PositionResponse,
    PositionUpdate,
    SubAccountAssetTransferred,
    SubAccountNameEntry,
    SubAccountNamesResponse,
    Ticker,
    TickerOpenInterest,
    UserActivityEvent,
    UserMarginInfo,
    UserPositionsPage,
    UserSolvency,
    WithdrawalCompleted,
)
from .decode import _asset, _bool, _dec, _get, _int, _obj, _opt, _str
from .errors import UnknownEventKind

__all__ = [
    "decode_intent",
    "decode_open_interest",
    "decode_open_interests",
    "decode_position_basis",
    "decode_position_update",
    "decode_positions_page",
    "decode_sub_account_names",
    "decode_ticker",
    "decode_tickers",
    "decode_user_event",
    "decode_user_margin",
    "decode_user_solvency",
]

Obj = dict[str, Any]
_POSITION_SIDES = frozenset(("long", "short", "closed"))
_BASIS_DOMAINS = frozenset(("spot", "margin"))
_BASIS_SIDES = frozenset(("long", "short"))


def _sdec(d: Obj, key: str, what: str) -> Decimal:
    return _dec(d, key, what, signed=True)


def _odec(d: Obj, key: str, what: str, signed: bool = False) -> Optional[Decimal]:
    value = d.get(key)
    if value is None:
        return None
    return strict_decimal(value, f"{what}.{key}", signed=signed)


def _sint(d: Obj, key: str, what: str) -> int:
    return strict_int(_get(d, key, what), f"{what}.{key}", signed=True)


def _list(value: Any, field: str) -> list[Any]:
    if type(value) is not list:
        raise DecodeError(f"{field}: expected a JSON array", value)
    return value


def _rows(d: Obj, key: str, what: str, decoder: Callable[[Any, str], Any],
          required: bool = True) -> list[Any]:
    if key not in d and not required:
        return []
    items = _list(_get(d, key, what), f"{what}.{key}")
    return [decoder(item, f"{what}.{key}[{i}]") for i, item in enumerate(items)]


def _choice(d: Obj, key: str, what: str, allowed: frozenset[str]) -> str:
    value = _str(d, key, what)
    if value not in allowed:
        raise DecodeError(f"{what}.{key}: not one of {sorted(allowed)}", value)
    return value


def _index_map(data: Any, what: str, decoder: Callable[[Any, str], Any]) -> dict[int, Any]:
    """``{"<sub-account index>": {...}}`` -> ``{index: model}`` (keys as ints)."""
    d = _obj(data, what)
    out: dict[int, Any] = {}
    for key, value in d.items():
        index = strict_int(key, f"{what} key")
        out[index] = decoder(value, f"{what}[{key}]")
    return out


# ---------------------------------------------------------------------- tickers


def _book_level(data: Any, what: str) -> BookLevel:
    d = _obj(data, what)
    return BookLevel(price=_dec(d, "price", what), size=_dec(d, "size", what))


def _ticker_oi(data: Any, what: str) -> TickerOpenInterest:
    d = _obj(data, what)
    return TickerOpenInterest(timestamp_ns=_int(d, "timestamp_ns", what),
                              long=_odec(d, "long", what), short=_odec(d, "short", what))


def _nested(d: Obj, key: str, what: str, decoder: Callable[[Any, str], Any]) -> Any:
    value = d.get(key)
    return None if value is None else decoder(value, f"{what}.{key}")


def decode_ticker(data: Any, what: str = "Ticker") -> Ticker:
    """A ``/ticker/ws/{asset}`` frame or ``GET /ticker/{asset}`` -> :class:`Ticker`."""
    d = _obj(data, what)
    return Ticker(
        asset_id=_asset(d, "asset_id", what),
        volume_24h=_dec(d, "volume_24h", what),
        timestamp_ns=_int(d, "timestamp_ns", what),
        last_price=_odec(d, "last_price", what),
        mark_price=_odec(d, "mark_price", what),
        index_price=_odec(d, "index_price", what),
        best_bid=_nested(d, "best_bid", what, _book_level),
        best_ask=_nested(d, "best_ask", what, _book_level),
        open_interest=_nested(d, "open_interest", what, _ticker_oi),
        high_24h=_odec(d, "high_24h", what),
        low_24h=_odec(d, "low_24h", what),
        price_change_24h=_odec(d, "price_change_24h", what, signed=True),
        price_change_pct_24h=_odec(d, "price_change_pct_24h", what, signed=True),
    )


def decode_tickers(data: Any) -> list[Ticker]:
    """A ``/tickers/ws`` frame or ``GET /tickers``: a JSON **array** of tickers."""
    items = _list(data, "tickers")
    return [decode_ticker(item, f"Ticker[{i}]") for i, item in enumerate(items)]


def decode_open_interest(data: Any, what: str = "OpenInterest") -> OpenInterest:
    """``GET /openinterest/{asset}`` -> :class:`OpenInterest`."""
    d = _obj(data, what)
    return OpenInterest(asset_id=_asset(d, "asset_id", what), long=_odec(d, "long", what),
                        short=_odec(d, "short", what),
                        timestamp_ns=_opt(d, "timestamp_ns", what, strict_int, None))


def decode_open_interests(data: Any) -> list[OpenInterest]:
    """``GET /openinterest``: an array, one row per listed market."""
    items = _list(data, "open interest")
    return [decode_open_interest(item, f"OpenInterest[{i}]") for i, item in enumerate(items)]


# ---------------------------------------------------------------------- positions


def _position(data: Any, what: str = "PositionResponse") -> PositionResponse:
    d = _obj(data, what)
    return PositionResponse(
        asset_id=_asset(d, "asset_id", what),
        sub_account_index=_int(d, "sub_account_index", what),
        name=_str(d, "name", what),
        side=_choice(d, "side", what, _POSITION_SIDES),
        size=_sdec(d, "size", what),
        base_credits=_sdec(d, "base_credits", what),
        base_liabilities=_sdec(d, "base_liabilities", what),
        quote_credits=_sdec(d, "quote_credits", what),
        quote_liabilities=_sdec(d, "quote_liabilities", what),
        entry_price=_odec(d, "entry_price", what),
        mark_price=_odec(d, "mark_price", what),
        unrealized_pnl=_odec(d, "unrealized_pnl", what, signed=True),
        margin=_odec(d, "margin", what, signed=True),
        leverage=_odec(d, "leverage", what, signed=True),
        liquidation_price=_odec(d, "liquidation_price", what),
    )


def decode_position_update(data: Any) -> PositionUpdate:
    """A ``/positions/ws/{user}`` frame -> :class:`PositionUpdate` (all fields required)."""
    what = "PositionUpdate"
    d = _obj(data, what)
    return PositionUpdate(user_id=_str(d, "user_id", what),
                          positions=_rows(d, "positions", what, _position),
                          timestamp_ns=_int(d, "timestamp_ns", what))


def decode_positions_page(data: Any) -> UserPositionsPage:
    """``GET /positions/{user}[/{asset}]``: the full-page-meta envelope, or a bare array
    (one page holding everything, as tpluspy wraps it)."""
    what = "UserPositionsPage"
    if type(data) is list:
        rows = [_position(item, f"{what}[{i}]") for i, item in enumerate(data)]
        n = len(rows)
        return UserPositionsPage(positions=rows, total_positions=n, page=0, limit=n,
                                 total_pages=1 if n else 0, cursor_size=n,
                                 has_next_page=False)
    d = _obj(data, what)
    return UserPositionsPage(
        positions=_rows(d, "positions", what, _position),
        total_positions=_int(d, "total_positions", what),
        page=_int(d, "page", what), limit=_int(d, "limit", what),
        total_pages=_int(d, "total_pages", what), cursor_size=_int(d, "cursor_size", what),
        has_next_page=_bool(d, "has_next_page", what),
        next_page=_opt(d, "next_page", what, strict_int, None),
    )


# ---------------------------------------------------------------------- account events


def _deposit(d: Obj, what: str) -> DepositLanded:
    return DepositLanded(user=_str(d, "user", what), asset=_str(d, "asset", what),
                         amount=_str(d, "amount", what), chain_id=_str(d, "chain_id", what),
                         deposit_nonce=_int(d, "deposit_nonce", what),
                         timestamp_ns=_int(d, "timestamp_ns", what))


def _withdrawal(d: Obj, what: str) -> WithdrawalCompleted:
    return WithdrawalCompleted(user=_str(d, "user", what), asset=_str(d, "asset", what),
                               amount=_str(d, "amount", what),
                               chain_id=_str(d, "chain_id", what),
                               withdrawal_nonce=_int(d, "withdrawal_nonce", what),
                               timestamp_ns=_int(d, "timestamp_ns", what))


def _cleared(d: Obj, what: str) -> PositionCleared:
    return PositionCleared(user=_str(d, "user", what),
                           sub_account_index=_int(d, "sub_account_index", what),
                           asset=_str(d, "asset", what),
                           timestamp_ns=_int(d, "timestamp_ns", what))


def _transferred(d: Obj, what: str) -> SubAccountAssetTransferred:
    return SubAccountAssetTransferred(
        user=_str(d, "user", what),
        source_sub_account_index=_int(d, "source_sub_account_index", what),
        target_sub_account_index=_int(d, "target_sub_account_index", what),
        asset=_str(d, "asset", what), amount=_str(d, "amount", what),
        timestamp_ns=_int(d, "timestamp_ns", what))


def _venue(data: Any, what: str) -> CalledVenue:
    d = _obj(data, what)
    return CalledVenue(venue=_int(d, "venue", what), deadline_ns=_int(d, "deadline_ns", what))


def _margin_call(d: Obj, what: str) -> MarginCallUpdated:
    return MarginCallUpdated(user=_str(d, "user", what),
                             sub_account_index=_int(d, "sub_account_index", what),
                             timestamp_ns=_int(d, "timestamp_ns", what),
                             called_venues=_rows(d, "called_venues", what, _venue,
                                                 required=False))


_USER_EVENTS: dict[str, Callable[[Obj, str], UserActivityEvent]] = {
    "DepositLanded": _deposit,
    "WithdrawalCompleted": _withdrawal,
    "PositionCleared": _cleared,
    "SubAccountAssetTransferred": _transferred,
    "MarginCallUpdated": _margin_call,
}


def decode_user_event(data: Any) -> UserActivityEvent:
    """An ``/account/events/{user}`` frame ``{"<Variant>": {...}}`` -> the inner model.

    Exactly one key; an unknown variant raises :class:`UnknownEventKind` (counted
    apart from garbage), as tpluspy rejects it.
    """
    d = _obj(data, "UserActivityEvent")
    if len(d) != 1:
        raise DecodeError("UserActivityEvent: expected exactly one key naming the event", d)
    ((tag, payload),) = d.items()
    decoder = _USER_EVENTS.get(tag)
    if decoder is None:
        raise UnknownEventKind(tag, f"UserActivityEvent: unknown variant {tag!r}", d)
    return decoder(_obj(payload, tag), tag)


# ---------------------------------------------------------------------- intent


def decode_intent(data: Any) -> IntentAggregateUpdate:
    """An ``/intent/ws`` frame -> :class:`IntentAggregateUpdate` (all fields required)."""
    what = "IntentAggregateUpdate"
    d = _obj(data, what)
    return IntentAggregateUpdate(
        asset_id=_asset(d, "asset_id", what),
        watchers_delta=_sint(d, "watchers_delta", what),
        quantity_delta=_sdec(d, "quantity_delta", what),
        watchers=_int(d, "watchers", what),
        quantity=_dec(d, "quantity", what),
        window_end_ns=_int(d, "window_end_ns", what),
    )


# ---------------------------------------------------------------------- margin


def _side(d: Obj, what: str) -> MarginPositionSide:
    raw = _str(d, "side", what)
    try:
        return MarginPositionSide(raw)
    except ValueError:
        raise DecodeError(f"{what}.side: not Long/Short", raw) from None


def _position_margin(data: Any, what: str) -> PositionMarginInfo:
    d = _obj(data, what)
    return PositionMarginInfo(asset_id=_str(d, "asset_id", what), side=_side(d, what),
                              size=_sdec(d, "size", what),
                              notional_value=_sdec(d, "notional_value", what),
                              margin=_sdec(d, "margin", what))


def _netting(data: Any, what: str) -> AssetNettingInfo:
    d = _obj(data, what)
    return AssetNettingInfo(
        asset_id=_str(d, "asset_id", what),
        gross_long=_sdec(d, "gross_long", what), gross_short=_sdec(d, "gross_short", what),
        offset_long=_sdec(d, "offset_long", what), offset_short=_sdec(d, "offset_short", what),
        residual_long=_sdec(d, "residual_long", what),
        residual_short=_sdec(d, "residual_short", what),
        closeout=_sdec(d, "closeout", what),
        residual_ppm=_opt(d, "residual_ppm", what, strict_int, None),
        cost_ppm=_opt(d, "cost_ppm", what, strict_int, None))


def _call_info(data: Any, what: str) -> MarginCallInfo:
    d = _obj(data, what)
    return MarginCallInfo(venue=_int(d, "venue", what),
                          started_at_ns=_int(d, "started_at_ns", what),
                          deadline_ns=_int(d, "deadline_ns", what))


def _optional_rows(d: Obj, key: str, what: str,
                   decoder: Callable[[Any, str], Any]) -> Optional[list[Any]]:
    if d.get(key) is None:
        return None
    return _rows(d, key, what, decoder)


def _account_margin(data: Any, what: str) -> AccountMarginInfo:
    d = _obj(data, what)
    # the optional decimals are required keys in tpluspy's model but may be null
    return AccountMarginInfo(
        account_equity=_sdec(d, "account_equity", what),
        available_margin=_sdec(d, "available_margin", what),
        utilized_margin=_sdec(d, "utilized_margin", what),
        maintenance_margin_surplus=_sdec(d, "maintenance_margin_surplus", what),
        mm_requirement=_odec(d, "mm_requirement", what, signed=True),
        account_leverage=_odec(d, "account_leverage", what, signed=True),
        is_solvent=_bool(d, "is_solvent", what),
        is_liquidatable=_bool(d, "is_liquidatable", what),
        total_upnl=_sdec(d, "total_upnl", what),
        im_surplus=_odec(d, "im_surplus", what, signed=True),
        net_apy=_odec(d, "net_apy", what, signed=True),
        margin_calls=_rows(d, "margin_calls", what, _call_info, required=False),
        netting=_optional_rows(d, "netting", what, _netting),
        positions=_optional_rows(d, "positions", what, _position_margin),
    )


def _warning(data: Any, what: str) -> MarginWarning:
    d = _obj(data, what)
    return MarginWarning(sub_account=_int(d, "sub_account", what), code=_str(d, "code", what),
                         message=_str(d, "message", what),
                         asset=_opt(d, "asset", what, strict_str, None))


def decode_user_margin(data: Any) -> UserMarginInfo:
    """``GET /margin/user/{user}`` -> :class:`UserMarginInfo` (absent lists are empty)."""
    what = "UserMarginInfo"
    d = _obj(data, what)
    return UserMarginInfo(accounts=_index_map(d.get("accounts", {}), f"{what}.accounts",
                                              _account_margin),
                          warnings=_rows(d, "warnings", what, _warning, required=False))


def _solvency(data: Any, what: str) -> AccountSolvency:
    d = _obj(data, what)
    return AccountSolvency(is_solvent=_bool(d, "is_solvent", what),
                           distance_from_liquidation=_sdec(d, "distance_from_liquidation",
                                                           what))


def decode_user_solvency(data: Any) -> UserSolvency:
    """``GET /solvency/user/{user}`` -> :class:`UserSolvency`."""
    what = "UserSolvency"
    d = _obj(data, what)
    return UserSolvency(accounts=_index_map(d.get("accounts", {}), f"{what}.accounts",
                                            _solvency))


# ---------------------------------------------------------------------- MDS user reads


def _basis(data: Any, what: str) -> PositionBasisResponse:
    d = _obj(data, what)
    side = d.get("side")
    if side is not None:
        side = _choice(d, "side", what, _BASIS_SIDES)
    return PositionBasisResponse(
        sub_account=_int(d, "sub_account", what), asset_id=_asset(d, "asset_id", what),
        domain=_choice(d, "domain", what, _BASIS_DOMAINS),
        quantity=_sdec(d, "quantity", what), cost=_sdec(d, "cost", what), side=side,
        entry_price=_odec(d, "entry_price", what),
        avg_acquisition_price=_odec(d, "avg_acquisition_price", what),
        mark_price=_odec(d, "mark_price", what),
        unrealized_pnl=_odec(d, "unrealized_pnl", what, signed=True))


def decode_position_basis(data: Any) -> list[PositionBasisResponse]:
    """``GET /positions/user/{user}/basis[/{asset}]``: an array of estimates."""
    items = _list(data, "position basis")
    return [_basis(item, f"PositionBasisResponse[{i}]") for i, item in enumerate(items)]


def _name_entry(data: Any, what: str) -> SubAccountNameEntry:
    d = _obj(data, what)
    return SubAccountNameEntry(account_index=_int(d, "account_index", what),
                               name=_str(d, "name", what))


def decode_sub_account_names(data: Any) -> SubAccountNamesResponse:
    """``GET /sub-accounts/user/{user}`` -> :class:`SubAccountNamesResponse`."""
    what = "SubAccountNamesResponse"
    d = _obj(data, what)
    return SubAccountNamesResponse(names=_rows(d, "names", what, _name_entry, required=False))
