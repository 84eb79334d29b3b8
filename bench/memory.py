"""Memory (issue 12): RSS growth after warm-up over many depth events.

For each venue (``--venue o2|tplus|both``), against its bench feed (its own process:
``feed.py`` for ``O2Client`` on one pair, ``tplus_feed.py`` for
``o2sync.tplus.MarketDataClient`` on a fresh asset a run) in flood mode with
``--levels``-level deltas (signed changes cycling over a fixed set of prices, so
the book itself stays the same size). Two runs on fresh clients:

* ``iteration``: ``for update in client.stream_depth(topic)``, reading the best bid;
* ``live book``: ``client.order_book(topic)``, the main thread polling ``book.version``.

After ``--warm`` events the script runs ``gc.collect()`` and reads RSS
(``/proc/self/statm``); at the end, again. Growth = end - warm; bytes/event = growth /
events after warm-up. Also: cyclic-GC passes per generation during the measured part,
and objects tracked by the GC (``len(gc.get_objects())``) at both points. A run that
gets no event for 5 s (events lost to an overflow) ends there.

    .venv/bin/python bench/memory.py                     # 1M events a run, about 2-3 min
    .venv/bin/python bench/memory.py --events 10000000   # the issue's full figure
    .venv/bin/python bench/memory.py --events 200000 --venue tplus   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import time
from typing import Any, Optional

from procstat import emit, quiet_logs, rss_bytes, table
from venues import FEEDS, FeedVenue, add_venue_option, chosen, stop_when_idle

from o2sync.errors import SubscriptionClosed

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


def iteration(venue: FeedVenue, warm: int, events: int, levels: int) -> dict[str, Any]:
    client, topic = venue.client(mode="flood", count=warm + events, levels=levels)
    touch = venue.touch
    n, at_warm, t0, pending_warm = 0, None, 0.0, 0
    try:
        sub = client.stream_depth(topic)
        with stop_when_idle(lambda: n, sub.close), contextlib.suppress(SubscriptionClosed):
            for update in sub:
                if update.is_snapshot:
                    continue
                touch(update)
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
    if at_warm is None:
        raise RuntimeError(f"{venue.name} iteration: {n} events, fewer than --warm {warm}")
    # the queue backlog at both marks: a growing backlog is memory too (not a leak)
    return {**_result(at_warm, end, n - warm, seconds), "dropped": dropped,
            "pending_warm": pending_warm, "pending_end": pending_end}


def live_book(venue: FeedVenue, warm: int, events: int, levels: int) -> dict[str, Any]:
    client, topic = venue.client(mode="flood", count=warm + events, levels=levels)
    try:
        book = client.order_book(topic)
        book.wait_ready(15)
        base, since = book.version, time.monotonic()
        while book.version - base < warm and time.monotonic() - since < 15:
            time.sleep(0.01)
        at_warm, t0, v0 = _mark(), time.monotonic(), book.version
        last, since = book.version, time.monotonic()
        while book.version - base < warm + events and time.monotonic() - since < 3:
            time.sleep(0.02)
            if book.version != last:
                last, since = book.version, time.monotonic()
        # up to the last change seen: a tplus book may end short of warm + events (the
        # diffs sent before its REST snapshot are folded into it), then waits 3 s idle
        seconds = since - t0
        end = _mark()
        n = book.version - v0
        resets = book.resets
    finally:
        client.close()
    return {**_result(at_warm, end, n, seconds), "resets": resets}


def run_venue(venue: FeedVenue, only: set[str], warm: int, events: int, levels: int
              ) -> dict[str, Any]:
    """The chosen runs against the venue's feed."""
    runs: dict[str, Any] = {}
    with venue.running():
        for name, run in (("iteration", iteration), ("live_book", live_book)):
            if name.split("_")[-1] in only:
                runs[name] = run(venue, warm, events, levels)
                print(f"{venue.name} {name}: done", flush=True)
    return runs


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="RSS growth over many depth events (issue 12)")
    p.add_argument("--events", type=int, default=1_000_000, help="events after warm-up")
    p.add_argument("--warm", type=int, default=50_000, help="warm-up events")
    p.add_argument("--levels", type=int, default=10, help="levels a side per delta")
    p.add_argument("--only", default="iteration,book", help="iteration,book")
    add_venue_option(p)
    args = p.parse_args(argv)
    quiet_logs()
    only = set(args.only.split(","))
    venues = [FEEDS[key]() for key in chosen(args.venue)]
    results = {v.key: run_venue(v, only, args.warm, args.events, args.levels) for v in venues}
    print(f"\nRSS after {args.warm:,} warm-up events, then over the events below "
          f"({args.levels} levels a side)")
    rows = [(v.name, name, r["events"], r["rss_warm_mib"], r["rss_end_mib"], r["growth_mib"],
             r["bytes_per_event"], "/".join(map(str, r["gc_passes"])), r["gc_objects_warm"],
             r["gc_objects_end"], r["events_per_s"])
            for v in venues for name, r in results[v.key].items()]
    print(table(("venue", "run", "events", "RSS warm MiB", "RSS end MiB", "growth MiB",
                 "B/event", "gc passes 0/1/2", "gc objs warm", "gc objs end", "events/s"),
                rows))
    emit("memory", {"warm": args.warm, "levels": args.levels, **results})


if __name__ == "__main__":
    main()
