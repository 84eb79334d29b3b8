"""``o2sync watch``: print the events of one stream, as human lines or JSON lines.

Human lines start with the local time and speak in the market's units: prices and
quantities scaled by the market (``Market.display_price``/``display_quantity``),
orders named by their market, balances by their asset's symbol; a trade's side is
the taker's (``taker Sell``: a seller hit the bid), as on tplus. ``--json`` lines
have the shape of :mod:`o2sync.cli.jsonline` (the same on both venues): the venue,
the stream, the event's type, its market, the receive time and its exact ``to_dict``.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import Any, Callable, Optional, TextIO

from ..o2.client import O2Client
from ..o2.decode import decode_balance
from ..o2.models import (
    BalanceEntry,
    BalanceUpdate,
    DepthUpdate,
    Market,
    MarketAsset,
    NonceUpdate,
    OrderUpdate,
    TradeUpdate,
)
from .jsonline import json_line, market_ref
from .status import clock

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


def _depth(ev: DepthUpdate, units: Units) -> str:
    # a snapshot's best levels are its first; a delta's are the book's after it (the
    # engine keeps the book), while its entries are signed changes, shown with a sign
    m = units.market_of(ev.market_id)
    kind = "snapshot" if ev.is_snapshot else "delta"
    bid, ask = ev.changes.best_bid, ev.changes.best_ask
    pair = f"{m.pair} " if m else ""
    line = (f"depth {pair}{kind:8} bids={len(ev.changes.bids):<3} asks={len(ev.changes.asks):<3} "
            f"best bid={_level(bid, m)} best ask={_level(ask, m)}")
    if not ev.is_snapshot:
        changes = [*ev.changes.bids, *ev.changes.asks]
        line += " changes=" + " ".join(_change(c, m) for c in changes[:3])
        if len(changes) > 3:
            line += f" +{len(changes) - 3}"
    return line


def _change(change: Any, m: Optional[Market]) -> str:
    sign = "+" if change.quantity >= 0 else "-"
    size = abs(change.quantity)
    if m is None:
        return f"{sign}{size}@{change.price}"
    return f"{sign}{m.display_quantity(size)}@{m.display_price(change.price)}"


def _level(level: Any, m: Optional[Market]) -> str:
    if level is None:
        return "-"
    if m is None:
        return f"{level.quantity}@{level.price}"
    return f"{m.display_quantity(level.quantity)}@{m.display_price(level.price)}"


def _trades(ev: TradeUpdate, units: Units) -> str:
    # a tape reads as the aggressor's side: O2 sends the maker's, so show taker_side
    m = units.market_of(ev.market_id)
    parts = []
    for t in ev.trades:
        qty = m.display_quantity(t.quantity) if m else t.quantity
        price = m.display_price(t.price) if m else t.price
        parts.append(f"taker {t.taker_side or '?'} {qty} @ {price}")
    pair = f"{m.pair} " if m else ""
    return f"trades {pair}" + "; ".join(parts)


class Units:
    """What human lines need to know: markets by id, assets by id (for symbols)."""

    def __init__(self, markets: list[Market], market: Optional[Market] = None) -> None:
        self.market = market
        self.markets = {m.market_id.lower(): m for m in markets}
        self.assets: dict[str, MarketAsset] = {}
        for m in markets:
            for asset in (m.base, m.quote):
                self.assets.setdefault(asset.asset.lower(), asset)

    def market_of(self, market_id: Optional[str]) -> Optional[Market]:
        if market_id is None:
            return self.market
        return self.markets.get(market_id.lower(), self.market)


def _short(hex_id: str) -> str:
    return hex_id if len(hex_id) <= 14 else f"{hex_id[:8]}..{hex_id[-4:]}"


def _amount(raw: int, asset: Optional[MarketAsset]) -> str:
    if asset is None:
        return str(raw)
    value = Decimal(int(raw)).scaleb(-asset.decimals)
    return f"{value.quantize(Decimal(1).scaleb(-asset.max_precision)):f}"


def _orders(ev: OrderUpdate, units: Units) -> str:
    parts = []
    for o in ev.orders:
        m = units.market_of(o.market_id)
        if m is None:
            where = _short(o.market_id or "?")
            amounts = f"{o.quantity_fill}/{o.quantity} @ {o.price}"
        else:
            where = m.pair
            amounts = (f"{m.display_quantity(o.quantity_fill)}/{m.display_quantity(o.quantity)} "
                       f"{m.base.symbol} @ {m.display_price(o.price)} {m.quote.symbol}")
        parts.append(f"{where} {_short(o.order_id)} {o.side} {o.status} {amounts}")
    return "orders " + "; ".join(parts)


def _balances(ev: BalanceUpdate, units: Units) -> str:
    parts = []
    for entry in ev.balance:
        # the wire dict (as o2-sdk); its exact Balance view for the numbers
        b = entry.balance if isinstance(entry, BalanceEntry) else decode_balance(entry)
        asset = units.assets.get(str(b.asset_id).lower())
        name = asset.symbol if asset else _short(str(b.asset_id))
        parts.append(f"{name} available={_amount(b.total_unlocked, asset)} "
                     f"locked={_amount(b.total_locked, asset)}")
    return "balances " + "; ".join(parts)


def _nonce(ev: NonceUpdate, units: Units) -> str:
    return f"nonce {ev.nonce} account={ev.contract_id}"


_FORMATS: dict[type, Callable[[Any, Units], str]] = {
    DepthUpdate: _depth, TradeUpdate: _trades, OrderUpdate: _orders,
    BalanceUpdate: _balances, NonceUpdate: _nonce,
}


def format_event(event: Any, market: Optional[Market] = None,
                 units: Optional[Units] = None) -> str:
    """One human line for an event, without the time (amounts scaled when known)."""
    if units is None:
        units = Units([market] if market else [], market)
    fmt = _FORMATS.get(type(event))
    return fmt(event, units) if fmt else repr(event)


def market_of_event(event: Any, units: Units) -> Optional[dict[str, str]]:
    """The ``market`` of a JSON line: the market an event is about, or None (balances,
    nonce, an order update spanning several markets)."""
    if isinstance(event, OrderUpdate):
        ids = {str(o.market_id).lower() for o in event.orders if o.market_id}
        market_id: Optional[str] = ids.pop() if len(ids) == 1 else None
    elif isinstance(event, (DepthUpdate, TradeUpdate)):
        market_id = event.market_id
    else:
        return None
    if market_id is None:
        return None
    m = units.market_of(market_id)
    return market_ref(m.market_id if m else market_id, m.pair if m else None)


def watch(client: O2Client, kind: str, target: str, *, as_json: bool = False,
          events: int = 0, precision: int = 1, out: Optional[TextIO] = None,
          connect_timeout: Optional[float] = None) -> int:
    """Print events until ``events`` were printed (0 = until Ctrl-C or close). Returns the count.

    ``connect_timeout``: raise ConnectError if the stream is not connected by then.
    """
    out = out if out is not None else sys.stdout
    market = client.get_market(target) if kind in ("depth", "trades") else None
    units = Units(client.get_markets(), market)
    count = 0
    with open_stream(client, kind, target, precision) as sub:
        if connect_timeout:
            client.connect(timeout=connect_timeout)
        for event in sub:
            if as_json:
                out.write(json_line("o2", kind, event, market_of_event(event, units),
                                    time.time()) + "\n")
            else:
                out.write(f"{clock()} {format_event(event, units=units)}\n")
            out.flush()
            count += 1
            if events and count >= events:
                break
    return count
