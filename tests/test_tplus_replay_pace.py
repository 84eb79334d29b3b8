"""A tplus replay keeps the recorded pace (issue 22, item 10), also when a recorded
path has no subscriber: waiting for that path's subscriber is not replayed time."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from o2sync.cli.recording import Recording, replay_tplus
from o2sync.testing import TplusSimulator
from o2sync.tplus import MarketDataClient

TRADE = {  # the shape of tplus_trade.json (the shared protocol fixture)
    "asset_id": "200", "trade_id": 1, "order_id": "CinVT/ARIa0b0fmj3Z/Grg==",
    "price": "3871.25000000", "quantity": "0.10000000",
    "timestamp_ns": 1767225601123456789, "buyer_is_maker": True, "status": "Confirmed"}
STEP, COUNT, GRACE = 0.05, 30, 1.0


def recording() -> Recording:
    """COUNT trades on /trades, STEP apart, after one frame on a path nobody follows."""
    frames: list[tuple[float, str]] = [(0.0, json.dumps({"Pending": TRADE}))]
    paths = ["/trades/events"]
    for i in range(COUNT):
        frames.append((0.01 + i * STEP, json.dumps(dict(TRADE, trade_id=1000 + i))))
        paths.append("/trades")
    return Recording({"o2sync_recording": 2, "venue": "tplus"}, frames, paths)


def test_replay_paces_a_path_after_waiting_for_another_ones_subscriber() -> None:
    arrivals: list[float] = []
    result: dict[str, Any] = {}
    with TplusSimulator(rate=0, start_flow=False, control_interval=None, mds_port=0,
                        oms_port=0) as sim, MarketDataClient(sim.mds_url) as md:
        trades = md.stream_finalized_trades()
        server = threading.Thread(
            target=lambda: result.update(sent=replay_tplus(recording(), sim, speed=1.0,
                                                           wait_for_client=10, grace=GRACE)),
            name="test-replay")
        server.start()
        for _ in range(COUNT):
            trades.get(timeout=10)
            arrivals.append(time.monotonic())
        server.join(10)
    assert result["sent"] == COUNT
    span = arrivals[-1] - arrivals[0]
    recorded = (COUNT - 1) * STEP
    # before: the 1 s spent waiting for /trades/events was "used up" by a burst of the
    # /trades frames recorded in that second (20 of 30 arrived within milliseconds)
    assert span >= 0.9 * recorded, f"{COUNT} frames over {span:.3f}s, recorded {recorded:.2f}s"
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert sum(g < STEP / 5 for g in gaps) <= 2, gaps
