"""The resync REST calls that the tplus faithful test makes with both libraries.

One table, read by ``test_tplus_sdk_faithful.py`` (o2sync's blocking clients) and by
``tplus_sdk_driver.py`` (tpluspy 0.6.0, awaited, in its own virtualenv), so the two
sides make the same calls by construction. Pure data: it imports neither library.
Each row is ``(name, client, method, args, kwargs, iterate)``: ``client`` is ``"mds"``
or ``"oms"``; ``iterate`` marks a call that returns an iterator to drain. Arguments
that differ per side are placeholders, resolved by :func:`resolve`.
"""

from __future__ import annotations

from typing import Any

#: an asset named by its address (the simulator's second market)
ADDRESS_ASSET = (
    "82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000@00000000000000a4b1"
)

ME = "$me"                 # the library's User of the simulator's seed
ME_KEY = "$me_key"         # that user's bare public key
END_NS = "$end_ns"         # a pinned end of the kline window
START_NS = "$start_ns"     # a timestamp inside the user's trade history
MIN_5 = "$interval_min_5"  # the library's Interval.MIN_5

Row = tuple[str, str, str, tuple[Any, ...], dict[str, Any], bool]

CALLS: list[Row] = [
    ("klines", "mds", "get_klines", ("200",), {"limit": 10, "end_timestamp_ns": END_NS}, False),
    ("klines_page1", "mds", "get_klines", ("200", 1, 15, END_NS), {}, False),
    ("klines_5m", "mds", "get_klines", (ADDRESS_ASSET,),
     {"interval": MIN_5, "limit": 5, "end_timestamp_ns": END_NS}, False),
    ("klines_4h_str", "mds", "get_klines", ("200",),
     {"end_timestamp_ns": END_NS, "interval": "4h"}, False),
    ("iter_klines_all", "mds", "iter_klines", ("200",),
     {"limit": 25, "end_timestamp_ns": END_NS, "max_pages": None}, True),
    ("iter_klines_3", "mds", "iter_klines", ("200", 25, END_NS, None, 3), {}, True),
    ("trades_0_100", "mds", "get_trades", (0, 100), {}, False),
    ("trades_p1", "mds", "get_trades", (), {"page": 1, "limit": 5}, False),
    ("trades", "mds", "get_trades", (), {}, False),
    ("trades_asset", "mds", "get_trades_for_asset", ("200", 0, 10), {}, False),
    ("trades_address", "mds", "get_trades_for_asset", (ADDRESS_ASSET,), {}, False),
    ("user_trades", "mds", "get_user_trades", (), {}, False),
    ("user_trades_page", "mds", "get_user_trades", (), {"page": 1, "limit": 5}, False),
    ("user_trades_str", "mds", "get_user_trades", (ME_KEY,), {"limit": 4}, False),
    ("user_trades_buy", "mds", "get_user_trades", (), {"side": "buy"}, False),
    ("user_trades_status", "mds", "get_user_trades", (), {"status": "Rollbacked"}, False),
    ("user_trades_since", "mds", "get_user_trades", (), {"start_time": START_NS}, False),
    ("user_trades_asset", "mds", "get_user_trades_for_asset", ("200",),
     {"limit": 3, "page": 1}, False),
    ("user_orders", "mds", "get_user_orders", (), {}, False),
    ("user_orders_page", "mds", "get_user_orders", (), {"limit": 2}, False),
    ("user_orders_canceled", "mds", "get_user_orders", (), {"status": "Canceled"}, False),
    ("user_orders_asset", "mds", "get_user_orders_for_asset", (ADDRESS_ASSET, ME), {}, False),
    ("market", "oms", "get_market", ("200",), {}, False),
    ("market_address", "oms", "get_market", (ADDRESS_ASSET,), {}, False),
    ("markets", "oms", "get_markets", (), {}, False),
    ("markets_symbols", "oms", "get_markets", (True,), {}, False),
    ("markets_p0", "oms", "get_markets", (), {"page": 0, "limit": 1}, False),
    ("markets_p1", "oms", "get_markets", (), {"page": 1, "limit": 1}, False),
    ("open_orders", "oms", "get_open_orders_for_book", ("200",), {}, False),
    ("open_orders_paged", "oms", "get_open_orders_for_book", ("200",), {"limit": 3}, False),
    ("open_orders_capped", "oms", "get_open_orders_for_book", (ADDRESS_ASSET,),
     {"limit": 2, "max_pages": 2}, False),
    ("book_orders", "oms", "get_user_orders_for_book", ("200",), {}, False),
    ("book_orders_open", "oms", "get_user_orders_for_book", ("200",), {"open_only": True},
     False),
    ("book_orders_page", "oms", "get_user_orders_for_book", ("200",),
     {"page": 1, "limit": 3, "open_only": False}, False),
    ("book_orders_str", "oms", "get_user_orders_for_book", (ADDRESS_ASSET,),
     {"user": ME_KEY}, False),
    ("oms_user_orders", "oms", "get_user_orders", (), {}, False),
    ("oms_user_orders_page", "oms", "get_user_orders", (), {"page": 1, "limit": 5}, False),
    ("error_klines", "mds", "get_klines", ("999",), {}, False),
    ("error_market", "oms", "get_market", ("999",), {}, False),
    ("error_interval", "mds", "get_klines", ("200",), {"interval": "7X"}, False),
]


def resolve(row: Row, values: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The row's arguments with its placeholders replaced by ``values``."""
    def one(value: Any) -> Any:
        return values[value] if isinstance(value, str) and value.startswith("$") else value
    _, _, _, args, kwargs, _ = row
    return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}


def dump(value: Any) -> Any:
    """A result as JSON data: models by their own ``model_dump(mode="json")``."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    return value


def error_dump(exc: Any) -> dict[str, Any]:
    """An ``OmsError`` as JSON data (both libraries give it these attributes)."""
    return {"error": type(exc).__name__, "code": exc.code, "status_code": exc.status_code,
            "retryable": exc.retryable, "details": exc.details}

