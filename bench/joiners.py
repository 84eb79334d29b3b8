"""Late depth joiners (issue 12): wire resyncs and ``dropped`` when consumers join a
running depth topic.

For each venue, against its simulator from ``o2sync.testing`` (in this process, flow
running at ``--rate`` engine events/s): one consumer starts the topic and gets a
healthy start (its snapshot and ``--warm`` deltas), then ``--joiners`` more consumers
join the same topic one after another, each iterating in its own thread. After
``--settle`` seconds of flow the script counts:

* wire resyncs: O2, ``subscribe_depth`` frames after the first one (and the
  ``unsubscribe_depth`` frames) the simulator received; tplus, ``GET /marketdepth/``
  snapshot requests after the first one;
* ``dropped`` summed over every consumer, and that of the first consumer alone;
* snapshots the first consumer saw after its own (each is a resync it had to absorb);
* joiners served: joiners that got their snapshot (O2) and deltas.

The ``book`` rows do the same with ``client.order_book`` joiners (resyncs only, and
the first book's ``resets``).

    .venv/bin/python bench/joiners.py                  # about 20 s
    .venv/bin/python bench/joiners.py --joiners 200 --rate 500
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time
from typing import Any, Optional

from procstat import emit, quiet_logs, table
from venues import SIMS, SimVenue, wait_for

from o2sync.errors import SubscriptionClosed

FAST = {"backoff_initial": 0.05, "backoff_max": 0.2}


class Consumer:
    """An iterator consumer in its own thread, counting deltas and snapshots."""

    def __init__(self, sub: Any, name: str) -> None:
        self.sub = sub
        self.events = 0
        self.snapshots = 0
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with contextlib.suppress(SubscriptionClosed):
            for event in self.sub:
                if getattr(event, "is_snapshot", False):
                    self.snapshots += 1
                else:
                    self.events += 1


def run_iter(venue: SimVenue, joiners: int, warm: int, settle: float) -> dict[str, Any]:
    client = venue.client(**FAST)
    consumers: list[Consumer] = []
    try:
        first = Consumer(client.stream_depth(venue.topic), "first")
        own = 1 if venue.initial_snapshot else 0
        healthy = wait_for(lambda: first.snapshots >= own and first.events >= warm, 15)
        before = venue.snapshot_requests()
        first_dropped = first.sub.dropped
        started = time.monotonic()
        for i in range(joiners):
            consumers.append(Consumer(client.stream_depth(venue.topic), f"joiner-{i}"))
        join_s = time.monotonic() - started
        time.sleep(settle)
        after = venue.snapshot_requests()
        got_snapshot = sum(1 for c in consumers if c.snapshots >= own and c.events)
        result = {
            "healthy_start": healthy,
            "wire_resyncs": after["subscribes"] - before["subscribes"],
            "unsubscribes": after["unsubscribes"] - before["unsubscribes"],
            "dropped_total": first.sub.dropped - first_dropped
                             + sum(c.sub.dropped for c in consumers),
            "dropped_first": first.sub.dropped - first_dropped,
            "first_extra_snapshots": first.snapshots - own,
            "joiners_with_snapshot": got_snapshot,
            "join_s": round(join_s, 3),
            "first_events": first.events,
        }
    finally:
        client.close()
    return result


def run_book(venue: SimVenue, joiners: int, settle: float) -> dict[str, Any]:
    client = venue.client(**FAST)
    try:
        first = client.order_book(venue.topic)
        healthy = first.wait_ready(15)
        time.sleep(0.3)
        before, resets0 = venue.snapshot_requests(), first.resets
        books = [client.order_book(venue.topic) for _ in range(joiners)]
        ready = sum(1 for b in books if b.wait_ready(10))
        time.sleep(settle)
        after = venue.snapshot_requests()
        result = {"healthy_start": healthy,
                  "wire_resyncs": after["subscribes"] - before["subscribes"],
                  "unsubscribes": after["unsubscribes"] - before["unsubscribes"],
                  "first_book_resets": first.resets - resets0,
                  "distinct_books": len({id(b) for b in books} | {id(first)}),
                  "joiners_ready": ready}
    finally:
        client.close()
    return result


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="late depth joiners (issue 12)")
    p.add_argument("--joiners", type=int, default=50, help="consumers joining a running topic")
    p.add_argument("--rate", type=float, default=200.0, help="simulator events/s")
    p.add_argument("--warm", type=int, default=20, help="deltas the first consumer gets first")
    p.add_argument("--settle", type=float, default=2.0, help="seconds of flow after the joins")
    p.add_argument("--venues", default="o2,tplus", help="comma-separated: o2,tplus")
    args = p.parse_args(argv)
    quiet_logs()
    results: dict[str, Any] = {}
    for key in [v for v in args.venues.split(",") if v]:
        venue = SIMS[key](args.rate)
        with venue.running():
            results[f"{key}_iter"] = run_iter(venue, args.joiners, args.warm, args.settle)
            results[f"{key}_book"] = run_book(venue, args.joiners, args.settle)
        print(f"{venue.name}: done", flush=True)

    print(f"\n{args.joiners} late joiners of one running depth topic, "
          f"simulator at {args.rate:g} events/s")
    rows = []
    for name, r in results.items():
        rows.append((name, r["wire_resyncs"], r["unsubscribes"], r.get("dropped_total", "-"),
                     r.get("dropped_first", "-"),
                     r.get("first_extra_snapshots", r.get("first_book_resets", "-")),
                     r.get("joiners_with_snapshot", r.get("joiners_ready", "-")),
                     r["healthy_start"]))
    print(table(("run", "wire resyncs", "unsubscribes", "dropped (all)", "dropped (first)",
                 "first: extra snapshots/resets", "joiners served", "healthy start"), rows))
    emit("joiners", {"joiners": args.joiners, "rate": args.rate, **results})


if __name__ == "__main__":
    main()
