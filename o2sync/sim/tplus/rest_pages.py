"""The tplus simulator's paged REST reads a resyncing client needs (``tplus-streams.md`` §5).

Order service (OMS), with the OMS token of the path's user:

* ``GET /orders/user/{user_id}/{asset}?page&limit&open_only``: a **bare array** of
  ``OrderResponse`` rows, the user's orders on that book as the service holds them
  now (open ones, then recently closed ones unless ``open_only=true``), newest first;
* ``GET /orders/user/{user_id}?page&limit``: ``{"orders": [...], <page meta>}`` over
  every book.

Market data (MDS) klines: a window wider than :attr:`TplusEngine.klines_window` bars
(when set) is clamped to its newest bars, and the last page of the window names
``truncated_before_ns`` (the oldest bar served) so a client walks on before it, as
tpluspy's ``iter_klines`` does. ``GET /markets?include_symbol_map=true`` adds the
asset table.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any, Callable, Optional

from aiohttp import web

from .klines import Bar
from .wire import human

if TYPE_CHECKING:
    from .engine import Order, TplusEngine
    from .routes import _Api

Handler = Callable[[web.Request], Any]


def add_routes(api: _Api, get: Callable[[str, Handler], Any], service: str) -> None:
    """Register this module's routes on ``service``'s application."""
    if service == "oms":
        get("/orders/user/{user_id}", functools.partial(user_orders, api))
        get("/orders/user/{user_id}/{asset}", functools.partial(book_orders, api))


def _flag(request: web.Request, name: str) -> Optional[bool]:
    from .routes import ApiError

    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, "INVALID_PARAMETER", f"{name} must be true or false")


def order_response(engine: TplusEngine, order: Order) -> dict[str, Any]:
    """The OMS ``OrderResponse`` row of one of the user's orders (exact decimal strings)."""
    spec = engine.books[order.asset].spec
    pd, qd = spec.price_decimals, spec.quantity_decimals
    d = engine.enc.dec
    status = engine._status(order)
    return {
        "order_id": order.order_id, "base_asset": order.asset, "side": order.side,
        "limit_price": d(human(order.price, pd)), "quantity": d(human(order.quantity, qd)),
        "amount": None, "max_sellable_amount": None, "max_sellable_quantity": None,
        "confirmed_filled_quantity": d(human(order.confirmed, qd)),
        "pending_filled_quantity": d(human(order.filled - order.confirmed, qd)),
        "confirmed_filled_amount": d(human(order.confirmed_amount, pd + qd)),
        "pending_filled_amount": d(human(order.filled_amount - order.confirmed_amount, pd + qd)),
        "confirmed_trading_fees_amount": d(order.fees),
        "pending_trading_fees_amount": d(human(0, 0)),
        "good_until_timestamp_ns": None, "timestamp_ns": order.created_ns,
        "in_flight": False, "canceled": order.status == "Canceled", "status": status,
        "trigger_above_price": None, "trigger_below_price": None, "trigger_touched": None,
        "parent_id": None, "last_update_timestamp_ns": order.updated_ns,
        "is_immediate_or_cancel": False, "is_fill_or_kill": False, "is_liquidation": False,
        "is_auto_deleverage": False, "is_reduce_only": False,
        "trigger_enabled_quantity": None,
    }


def order_rows(engine: TplusEngine, asset: Optional[str], open_only: bool
               ) -> list[dict[str, Any]]:
    """The user's orders (on ``asset`` if given), newest first: open ones, and the
    recently closed ones too unless ``open_only``."""
    orders = list(engine.user_orders.values())
    if not open_only:
        orders += list(engine.user_closed)
    if asset is not None:
        orders = [o for o in orders if o.asset == asset]
    orders.sort(key=lambda o: (o.created_ns, o.order_id), reverse=True)
    return [order_response(engine, o) for o in orders]


async def book_orders(api: _Api, request: web.Request) -> web.Response:
    from .routes import _json

    user_id = api._user_check(request)
    asset = api._asset(request)
    open_only = bool(_flag(request, "open_only"))
    rows = (order_rows(api.engine, asset, open_only)
            if user_id == api.engine.user.user_id else [])
    chunk, _, _, _ = api._page(request, rows, 1000)
    return _json(chunk)


async def user_orders(api: _Api, request: web.Request) -> web.Response:
    from .routes import _json

    user_id = api._user_check(request)
    rows = order_rows(api.engine, None, False) if user_id == api.engine.user.user_id else []
    chunk, page, limit, more = api._page(request, rows, 100)
    return _json({"orders": chunk, "page": page, "limit": limit,
                  "total_pages": math.ceil(len(rows) / limit), "cursor_size": len(chunk),
                  "has_next_page": more, "next_page": page + 1 if more else None,
                  "total_orders": len(rows)})


def clamp_klines(bars: list[Bar], window: Optional[int]) -> tuple[list[Bar], Optional[int]]:
    """The bars of one window (newest first) and its ``truncated_before_ns``: the open
    of the oldest bar served when older bars exist beyond a ``window``-bar clamp."""
    if window is None or len(bars) <= window:
        return bars, None
    served = bars[:window]
    return served, served[-1].open_ns


def symbol_map(engine: TplusEngine) -> dict[str, Any]:
    """The ``symbol_map`` of ``GET /markets``: registry-index assets only."""
    table: dict[str, Any] = {}
    for asset, book in engine.books.items():
        if asset.isdigit():
            spec = book.spec
            symbol = spec.symbol or f"A{asset}"
            table[asset] = {"index": int(asset), "symbol": symbol,
                            "name": spec.name or f"Asset {asset}", "asset_class": "crypto",
                            "representations": [symbol]}
    return table
