"""merge(): several queue subscriptions in one blocking loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

from .subscription import Subscription
from .threads import wait_slice


def merge(*subs: Subscription[Any], timeout: Optional[float] = None
          ) -> Iterator[tuple[Subscription[Any], Any]]:
    """Iterate several queue subscriptions in one loop, yielding ``(sub, event)``.

    The blocking counterpart of ``asyncio.gather`` over several ``async for`` loops.
    Events of one subscription keep their order; subscriptions are served round-robin.
    Ends when every subscription has ended and been drained. With ``timeout``, ends
    as well after that many seconds without any event.
    """
    if not subs:
        raise ValueError("merge() needs at least one subscription")
    for sub in subs:
        if not isinstance(sub, Subscription) or sub.is_callback:
            raise TypeError(f"merge() takes queue subscriptions (stream_*), got {sub!r}")
    wake = threading.Event()
    for sub in subs:
        sub.watch(wake)
    try:
        yield from _merge_loop(list(subs), wake, timeout)
    finally:
        for sub in subs:
            sub.unwatch(wake)


def _merge_loop(subs: list[Subscription[Any]], wake: threading.Event,
                timeout: Optional[float]) -> Iterator[tuple[Subscription[Any], Any]]:
    idle_since = time.monotonic()
    while True:
        wake.clear()
        ended = 0
        got_any = False
        for sub in subs:
            ok, value = sub.poll()
            if ok:
                got_any = True
                yield sub, value
            elif value:
                ended += 1
        if got_any:
            idle_since = time.monotonic()
            continue
        if ended == len(subs):
            return
        deadline = None if timeout is None else idle_since + timeout
        wait = wait_slice(deadline, time.monotonic())
        if wait is not None and wait <= 0:
            return
        wake.wait(wait)
