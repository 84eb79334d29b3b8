"""Idle cost (issue 12): wake-ups of blocked consumers and idle CPU, vs the async SDK.

Against the feed (``feed.py``, its own process) with a scenario of zero deltas: every
subscription gets its snapshot, then nothing. Phases, each ``--seconds`` long:

1. one consumer blocked in ``sub.get()`` in a worker thread (the main thread sleeps):
   context switches/s of that thread (= its wake-ups/s) and of every client thread;
2. the same consumer blocked in ``sub.get(timeout=S)`` in the main thread;
3. 5 iterator threads (``for u in client.stream_depth(pair)``) + 1 thread in a
   ``book.wait_update()`` loop on ``client.order_book(pair)``: process CPU % of one
   core (``time.process_time``) and context switches/s of all threads;
4. the official async ``o2_sdk`` with 5 idle ``async for`` depth streams, same feed,
   same process, same figures;
5. the floor: the process with nothing running.

    .venv/bin/python bench/idle.py                 # 5 s per phase, about 35 s
    .venv/bin/python bench/idle.py --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import queue
import threading
import time
from typing import Any, Callable, Optional

from feed import FeedProcess, Scenario
from messages import PAIR
from procstat import emit, per_thread_switches, process_switches, quiet_logs, switches, table
from procstat import thread_names as names

import o2sync
from o2sync.errors import SubscriptionClosed

SCENARIO = Scenario(mode="flood", count=0, levels=10)


def _per_thread(seconds: float) -> list[tuple[str, float]]:
    """Context switches/s of every thread over ``seconds`` (the caller sleeps)."""
    before = per_thread_switches()
    time.sleep(seconds)
    after = per_thread_switches()
    label = names()
    return [(label.get(t, f"tid {t}"), (after[t] - before.get(t, 0)) / seconds)
            for t in sorted(after)]


def _wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def _consume(sub: Any, got: list[int]) -> None:
    """A worker-thread consumer: blocking ``get()`` until the subscription closes."""
    with contextlib.suppress(SubscriptionClosed):
        while True:
            sub.get()
            got[0] += 1


def worker_thread(feed: FeedProcess, seconds: float) -> dict[str, Any]:
    client = o2sync.O2Client(ws_url=feed.ws_url(SCENARIO), api_url=feed.api_url)
    try:
        sub = client.stream_depth(PAIR)
        got = [0]
        worker = threading.Thread(target=_consume, args=(sub, got), name="consumer-get")
        worker.start()
        _wait_for(lambda: got[0] >= 1)  # the snapshot went through
        time.sleep(0.5)
        rows = _per_thread(seconds)
        sub.close()
        worker.join(5)
    finally:
        client.close()
    consumer = next((r for n, r in rows if n == "consumer-get"), float("nan"))
    return {"consumer_wakeups_per_s": round(consumer, 2),
            "threads": {n: round(r, 2) for n, r in rows}}


def main_thread(feed: FeedProcess, seconds: float) -> dict[str, Any]:
    client = o2sync.O2Client(ws_url=feed.ws_url(SCENARIO), api_url=feed.api_url)
    try:
        sub = client.stream_depth(PAIR)
        sub.get(timeout=10)  # the snapshot
        time.sleep(0.5)
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


def o2sync_idle(feed: FeedProcess, seconds: float, n: int) -> dict[str, Any]:
    client = o2sync.O2Client(ws_url=feed.ws_url(SCENARIO), api_url=feed.api_url)
    threads: list[threading.Thread] = []
    got = [0]
    stop = threading.Event()
    try:
        subs = [client.stream_depth(PAIR) for _ in range(n)]
        for i, sub in enumerate(subs):
            threads.append(threading.Thread(target=_consume, args=(sub, got),
                                            name=f"consumer-{i}"))
        book = client.order_book(PAIR)

        def waiter() -> None:
            while not stop.is_set():
                book.wait_update()

        threads.append(threading.Thread(target=waiter, name="book-waiter"))
        for t in threads:
            t.start()
        _wait_for(lambda: got[0] >= n and book.is_ready)
        time.sleep(0.5)
        cpu, sw = _measure_cpu(seconds)
        stop.set()
    finally:
        client.close()
        for t in threads:
            t.join(5)
    return {"cpu_pct": round(cpu, 3), "switches_per_s": round(sw, 1)}


async def _sdk_idle(feed: FeedProcess, seconds: float, n: int) -> dict[str, Any]:
    from o2_sdk import O2Client as SdkClient
    from o2_sdk.config import NetworkConfig

    config = NetworkConfig(api_base=feed.api_url, ws_url=feed.ws_url(SCENARIO),
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


def main(argv: Optional[list[str]] = None) -> None:
    p = argparse.ArgumentParser(description="idle wake-ups and CPU (issue 12)")
    p.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    p.add_argument("--consumers", type=int, default=5, help="blocked consumers in phase 3/4")
    p.add_argument("--no-sdk", action="store_true", help="skip the o2_sdk phase")
    args = p.parse_args(argv)
    quiet_logs()
    s, n = args.seconds, args.consumers
    with FeedProcess() as feed:
        print(f"feed pid {feed.proc.pid if feed.proc else '?'}; {s:g} s per phase", flush=True)
        worker = worker_thread(feed, s)
        main_ = main_thread(feed, s)
        ours = o2sync_idle(feed, s, n)
        sdk = None if args.no_sdk else asyncio.run(_sdk_idle(feed, s, n))
        floor_cpu, floor_sw = _measure_cpu(min(s, 3.0))

    print("\nwake-ups/s per thread, one consumer blocked in get() in a worker thread")
    print(table(("thread", "switches/s"), sorted(worker["threads"].items())))
    print(f"\nmain thread blocked in sub.get(timeout={s:g}): "
          f"{main_['main_wakeups_per_s']} wake-ups/s")
    rows = [(f"o2sync: {n} iterator threads + book.wait_update()", ours["cpu_pct"],
             ours["switches_per_s"])]
    if sdk is not None:
        rows.append((f"o2_sdk: {n} async for streams", sdk["cpu_pct"], sdk["switches_per_s"]))
    rows.append(("floor: nothing running", round(floor_cpu, 3), round(floor_sw, 1)))
    print("\nidle cost, whole process")
    print(table(("what", "CPU % of a core", "switches/s"), rows))
    ratio = (ours["cpu_pct"] / sdk["cpu_pct"]) if sdk and sdk["cpu_pct"] > 0 else None
    emit("idle", {"seconds": s, "consumers": n,
                  "worker_consumer_wakeups_per_s": worker["consumer_wakeups_per_s"],
                  "main_consumer_wakeups_per_s": main_["main_wakeups_per_s"],
                  "threads_switches_per_s": worker["threads"],
                  "o2sync_idle": ours, "sdk_idle": sdk,
                  "floor": {"cpu_pct": round(floor_cpu, 3), "switches_per_s": round(floor_sw, 1)},
                  "cpu_ratio_o2sync_over_sdk": None if ratio is None else round(ratio, 2)})


if __name__ == "__main__":
    main()
