"""Idle cost (issue 12): wake-ups of blocked consumers and idle CPU, vs the async SDK.

For each venue (``--venue o2|tplus|both``), against its bench feed (its own process:
``feed.py`` for ``O2Client`` on one pair, ``tplus_feed.py`` for
``o2sync.tplus.MarketDataClient`` on one asset) with a scenario of zero deltas: on
O2 every subscription gets its snapshot, then nothing; on tplus the diff socket
opens and stays silent (the book gets its REST snapshot). Phases, each ``--seconds``
long:

1. one consumer blocked in ``sub.get()`` in a worker thread (the main thread sleeps):
   context switches/s of that thread (= its wake-ups/s) and of every client thread;
2. the same consumer blocked in ``sub.get(timeout=S)`` in the main thread;
3. 5 iterator threads (``for u in client.stream_depth(topic)``) + 1 thread in a
   ``book.wait_update()`` loop on ``client.order_book(topic)``: process CPU % of one
   core (``time.process_time``) and context switches/s of all threads;
4. the async SDK with 5 idle ``async for`` depth streams, same feed: O2, the official
   ``o2_sdk`` in this process; tplus, tpluspy 0.6.0 in its own virtualenv
   (``.venv-tpluspy``, built on first use), ``tplus_sdk_driver.py`` in a subprocess
   that reports its own CPU and switches over the phase;
5. once, after every venue: the floor, this process with nothing running.

    .venv/bin/python bench/idle.py                 # both venues, 5 s a phase, about 50 s
    .venv/bin/python bench/idle.py --venue tplus --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import queue
import subprocess
import threading
import time
from typing import Any, Callable, Optional

from feed import Scenario
from messages import PAIR
from procstat import emit, per_thread_switches, process_switches, quiet_logs, switches, table
from procstat import thread_names as names
from venues import FEEDS, FeedVenue, TplusFeed, add_venue_option, chosen, wait_for

from o2sync.errors import SubscriptionClosed

IDLE = {"mode": "flood", "count": 0, "levels": 10}  # the feed scenario: no deltas


def _per_thread(seconds: float) -> list[tuple[str, float]]:
    """Context switches/s of every thread over ``seconds`` (the caller sleeps)."""
    before = per_thread_switches()
    time.sleep(seconds)
    after = per_thread_switches()
    label = names()
    return [(label.get(t, f"tid {t}"), (after[t] - before.get(t, 0)) / seconds)
            for t in sorted(after)]


def _settle(venue: FeedVenue, client: Any, got: Callable[[], int], want: int) -> None:
    """Until the client is connected and (O2) its ``want`` snapshots went through."""
    wait_for(lambda: client.is_connected and (got() >= want or not venue.initial_snapshot))
    time.sleep(0.5)


def _consume(sub: Any, got: list[int]) -> None:
    """A worker-thread consumer: blocking ``get()`` until the subscription closes."""
    with contextlib.suppress(SubscriptionClosed):
        while True:
            sub.get()
            got[0] += 1


def worker_thread(venue: FeedVenue, seconds: float) -> dict[str, Any]:
    client, topic = venue.client(**IDLE)
    try:
        sub = client.stream_depth(topic)
        got = [0]
        worker = threading.Thread(target=_consume, args=(sub, got), name="consumer-get")
        worker.start()
        _settle(venue, client, lambda: got[0], 1)
        rows = _per_thread(seconds)
        sub.close()
        worker.join(5)
    finally:
        client.close()
    consumer = next((r for n, r in rows if n == "consumer-get"), float("nan"))
    return {"consumer_wakeups_per_s": round(consumer, 2),
            "threads": {n: round(r, 2) for n, r in rows}}


def main_thread(venue: FeedVenue, seconds: float) -> dict[str, Any]:
    client, topic = venue.client(**IDLE)
    try:
        sub = client.stream_depth(topic)
        _settle(venue, client, lambda: sub.pending, 1)
        if venue.initial_snapshot:
            sub.get(timeout=10)  # the snapshot
        v0, i0 = switches()
        with contextlib.suppress(queue.Empty):
            sub.get(timeout=seconds)
        v1, i1 = switches()
    finally:
        client.close()
    return {"main_wakeups_per_s": round((v1 - v0 + i1 - i0) / seconds, 2)}


def _measure_cpu(seconds: float) -> tuple[float, float]:
    """(CPU % of one core, context switches/s of the whole process) over ``seconds``."""
    c0, s0, t0 = time.process_time(), process_switches(), time.monotonic()
    time.sleep(seconds)
    c1, s1, t1 = time.process_time(), process_switches(), time.monotonic()
    return 100.0 * (c1 - c0) / (t1 - t0), (s1 - s0) / (t1 - t0)


def o2sync_idle(venue: FeedVenue, seconds: float, n: int,
                ping_interval: Optional[float] = None) -> dict[str, Any]:
    options = None if ping_interval is None else {"ping_interval": ping_interval}
    client, topic = venue.client(options, **IDLE)
    threads: list[threading.Thread] = []
    got = [0]
    stop = threading.Event()
    try:
        subs = [client.stream_depth(topic) for _ in range(n)]
        for i, sub in enumerate(subs):
            threads.append(threading.Thread(target=_consume, args=(sub, got),
                                            name=f"consumer-{i}"))
        book = client.order_book(topic)

        def waiter() -> None:
            while not stop.is_set():
                book.wait_update()

        threads.append(threading.Thread(target=waiter, name="book-waiter"))
        for t in threads:
            t.start()
        wait_for(lambda: book.is_ready)
        _settle(venue, client, lambda: got[0], n)
        cpu, sw = _measure_cpu(seconds)
        stop.set()
    finally:
        client.close()
        for t in threads:
            t.join(5)
    return {"cpu_pct": round(cpu, 3), "switches_per_s": round(sw, 1)}


def o2_sdk_idle(venue: FeedVenue, seconds: float, n: int) -> dict[str, Any]:
    """The official async o2_sdk, in this process."""
    return asyncio.run(_sdk_idle(venue.feed, seconds, n))


async def _sdk_idle(feed: Any, seconds: float, n: int) -> dict[str, Any]:
    from o2_sdk import O2Client as SdkClient
    from o2_sdk.config import NetworkConfig

    config = NetworkConfig(api_base=feed.api_url, ws_url=feed.ws_url(Scenario(**IDLE)),
                           fuel_rpc="http://127.0.0.1:1", faucet_url=None)
    client = SdkClient(custom_config=config)
    streams = [client.stream_depth(PAIR) for _ in range(n)]
    seen = [0]

    async def consume(updates: Any) -> None:
        async for _ in updates:
            seen[0] += 1

    tasks = [asyncio.create_task(consume(s)) for s in streams]
    try:
        deadline = time.monotonic() + 10
        while seen[0] < n and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        c0, s0, t0 = time.process_time(), process_switches(), time.monotonic()
        await asyncio.sleep(seconds)
        c1, s1, t1 = time.process_time(), process_switches(), time.monotonic()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for s in streams:
            with contextlib.suppress(Exception):
                await s.aclose()
        await client.close()
    return {"cpu_pct": round(100.0 * (c1 - c0) / (t1 - t0), 3),
            "switches_per_s": round((s1 - s0) / (t1 - t0), 1), "snapshots": seen[0]}


def tpluspy_idle(venue: FeedVenue, seconds: float, n: int) -> dict[str, Any]:
    """tpluspy 0.6.0 in its own virtualenv: ``tplus_sdk_driver.py`` in a subprocess
    (ended by ``subprocess.run``'s timeout at the latest) measures itself."""
    from tplus_consumers import DRIVER, tpluspy_python

    assert isinstance(venue, TplusFeed)
    cfg = {"idle_streams": n, "seconds": seconds, "base_url": venue.feed.base_url,
           "asset": venue.fresh_asset(**IDLE)}
    done = subprocess.run([str(tpluspy_python()), str(DRIVER), json.dumps(cfg)],
                          capture_output=True, text=True, timeout=seconds + 60)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"tpluspy driver failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


SDK_IDLE: dict[str, Callable[[FeedVenue, float, int], dict[str, Any]]] = {
    "o2": o2_sdk_idle, "tplus": tpluspy_idle}


def run_venue(venue: FeedVenue, seconds: float, n: int, sdk: bool,
              ping_interval: Optional[float] = None) -> dict[str, Any]:
    """Phases 1-4 against the venue's feed."""
    with venue.running():
        print(f"{venue.name}: feed pid {venue.pid}; {seconds:g} s per phase", flush=True)
        worker = worker_thread(venue, seconds)
        main_ = main_thread(venue, seconds)
        ours = o2sync_idle(venue, seconds, n, ping_interval)
        theirs = SDK_IDLE[venue.key](venue, seconds, n) if sdk else None
    ratio = (ours["cpu_pct"] / theirs["cpu_pct"]) if theirs and theirs["cpu_pct"] > 0 else None
    return {"worker_consumer_wakeups_per_s": worker["consumer_wakeups_per_s"],
            "main_consumer_wakeups_per_s": main_["main_wakeups_per_s"],
            "threads_switches_per_s": worker["threads"],
            "o2sync_idle": ours, "sdk": venue.sdk, "sdk_idle": theirs,
            "cpu_ratio_o2sync_over_sdk": None if ratio is None else round(ratio, 2)}


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="idle wake-ups and CPU (issue 12)")
    p.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    p.add_argument("--consumers", type=int, default=5, help="blocked consumers in phase 3/4")
    p.add_argument("--no-sdk", action="store_true", help="skip the async SDK phase")
    p.add_argument("--ping-interval", type=float, default=None,
                   help="o2sync's heartbeat in phase 3 (default: the client's 20 s; "
                        "30 is o2_sdk's schedule)")
    add_venue_option(p)
    args = p.parse_args(argv)
    quiet_logs()
    s, n = args.seconds, args.consumers
    venues = [FEEDS[key]() for key in chosen(args.venue)]
    res = {v.key: run_venue(v, s, n, not args.no_sdk, args.ping_interval) for v in venues}
    floor_cpu, floor_sw = _measure_cpu(min(s, 3.0))

    print("\nwake-ups/s per thread, one consumer blocked in get() in a worker thread")
    print(table(("venue", "thread", "switches/s"),
                [(v.name, t, r) for v in venues
                 for t, r in sorted(res[v.key]["threads_switches_per_s"].items())]))
    print("\none blocked consumer: its wake-ups/s")
    print(table(("venue", "worker thread in get()", f"main thread in get(timeout={s:g})"),
                [(v.name, res[v.key]["worker_consumer_wakeups_per_s"],
                  res[v.key]["main_consumer_wakeups_per_s"]) for v in venues]))
    rows: list[tuple[Any, ...]] = []
    for v in venues:
        ours, theirs = res[v.key]["o2sync_idle"], res[v.key]["sdk_idle"]
        rows.append((v.name, f"o2sync: {n} iterator threads + book.wait_update()",
                     ours["cpu_pct"], ours["switches_per_s"]))
        if theirs is not None:
            rows.append((v.name, f"{v.sdk}: {n} async for streams", theirs["cpu_pct"],
                         theirs["switches_per_s"]))
    rows.append(("-", "floor: nothing running", round(floor_cpu, 3), round(floor_sw, 1)))
    print("\nidle cost, whole process")
    print(table(("venue", "what", "CPU % of a core", "switches/s"), rows))
    emit("idle", {"seconds": s, "consumers": n, "ping_interval": args.ping_interval, **res,
                  "floor": {"cpu_pct": round(floor_cpu, 3), "switches_per_s": round(floor_sw, 1)}})


if __name__ == "__main__":
    main()
