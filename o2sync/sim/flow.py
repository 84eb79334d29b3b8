"""Background order flow: run engine events at a configured rate, in batches.

One ``asyncio.sleep`` per event would cap the rate at a few thousand events per
second and cost a timer each; instead every tick runs however many events are due
since the last one, so low rates stay smooth and high rates stay cheap.
"""

from __future__ import annotations

import asyncio
from typing import Callable

#: Longest and shortest pause between ticks.
MAX_TICK = 0.05
MIN_TICK = 0.002
#: Most events per tick; beyond it the backlog is dropped so the loop stays responsive
#: (the effective rate is then what the machine can do).
MAX_BATCH = 2000


class Flow:
    """Rate and pause switch; they survive a restart of the server."""

    def __init__(self, rate: float, paused: bool) -> None:
        self.rate = check_rate(rate)
        self.paused = paused


def check_rate(rate: float) -> float:
    """Validate an events-per-second value."""
    rate = float(rate)
    if not rate >= 0:  # also rejects NaN
        raise ValueError(f"rate must be >= 0 events per second, got {rate}")
    return rate


async def run_flow(flow: Flow, run_events: Callable[[int], None], wake: asyncio.Event) -> None:
    """Run ``run_events(n)`` forever at ``flow.rate`` events per second.

    ``wake`` is set whenever the rate or the pause switch changes.
    """
    loop = asyncio.get_running_loop()
    due = 0.0
    last = loop.time()
    while True:
        if flow.paused or flow.rate <= 0:
            wake.clear()
            await wake.wait()
            due, last = 0.0, loop.time()
            continue
        now = loop.time()
        due += (now - last) * flow.rate
        last = now
        batch = int(due)
        if batch:
            due -= batch
            if batch > MAX_BATCH:
                batch, due = MAX_BATCH, 0.0
            run_events(batch)
        await asyncio.sleep(min(MAX_TICK, max(MIN_TICK, (1.0 - due) / flow.rate)))
