"""Wire dict -> typed event, on the per-message path.

Each decoder calls the dataclass constructors directly (a few microseconds per
message) instead of dataclasses-json's reflective ``from_dict`` (hundreds). Any
missing or mistyped field raises :class:`~o2sync.errors.DecodeError`, so a frame is
either delivered whole or not at all. Accepted variants follow the protocol doc:
integers as strings or JSON numbers, snapshot books under ``orders``, ``view`` or
the top level, deltas under ``changes`` or the top level, sides in any case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Optional

from ..errors import DecodeError
from ..models import (
    Balance,
    BalanceUpdate,
    DepthChanges,
    DepthUpdate,
    NonceUpdate,
    Order,
    OrderBookBalance,
    OrderUpdate,
    PackedDepthChanges,
    Side,
    Trade,
    TradeUpdate,
)
from .protocol import normalize_id

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


def to_int(value: Any, name: str = "value") -> int:
    """An exact integer from an int, a decimal string or a ``0x`` hex string."""
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is str:
        try:
            return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
        except ValueError:
            pass
    raise DecodeError(f"{name} is not an integer", value)


def _opt_str(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _side(value: Any) -> Side:
    try:
        return _SIDES[value.lower()]
    except (KeyError, AttributeError):
        raise DecodeError("side is not Buy/Sell", value) from None


def _level_ints(raw: Any) -> tuple[int, ...]:
    """``[{"price", "quantity"}, ...]`` -> ``(price, quantity, price, quantity, ...)``.

    The hot path: ten-odd levels per message. Decimal strings (what the server
    sends) go straight to int(); anything else takes to_int's checks.
    """
    if raw is None:
        return ()
    out: list[int] = []
    append = out.append
    try:
        for level in raw:
            price = level["price"]
            qty = level["quantity"]
            append(int(price) if price.__class__ is str else to_int(price, "price"))
            append(int(qty) if qty.__class__ is str else to_int(qty, "quantity"))
    except (KeyError, TypeError) as exc:
        raise DecodeError(f"bad depth level ({exc!r})", raw) from None
    return tuple(out)


def _book(container: Mapping[str, Any]) -> DepthChanges:
    if not isinstance(container, dict):
        raise DecodeError("depth book is not an object", container)
    return PackedDepthChanges.from_ints(_level_ints(container.get("buys")),
                                        _level_ints(container.get("sells")))


def decode_depth(msg: dict[str, Any]) -> DepthUpdate:
    """``subscribe_depth`` (snapshot) or ``subscribe_depth_update`` (delta)."""
    is_snapshot = msg["action"] == "subscribe_depth"
    if is_snapshot:
        container = msg.get("orders") or msg.get("view") or msg
    else:
        container = msg.get("changes") or msg
    return DepthUpdate(
        normalize_id(msg["market_id"]),
        _book(container),
        is_snapshot,
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


def decode_trade(raw: dict[str, Any]) -> Trade:
    return Trade(
        str(raw["trade_id"]),
        _side(raw["side"]),
        to_int(raw["price"], "price"),
        to_int(raw["quantity"], "quantity"),
        to_int(raw["total"], "total"),
        to_int(raw["timestamp"], "timestamp"),
        raw.get("maker"),
        raw.get("taker"),
        raw.get("trader_side"),
    )


def decode_trades(msg: dict[str, Any]) -> TradeUpdate:
    """``subscribe_trades`` (alias ``trades``)."""
    return TradeUpdate(
        normalize_id(msg["market_id"]),
        [decode_trade(t) for t in msg["trades"]],
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


def decode_order(raw: dict[str, Any]) -> Order:
    market_id = raw.get("market_id")
    return Order(
        order_id=normalize_id(raw["order_id"]),
        side=_side(raw["side"]),
        order_type=raw.get("order_type"),
        price=to_int(raw["price"], "price"),
        quantity=to_int(raw["quantity"], "quantity"),
        quantity_fill=to_int(raw.get("quantity_fill", 0), "quantity_fill"),
        price_fill=to_int(raw.get("price_fill", 0), "price_fill"),
        timestamp=_opt_str(raw.get("timestamp")),
        close=bool(raw.get("close", False)),
        partially_filled=bool(raw.get("partially_filled", False)),
        cancel=bool(raw.get("cancel", False)),
        market_id=normalize_id(market_id) if market_id else None,
        owner=raw.get("owner"),
        account=raw.get("account"),
        desired_quantity=raw.get("desired_quantity"),
        base_decimals=raw.get("base_decimals"),
        history=raw.get("history", raw.get("order_tx_history")),
        fills=raw.get("fills", raw.get("fill")),
    )


def decode_orders(msg: dict[str, Any]) -> OrderUpdate:
    """``subscribe_orders``."""
    return OrderUpdate(
        [decode_order(o) for o in msg["orders"]],
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


def decode_balance(raw: dict[str, Any]) -> Balance:
    books = raw.get("order_books") or {}
    return Balance(
        asset_id=normalize_id(raw["asset_id"]),
        total_locked=to_int(raw["total_locked"], "total_locked"),
        total_unlocked=to_int(raw["total_unlocked"], "total_unlocked"),
        trading_account_balance=to_int(raw.get("trading_account_balance", 0)),
        identity=raw.get("identity"),
        order_books={
            normalize_id(k): OrderBookBalance(
                to_int(v["locked"], "locked"),
                to_int(v["unlocked"], "unlocked"),
                to_int(v.get("fee", 0), "fee"),
            )
            for k, v in books.items()
        },
    )


def decode_balances(msg: dict[str, Any]) -> BalanceUpdate:
    """``subscribe_balances``."""
    return BalanceUpdate(
        [decode_balance(b) for b in msg["balance"]],
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


def decode_nonce(msg: dict[str, Any]) -> NonceUpdate:
    """``subscribe_nonce`` (alias ``nonce``)."""
    return NonceUpdate(
        normalize_id(msg["contract_id"]),
        to_int(msg["nonce"], "nonce"),
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


Decoder = Callable[[dict[str, Any]], Any]

#: server ``action`` -> (stream kind, decoder). Aliases per protocol doc section 5.
DECODERS: dict[str, tuple] = {
    "subscribe_depth": ("depth", decode_depth),
    "subscribe_depth_update": ("depth", decode_depth),
    "subscribe_trades": ("trades", decode_trades),
    "trades": ("trades", decode_trades),
    "subscribe_orders": ("orders", decode_orders),
    "subscribe_balances": ("balances", decode_balances),
    "subscribe_nonce": ("nonce", decode_nonce),
    "nonce": ("nonce", decode_nonce),
}


def decode(msg: dict[str, Any]) -> Any:
    """Decode any routed server message; raises DecodeError for anything else."""
    entry = DECODERS.get(msg.get("action"))  # type: ignore[arg-type]
    if entry is None:
        raise DecodeError("unknown action", msg.get("action"))
    try:
        return entry[1](msg)
    except DecodeError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise DecodeError(f"malformed {msg.get('action')} message ({exc!r})", msg) from None
