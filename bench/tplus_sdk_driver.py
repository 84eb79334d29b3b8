"""The tpluspy 0.6.0 consumer of the tplus benchmark, run in tpluspy's own virtualenv.

    .venv-tpluspy/bin/python bench/tplus_sdk_driver.py '{"base_url": ..., "stream":
        "depth", "asset": 201, "expected": 100000, "idle": 3, "deadline": 120,
        "latency": false}'

``async for`` over ``MarketDataClient(base_url).stream_depth(asset)`` (or
``stream_finalized_trades()``) under ``asyncio.run``, touching the first bid of every
diff (the trade's price) and pausing as ``slow = [every, seconds]`` says, until
``expected`` events, ``idle`` seconds without one, or ``deadline``. Prints one JSON
line: received, first/last receive time (ns), optionally ``[key, receive ns]`` pairs
(sequence number or ``timestamp_ns``).

With ``"idle_streams": n`` (and ``"seconds"``) instead, the idle baseline of
``idle.py``: ``n`` ``async for`` loops over ``stream_depth(asset)`` of an asset the
feed sends nothing on; once the feed counts ``n`` connections (``GET
/bench/sent/{asset}``), this process's CPU % of one core (``time.process_time``) and
context switches/s (``/proc/self/task``) over ``seconds``.
Standard library and tpluspy only: this file must not import the bench modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import urllib.request
from typing import Any


async def consume(cfg: dict[str, Any]) -> dict[str, Any]:
    from tplus.client.market_data import MarketDataClient

    client = MarketDataClient(cfg["base_url"], log_level=logging.ERROR)
    depth = cfg["stream"] == "depth"
    stream = client.stream_depth(str(cfg["asset"])) if depth else client.stream_finalized_trades()
    expected, keep, slow = int(cfg["expected"]), bool(cfg["latency"]), cfg.get("slow")
    out: dict[str, Any] = {"received": 0, "first_ns": 0, "last_ns": 0, "pairs": []}
    pairs: list[list[int]] = out["pairs"]
    now = time.time_ns

    async def run() -> None:
        n = 0
        async for event in stream:
            t = now()
            if depth:
                bids = event.bids
                if bids:
                    float(bids[0][0])
                key = event.sequence_number
            else:
                event.price  # noqa: B018  # touch, as the guide prints it
                key = event.timestamp_ns
            if keep:
                pairs.append([key, t])
            if not n:
                out["first_ns"] = t
            out["last_ns"] = t
            n += 1
            out["received"] = n
            if n >= expected:
                return
            if slow and n % slow[0] == 0:
                await asyncio.sleep(slow[1])

    task = asyncio.create_task(run())
    deadline = time.monotonic() + float(cfg["deadline"])
    seen, since, stalled = -1, time.monotonic(), False
    try:
        while not task.done() and time.monotonic() < deadline:
            await asyncio.wait({task}, timeout=0.05)
            if out["received"] != seen:
                seen, since = out["received"], time.monotonic()
            elif time.monotonic() - since > float(cfg["idle"]):
                stalled = True
                break
    finally:
        await _close(client, [stream], [task])
    out["stalled"] = stalled
    return out


async def _close(client: Any, streams: list[Any], tasks: list[Any]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for stream in streams:
        with contextlib.suppress(Exception):
            await stream.aclose()
    await client.close()


def _connections(cfg: dict[str, Any]) -> int:
    url = f"{cfg['base_url']}/bench/sent/{cfg['asset']}"
    with urllib.request.urlopen(url, timeout=5) as r:
        return int(json.loads(r.read()).get("connections", 0))


def _switches() -> int:
    """Context switches (voluntary + involuntary) of every thread of this process."""
    total = 0
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError), open(f"/proc/self/task/{tid}/status") as fh:
            total += sum(int(line.split()[1]) for line in fh if "ctxt_switches" in line)
    return total


async def idle(cfg: dict[str, Any]) -> dict[str, Any]:
    from tplus.client.market_data import MarketDataClient

    client = MarketDataClient(cfg["base_url"], log_level=logging.ERROR)
    n = int(cfg["idle_streams"])
    streams = [client.stream_depth(str(cfg["asset"])) for _ in range(n)]

    async def drain(stream: Any) -> None:
        async for _ in stream:
            pass

    tasks = [asyncio.create_task(drain(s)) for s in streams]
    try:
        deadline = time.monotonic() + 10
        while _connections(cfg) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        connected = _connections(cfg)
        await asyncio.sleep(0.5)
        c0, s0, t0 = time.process_time(), _switches(), time.monotonic()
        await asyncio.sleep(float(cfg["seconds"]))
        c1, s1, t1 = time.process_time(), _switches(), time.monotonic()
    finally:
        await _close(client, streams, tasks)
    return {"cpu_pct": round(100.0 * (c1 - c0) / (t1 - t0), 3),
            "switches_per_s": round((s1 - s0) / (t1 - t0), 1), "connected": connected}


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    cfg = json.loads(sys.argv[1])
    run = idle if "idle_streams" in cfg else consume
    print(json.dumps(asyncio.run(run(cfg)), separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
