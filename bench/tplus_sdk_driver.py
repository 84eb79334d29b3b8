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
Standard library and tpluspy only: this file must not import the bench modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
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
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(Exception):
            await stream.aclose()
        await client.close()
    out["stalled"] = stalled
    return out


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    cfg = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(consume(cfg)), separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
