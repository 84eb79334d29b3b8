"""Drive tpluspy 0.6.0's account, ticker and intent calls (run in ``.venv-tpluspy``).

Run by ``tests/test_tplus_sdk_account.py`` as a subprocess, never imported by the
main suite. Two modes, each printing one JSON line on stdout:

    python tplus_sdk_account_driver.py frames < [[parser, frame], ...]
        decode each frame with tpluspy's own parser; each result is the model's
        ``model_dump(mode="json")`` or ``{"error": "<exception class>"}``
    python tplus_sdk_account_driver.py live MDS_URL OMS_URL USER_SEED_HEX N [SECONDS]
        every new REST read once, then the first N items of every new stream
        (ticker, tickers, user positions/events/finalized trades, intent) and the
        refusal of a non market maker's intent stream

Numbers, ids and nested models are dumped as tpluspy's JSON mode writes them, so
the caller compares them with o2sync's values field by field.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from typing import Any, Callable

from tplus.client import MarketDataClient, OrderBookClient
from tplus.model.intent import parse_intent_aggregate_update
from tplus.model.open_interest import OpenInterest, parse_open_interest
from tplus.model.position import parse_position_update, parse_positions_page
from tplus.model.position_basis import parse_position_basis
from tplus.model.sub_account import SubAccountNamesResponse
from tplus.model.ticker import Ticker, parse_tickers
from tplus.model.user_event import parse_user_event
from tplus.model.user_margin import parse_user_margin_info
from tplus.model.user_solvency import parse_user_solvency
from tplus.utils.user import User
from tplus_sdk_driver import Capture

PARSERS: dict[str, Callable[[Any], Any]] = {
    "ticker": Ticker.model_validate,
    "tickers": parse_tickers,
    "position_update": parse_position_update,
    "positions_page": parse_positions_page,
    "user_event": parse_user_event,
    "intent": parse_intent_aggregate_update,
    "open_interest": OpenInterest.model_validate,
    "open_interests": parse_open_interest,
    "margin": parse_user_margin_info,
    "solvency": parse_user_solvency,
    "basis": parse_position_basis,
    "sub_account_names": SubAccountNamesResponse.model_validate,
}
ASSETS = ("200", "82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000"
                 "@00000000000000a4b1")


def dump(value: Any) -> Any:
    """tpluspy's JSON-mode dump of a model, a list of them, or a raw value."""
    if isinstance(value, list):
        return [dump(v) for v in value]
    if hasattr(value, "model_dump"):
        return json.loads(json.dumps(value.model_dump(mode="json")))  # int keys -> str
    return value


def frames(items: list[list[Any]]) -> list[Any]:
    out = []
    for parser, frame in items:
        try:
            out.append(dump(PARSERS[parser](frame)))
        except Exception as exc:  # the class is the answer
            out.append({"error": type(exc).__name__})
    return out


async def live(mds_url: str, oms_url: str, seed: str, n: int, seconds: float
               ) -> dict[str, Any]:
    me = User(seed)
    mds = MarketDataClient(mds_url, default_user=me)
    oms = OrderBookClient(oms_url, default_user=me)
    rest: dict[str, Any] = {
        "ticker": dump(await mds.get_ticker(ASSETS[1])),
        "tickers": dump(await mds.get_tickers()),
        "open_interest": dump(await mds.get_open_interest(ASSETS[0])),
        "all_open_interest": dump(await mds.get_all_open_interest()),
        "position_basis": dump(await mds.get_user_position_basis()),
        "position_basis_margin": dump(await mds.get_user_position_basis(sub_account=1)),
        "position_basis_asset": dump(await mds.get_user_position_basis_for_asset(ASSETS[1])),
        "sub_account_names": dump(await mds.get_sub_account_names()),
        "positions": dump(await oms.get_user_positions()),
        "positions_page": dump(await oms.get_user_positions_page(limit=1)),
        "positions_page_1": dump(await oms.get_user_positions_page(page=1, limit=1)),
        "positions_sub0": dump(await oms.get_user_positions(sub_account=0)),
        "position_for_asset": dump(await oms.get_user_position_for_asset(ASSETS[0])),
        "positions_by_key": dump(await oms.get_user_positions(user=me.public_key)),
        "inventory": await oms.get_user_inventory(),
        "margin": dump(await oms.get_user_margin_info(include_positions=True)),
        "margin_sub1": dump(await oms.get_user_margin_info(sub_account=1)),
        "solvency": dump(await oms.get_user_solvency()),
    }
    stranger = OrderBookClient(oms_url, default_user=User())
    rest["stranger_positions"] = dump(await stranger.get_user_positions())
    rest["stranger_inventory"] = await stranger.get_user_inventory()
    rest["stranger_solvency"] = dump(await stranger.get_user_solvency())

    streams: dict[str, list[Any]] = {}

    async def take(name: str, items: AsyncIterator[Any]) -> None:
        got = streams.setdefault(name, [])
        async for item in items:
            got.append(dump(item))
            if len(got) >= n:
                return

    refusal: dict[str, Any] = {}

    async def refused() -> None:
        try:
            async for _ in stranger.stream_intent():
                refusal["item"] = True
        except Exception as exc:  # recorded for the caller
            refusal["error"] = type(exc).__name__
            refusal["status"] = getattr(exc, "status_code", None)

    tasks = [asyncio.ensure_future(c) for c in (
        take("ticker", mds.stream_ticker(ASSETS[0])),
        take("tickers", mds.stream_tickers()),
        take("positions", oms.stream_user_positions()),
        take("events", oms.stream_user_events(user=me)),
        take("finalized", oms.stream_user_finalized_trades()),
        take("finalized_alias", oms.stream_user_trades()),
        take("intent", oms.stream_intent()),
        refused())]
    deadline = time.monotonic() + seconds
    try:
        while not all(t.done() for t in tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in (mds, oms, stranger):
            await client.close()
    return {"rest": rest, "streams": streams, "refusal": refusal}


if __name__ == "__main__":
    capture = Capture()
    logging.getLogger("tplus").addHandler(capture)
    if sys.argv[1] == "frames":
        result: Any = frames(json.load(sys.stdin))
    else:
        mds_url, oms_url, seed, count = sys.argv[2:6]
        seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 20.0
        result = asyncio.run(live(mds_url, oms_url, seed, int(count), seconds))
        result["log"] = capture.messages
    print(json.dumps(result))
