"""Reader-thread CPU per message of o2sync's depth stream, A/B in one run.

Throughput figures move 10-30% with the machine's load; the CPU time the reader
thread spends per message moves much less, so this is the figure to compare two
variants of the hot path with. Each variant floods ``--count`` 10-level deltas
from the bench feed (a separate process) into ``stream_depth`` and reports the
reader's ``time.thread_time`` per delta (median of ``--reps``), next to a bare
websocket-client ``recv()`` + ``loads`` loop's CPU per message (the ceiling).

    python bench/readcost.py                      # o2sync as installed vs the ceiling
    python bench/readcost.py --variant stock-recv-strict   # websocket-client's own
                                                           # recv_strict, for comparison
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import websocket
from feed import FeedProcess, Scenario
from messages import market_id

import o2sync
from o2sync._json import loads

PAIR = "fFUEL/fUSDC"


def ceiling_cpu(feed: FeedProcess, count: int) -> float:
    """CPU seconds per message of a bare recv() + loads loop."""
    scenario = Scenario(mode="flood", count=count, levels=10)
    ws = websocket.create_connection(feed.ws_url(scenario), timeout=10,
                                     skip_utf8_validation=True)
    try:
        ws.send(json.dumps({"action": "subscribe_depth", "market_id": market_id(),
                            "precision": "10"}))
        t0, got = time.thread_time(), 0
        while got <= count:
            msg = loads(ws.recv())
            got += 1 if msg.get("action") == "subscribe_depth_update" else 0
            if got == count:
                break
        return (time.thread_time() - t0) / count
    finally:
        ws.close()


def o2sync_cpu(feed: FeedProcess, count: int) -> float:
    """Reader-thread CPU seconds per delta of stream_depth iteration."""
    from o2sync.engine import connection

    scenario = Scenario(mode="flood", count=count, levels=10)
    spent: dict[str, float] = {}
    receive = connection.Connection._receive

    def measured(self: Any, ws: Any) -> str:
        t0 = time.thread_time()
        try:
            return receive(self, ws)  # type: ignore[no-any-return]
        finally:
            spent["reader"] = spent.get("reader", 0.0) + time.thread_time() - t0

    connection.Connection._receive = measured  # type: ignore[method-assign]
    client = o2sync.O2Client(ws_url=feed.ws_url(scenario), api_url=feed.api_url)
    try:
        got = 0
        for update in client.stream_depth(PAIR):
            if not update.is_snapshot:
                got += 1
                if got == count:
                    break
    finally:
        client.close()
        connection.Connection._receive = receive  # type: ignore[method-assign]
    return spent["reader"] / count


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=30_000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--variant", choices=("installed", "stock-recv-strict"), default="installed")
    args = p.parse_args()
    if args.variant == "stock-recv-strict":
        from websocket._abnf import frame_buffer

        from o2sync.engine import connection
        connection._BoundedFrameBuffer.recv_strict = frame_buffer.recv_strict  # type: ignore
    with FeedProcess() as feed:
        ceil = [ceiling_cpu(feed, args.count) for _ in range(args.reps)]
        mine = [o2sync_cpu(feed, args.count) for _ in range(args.reps)]
    c, m = statistics.median(ceil) * 1e6, statistics.median(mine) * 1e6
    print(f"variant {args.variant}: ceiling {c:.2f} us/msg, o2sync reader {m:.2f} us/msg, "
          f"ratio {m / c:.2f}")
    print(f"PERF_SUMMARY {{\"bench\": \"readcost\", \"variant\": \"{args.variant}\", "
          f"\"ceiling_us\": {c:.2f}, \"reader_us\": {m:.2f}, \"ratio\": {m / c:.2f}}}")


if __name__ == "__main__":
    main()
