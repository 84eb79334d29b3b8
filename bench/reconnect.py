"""Reconnect (issue 12): time from a server-side drop to RECONNECTED and to the first
event after it, and the delays over repeated failures.

For each venue (``--venue o2|tplus|both``), its simulator from ``o2sync.testing`` (in
this process, flow at ``--rate``: ``Simulator`` for O2, ``TplusSimulator`` for tplus)
and a client with default options (``backoff_initial`` 0.25 s) iterating one depth
stream (``O2Client.stream_depth(pair)``, ``MarketDataClient.stream_depth(asset)``).
``--drops`` times: abort every connection (``sim.drop_connections()``, server back at
once), measure drop -> RECONNECTED (lifecycle callback) and drop -> first depth event
after RECONNECTED. Then ``sim.refuse(--refuse)`` (O2: handshakes refused; tplus:
upgrades answered with HTTP 503) + a drop: the RECONNECTING events name each planned
delay; the table shows delay / base per attempt, which must lie in [0.5, 1]
(jitter). The base is ``Backoff.FIRST_RETRY`` (0.05 s) for the first attempt after a
loss, then ``0.25 * 2**(n-1)``, doubling.

    .venv/bin/python bench/reconnect.py                  # 30 drops a venue, about 50 s
    .venv/bin/python bench/reconnect.py --venue tplus    # one venue
"""

from __future__ import annotations

import argparse
import contextlib
import re
import threading
import time
from typing import Any, Optional

from procstat import emit, median, quantile, quiet_logs, table
from venues import SIMS, SimVenue, add_venue_option, chosen

from o2sync.engine.lifecycle import ConnectionState
from o2sync.errors import SubscriptionClosed

DELAY = re.compile(r"attempt (\d+) in ([0-9.]+)s")


class Timings:
    """What one venue's run measured."""

    def __init__(self) -> None:
        self.to_reconnected: list[float] = []
        self.to_event: list[float] = []
        self.delays: list[tuple[int, float]] = []


def measure(venue: SimVenue, drops: int, refuse: float) -> Timings:
    """The drops, then the refused handshakes, against the venue's running simulator."""
    events: list[tuple[float, ConnectionState, str]] = []
    last_event = [0.0]
    lock = threading.Lock()
    out = Timings()

    def on_life(ev: Any) -> None:
        with lock:
            events.append((time.monotonic(), ev.state, ev.message))

    sim = venue.sim
    client = venue.client()
    try:
        client.on_lifecycle(on_life)
        sub = client.stream_depth(venue.topic)

        def consume() -> None:
            with contextlib.suppress(SubscriptionClosed):
                for _ in sub:
                    last_event[0] = time.monotonic()

        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        time.sleep(1.0)
        for _ in range(drops):
            with lock:
                mark = len(events)
            t0 = time.monotonic()
            sim.drop_connections()
            deadline = t0 + 10
            rec_at = None
            while time.monotonic() < deadline and rec_at is None:
                with lock:
                    rec_at = next((t for t, s, _ in events[mark:]
                                   if s is ConnectionState.RECONNECTED), None)
                time.sleep(0.002)
            if rec_at is None:
                continue
            out.to_reconnected.append(rec_at - t0)
            while time.monotonic() < deadline and last_event[0] <= rec_at:
                time.sleep(0.002)
            if last_event[0] > rec_at:
                out.to_event.append(last_event[0] - t0)
            time.sleep(0.2)
        with lock:
            mark = len(events)
        sim.refuse(refuse)
        sim.drop_connections()
        time.sleep(refuse + 3)
        with lock:
            for _, state, message in events[mark:]:
                found = DELAY.search(message) if state is ConnectionState.RECONNECTING else None
                if found:
                    out.delays.append((int(found.group(1)), float(found.group(2))))
    finally:
        client.close()
    return out


def _ms(values: list[float], q: float) -> float:
    return round(1000 * (median(values) if q == 0.5 else quantile(values, q)), 1)


def _span(values: list[float]) -> tuple[float, float]:
    return ((round(1000 * min(values), 1), round(1000 * max(values), 1)) if values
            else (float("nan"), float("nan")))


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="reconnect timings (issue 12)")
    p.add_argument("--drops", type=int, default=30, help="drops a venue")
    p.add_argument("--rate", type=float, default=200.0, help="simulator events/s")
    p.add_argument("--refuse", type=float, default=6.0, help="seconds of refused handshakes")
    add_venue_option(p)
    args = p.parse_args(argv)
    quiet_logs()
    runs: dict[str, Timings] = {}
    names: dict[str, str] = {}
    for key in chosen(args.venue):
        venue = SIMS[key](args.rate)
        with venue.running():
            runs[key] = measure(venue, args.drops, args.refuse)
        names[key] = venue.name
        print(f"{venue.name}: done", flush=True)

    rows: list[tuple[Any, ...]] = []
    for key, t in runs.items():
        rows.append((names[key], "RECONNECTED", len(t.to_reconnected),
                     _ms(t.to_reconnected, 0.5), _ms(t.to_reconnected, 0.9),
                     *_span(t.to_reconnected)))
        rows.append((names[key], "first event after it", len(t.to_event), _ms(t.to_event, 0.5),
                     _ms(t.to_event, 0.9), *_span(t.to_event)))
    print(f"\n{args.drops} drops a venue (server back at once), default backoff")
    print(table(("venue", "from the drop to", "drops", "median ms", "p90 ms", "min ms",
                 "max ms"), rows))
    print(f"\nrepeated failures ({args.refuse:g} s of refused handshakes): planned delays")
    print(table(("venue", "attempt", "delay s", "base s", "delay/base"),
                [(names[key], n, round(d, 3), round(_base(n), 3), round(d / _base(n), 3))
                 for key, t in runs.items() for n, d in t.delays]))
    emit("reconnect", {key: {
        "drops": len(t.to_reconnected),
        "to_reconnected_ms": {"median": _ms(t.to_reconnected, 0.5),
                              "p90": _ms(t.to_reconnected, 0.9)},
        "to_first_event_ms": {"median": _ms(t.to_event, 0.5), "p90": _ms(t.to_event, 0.9)},
        "refused_delays": [{"attempt": n, "delay_s": d} for n, d in t.delays],
        "jitter_in_range": all(0.5 <= d / _base(n) <= 1.0 for n, d in t.delays
                               if _base(n) <= 30),
    } for key, t in runs.items()})


def _base(attempt: int) -> float:
    """The un-jittered delay before reconnect ``attempt`` after a loss (default options)."""
    from o2sync.engine.backoff import Backoff

    return Backoff.FIRST_RETRY if attempt == 1 else 0.25 * 2 ** (attempt - 1)


if __name__ == "__main__":
    main()
