"""Exact numbers: prices and quantities are Decimal whether the wire sent decimal
strings or JSON floats (§9), and equal to the simulator's own values."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from tplus_clientutil import TplusClients, connected, drain, settle
from tplus_util import FakeClock, TWs

from o2sync.testing import TplusSimulator

MD_PATHS = ["/trades", "/trades/events", "/marketdepth/diff/200", "/klines/diff/200"]


def decimals_of(event: Any) -> list[Any]:
    """Every Decimal reachable from an event (levels, trade fields, bars)."""
    out: list[Any] = []
    stack = [event]
    for _ in range(100_000):
        if not stack:
            return out
        item = stack.pop()
        if isinstance(item, Decimal):
            out.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, "__dataclass_fields__"):
            stack.extend(getattr(item, f) for f in item.__dataclass_fields__)
    raise AssertionError("too deep")


def run_feed(floats: bool, start_ns: int) -> dict[str, Any]:
    """Same seed, same clock, same steps: what the client decoded, and the true book."""
    with TplusSimulator(seed=4, start_flow=False, control_interval=None, floats=floats,
                        clock=FakeClock(start_ns)) as sim:
        factory = TplusClients(sim)
        try:
            md, ob = factory.md(), factory.ob()
            subs = {"trades": md.stream_finalized_trades(), "events": md.stream_all_trades(),
                    "depth": md.stream_depth("200"), "klines": md.stream_klines("200"),
                    "user": ob.stream_user_trade_events()}
            book = md.order_book("200")
            raw = TWs(sim.mds_url, "/trades")
            connected(md, ob)
            assert book.wait_ready(5)
            sim.step(1200)
            settle(sim, md, MD_PATHS)
            settle(sim, ob, [f"/trades/user/events/{sim.user_id}"])
            out: dict[str, Any] = {k: drain(s) for k, s in subs.items()}
            wire = raw.data()
            raw.close()
            assert isinstance(wire["price"], float if floats else str), wire
            truth = sim.book("200")
            assert book.verify()
            out["book"] = (book.snapshot(), book.bids(), book.asks(), book.sequence_number)
            out["truth"] = truth
            return out
        finally:
            for c in factory.made:
                c.close()


@pytest.fixture(scope="module")
def feeds() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    start = time.time_ns()  # tokens are checked against the real clock
    yield run_feed(False, start), run_feed(True, start)


def test_float_wire_decodes_to_the_same_decimals_as_string_wire(
        feeds: tuple[dict[str, Any], dict[str, Any]]) -> None:
    strings, floats = feeds
    for key in ("trades", "events", "depth", "klines", "user"):
        assert strings[key], key
        assert floats[key] == strings[key], key
        for event_s, event_f in zip(strings[key], floats[key]):
            assert decimals_of(event_f) == decimals_of(event_s)


def test_every_price_and_quantity_is_an_exact_decimal(
        feeds: tuple[dict[str, Any], dict[str, Any]]) -> None:
    for feed in feeds:
        for trade in feed["trades"]:
            assert type(trade.price) is Decimal and type(trade.quantity) is Decimal
            assert trade.price.as_tuple().exponent >= -2  # book decimals, no float noise
            assert type(trade.trade_id) is int and type(trade.timestamp_ns) is int
        for diff in feed["depth"]:
            for price, qty in diff.bids + diff.asks:
                assert type(price) is Decimal and type(qty) is Decimal
                assert price.as_tuple().exponent >= -2 and qty.as_tuple().exponent >= -4
        for bar in feed["klines"]:
            assert all(type(v) is Decimal for v in (bar.open, bar.high, bar.low, bar.close,
                                                     bar.volume))
        for fill in feed["user"]:
            assert type(fill.price) is Decimal and type(fill.trading_fee) is Decimal


def test_live_book_equals_the_true_book_on_both_wires(
        feeds: tuple[dict[str, Any], dict[str, Any]]) -> None:
    for feed in feeds:
        snapshot, bids, asks, seq = feed["book"]
        truth = feed["truth"]
        assert seq == truth["sequence_number"]
        assert [tuple(lv) for lv in bids] == [tuple(lv) for lv in truth["bids"]]
        assert [tuple(lv) for lv in asks] == [tuple(lv) for lv in truth["asks"]]
        assert snapshot == {"buys": [tuple(lv) for lv in truth["bids"]],
                            "sells": [tuple(lv) for lv in truth["asks"]]}
    assert feeds[0]["book"] == feeds[1]["book"]
