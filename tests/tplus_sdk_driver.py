"""Drive the official tpluspy 0.6.0 against a running tplus simulator.

Run by ``tests/test_tplus_sdk_faithful.py`` inside its own virtualenv (tpluspy pins
``websockets<14``), never imported by the main test suite::

    python tplus_sdk_driver.py MDS_URL OMS_URL USER_SEED_HEX [SECONDS]

Uses only tpluspy's own clients and models: REST snapshot, klines, trades,
markets, user history; streams of depth diffs, finalized trades, trade events,
klines, order events and user trade events; logins with a random ``User()`` and
with ``User(seed)``. Every frame is decoded by tpluspy itself; its log records of
WARNING and above (parse errors, skipped frames) are captured. Prints one JSON
summary line on stdout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import Counter
from typing import Any

from tplus.client import MarketDataClient, OrderBookClient
from tplus.model.klines import Interval
from tplus.model.trades import parse_trade_event
from tplus.utils.user import User
from tplus_rest_calls import (
    ADDRESS_ASSET,
    CALLS,
    END_NS,
    ME,
    ME_KEY,
    MIN_5,
    START_NS,
    dump,
    error_dump,
    resolve,
)

ORDER_KINDS = ("Created", "Canceled", "Removed", "Replaced", "Amended", "Triggered",
               "CreateFailed", "CancelFailed", "ReplaceFailed", "AmendFailed")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name} {record.levelname}: {record.getMessage()[:300]}")


async def main(mds_url: str, oms_url: str, seed: str, seconds: float) -> dict[str, Any]:
    capture = Capture()
    logging.getLogger("tplus").addHandler(capture)
    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    info: dict[str, Any] = {}
    depth_seq: dict[str, list[int]] = {"200": [], ADDRESS_ASSET: []}

    # -- REST, anonymous ---------------------------------------------------------------
    mds = MarketDataClient(mds_url)
    snap = await mds.get_orderbook_snapshot("200")
    counts["snapshot_levels"] = len(snap.bids) + len(snap.asks)
    info["snapshot_sequence"] = snap.sequence_number
    snap2 = await mds.get_orderbook_snapshot(ADDRESS_ASSET)
    counts["snapshot_levels_address"] = len(snap2.bids) + len(snap2.asks)
    page = await mds.get_klines("200", limit=10)
    counts["klines_rest"] = len(page.items)
    info["klines_has_next_page"] = page.has_next_page
    page5 = await mds.get_klines(ADDRESS_ASSET, interval=Interval.MIN_5, limit=5)
    counts["klines_rest_5m"] = len(page5.items)
    walked = [bar async for bar in mds.iter_klines("200", limit=50, max_pages=3)]
    counts["klines_iter"] = len(walked)
    counts["ticker"] = 1 if (await mds.get_ticker("200")).asset_id else 0

    # -- OMS REST, and a login with a random user ----------------------------------------
    stranger = User()
    oms_anon = OrderBookClient(oms_url, default_user=stranger)
    market = await oms_anon.get_market(ADDRESS_ASSET)
    info["address_market_decimals"] = [market.book_price_decimals, market.book_quantity_decimals]
    counts["markets"] = len(await oms_anon.get_markets())
    await oms_anon.authenticate()
    info["stranger_id"] = stranger.public_key
    counts["stranger_token"] = 1 if oms_anon._auth.token else 0

    # -- the simulated user ------------------------------------------------------------------
    me = User(seed)
    info["user_id"] = me.public_key
    oms = OrderBookClient(oms_url, default_user=me)
    mds_me = MarketDataClient(mds_url, default_user=me)

    deadline = time.monotonic() + seconds

    def done() -> bool:
        return (all(kinds[f"order:{k}"] > 0 for k in ORDER_KINDS)
                and all(kinds[f"user_trade:{s}"] > 0 for s in ("Pending", "Confirmed",
                                                                "Rollbacked"))
                and all(kinds[f"trade_event:{s}"] > 0 for s in ("Pending", "Confirmed",
                                                                 "Rollbacked"))
                and counts["depth_diffs"] >= 50 and counts["depth_diffs_address"] >= 10
                and counts["trades_ws"] >= 10 and counts["klines_ws"] >= 5
                and counts["stranger_orders_open"] > 0)

    async def depth(asset: str, key: str) -> None:
        async for diff in mds.stream_depth(asset):
            counts[key] += 1
            depth_seq[asset].append(diff.sequence_number)

    async def trades() -> None:
        async for trade in mds.stream_finalized_trades():
            counts["trades_ws"] += 1
            kinds[f"trade_status:{trade.status}"] += 1

    async def trade_events() -> None:
        async for event in mds._stream_ws("/trades/events", parse_trade_event,
                                          requires_auth=False):
            kinds[f"trade_event:{event.event_type}"] += 1

    async def klines() -> None:
        async for bars in mds_me.stream_klines("200"):  # with a user: MDS login + headers
            counts["klines_ws"] += 1
            counts["kline_bars_ws"] += len(bars)

    async def orders() -> None:
        async for event in oms.stream_orders():
            counts["order_events"] += 1
            kinds[f"order:{_order_kind(event)}"] += 1
            kinds[f"model:{type(event).__name__}"] += 1

    async def user_trades() -> None:
        async for trade in oms.stream_user_trade_events():
            counts["user_trade_events"] += 1
            kinds[f"user_trade:{trade.status}"] += 1

    async def stranger_orders() -> None:
        counts["stranger_orders_open"] += 1
        async for _ in oms_anon.stream_orders():
            counts["stranger_order_events"] += 1

    tasks = [asyncio.ensure_future(c) for c in (
        depth("200", "depth_diffs"), depth(ADDRESS_ASSET, "depth_diffs_address"), trades(),
        trade_events(), klines(), orders(), user_trades(), stranger_orders())]
    try:
        while not done() and time.monotonic() < deadline:
            for task in tasks:
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- REST reads a reconnecting user needs (MDS token) --------------------------------
    my_orders = await mds_me.get_user_orders()
    counts["user_orders_rest"] = len(my_orders)
    my_trades = await mds_me.get_user_trades()
    counts["user_trades_rest"] = len(my_trades)
    counts["trades_rest"] = len(await mds.get_trades())
    counts["trades_rest_address"] = len(await mds.get_trades_for_asset(ADDRESS_ASSET))
    for client in (mds, mds_me, oms, oms_anon):
        await client.close()

    gaps = {a: sum(1 for x, y in zip(s, s[1:]) if y != x + 1) for a, s in depth_seq.items()}
    return {"counts": dict(counts), "kinds": dict(kinds), "info": info, "depth_gaps": gaps,
            "log": capture.messages, "complete": done()}


def _order_kind(event: Any) -> str:
    name = str(getattr(event, "event_type", type(event).__name__))
    table = {k.upper(): k for k in ORDER_KINDS}
    return table.get(name.replace("_", "").upper(), name)


async def rest_calls(mds_url: str, oms_url: str, seed: str, end_ns: int, start_ns: int
                     ) -> dict[str, Any]:
    """Every REST call of the resync surface (``tplus_rest_calls.CALLS``), as tpluspy
    returns it (``rest`` mode); ``test_tplus_sdk_faithful.py`` makes the same calls
    with o2sync and compares the dumps."""
    from tplus.exceptions import OmsError

    me = User(seed)
    clients = {"mds": MarketDataClient(mds_url, default_user=me),
               "oms": OrderBookClient(oms_url, default_user=me)}
    values = {ME: me, ME_KEY: me.public_key, END_NS: end_ns, START_NS: start_ns,
              MIN_5: Interval.MIN_5}
    out: dict[str, Any] = {}
    for row in CALLS:
        name, client, method, _, _, iterate = row
        args, kwargs = resolve(row, values)
        call = getattr(clients[client], method)
        try:
            out[name] = dump(await _collect(call(*args, **kwargs)) if iterate
                             else await call(*args, **kwargs))
        except OmsError as exc:
            out[name] = error_dump(exc)
    for c in clients.values():
        await c.close()
    return out


async def _collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


if __name__ == "__main__":
    mds_url, oms_url, seed = sys.argv[1:4]
    if len(sys.argv) > 4 and sys.argv[4] == "rest":
        result = asyncio.run(rest_calls(mds_url, oms_url, seed, int(sys.argv[5]),
                                        int(sys.argv[6])))
        print(json.dumps(result))
        sys.exit(0)
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
    summary = asyncio.run(main(mds_url, oms_url, seed, seconds))
    print(json.dumps(summary))
