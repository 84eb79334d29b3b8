"""The two venues of the issue 12 scripts: what differs between O2 and tplus.

Each script runs the same phases for every venue it is given (``--venue
o2|tplus|both``), asking a venue object only for what differs:

* against the bench feeds (``idle.py``, ``memory.py``, ``fanout.py``): :class:`O2Feed`
  (``feed.py``; ``O2Client`` on one pair, the scenario in the WebSocket URL's query)
  and :class:`TplusFeed` (``tplus_feed.py``; ``o2sync.tplus.MarketDataClient`` on a
  fresh asset per client, the scenario registered first by ``GET /bench/setup``);
* against the simulators of ``o2sync.testing`` (``joiners.py``, ``reconnect.py``):
  :class:`O2Sim` (``Simulator``) and :class:`TplusSim` (``TplusSimulator``).

Both clients take the same calls on their topic (a pair, an asset):
``stream_depth(topic)``, ``on_depth(topic, cb)``, ``order_book(topic)``; every depth
event has ``is_snapshot``, and :meth:`FeedVenue.touch` reads its best bid. An O2
depth stream starts with a snapshot; a tplus one starts with diffs
(``initial_snapshot``), so "ready" there means the socket is up.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from typing import Any, Callable

from consumers import Stall, idle_guard
from feed import FeedProcess
from feed import Scenario as O2Scenario
from messages import PAIR
from tplus_feed import Scenario as TplusScenario
from tplus_feed import TplusFeedProcess
from tplus_messages import ASSET0

from o2sync import O2Client
from o2sync.testing import Simulator, TplusSimulator
from o2sync.tplus import MarketDataClient

KEYS = ("o2", "tplus")


def add_venue_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--venue", choices=(*KEYS, "both"), default="both",
                        help="the venue(s) to measure (default both)")


def chosen(arg: str) -> list[str]:
    """``--venue`` -> the venue keys, in order."""
    return list(KEYS) if arg == "both" else [arg]


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


class _Counter:
    """What :class:`consumers.Stall` reads of a recorder, for a bare counter."""

    open = True
    deadline_ns = float("inf")

    def __init__(self, progress: Callable[[], int]) -> None:
        self._progress = progress

    @property
    def count(self) -> int:
        return self._progress()


def stop_when_idle(progress: Callable[[], int], stop: Callable[[], None],
                   idle: float = 5.0) -> Any:
    """Context manager: ``stop()`` from a helper thread once ``progress()`` stays put
    ``idle`` s (a run waiting for events that will never come ends instead of hanging)."""
    return idle_guard(Stall(_Counter(progress), idle), stop)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the bench feeds


class FeedVenue:
    """One venue against its bench feed (a child process, started by :meth:`running`)."""

    key = ""
    name = ""
    sdk = ""  # the async SDK measured against
    initial_snapshot = True
    feed_class: type[FeedProcess] = FeedProcess

    def __init__(self) -> None:
        self.feed: Any = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Any]:
        with self.feed_class() as feed:
            self.feed = feed
            try:
                yield feed
            finally:
                self.feed = None

    @property
    def pid(self) -> Any:
        return self.feed.proc.pid if self.feed and self.feed.proc else "?"

    def client(self, options: Any = None, **scenario: Any) -> tuple[Any, Any]:
        """A fresh client whose depth topic streams ``scenario`` (``mode``, ``count``,
        ``levels``, ``rate`` of the feed), and that topic."""
        raise NotImplementedError

    @staticmethod
    def touch(update: Any) -> None:
        """Read the best bid of a depth event, as a consumer would."""
        raise NotImplementedError


class O2Feed(FeedVenue):
    key, name, sdk = "o2", "O2", "o2_sdk"

    def client(self, options: Any = None, **scenario: Any) -> tuple[Any, Any]:
        url = self.feed.ws_url(O2Scenario(**scenario))
        return O2Client(ws_url=url, api_url=self.feed.api_url, **(options or {})), PAIR

    @staticmethod
    def touch(update: Any) -> None:
        bids = update.changes.bids
        if bids:
            int(bids[0].price)


class TplusFeed(FeedVenue):
    key, name, sdk = "tplus", "tplus", "tpluspy 0.6.0"
    initial_snapshot = False
    feed_class = TplusFeedProcess

    def __init__(self) -> None:
        super().__init__()
        self.asset = ASSET0

    def fresh_asset(self, **scenario: Any) -> int:
        """A new asset of the feed (its diff sequence starts afresh) streaming ``scenario``."""
        self.asset += 1
        self.feed.setup(TplusScenario(**scenario), self.asset)
        return self.asset

    def client(self, options: Any = None, **scenario: Any) -> tuple[Any, Any]:
        asset = self.fresh_asset(**scenario)
        return MarketDataClient(self.feed.base_url, **(options or {})), asset

    @staticmethod
    def touch(update: Any) -> None:
        bids = update.bids
        if bids:
            bids[0][0]  # (price, quantity)


FEEDS: dict[str, type[FeedVenue]] = {"o2": O2Feed, "tplus": TplusFeed}


# ---------------------------------------------------------------- the simulators


class SimVenue:
    """One venue against its simulator (in this process, flow at ``rate`` events/s)."""

    key = ""
    name = ""
    initial_snapshot = True

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.sim: Any = None
        self.topic: Any = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Any]:
        raise NotImplementedError

    def client(self, **options: Any) -> Any:
        raise NotImplementedError

    def snapshot_requests(self) -> dict[str, int]:
        """Depth snapshots the simulator was asked for so far:
        ``{"subscribes": n, "unsubscribes": n}``."""
        raise NotImplementedError


class O2Sim(SimVenue):
    key, name = "o2", "O2"

    @contextlib.contextmanager
    def running(self) -> Iterator[Any]:
        with Simulator(seed=1, rate=self.rate, start_flow=True) as sim:
            self.sim = sim
            m = sim.markets[0]
            self.topic = f"{m['base']['symbol']}/{m['quote']['symbol']}"
            yield sim

    def client(self, **options: Any) -> Any:
        return O2Client(ws_url=self.sim.ws_url, api_url=self.sim.api_url, **options)

    def snapshot_requests(self) -> dict[str, int]:
        return {"subscribes": len(self.sim.client_frames("subscribe_depth")),
                "unsubscribes": len(self.sim.client_frames("unsubscribe_depth"))}


class TplusSim(SimVenue):
    key, name = "tplus", "tplus"
    initial_snapshot = False

    @contextlib.contextmanager
    def running(self) -> Iterator[Any]:
        with TplusSimulator(seed=1, rate=self.rate, start_flow=True,
                            control_interval=None) as sim:
            self.sim = sim
            self.topic = sim.assets[0]
            yield sim

    def client(self, **options: Any) -> Any:
        return MarketDataClient(self.sim.mds_url, **options)

    def snapshot_requests(self) -> dict[str, int]:
        gets = [r for r in self.sim.requests()
                if r.path.startswith("/marketdepth/") and "/diff/" not in r.path]
        return {"subscribes": len(gets), "unsubscribes": 0}


SIMS: dict[str, type[SimVenue]] = {"o2": O2Sim, "tplus": TplusSim}
