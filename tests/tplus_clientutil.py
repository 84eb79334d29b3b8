"""Helpers for the tplus client tests: clients with fast timings, waiting until
what the simulator sent has been routed, draining queues.

Synchronisation never sleeps: :func:`settle` sends one control frame down each
socket (frames of one socket arrive in order) and waits until the client has
counted them, so every data frame sent before is decoded and queued.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any, Optional

from clientutil import wait_until

from o2sync.testing import TplusSimulator
from o2sync.tplus import MarketDataClient, OrderBookClient, User

FAST: dict[str, Any] = {"backoff_initial": 0.05, "backoff_max": 0.2, "rest_backoff": 0.01}


def fast(options: dict[str, Any]) -> dict[str, Any]:
    out = dict(FAST)
    out.update(options)
    return out


class TplusClients:
    """Makes MarketDataClient / OrderBookClient on one simulator; remembers them."""

    def __init__(self, sim: TplusSimulator) -> None:
        self.sim = sim
        self.made: list[Any] = []

    def md(self, user: Optional[User] = None, **options: Any) -> MarketDataClient:
        client = MarketDataClient(self.sim.mds_url, default_user=user, **fast(options))
        self.made.append(client)
        return client

    def ob(self, user: Any = True, history: bool = False, **options: Any) -> OrderBookClient:
        if user is True:
            user = User(self.sim.user_seed)
        extra = {"market_data_url": self.sim.mds_url} if history else {}
        client = OrderBookClient(self.sim.oms_url, default_user=user or None, **extra,
                                 **fast(options))
        self.made.append(client)
        return client


def connected(*clients: Any, timeout: float = 5.0) -> None:
    assert wait_until(lambda: all(c.is_connected for c in clients), timeout), \
        [c.stats()["sockets"] for c in clients]


def settle(sim: TplusSimulator, client: Any, paths: Iterable[str], timeout: float = 5.0) -> None:
    """Block until every frame ``sim`` sent so far on ``paths`` has been routed by
    ``client`` (one control frame per path, counted by the client)."""
    paths = list(paths)
    before = client.stats()["control_frames"]
    sent = 0
    for path in paths:
        sent += sim.send_control("ping", path)
    assert sent >= len(paths), (sent, paths)
    assert wait_until(lambda: client.stats()["control_frames"] >= before + len(paths),
                      timeout), (client.stats(), paths)


def drain(sub: Any) -> list[Any]:
    """Everything queued right now, without waiting (bounded)."""
    out = []
    for _ in range(1_000_000):
        if not sub.pending:
            return out
        out.append(sub.get(timeout=0))
    raise AssertionError("endless queue")


_CLIENT_THREAD = re.compile(r"o2sync-\d+-")


def client_thread_names() -> list[str]:
    """Live threads of o2sync clients (``o2sync-N-...``; simulators' threads excluded)."""
    return [t.name for t in threading.enumerate() if _CLIENT_THREAD.match(t.name)]


def reader_count() -> int:
    return sum(1 for name in client_thread_names() if "-reader" in name)


def client_threads(client: Any) -> list[str]:
    prefix = client._engine.name + "-"
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]
