"""Fan-out (issue 12): extra CPU per additional consumer of one depth topic.

For each venue (``--venue o2|tplus|both``), against its bench feed (its own process:
``feed.py`` for ``O2Client`` on one pair, ``tplus_feed.py`` for
``o2sync.tplus.MarketDataClient`` on one asset) at a fixed ``--rate`` (10-level
deltas paced in 1 ms batches, ``mode=rate``). For K in ``--ks`` (1, 2, 5, 10, 20): K
callback consumers (``client.on_depth(topic, cb)``), then K iterator threads (``for
u in client.stream_depth(topic)``), each reading the best bid. Over ``--seconds`` of
steady flow it takes the process CPU time (``time.process_time``; the feed is another
process) and the reader's and dispatcher's thread CPU (``/proc/self/task``), divided
by the deltas delivered to one consumer: µs per event. The extra cost per consumer is
the least-squares slope of µs/event over K.

    .venv/bin/python bench/fanout.py                    # both venues, about 80 s
    .venv/bin/python bench/fanout.py --venue tplus --rate 1500 --seconds 5
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from typing import Any, Optional

from procstat import emit, quiet_logs, table, thread_cpu, thread_names
from venues import FEEDS, FeedVenue, add_venue_option, chosen

from o2sync.errors import SubscriptionClosed

KINDS = ("callback", "iterator")


def _thread_cpu(suffix: str) -> float:
    return sum(thread_cpu(tid) for tid, name in thread_names().items()
               if name.endswith(suffix))


def one(venue: FeedVenue, kind: str, k: int, rate: float, seconds: float) -> dict[str, Any]:
    client, topic = venue.client(mode="rate", count=int(rate * (seconds + 3)), levels=10,
                                 rate=rate)
    touch = venue.touch
    counts = [0] * k
    threads: list[threading.Thread] = []
    try:
        if kind == "callback":
            for i in range(k):
                def cb(update: Any, i: int = i) -> None:
                    if not update.is_snapshot:
                        touch(update)
                        counts[i] += 1
                client.on_depth(topic, cb)
        else:
            subs = [client.stream_depth(topic) for _ in range(k)]

            def run(sub: Any, i: int) -> None:
                with contextlib.suppress(SubscriptionClosed):
                    for update in sub:
                        if not update.is_snapshot:
                            touch(update)
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


def run_venue(venue: FeedVenue, ks: list[int], rate: float, seconds: float
              ) -> dict[str, list[dict[str, Any]]]:
    """Every kind and K against the venue's feed."""
    res: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with venue.running():
        for kind in KINDS:
            for k in ks:
                res[kind].append(one(venue, kind, k, rate, seconds))
                print(f"{venue.name} {kind} K={k}: done", flush=True)
    return res


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="extra CPU per consumer of one topic (issue 12)")
    p.add_argument("--rate", type=float, default=1000.0, help="deltas/s")
    p.add_argument("--seconds", type=float, default=3.0, help="measured seconds per K")
    p.add_argument("--ks", default="1,2,5,10,20", help="consumer counts")
    add_venue_option(p)
    args = p.parse_args(argv)
    quiet_logs()
    ks = [int(k) for k in args.ks.split(",") if k]
    venues = [FEEDS[key]() for key in chosen(args.venue)]
    results = {v.key: run_venue(v, ks, args.rate, args.seconds) for v in venues}
    slopes = {key: {kind: round(slope([(r["k"], r["us_per_event"]) for r in rows]), 2)
                    for kind, rows in res.items()} for key, res in results.items()}
    print(f"\nCPU per delivered event (process, reader, dispatcher) at {args.rate:g} deltas/s")
    rows = [(v.name, kind, r["k"], r["events"], r["us_per_event"], r["reader_us"],
             r["dispatcher_us"]) for v in venues for kind, rs in results[v.key].items()
            for r in rs]
    print(table(("venue", "consumers", "K", "events", "process µs/event", "reader µs",
                 "dispatcher µs"), rows))
    print("\nextra µs/event per consumer (slope over K)")
    print(table(("venue", "callback", "iterator thread"),
                [(v.name, slopes[v.key]["callback"], slopes[v.key]["iterator"])
                 for v in venues]))
    emit("fanout", {"rate": args.rate, "seconds": args.seconds, **{
        key: {"extra_us_per_callback_consumer": slopes[key]["callback"],
              "extra_us_per_iterator_thread": slopes[key]["iterator"], **res}
        for key, res in results.items()}})


if __name__ == "__main__":
    main()
