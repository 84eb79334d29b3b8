"""Every tplus stream in queue, callback (also decorator) and merge() form, over
real sockets against the tplus simulator, checked against a raw socket on the
same path."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Callable

import pytest
import websocket
from clientutil import client_for, wait_until
from tplus_clientutil import TplusClients, connected, drain, settle
from tplus_util import FakeClock, TWs, sim_login

from o2sync import merge
from o2sync.testing import Simulator, TplusSimulator
from o2sync.tplus import (
    KlineUpdate,
    OrderBookDiff,
    OrderEvent,
    Trade,
    TradeEvent,
    UserTrade,
)

MARKER = '{"type":"pong","marker":true}'


def raw_frames(ws: TWs, sim: TplusSimulator, path: str) -> list[Any]:
    """Every data frame the raw socket got so far (a control-frame marker ends it)."""
    sim.inject(path, MARKER)
    frames: list[Any] = []
    for _ in range(1_000_000):
        frame = json.loads(ws.recv_text())
        if isinstance(frame, dict) and frame.get("marker"):
            return frames
        if isinstance(frame, dict) and frame.get("type") in ("ping", "subscriptions"):
            continue
        frames.append(frame)
    raise AssertionError("no marker")


# name, client kind, path(sim), queue form, callback form, decorator name
STREAMS: dict[str, tuple[str, Callable[[TplusSimulator], str], str, str, tuple[Any, ...]]] = {
    "finalized_trades": ("md", lambda s: "/trades", "stream_finalized_trades",
                         "on_finalized_trades", ()),
    "all_trades": ("md", lambda s: "/trades/events", "stream_all_trades", "on_all_trades", ()),
    "depth": ("md", lambda s: "/marketdepth/diff/200", "stream_depth", "on_depth", ("200",)),
    "klines": ("md", lambda s: "/klines/diff/200", "stream_klines", "on_klines", ("200",)),
    "orders": ("ob", lambda s: "/orders", "stream_orders", "on_orders", ()),
    "user_trades": ("ob", lambda s: f"/trades/user/events/{s.user_id}",
                    "stream_user_trade_events", "on_user_trade_events", ()),
}


def check_against_wire(name: str, events: list[Any], frames: list[Any]) -> None:
    if name == "finalized_trades":
        assert all(isinstance(e, Trade) for e in events)
        assert [e.trade_id for e in events] == [f["trade_id"] for f in frames]
        assert all(e.status == "Confirmed" for e in events)
    elif name == "all_trades":
        assert all(isinstance(e, TradeEvent) for e in events)
        assert [(e.status, e.trade.trade_id) for e in events] == \
            [(k, v["trade_id"]) for f in frames for k, v in f.items()]
        statuses = Counter(e.status for e in events)
        assert statuses["Pending"] and statuses["Confirmed"] and statuses["Rollbacked"], statuses
    elif name == "depth":
        assert all(isinstance(e, OrderBookDiff) for e in events)
        seqs = [e.sequence_number for e in events]
        assert seqs == [f["sequence_number"] for f in frames]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    elif name == "klines":
        assert all(isinstance(e, KlineUpdate) for e in events)
        bars = [b for f in frames for b in f]  # one event per bar, not per frame
        assert [e.open_timestamp_ns for e in events] == [b["open_timestamp_ns"] for b in bars]
    elif name == "orders":
        assert all(isinstance(e, OrderEvent) for e in events)
        assert [e.kind for e in events] == [next(iter(f)) for f in frames]
        assert len({e.kind for e in events}) >= 6, Counter(e.kind for e in events)
    elif name == "user_trades":
        assert all(isinstance(e, UserTrade) for e in events)
        assert [(e.trade_id, e.status) for e in events] == \
            [(f["trade_id"], f["status"]) for f in frames]
        assert {"Pending", "Confirmed"} <= {e.status for e in events}


@pytest.mark.parametrize("name", list(STREAMS))
def test_stream_queue_callback_and_decorator_forms_agree_with_the_wire(
        tsim: TplusSimulator, tplus: TplusClients, name: str) -> None:
    kind, path_of, stream, on, args = STREAMS[name]
    path = path_of(tsim)
    client = tplus.md() if kind == "md" else tplus.ob()
    headers = sim_login(tsim)[1] if kind == "ob" else None
    raw = TWs(tsim.mds_url if kind == "md" else tsim.oms_url, path, headers)

    queued = getattr(client, stream)(*args)
    called: list[Any] = []
    getattr(client, on)(*args, called.append)
    decorated: list[Any] = []

    @getattr(client, on)(*args)
    def handler(event: Any) -> None:
        decorated.append(event)

    connected(client)
    assert tsim.wait_for(lambda s: s.open_connections(path) == 2)
    assert client.stats()["sockets"] == {path: "open"}  # three consumers, one socket
    tsim.step(1500)
    settle(tsim, client, [path])
    events = drain(queued)
    frames = raw_frames(raw, tsim, path)
    assert events, name
    check_against_wire(name, events, frames)
    assert wait_until(lambda: len(called) == len(events) and len(decorated) == len(events))
    assert called == events and decorated == events
    stats = client.stats()
    assert stats["decode_errors"] == stats["unknown_kinds"] == stats["dropped"] == 0
    raw.close()


def test_klines_one_update_per_bar_when_a_frame_carries_two() -> None:
    clock = FakeClock()
    with TplusSimulator(seed=1, start_flow=False, control_interval=None, clock=clock) as sim:
        factory = TplusClients(sim)
        try:
            md = factory.md()
            raw = TWs(sim.mds_url, "/klines/diff/200")
            bars = md.stream_klines("200")
            connected(md)
            for _ in range(6):  # several minutes: each first fill of a minute closes one bar
                sim.step(300)
                clock.advance(60)
            settle(sim, md, ["/klines/diff/200"])
            frames = raw_frames(raw, sim, "/klines/diff/200")
            events = drain(bars)
            assert any(len(f) == 2 for f in frames), [len(f) for f in frames]
            assert len(events) == sum(len(f) for f in frames) > len(frames)
            flat = [b for f in frames for b in f]
            for event, bar in zip(events, flat):
                assert event.open_timestamp_ns == bar["open_timestamp_ns"]
                assert event.close_timestamp_ns == bar["close_timestamp_ns"]
                assert str(event.close) == str(bar["close"])
                assert str(event.volume) == str(bar["volume"])
            raw.close()
        finally:
            for c in factory.made:
                c.close()


def test_merge_across_both_tplus_clients_and_an_o2_client(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    with Simulator(start_flow=False) as o2sim:
        o2 = client_for(o2sim)
        try:
            md, ob = tplus.md(), tplus.ob()
            trades = md.stream_finalized_trades()
            depth = md.stream_depth("200")
            orders = ob.stream_orders()
            o2_depth = o2.stream_depth(o2sim.markets[0]["market_id"])
            connected(md, ob)
            assert wait_until(lambda: o2.is_connected)
            tsim.step(800)
            o2sim.step(200)
            seen: Counter[str] = Counter()
            subs = {id(trades): "trades", id(depth): "depth", id(orders): "orders",
                    id(o2_depth): "o2"}
            expected = {"trades": Trade, "depth": OrderBookDiff, "orders": OrderEvent}
            for sub, event in merge(trades, depth, orders, o2_depth, timeout=2.0):
                which = subs[id(sub)]
                seen[which] += 1
                if which in expected:
                    assert isinstance(event, expected[which]), (which, event)
                if all(seen[k] for k in ("trades", "depth", "orders", "o2")):
                    break
            assert all(seen[k] for k in ("trades", "depth", "orders", "o2")), seen
        finally:
            o2.close()


def test_merge_ends_when_every_tplus_subscription_closes(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    a, b = md.stream_finalized_trades(), md.stream_klines("200")
    connected(md)
    tsim.step(300)
    settle(tsim, md, ["/trades", "/klines/diff/200"])
    got = 0
    md_closed = False
    for _sub, _event in merge(a, b, timeout=5.0):
        got += 1
        if not md_closed:
            md.close()  # queued events are still handed out, then merge ends
            md_closed = True
    assert got == a.received + b.received > 0


def test_raw_socket_helper_sees_no_upgrade_without_a_token(tsim: TplusSimulator) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException):
        TWs(tsim.oms_url, "/orders")
