"""JSON shapes the simulator emits, exactly as in ``protocol/`` and ``fixtures/``.

Hot messages (depth snapshots and deltas) are formatted directly into compact JSON
text: every value is an integer or a hex id, so no escaping is ever needed, and it
is several times faster than ``json.dumps`` on the hot path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .account import AssetBalance
from .book import Order
from .depth import Level
from .engine import Trade


def dumps(obj: Any) -> str:
    """Compact JSON, the form the simulator sends."""
    return json.dumps(obj, separators=(",", ":"))


def _levels(levels: Iterable[Level]) -> str:
    return ",".join(f'{{"price":"{p}","quantity":"{q}"}}' for p, q in levels)


def _stamps(now: float) -> str:
    # unit of these envelope stamps is undocumented; seconds, like the fixtures
    ts = int(now)
    return f'"onchain_timestamp":"{ts}","seen_timestamp":"{ts}"'


def depth_snapshot(market_id: str, bids: Sequence[Level], asks: Sequence[Level], now: float) -> str:
    """``action: subscribe_depth``: the whole book under ``orders``."""
    return (
        f'{{"action":"subscribe_depth","market_id":"{market_id}",'
        f'"orders":{{"buys":[{_levels(bids)}],"sells":[{_levels(asks)}]}},{_stamps(now)}}}'
    )


def depth_update(market_id: str, bids: Sequence[Level], asks: Sequence[Level], now: float) -> str:
    """``action: subscribe_depth_update``: the changed levels as signed relative changes."""
    return (
        f'{{"action":"subscribe_depth_update","market_id":"{market_id}",'
        f'"changes":{{"buys":[{_levels(bids)}],"sells":[{_levels(asks)}]}},{_stamps(now)}}}'
    )


def rest_depth(market_id: str, bids: Sequence[Level], asks: Sequence[Level]) -> dict[str, Any]:
    """``GET /v1/depth`` body."""
    return {
        "action": "depth",
        "market_id": market_id,
        "orders": {
            "buys": [{"price": str(p), "quantity": str(q)} for p, q in bids],
            "sells": [{"price": str(p), "quantity": str(q)} for p, q in asks],
        },
    }


def trade_dict(trade: Trade) -> dict[str, Any]:
    """One trade; ``side`` is the maker's side, ``timestamp`` in ms."""
    return {
        "trade_id": trade.trade_id,
        "side": "Buy" if trade.maker_is_buy else "Sell",
        "price": str(trade.price),
        "quantity": str(trade.quantity),
        "total": str(trade.total),
        "timestamp": trade.timestamp,
        "maker": {"ContractId": trade.maker},
        "taker": {"ContractId": trade.taker},
    }


def trades_message(market_id: str, trades: Sequence[Trade], now: float) -> str:
    """``action: subscribe_trades``."""
    body = dumps([trade_dict(t) for t in trades])
    return (
        f'{{"action":"subscribe_trades","market_id":"{market_id}","trades":{body},{_stamps(now)}}}'
    )


def order_dict(order: Order) -> dict[str, Any]:
    """The full current state of one order (WS §7)."""
    spec = order.spec
    remaining = order.remaining
    desired: dict[str, Any]
    if order.is_buy:
        desired = {
            "Quote": {
                "desired_base_quantity": {"Quantity": str(order.quantity)},
                "remaining_quote_token": str(order.price * remaining // spec.base_scale),
            }
        }
    else:
        desired = {"Base": {"remaining_quantity": str(remaining)}}
    return {
        "order_id": order.order_id,
        "side": "Buy" if order.is_buy else "Sell",
        "order_type": order.order_type,
        "quantity": str(order.quantity),
        "quantity_fill": str(order.filled),
        "price": str(order.price),
        "price_fill": str(order.fill_value // order.filled if order.filled else 0),
        "timestamp": str(order.timestamp),
        "close": order.closed,
        "partially_filled": 0 < order.filled < order.quantity,
        "cancel": order.cancelled,
        "desired_quantity": desired,
        "base_decimals": spec.base_decimals,
        "market_id": spec.market_id,
        "owner": {"ContractId": order.owner},
    }


def orders_message(orders: Sequence[Order], now: float) -> str:
    """``action: subscribe_orders``."""
    body = dumps([order_dict(o) for o in orders])
    return f'{{"action":"subscribe_orders","orders":{body},{_stamps(now)}}}'


def balance_entry(identity: str, asset: str, balance: AssetBalance) -> dict[str, Any]:
    """One entry of a ``subscribe_balances`` list: the asset's full current balance."""
    return {"identity": {"ContractId": identity}, "asset_id": asset, **balance.rest_dict()}


def balances_message(entries: Sequence[dict[str, Any]], now: float) -> str:
    """``action: subscribe_balances``."""
    return f'{{"action":"subscribe_balances","balance":{dumps(entries)},{_stamps(now)}}}'


def nonce_message(contract_id: str, nonce: int, now: float) -> str:
    """``action: subscribe_nonce``."""
    return (
        f'{{"action":"subscribe_nonce","contract_id":"{contract_id}",'
        f'"nonce":"{nonce}",{_stamps(now)}}}'
    )


def error(code: int, message: str) -> dict[str, Any]:
    """REST error body ``{code, message}``."""
    return {"code": code, "message": message}


def ws_error(code: int, message: str) -> str:
    """WebSocket error frame; the shape is the simulator's choice (WS §13)."""
    return dumps({"action": "error", "code": code, "message": message})
