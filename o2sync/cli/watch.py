"""``o2sync watch``: print the events of one stream, as human lines or JSON lines."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Optional, TextIO

from ..o2.client import O2Client
from ..o2.models import (
    BalanceUpdate,
    DepthUpdate,
    Market,
    NonceUpdate,
    OrderUpdate,
    TradeUpdate,
)

STREAMS = ("depth", "trades", "orders", "balances", "nonce")


def open_stream(client: O2Client, kind: str, target: str, precision: int = 1) -> Any:
    """The Subscription for ``o2sync watch KIND TARGET``."""
    if kind == "depth":
        return client.stream_depth(target, precision=precision)
    if kind == "trades":
        return client.stream_trades(target)
    if kind in ("orders", "balances", "nonce"):
        return getattr(client, f"stream_{kind}")(target)
    raise ValueError(f"unknown stream {kind!r}; choose from {', '.join(STREAMS)}")


def _depth(ev: DepthUpdate, m: Optional[Market]) -> str:
    kind = "snapshot" if ev.is_snapshot else "delta"
    bid, ask = ev.changes.best_bid, ev.changes.best_ask
    return (f"depth {kind:8} bids={len(ev.changes.bids):<3} asks={len(ev.changes.asks):<3} "
            f"first bid={_level(bid, m)} first ask={_level(ask, m)}")


def _level(level: Any, m: Optional[Market]) -> str:
    if level is None:
        return "-"
    if m is None:
        return f"{level.quantity}@{level.price}"
    return f"{m.display_quantity(level.quantity)}@{m.display_price(level.price)}"


def _trades(ev: TradeUpdate, m: Optional[Market]) -> str:
    parts = []
    for t in ev.trades:
        qty = m.display_quantity(t.quantity) if m else t.quantity
        price = m.display_price(t.price) if m else t.price
        parts.append(f"{t.side.value} {qty} @ {price}")
    return "trades " + "; ".join(parts)


def _orders(ev: OrderUpdate, m: Optional[Market]) -> str:
    return "orders " + "; ".join(
        f"{o.order_id[:12]} {o.side.value} {o.status} {o.quantity_fill}/{o.quantity} @ {o.price}"
        for o in ev.orders)


def _balances(ev: BalanceUpdate, m: Optional[Market]) -> str:
    return "balances " + "; ".join(
        f"{b.asset_id[:12]} available={b.total_unlocked} locked={b.total_locked}"
        for b in ev.balance)


def _nonce(ev: NonceUpdate, m: Optional[Market]) -> str:
    return f"nonce {ev.nonce} account={ev.contract_id}"


_FORMATS: dict[type, Callable[[Any, Optional[Market]], str]] = {
    DepthUpdate: _depth, TradeUpdate: _trades, OrderUpdate: _orders,
    BalanceUpdate: _balances, NonceUpdate: _nonce,
}


def format_event(event: Any, market: Optional[Market] = None) -> str:
    """One human line for an event (prices scaled when the market is known)."""
    fmt = _FORMATS.get(type(event))
    return fmt(event, market) if fmt else repr(event)


def watch(client: O2Client, kind: str, target: str, *, as_json: bool = False,
          events: int = 0, precision: int = 1, out: TextIO = sys.stdout) -> int:
    """Print events until ``events`` were printed (0 = until Ctrl-C or close). Returns the count."""
    market = client.get_market(target) if kind in ("depth", "trades") else None
    count = 0
    with open_stream(client, kind, target, precision) as sub:
        for event in sub:
            if as_json:
                out.write(json.dumps({"stream": kind, "event": event.to_dict(encode_json=True)},
                                     default=str) + "\n")
            else:
                out.write(format_event(event, market) + "\n")
            out.flush()
            count += 1
            if events and count >= events:
                break
    return count
