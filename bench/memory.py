"""Memory (issue 12): RSS growth after warm-up over many depth events.

Against the feed (``feed.py``, its own process) in flood mode with ``--levels``-level
deltas (absolute quantities cycling over a fixed set of prices, so the book itself
stays the same size). Two runs on fresh clients:

* ``iteration``: ``for update in client.stream_depth(pair)``, reading the best bid;
* ``live book``: ``client.order_book(pair)``, the main thread polling ``book.version``.

After ``--warm`` events the script runs ``gc.collect()`` and reads RSS
(``/proc/self/statm``); at the end, again. Growth = end - warm; bytes/event = growth /
events after warm-up. Also: cyclic-GC passes per generation during the measured part,
and objects tracked by the GC (``len(gc.get_objects())``) at both points.

    .venv/bin/python bench/memory.py                     # 1M events per run, about 1 min
    .venv/bin/python bench/memory.py --events 10000000   # the issue's full figure (~10 min)
    .venv/bin/python bench/memory.py --events 200000     # a quick look
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any, Optional

from feed import FeedProcess, Scenario
from messages import PAIR
from procstat import emit, quiet_logs, rss_bytes, table

import o2sync

MIB = 1024 * 1024


def _gc_passes() -> list[int]:
    return [g["collections"] for g in gc.get_stats()]


def _mark() -> tuple[int, int, list[int]]:
    gc.collect()
    return rss_bytes(), len(gc.get_objects()), _gc_passes()


def _result(warm: tuple[int, int, list[int]], end: tuple[int, int, list[int]], events: int,
            seconds: float) -> dict[str, Any]:
    growth = end[0] - warm[0]
    return {"events": events, "rss_warm_mib": round(warm[0] / MIB, 2),
            "rss_end_mib": round(end[0] / MIB, 2), "growth_mib": round(growth / MIB, 3),
            "bytes_per_event": round(growth / events, 4) if events else None,
            "gc_objects_warm": warm[1], "gc_objects_end": end[1],
            "gc_passes": [b - a for a, b in zip(warm[2], end[2])],
            "events_per_s": round(events / seconds) if seconds > 0 else None}


def iteration(feed: FeedProcess, warm: int, events: int, levels: int) -> dict[str, Any]:
    scenario = Scenario(mode="flood", count=warm + events, levels=levels)
    client = o2sync.O2Client(ws_url=feed.ws_url(scenario), api_url=feed.api_url)
    n, at_warm, t0, pending_warm = 0, None, 0.0, 0
    try:
        sub = client.stream_depth(PAIR)
        for update in sub:
            if update.is_snapshot:
                continue
            bids = update.changes.bids
            if bids:
                int(bids[0].price)
            n += 1
            if n == warm:
                at_warm, t0, pending_warm = _mark(), time.monotonic(), sub.pending
            elif n >= warm + events:
                break
        seconds = time.monotonic() - t0
        pending_end = sub.pending
        end = _mark()
        dropped = sub.dropped
    finally:
        client.close()
    assert at_warm is not None
    # the queue backlog at both marks: a growing backlog is memory too (not a leak)
    return {**_result(at_warm, end, n - warm, seconds), "dropped": dropped,
            "pending_warm": pending_warm, "pending_end": pending_end}


def live_book(feed: FeedProcess, warm: int, events: int, levels: int) -> dict[str, Any]:
    scenario = Scenario(mode="flood", count=warm + events, levels=levels)
    client = o2sync.O2Client(ws_url=feed.ws_url(scenario), api_url=feed.api_url)
    try:
        book = client.order_book(PAIR)
        book.wait_ready(15)
        base = book.version
        while book.version - base < warm:
            time.sleep(0.01)
        at_warm, t0, v0 = _mark(), time.monotonic(), book.version
        last, since = book.version, time.monotonic()
        while book.version - base < warm + events and time.monotonic() - since < 3:
            time.sleep(0.02)
            if book.version != last:
                last, since = book.version, time.monotonic()
        seconds = time.monotonic() - t0
        end = _mark()
        n = book.version - v0
        resets = book.resets
    finally:
        client.close()
    return {**_result(at_warm, end, n, seconds), "resets": resets}


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="RSS growth over many depth events (issue 12)")
    p.add_argument("--events", type=int, default=1_000_000, help="events after warm-up")
    p.add_argument("--warm", type=int, default=50_000, help="warm-up events")
    p.add_argument("--levels", type=int, default=10, help="levels a side per delta")
    p.add_argument("--only", default="iteration,book", help="iteration,book")
    args = p.parse_args(argv)
    quiet_logs()
    runs: dict[str, Any] = {}
    only = set(args.only.split(","))
    with FeedProcess() as feed:
        if "iteration" in only:
            runs["iteration"] = iteration(feed, args.warm, args.events, args.levels)
            print("iteration: done", flush=True)
        if "book" in only:
            runs["live_book"] = live_book(feed, args.warm, args.events, args.levels)
            print("live book: done", flush=True)
    print(f"\nRSS after {args.warm:,} warm-up events, then over the events below "
          f"({args.levels} levels a side)")
    rows = [(name, r["events"], r["rss_warm_mib"], r["rss_end_mib"], r["growth_mib"],
             r["bytes_per_event"], "/".join(map(str, r["gc_passes"])), r["gc_objects_warm"],
             r["gc_objects_end"], r["events_per_s"]) for name, r in runs.items()]
    print(table(("run", "events", "RSS warm MiB", "RSS end MiB", "growth MiB", "B/event",
                 "gc passes 0/1/2", "gc objs warm", "gc objs end", "events/s"), rows))
    emit("memory", {"warm": args.warm, "levels": args.levels, **runs})


if __name__ == "__main__":
    main()
