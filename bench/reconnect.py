"""Reconnect (issue 12): time from a server-side drop to RECONNECTED and to the first
event after it, and the delays over repeated failures.

O2 Simulator from ``o2sync.testing`` (in this process, flow at ``--rate``), client with
default options (``backoff_initial`` 0.25 s). ``--drops`` times: abort every
connection (``sim.drop_connections()``, server back at once), measure drop ->
RECONNECTED (lifecycle callback) and drop -> first depth event after RECONNECTED.
Then ``sim.refuse(--refuse)`` + a drop: the RECONNECTING events name each planned
delay; the table shows delay / base per attempt, which must lie in [0.5, 1]
(jitter). The base is ``Backoff.FIRST_RETRY`` (0.05 s) for the first attempt after a
loss, then ``0.25 * 2**(n-1)``, doubling.

    .venv/bin/python bench/reconnect.py               # 30 drops, about 25 s
"""

from __future__ import annotations

import argparse
import contextlib
import re
import threading
import time
from typing import Any, Optional

from procstat import emit, median, quantile, quiet_logs, table

from o2sync import O2Client
from o2sync.engine.lifecycle import ConnectionState
from o2sync.errors import SubscriptionClosed
from o2sync.testing import Simulator

DELAY = re.compile(r"attempt (\d+) in ([0-9.]+)s")


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="reconnect timings (issue 12)")
    p.add_argument("--drops", type=int, default=30)
    p.add_argument("--rate", type=float, default=200.0, help="simulator events/s")
    p.add_argument("--refuse", type=float, default=6.0, help="seconds of refused handshakes")
    args = p.parse_args(argv)
    quiet_logs()
    events: list[tuple[float, ConnectionState, str]] = []
    last_event = [0.0]
    lock = threading.Lock()

    def on_life(ev: Any) -> None:
        with lock:
            events.append((time.monotonic(), ev.state, ev.message))

    to_reconnected: list[float] = []
    to_event: list[float] = []
    delays: list[tuple[int, float]] = []
    with Simulator(seed=1, rate=args.rate, start_flow=True) as sim:
        m = sim.markets[0]
        pair = f"{m['base']['symbol']}/{m['quote']['symbol']}"
        client = O2Client(ws_url=sim.ws_url, api_url=sim.api_url)
        try:
            client.on_lifecycle(on_life)
            sub = client.stream_depth(pair)

            def consume() -> None:
                with contextlib.suppress(SubscriptionClosed):
                    for _ in sub:
                        last_event[0] = time.monotonic()

            reader = threading.Thread(target=consume, daemon=True)
            reader.start()
            time.sleep(1.0)
            for _ in range(args.drops):
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
                to_reconnected.append(rec_at - t0)
                while time.monotonic() < deadline and last_event[0] <= rec_at:
                    time.sleep(0.002)
                if last_event[0] > rec_at:
                    to_event.append(last_event[0] - t0)
                time.sleep(0.2)
            with lock:
                mark = len(events)
            sim.refuse(args.refuse)
            sim.drop_connections()
            time.sleep(args.refuse + 3)
            with lock:
                for _, state, message in events[mark:]:
                    found = DELAY.search(message) if state is ConnectionState.RECONNECTING else None
                    if found:
                        delays.append((int(found.group(1)), float(found.group(2))))
        finally:
            client.close()

    def ms(values: list[float], q: float) -> float:
        return round(1000 * (median(values) if q == 0.5 else quantile(values, q)), 1)

    print(f"\n{len(to_reconnected)} drops (server back at once), default backoff")
    print(table(("from the drop to", "median ms", "p90 ms", "min ms", "max ms"), [
        ("RECONNECTED", ms(to_reconnected, 0.5), ms(to_reconnected, 0.9),
         round(1000 * min(to_reconnected), 1), round(1000 * max(to_reconnected), 1)),
        ("first event after it", ms(to_event, 0.5), ms(to_event, 0.9),
         round(1000 * min(to_event), 1), round(1000 * max(to_event), 1)),
    ]))
    rows = [(n, round(d, 3), round(_base(n), 3), round(d / _base(n), 3)) for n, d in delays]
    print(f"\nrepeated failures ({args.refuse:g} s of refused handshakes): planned delays")
    print(table(("attempt", "delay s", "base s", "delay/base"), rows))
    emit("reconnect", {
        "drops": len(to_reconnected),
        "to_reconnected_ms": {"median": ms(to_reconnected, 0.5), "p90": ms(to_reconnected, 0.9)},
        "to_first_event_ms": {"median": ms(to_event, 0.5), "p90": ms(to_event, 0.9)},
        "refused_delays": [{"attempt": n, "delay_s": d} for n, d in delays],
        "jitter_in_range": all(0.5 <= d / _base(n) <= 1.0 for n, d in delays
                               if _base(n) <= 30),
    })


def _base(attempt: int) -> float:
    """The un-jittered delay before reconnect ``attempt`` after a loss (default options)."""
    from o2sync.engine.backoff import Backoff

    return Backoff.FIRST_RETRY if attempt == 1 else 0.25 * 2 ** (attempt - 1)


if __name__ == "__main__":
    main()
