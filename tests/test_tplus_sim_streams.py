"""tplus simulator WebSocket streams (§2, §3, §6): shapes, order, control frames."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import websocket
from tplus_util import ADDRESS, TWs, sim_login

from o2sync.sim.tplus import TplusSimulator

ORDER_KINDS = {"Created", "Canceled", "Removed", "Replaced", "Amended", "Triggered",
               "CreateFailed", "CancelFailed", "ReplaceFailed", "AmendFailed"}
TRADE_FIELDS = {"asset_id", "trade_id", "order_id", "price", "quantity", "timestamp_ns",
                "buyer_is_maker", "status"}


def drain(ws: TWs, timeout: float = 0.3) -> list[Any]:
    """Every data frame that arrives before a ``timeout`` of silence (bounded)."""
    frames: list[Any] = []
    for _ in range(1_000_000):
        try:
            frames.append(ws.data(timeout))
        except websocket.WebSocketTimeoutException:
            return frames
    raise AssertionError("endless stream")


def collect(ws: TWs, sim: TplusSimulator, events: int) -> list[Any]:
    """Run ``events`` engine events, then read every frame they produced.

    A marker injected after them (same queue, so in order) ends the read.
    """
    sim.step(events)
    sim.inject(None, '{"type":"pong","marker":true}')
    frames: list[Any] = []
    for _ in range(1_000_000):
        frame = json.loads(ws.recv_text())
        if isinstance(frame, dict) and frame.get("marker"):
            return frames
        if isinstance(frame, dict) and frame.get("type") in ("ping", "subscriptions"):
            continue
        frames.append(frame)
    raise AssertionError("no marker")


def test_first_frame_is_a_subscriptions_control_frame(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, "/marketdepth/diff/200")
    first = json.loads(ws.recv_text())
    assert first == {"type": "subscriptions", "subscriptions": ["/marketdepth/diff/200"]}
    ws.close()


def test_depth_diffs_are_consecutive_and_shared(tsim: TplusSimulator) -> None:
    a = TWs(tsim.mds_url, "/marketdepth/diff/200")
    b = TWs(tsim.mds_url, "/marketdepth/diff/200")
    assert tsim.wait_for(lambda s: s.open_connections("/marketdepth/diff/200") == 2)
    start = tsim.book("200")["sequence_number"]
    frames_a, frames_b = collect(a, tsim, 300), collect(b, tsim, 0)
    assert frames_a == frames_b  # one counter, shared by every connection
    seqs = [f["sequence_number"] for f in frames_a]
    assert seqs == list(range(start + 1, start + 1 + len(seqs)))
    assert seqs[-1] == tsim.book("200")["sequence_number"]
    for frame in frames_a:
        assert set(frame) == {"asks", "bids", "sequence_number"}
        assert all(isinstance(x, (int, float)) for lv in frame["asks"] + frame["bids"]
                   for x in lv)
        assert frame["asks"] == sorted(frame["asks"])
        assert frame["bids"] == sorted(frame["bids"], reverse=True)
    assert any(q == 0 for f in frames_a for _, q in f["asks"] + f["bids"])  # removals
    a.close()
    b.close()


def test_unknown_asset_stream_is_404(tsim: TplusSimulator) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        TWs(tsim.mds_url, "/marketdepth/diff/999")
    assert caught.value.status_code == 404
    assert tsim.handshakes("/marketdepth/diff/999")[0].status == 404


def test_address_asset_paths_keep_the_at_sign(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, f"/marketdepth/diff/{ADDRESS}")
    frames = collect(ws, tsim, 200)
    assert frames and tsim.handshakes()[0].path == f"/marketdepth/diff/{ADDRESS}"
    assert frames[-1]["sequence_number"] == tsim.book(ADDRESS)["sequence_number"]
    ws.close()


def test_finalized_trades_and_trade_events(tsim: TplusSimulator) -> None:
    final = TWs(tsim.mds_url, "/trades")
    events = TWs(tsim.mds_url, "/trades/events")
    assert tsim.wait_for(lambda s: s.open_connections() == 2)
    trades = collect(final, tsim, 3000)
    lifecycle = collect(events, tsim, 0)
    assert trades and all(set(t) == TRADE_FIELDS and t["status"] == "Confirmed" for t in trades)
    assert all(isinstance(t["price"], str) and isinstance(t["quantity"], str) for t in trades)
    assert {t["asset_id"] for t in trades} == {"200", ADDRESS}
    seen: dict[int, list[str]] = {}
    for event in lifecycle:
        (status, trade), = event.items()
        assert trade["status"] == status and set(trade) == TRADE_FIELDS
        seen.setdefault(trade["trade_id"], []).append(status)
    paths = Counter(tuple(v) for v in seen.values())
    assert set(paths) <= {("Pending",), ("Pending", "Confirmed"), ("Pending", "Rollbacked")}
    assert paths[("Pending", "Rollbacked")] > 0 and paths[("Pending", "Confirmed")] > 0
    confirmed = {i for i, v in seen.items() if v[-1] == "Confirmed"}
    assert confirmed == {t["trade_id"] for t in trades}
    final.close()
    events.close()


def test_klines_stream_one_minute_bars(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, "/klines/diff/200")
    frames = collect(ws, tsim, 2000)
    assert frames and all(isinstance(f, list) and 1 <= len(f) <= 2 for f in frames)
    for frame in frames:
        for bar in frame:
            assert bar["close_timestamp_ns"] - bar["open_timestamp_ns"] == 60 * 10**9 - 1
            assert Decimal(bar["low"]) <= Decimal(bar["close"]) <= Decimal(bar["high"])
    volumes = [Decimal(f[-1]["volume"]) for f in frames
               if f[-1]["open_timestamp_ns"] == frames[-1][-1]["open_timestamp_ns"]]
    assert volumes == sorted(volumes)  # a bar repeats while open, growing
    ws.close()


def test_order_events_of_every_kind(tsim: TplusSimulator) -> None:
    _, headers = sim_login(tsim)
    ws = TWs(tsim.oms_url, "/orders", headers)
    assert tsim.wait_for(lambda s: s.open_connections("/orders") == 1)
    events = collect(ws, tsim, 6000)
    kinds = Counter(next(iter(e)) for e in events)
    assert set(kinds) == ORDER_KINDS, kinds
    assert all(len(e) == 1 for e in events)
    for event in events:
        (kind, body), = event.items()
        if kind == "Created":
            order = body["user_order"]
            assert order["trigger"] is None and order["signer"] == tsim.user_id
            assert len(body["signature"]) == 64
            assert len(order["order_id"].encode()) <= 24
            assert isinstance(order["details"]["Limit"]["limit_price"], int)
        elif kind == "Removed":
            assert body["reason"] in {"Completed", "Canceled", "Expired", "Rejected",
                                      "SelfTradePrevented"}
        else:
            assert body["user_id"] == tsim.user_id
    reasons = Counter(e["Removed"]["reason"] for e in events if "Removed" in e)
    assert {"Completed", "Canceled"} <= set(reasons)
    # a cancel is Canceled then Removed{Canceled} (simulator convention)
    canceled = [e["Canceled"]["order_id"] for e in events if "Canceled" in e]
    removed = {e["Removed"]["order_id"]: e["Removed"]["reason"] for e in events if "Removed" in e}
    assert all(removed[i] == "Canceled" for i in canceled)
    ws.close()


def test_user_trade_events(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim)
    ws = TWs(tsim.oms_url, f"/trades/user/events/{me.user_id}", headers)
    assert tsim.wait_for(lambda s: s.open_connections() == 1)
    trades = collect(ws, tsim, 4000)
    by_id: dict[int, list[str]] = {}
    for trade in trades:
        assert isinstance(trade["is_maker"], bool) and isinstance(trade["is_buyer"], bool)
        assert isinstance(trade["trading_fee"], str) and trade["order_id"]
        by_id.setdefault(trade["trade_id"], []).append(trade["status"])
        if trade["status"] == "Rollbacked":
            assert trade["rollback_reason"]
    paths = Counter(tuple(v) for v in by_id.values())
    assert set(paths) <= {("Pending",), ("Pending", "Confirmed"), ("Pending", "Rollbacked")}
    assert paths[("Pending", "Confirmed")] and paths[("Pending", "Rollbacked")]
    ws.close()


def test_other_users_get_no_order_events(tsim: TplusSimulator) -> None:
    from tplus_util import Login
    stranger = Login()
    ws = TWs(tsim.oms_url, "/orders", stranger.headers(stranger.login(tsim.oms_url)))
    assert tsim.wait_for(lambda s: s.open_connections("/orders") == 1)
    assert collect(ws, tsim, 500) == []
    ws.close()


def test_control_frames_on_demand_and_periodic() -> None:
    with TplusSimulator(start_flow=False, control_interval=0.05) as sim:
        ws = TWs(sim.mds_url, "/trades")
        assert json.loads(ws.recv_text())["type"] == "subscriptions"
        assert json.loads(ws.recv_text()) == {"type": "ping"}  # periodic, within seconds
        ws.close()
    with TplusSimulator(start_flow=False, control_interval=None) as sim:
        ws = TWs(sim.mds_url, "/trades")
        assert json.loads(ws.recv_text())["type"] == "subscriptions"
        assert sim.send_control("ping") == 1
        assert json.loads(ws.recv_text()) == {"type": "ping"}
        assert sim.send_control("subscriptions", "/trades") == 1
        assert json.loads(ws.recv_text())["subscriptions"] == ["/trades"]
        with pytest.raises(ValueError):
            sim.send_control("hello")
        ws.close()


def test_protocol_pings_are_answered(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, "/trades")
    ws.recv_text()  # subscriptions
    ws.ws.ping("are-you-there")
    opcode, frame = ws.ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_PONG and frame.data == b"are-you-there"
    ws.close()


@pytest.mark.tplus_options(rate=20000, start_flow=True)
def test_frames_stay_small_at_high_rate(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, "/marketdepth/diff/200")
    sizes = [len(ws.recv_text()) for _ in range(3000)]
    assert max(sizes) < 1 << 20
    ws.close()


def test_floats_option_on_streams() -> None:
    with TplusSimulator(seed=4, start_flow=False, control_interval=None, floats=True) as sim:
        ws = TWs(sim.mds_url, "/trades")
        trades = collect(ws, sim, 500)
        assert trades and all(isinstance(t["price"], float) for t in trades)
        ws.close()
