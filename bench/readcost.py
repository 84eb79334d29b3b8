"""CPU per message of o2sync's depth stream against a bare loop, per venue, in one run.

Throughput figures move 10-30% with the machine's load; the CPU time a thread
spends per message moves much less, so this is the figure to compare two variants
of the hot path with, and the one behind issue 12's "CPU per message / ceiling".
For each venue it floods ``--count`` 10-level depth events from that venue's bench
feed (a separate process) and reports, medians of ``--reps``:

* the ceiling: a bare websocket-client ``recv()`` + JSON loop's CPU per message
  (O2: orjson or ``json.loads``, as o2sync uses; tplus: ``json`` with
  ``parse_float=Decimal``, the exact numbers o2sync keeps), reading the best bid;
* o2sync ``stream_depth`` iteration: the reader thread's and the consuming (main)
  thread's ``time.thread_time`` per event, and their sum over the ceiling.

    python bench/readcost.py                        # both venues, about 30 s
    python bench/readcost.py --venue o2 --reps 9
    python bench/readcost.py --variant stock-recv-strict   # O2 with websocket-client's
                                                           # own recv_strict, for comparison
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import websocket
from feed import Scenario
from messages import market_id
from procstat import emit, table
from venues import FEEDS, FeedVenue, TplusFeed, add_venue_option, chosen

from o2sync._json import loads as o2_loads
from o2sync.engine import connection

_EXACT = json.JSONDecoder(parse_float=Decimal).decode


def _bare_loop(ws: Any, count: int, decode: Callable[[Any], Any],
               is_event: Callable[[Any], bool], touch: Callable[[Any], None]) -> float:
    """CPU seconds per event of ``decode(recv())`` + ``touch`` in this thread."""
    recv = ws.recv
    try:
        t0, got = time.thread_time(), 0
        while got < count:
            msg = decode(recv())
            if is_event(msg):
                touch(msg)
                got += 1
        return (time.thread_time() - t0) / count
    finally:
        ws.close()


def ceiling_cpu(venue: FeedVenue, count: int) -> float:
    if isinstance(venue, TplusFeed):
        asset = venue.fresh_asset(mode="flood", count=count, levels=10)
        url = venue.feed.base_url.replace("http", "ws", 1) + f"/marketdepth/diff/{asset}"
        ws = websocket.create_connection(url, timeout=10, skip_utf8_validation=True)

        def best_bid(msg: Any) -> None:
            if msg["bids"]:
                msg["bids"][0][0]

        return _bare_loop(ws, count, _EXACT, lambda msg: True, best_bid)
    ws = websocket.create_connection(
        venue.feed.ws_url(Scenario(mode="flood", count=count, levels=10)), timeout=10,
        skip_utf8_validation=True)
    ws.send(json.dumps({"action": "subscribe_depth", "market_id": market_id(),
                        "precision": "10"}))

    def first_bid(msg: Any) -> None:
        buys = msg["changes"]["buys"]
        if buys:
            int(buys[0]["price"])

    return _bare_loop(ws, count, o2_loads,
                      lambda msg: msg.get("action") == "subscribe_depth_update", first_bid)


def o2sync_cpu(venue: FeedVenue, count: int) -> tuple[float, float]:
    """(reader thread, consuming thread) CPU seconds per event of stream_depth iteration."""
    spent: dict[str, float] = {}
    receive = connection.Connection._receive

    def measured(self: Any, ws: Any) -> str:
        t0 = time.thread_time()
        try:
            return receive(self, ws)  # type: ignore[no-any-return]
        finally:
            spent["reader"] = spent.get("reader", 0.0) + time.thread_time() - t0

    connection.Connection._receive = measured  # type: ignore[method-assign]
    client, topic = venue.client(mode="flood", count=count, levels=10)
    try:
        got, consumer = 0, 0.0
        for update in client.stream_depth(topic):
            if update.is_snapshot:
                continue
            if not got:
                t0 = time.thread_time()  # from the first delta: not the connect
            venue.touch(update)
            got += 1
            if got == count:
                consumer = time.thread_time() - t0
                break
    finally:
        client.close()
        connection.Connection._receive = receive  # type: ignore[method-assign]
    return spent["reader"] / count, consumer / count


def measure(key: str, count: int, reps: int) -> dict[str, Any]:
    venue = FEEDS[key]()
    with venue.running():
        ceil = [ceiling_cpu(venue, count) for _ in range(reps)]
        mine = [o2sync_cpu(venue, count) for _ in range(reps)]
    c = statistics.median(ceil) * 1e6
    reader = statistics.median(m[0] for m in mine) * 1e6
    consumer = statistics.median(m[1] for m in mine) * 1e6
    total = statistics.median(m[0] + m[1] for m in mine) * 1e6
    return {"venue": venue.name, "ceiling_us": round(c, 2), "reader_us": round(reader, 2),
            "consumer_us": round(consumer, 2), "total_us": round(total, 2),
            "reader_ratio": round(reader / c, 2), "total_ratio": round(total / c, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=30_000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--variant", choices=("installed", "stock-recv-strict"), default="installed")
    add_venue_option(p)
    args = p.parse_args()
    if args.variant == "stock-recv-strict":
        from websocket._abnf import frame_buffer

        connection._BoundedFrameBuffer.recv_strict = frame_buffer.recv_strict  # type: ignore
    rows = [measure(key, args.count, args.reps) for key in chosen(args.venue)]
    print(f"CPU per depth event, µs (median of {args.reps} x {args.count:,}; "
          f"variant {args.variant})")
    print(table(["venue", "ceiling", "o2sync reader", "o2sync consumer", "o2sync total",
           "reader / ceiling", "total / ceiling"],
          [[r["venue"], r["ceiling_us"], r["reader_us"], r["consumer_us"], r["total_us"],
            r["reader_ratio"], r["total_ratio"]] for r in rows]))
    emit("readcost", {"variant": args.variant, **dict(zip(chosen(args.venue), rows))})


if __name__ == "__main__":
    main()
