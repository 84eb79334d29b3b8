"""``o2sync watch --json``: one documented shape on both venues (issue 22 item 8).

Every line has ``venue``, ``stream``, ``type``, ``market`` (``{"id", "name"}`` or
null), ``received`` and ``event``, in that order (``o2sync/cli/jsonline.py``, README
"The o2sync command"). The O2 streams run in-process against the simulator (fast);
one command per venue runs as a user runs it.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any, Optional

import pytest
from cliutil import o2sync

from o2sync import O2Client
from o2sync.cli.jsonline import KEYS
from o2sync.cli.tplus import TplusSession
from o2sync.cli.tplus import watch as watch_tplus
from o2sync.cli.watch import watch
from o2sync.o2.models import BalanceUpdate, DepthUpdate, NonceUpdate, OrderUpdate, TradeUpdate
from o2sync.testing import Simulator, TplusSimulator
from o2sync.tplus import models as tm

PAIR = "fFUEL/fUSDC"
ETH = {"id": "200", "name": "ETH"}


def _lines(text: str, start: float, end: float) -> list[dict[str, Any]]:
    items = [json.loads(line) for line in text.splitlines()]
    assert items
    for item in items:
        assert tuple(item) == KEYS, item.keys()
        assert start <= item["received"] <= end
        assert item["market"] is None or set(item["market"]) == {"id", "name"}
    return items


O2_STREAMS = [("depth", DepthUpdate), ("trades", TradeUpdate), ("orders", OrderUpdate),
              ("balances", BalanceUpdate), ("nonce", NonceUpdate)]


@pytest.fixture(scope="module")
def o2() -> Any:
    with Simulator(rate=300) as sim, O2Client(ws_url=sim.ws_url, api_url=sim.api_url) as c:
        yield sim, c


@pytest.mark.parametrize("kind, model", O2_STREAMS)
def test_o2_json_lines(o2: Any, kind: str, model: type) -> None:
    sim, client = o2
    market = client.get_market(PAIR)
    target = PAIR if kind in ("depth", "trades") else sim.account
    out = io.StringIO()
    start = time.time()
    watch(client, kind, target, as_json=True, events=2, out=out)
    for item in _lines(out.getvalue(), start, time.time()):
        assert item["venue"] == "o2" and item["stream"] == kind
        assert item["type"] == model.__name__
        event = model.from_dict(item["event"])  # the exact to_dict, read back
        if kind in ("depth", "trades"):
            assert item["market"] == {"id": str(market.market_id), "name": PAIR}
            assert event.market_id == market.market_id
        elif kind == "orders":
            ids = {str(o.market_id) for o in event.orders}
            by_id = {str(m.market_id): m.pair for m in client.get_markets()}
            want: Optional[dict[str, str]] = (
                {"id": ids.copy().pop(), "name": by_id[ids.pop()]} if len(ids) == 1 else None)
            assert item["market"] == want
        else:  # account-wide
            assert item["market"] is None


TPLUS_STREAMS = [("trades", None, tm.Trade), ("trade-events", None, tm.TradeEvent),
                 ("depth", "eth", tm.OrderBookDiff), ("klines", "200", tm.KlineUpdate),
                 ("orders", None, tm.OrderEvent), ("user-trades", None, tm.UserTrade)]


@pytest.fixture(scope="module")
def tp() -> Any:
    with TplusSimulator(rate=300, mds_port=0, oms_port=0) as sim, \
            TplusSession(sim.mds_url, sim.oms_url, sim.user_seed, {}) as session:
        yield sim, session


@pytest.mark.parametrize("kind, asset, model", TPLUS_STREAMS)
def test_tplus_json_lines(tp: Any, kind: str, asset: Optional[str], model: type) -> None:
    sim, session = tp
    out = io.StringIO()
    start = time.time()
    watch_tplus(session, kind, asset, as_json=True, events=2, out=out)
    for item in _lines(out.getvalue(), start, time.time()):
        assert item["venue"] == "tplus" and item["stream"] == kind
        assert issubclass(getattr(tm, item["type"]), model), item["type"]
        market = item["market"]
        assert market is not None, item  # every tplus event is about one asset
        assert market["id"] in sim.assets
        assert market["name"] == ("ETH" if market["id"] == "200" else "82af49..bab1@a4b1")
        if asset is not None:
            assert market == ETH
        body = item["event"]
        own = (body.get("asset_id") or body.get("trade", {}).get("asset_id")
               or body.get("user_order", {}).get("base_asset"))
        if own is not None:  # the event's own asset is the one named
            assert str(own) == market["id"]


@pytest.mark.parametrize("venue_args, venue", [
    (("trades", PAIR), "o2"), (("--venue", "tplus", "trades"), "tplus")])
def test_the_command_prints_the_shape(venue_args: tuple[str, ...], venue: str) -> None:
    start = time.time()
    proc = o2sync("watch", *venue_args, "--json", "--events", "2", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    for item in _lines(proc.stdout, start, time.time()):
        assert item["venue"] == venue and item["stream"] == "trades"
        assert item["market"]["name"] == (PAIR if venue == "o2" else "ETH")
