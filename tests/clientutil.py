"""Helpers shared by the client tests: waiting on conditions, thread accounting."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

from o2sync import O2Client

#: The ``clients`` fixture: ``clients(**options) -> O2Client`` on the test's simulator.
Clients = Callable[..., O2Client]


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` passes; returns its last verdict."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


def o2sync_threads() -> list[str]:
    """Names of live client threads (the simulator's own threads are not counted)."""
    return [t.name for t in threading.enumerate()
            if t.name.startswith("o2sync-") and not t.name.startswith("o2sync-sim")]


def client_for(sim: Any, **options: Any) -> O2Client:
    """A client on the simulator with fast test timings unless overridden."""
    options.setdefault("backoff_initial", 0.05)
    options.setdefault("backoff_max", 0.2)
    options.setdefault("rest_backoff", 0.01)
    return O2Client(ws_url=sim.ws_url, api_url=sim.api_url, **options)


def take(sub: Any, n: int, timeout: float = 5.0) -> list[Any]:
    """The next ``n`` events of a queue subscription, each within ``timeout``."""
    return [sub.get(timeout=timeout) for _ in range(n)]


def frames_of(sim: Any, action: str) -> list[dict]:
    return sim.client_frames(action)


def drain(sub: Any) -> Iterator[Any]:
    """Everything queued right now, without waiting."""
    while sub.pending:
        yield sub.get(timeout=0)
