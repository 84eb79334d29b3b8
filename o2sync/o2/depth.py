"""An O2 depth topic as the venue keeps it: its precision and, once a second
consumer has joined, the engine's own copy of the book.

With that copy a late joiner (another ``stream_depth``, a ``LiveOrderBook``, an
overflowed consumer that healed) starts from a snapshot made locally, at the exact
point of the delta stream it joins, instead of a wire resync that every other
consumer of the topic would see as a new snapshot. The copy costs a few dict
operations per delta, so it is kept only for topics that had a second consumer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Optional

from ..books.levels import SortedLevels
from .models import DepthChanges, DepthUpdate, PackedDepthChanges


class TopicBook:
    """The engine's copy of one depth topic's book (reader thread writes, under ``lock``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bids = SortedLevels(descending=True)
        self.asks = SortedLevels(descending=False)
        self.ready = False  # loaded from a snapshot and every delta since

    def load(self, changes: DepthChanges) -> None:
        self.bids.load(changes.pairs("bids"))
        self.asks.load(changes.pairs("asks"))
        self.ready = True

    def apply(self, changes: DepthChanges) -> None:
        if self.ready:
            for price, qty in changes.pairs("bids"):
                self.bids.set(price, qty)
            for price, qty in changes.pairs("asks"):
                self.asks.set(price, qty)

    def snapshot(self, market_id: str) -> DepthUpdate:
        """A snapshot DepthUpdate of the book now (call with ``lock`` held)."""
        bids = tuple(x for level in self.bids.top() for x in level)
        asks = tuple(x for level in self.asks.top() for x in level)
        return DepthUpdate(market_id, PackedDepthChanges.from_ints(bids, asks), True)


@dataclass
class DepthTopic:
    """The venue's data on one depth topic (``Topic.info``)."""

    precision: int
    book: Optional[TopicBook] = field(default=None, compare=False)
