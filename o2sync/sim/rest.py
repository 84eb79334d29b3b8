"""REST routes of the simulator (``o2-rest.md``): read-only, JSON in and out.

:func:`handle` maps a path and a parsed query string to ``(status, body)``; the
server turns that into an HTTP response. Errors use the documented body
``{"code", "message"}``: 1001 InvalidRequest (400), 2000 MarketNotFound (404),
3000 OrderNotFound (404).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, Optional, TypeVar

from . import messages
from .depth import aggregate, parse_wire_precision
from .engine import Exchange, Trade
from .markets import REGISTRY, MarketSpec, find_market, is_hex_id, normalize_id

Query = dict[str, list[str]]
Response = tuple[int, Any]
T = TypeVar("T")


class HttpError(Exception):
    """An error answered as ``{"code", "message"}`` with an HTTP status."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def handle(exchange: Exchange, path: str, query: Query) -> Response:
    """Answer one GET request."""
    route = _ROUTES.get(path.rstrip("/") or "/")
    if route is None:
        return 404, messages.error(1001, f"InvalidRequest: no such endpoint {path}")
    try:
        return 200, route(exchange, query)
    except HttpError as exc:
        return exc.status, messages.error(exc.code, exc.message)


# -- parameters -----------------------------------------------------------------


def _bad(message: str) -> HttpError:
    return HttpError(400, 1001, f"InvalidRequest: {message}")


def _param(query: Query, name: str, required: bool = True) -> Optional[str]:
    values = query.get(name)
    if not values or values[0] == "":
        if required:
            raise _bad(f"missing parameter {name}")
        return None
    return values[0]


def _int(query: Query, name: str, low: int, high: int, required: bool = True) -> Optional[int]:
    text = _param(query, name, required)
    if text is None:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise _bad(f"{name} must be an integer in {low}..{high}")
    return int(text)


def _hex(query: Query, name: str, required: bool = True) -> Optional[str]:
    text = _param(query, name, required)
    if text is None:
        return None
    if not is_hex_id(text):
        raise _bad(f"{name} must be a 32-byte hex id")
    return normalize_id(text)


def _market(exchange: Exchange, query: Query) -> MarketSpec:
    key = _param(query, "market_id")
    assert key is not None
    spec = find_market(exchange.specs, key)
    if spec is None:
        raise HttpError(404, 2000, "MarketNotFound")
    return spec


def _direction(query: Query) -> bool:
    """True for ``desc`` (newest first)."""
    direction = _param(query, "direction")
    if direction not in ("asc", "desc"):
        raise _bad("direction must be asc or desc")
    return direction == "desc"


def _one_of(query: Query, names: Sequence[str]) -> tuple[str, str]:
    given = [(n, _hex(query, n, required=False)) for n in names]
    present = [(n, v) for n, v in given if v is not None]
    if len(present) != 1:
        raise _bad("exactly one of " + ", ".join(names) + " is required")
    return present[0]


def _account_of(exchange: Exchange, kind: str, value: str) -> str:
    """The trade account id a ``contract=`` / ``account=`` (wallet) parameter means."""
    account = exchange.account
    if kind in ("account", "owner", "address") and value == account.owner:
        return account.account_id
    return value


def _page(
    items: list[T], desc: bool, count: int, cursor: Optional[str], key: Callable[[T], str]
) -> list[T]:
    """``count`` items in the asked direction, after the cursor item if one is given."""
    ordered = items[::-1] if desc else items
    if cursor is not None:
        ids = [key(item) for item in ordered]
        if cursor not in ids:
            return []
        ordered = ordered[ids.index(cursor) + 1 :]
    return ordered[:count]


def _cursor(query: Query, id_name: str) -> Optional[str]:
    stamp = _param(query, "start_timestamp", required=False)
    cursor_id = _param(query, id_name, required=False)
    if (stamp is None) != (cursor_id is None):
        raise _bad(f"start_timestamp and {id_name} go together")
    return None if cursor_id is None else normalize_id(cursor_id)


# -- routes -----------------------------------------------------------------------


def _markets(exchange: Exchange, query: Query) -> dict[str, Any]:
    return {**REGISTRY, "markets": [spec.info for spec in exchange.specs]}


def _depth(exchange: Exchange, query: Query) -> dict[str, Any]:
    spec = _market(exchange, query)
    width = parse_wire_precision(_param(query, "precision"))
    if width is None:
        raise _bad("precision must be 10**n with n in 1..18")
    limit = _int(query, "limit", 1, 10_000, required=False)
    bids, asks = aggregate(exchange.book(spec.market_id), width)
    if limit is not None:
        bids, asks = bids[:limit], asks[:limit]
    return messages.rest_depth(spec.market_id, bids, asks)


def _trade_list(
    exchange: Exchange, query: Query, who: Optional[str]
) -> tuple[MarketSpec, list[Trade]]:
    spec = _market(exchange, query)
    desc = _direction(query)
    count = _int(query, "count", 1, 50)
    assert count is not None
    cursor = _cursor(query, "start_trade_id")
    trades = [
        t for t in exchange.trades[spec.market_id] if who is None or who in (t.maker, t.taker)
    ]
    return spec, _page(trades, desc, count, cursor, lambda t: t.trade_id)


def _trades(exchange: Exchange, query: Query) -> dict[str, Any]:
    who = _hex(query, "contract", required=False)  # the Python SDK may filter here
    spec, trades = _trade_list(exchange, query, who)
    return {"market_id": spec.market_id, "trades": [messages.trade_dict(t) for t in trades]}


def _trades_by_account(exchange: Exchange, query: Query) -> dict[str, Any]:
    who = _account_of(exchange, *_one_of(query, ("contract", "account")))
    spec, trades = _trade_list(exchange, query, who)
    out = []
    for trade in trades:
        entry = messages.trade_dict(trade)
        maker, taker = trade.maker == who, trade.taker == who
        entry["trader_side"] = "both" if maker and taker else "maker" if maker else "taker"
        out.append(entry)
    return {"market_id": spec.market_id, "trades": out}


def _accounts(exchange: Exchange, query: Query) -> dict[str, Any]:
    kind, value = _one_of(query, ("owner", "owner_contract", "trade_account_id"))
    account = exchange.account
    if _account_of(exchange, kind, value) == account.account_id:
        return account.account_dict()
    return {"trade_account_id": None, "trade_account": None, "session": None}


def _balance(exchange: Exchange, query: Query) -> dict[str, Any]:
    asset = _hex(query, "asset_id")
    who = _account_of(exchange, *_one_of(query, ("contract", "address")))
    balances = exchange.account.assets
    if asset not in balances:
        raise _bad("unknown asset_id")
    if who == exchange.account.account_id:
        return balances[asset].rest_dict()
    empty = {c: {"locked": "0", "unlocked": "0", "fee": "0"} for c in balances[asset].books}
    return {
        "order_books": empty,
        "total_locked": "0",
        "total_unlocked": "0",
        "trading_account_balance": "0",
    }


def _orders(exchange: Exchange, query: Query) -> dict[str, Any]:
    spec = _market(exchange, query)
    kind, value = _one_of(query, ("contract", "account"))
    who = _account_of(exchange, kind, value)
    desc = _direction(query)
    count = _int(query, "count", 1, 200)
    assert count is not None
    is_open = _param(query, "is_open", required=False)
    if is_open not in (None, "true", "false"):
        raise _bad("is_open must be true or false")
    cursor = _cursor(query, "start_order_id")
    orders = exchange.owner_orders(who, spec.market_id)
    if is_open is not None:
        orders = [o for o in orders if o.closed != (is_open == "true")]
    page = _page(orders, desc, count, cursor, lambda o: o.order_id)
    identity = {"Address" if kind == "account" else "ContractId": value}
    return {
        "identity": identity,
        "market_id": spec.market_id,
        "orders": [messages.order_dict(o) for o in page],
    }


def _order(exchange: Exchange, query: Query) -> dict[str, Any]:
    spec = _market(exchange, query)
    order_id = _hex(query, "order_id")
    order = exchange.orders.get(order_id or "")
    if order is None or order.spec is not spec:
        raise HttpError(404, 3000, "OrderNotFound")
    return {"order": messages.order_dict(order)}


#: bar resolutions ``GET /v1/bars`` takes, in milliseconds (``1m`` a minute, ``1M`` 30 days)
RESOLUTIONS_MS = {
    "1s": 1_000, "1m": 60_000, "2m": 120_000, "3m": 180_000, "5m": 300_000,
    "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000,
    "6h": 21_600_000, "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000,
    "3d": 259_200_000, "1w": 604_800_000, "1M": 2_592_000_000, "3M": 7_776_000_000,
}
MAX_BARS = 5000


def _bars(exchange: Exchange, query: Query) -> dict[str, Any]:
    """OHLCV candles of the market's kept trades, oldest first (``time`` = the start
    of the candle in ms; prices are chain integers, volume in base units)."""
    spec = _market(exchange, query)
    resolution = _param(query, "resolution")
    width = RESOLUTIONS_MS.get(resolution or "")
    if width is None:
        raise _bad("resolution must be one of " + " ".join(RESOLUTIONS_MS))
    start = _int(query, "from", 0, 2**63)
    end = _int(query, "to", 0, 2**63)
    assert start is not None and end is not None
    if end < start:
        raise HttpError(400, 7001, "InvalidTimeRange: to is before from")
    candles: dict[int, list[int]] = {}  # start -> [open, high, low, close, volume]
    for trade in exchange.trades[spec.market_id]:  # kept oldest first
        if not start <= trade.timestamp <= end:
            continue
        slot = trade.timestamp - trade.timestamp % width
        bar = candles.get(slot)
        if bar is None:
            candles[slot] = [trade.price, trade.price, trade.price, trade.price, trade.quantity]
        else:
            bar[1], bar[2] = max(bar[1], trade.price), min(bar[2], trade.price)
            bar[3] = trade.price
            bar[4] += trade.quantity
    bars = [{"time": slot, "open": str(o), "high": str(h), "low": str(lo), "close": str(c),
             "volume": str(v)} for slot, (o, h, lo, c, v) in sorted(candles.items())]
    return {"action": "bars", "market_id": spec.market_id, "bars": bars[-MAX_BARS:]}


def _ticker(exchange: Exchange, query: Query) -> list[dict[str, Any]]:
    """The live shape: a one-item list, chain-integer strings."""
    spec = _market(exchange, query)
    book = exchange.book(spec.market_id)
    trades = exchange.trades[spec.market_id]
    last = trades[-1] if trades else None
    bid, ask = book.best(True), book.best(False)
    return [{
        "market_id": spec.market_id,
        "last_price": str(last.price) if last else "0",
        "best_bid": str(bid) if bid is not None else "0",
        "best_ask": str(ask) if ask is not None else "0",
        "base_volume": str(sum(t.quantity for t in trades)),
        "quote_volume": str(sum(t.total for t in trades)),
    }]


_ROUTES: dict[str, Callable[[Exchange, Query], Any]] = {
    "/v1/markets": _markets,
    "/v1/depth": _depth,
    "/v1/trades": _trades,
    "/v1/trades_by_account": _trades_by_account,
    "/v1/accounts": _accounts,
    "/v1/balance": _balance,
    "/v1/orders": _orders,
    "/v1/order": _order,
    "/v1/bars": _bars,
    "/v1/markets/ticker": _ticker,
}
