"""Fan-out (issue 12): extra CPU per additional consumer of one depth topic.

Against the feed (``feed.py``, its own process) at a fixed ``--rate`` (10-level deltas
paced in 1 ms batches). For K in ``--ks`` (1, 2, 5, 10, 20): K callback consumers
(``client.on_depth(pair, cb)``), then K iterator threads (``for u in
client.stream_depth(pair)``), each reading the best bid. Over ``--seconds`` of steady
flow it takes the process CPU time (``time.process_time``; the feed is another
process) and the reader's and dispatcher's thread CPU (``/proc/self/task``), divided
by the deltas delivered to one consumer: µs per event. The extra cost per consumer is
the least-squares slope of µs/event over K.

    .venv/bin/python bench/fanout.py                    # about 40 s
    .venv/bin/python bench/fanout.py --rate 1500 --seconds 5
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from typing import Any, Optional

from feed import FeedProcess, Scenario
from messages import PAIR
from procstat import emit, quiet_logs, table, thread_cpu, thread_names

import o2sync
from o2sync.errors import SubscriptionClosed


def _touch(update: Any) -> None:
    bids = update.changes.bids
    if bids:
        int(bids[0].price)


def _thread_cpu(suffix: str) -> float:
    return sum(thread_cpu(tid) for tid, name in thread_names().items()
               if name.endswith(suffix))


def one(feed: FeedProcess, kind: str, k: int, rate: float, seconds: float) -> dict[str, Any]:
    scenario = Scenario(mode="rate", count=int(rate * (seconds + 3)), levels=10, rate=rate)
    client = o2sync.O2Client(ws_url=feed.ws_url(scenario), api_url=feed.api_url)
    counts = [0] * k
    threads: list[threading.Thread] = []
    try:
        if kind == "callback":
            for i in range(k):
                def cb(update: Any, i: int = i) -> None:
                    if not update.is_snapshot:
                        _touch(update)
                        counts[i] += 1
                client.on_depth(PAIR, cb)
        else:
            subs = [client.stream_depth(PAIR) for _ in range(k)]

            def run(sub: Any, i: int) -> None:
                with contextlib.suppress(SubscriptionClosed):
                    for update in sub:
                        if not update.is_snapshot:
                            _touch(update)
                            counts[i] += 1

            threads = [threading.Thread(target=run, args=(s, i), daemon=True)
                       for i, s in enumerate(subs)]
            for t in threads:
                t.start()
        deadline = time.monotonic() + 10
        while min(counts) < rate * 0.5 and time.monotonic() < deadline:
            time.sleep(0.02)  # joined, past any resync, flowing
        n0, c0 = counts[0], time.process_time()
        r0, d0 = _thread_cpu("-reader"), _thread_cpu("-dispatcher")
        time.sleep(seconds)
        n1, c1 = counts[0], time.process_time()
        r1, d1 = _thread_cpu("-reader"), _thread_cpu("-dispatcher")
    finally:
        client.close()
        for t in threads:
            t.join(5)
    events = max(n1 - n0, 1)
    return {"k": k, "events": n1 - n0, "us_per_event": round(1e6 * (c1 - c0) / events, 2),
            "reader_us": round(1e6 * (r1 - r0) / events, 2),
            "dispatcher_us": round(1e6 * (d1 - d0) / events, 2)}


def slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else float("nan")


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="extra CPU per consumer of one topic (issue 12)")
    p.add_argument("--rate", type=float, default=1000.0, help="deltas/s")
    p.add_argument("--seconds", type=float, default=3.0, help="measured seconds per K")
    p.add_argument("--ks", default="1,2,5,10,20", help="consumer counts")
    args = p.parse_args(argv)
    quiet_logs()
    ks = [int(k) for k in args.ks.split(",") if k]
    res: dict[str, list[dict[str, Any]]] = {"callback": [], "iterator": []}
    with FeedProcess() as feed:
        for kind in res:
            for k in ks:
                res[kind].append(one(feed, kind, k, args.rate, args.seconds))
                print(f"{kind} K={k}: done", flush=True)
    slopes = {kind: round(slope([(r["k"], r["us_per_event"]) for r in rows]), 2)
              for kind, rows in res.items()}
    print(f"\nCPU per delivered event (process, reader, dispatcher) at {args.rate:g} deltas/s")
    rows = [(kind, r["k"], r["events"], r["us_per_event"], r["reader_us"], r["dispatcher_us"])
            for kind, rs in res.items() for r in rs]
    print(table(("consumers", "K", "events", "process µs/event", "reader µs", "dispatcher µs"),
                rows))
    print(f"\nextra µs/event per consumer (slope over K): callback {slopes['callback']}, "
          f"iterator thread {slopes['iterator']}")
    emit("fanout", {"rate": args.rate, "seconds": args.seconds,
                    "extra_us_per_callback_consumer": slopes["callback"],
                    "extra_us_per_iterator_thread": slopes["iterator"], **res})


if __name__ == "__main__":
    main()
