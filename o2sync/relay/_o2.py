"""What the relay knows of O2 frames: which topic a frame belongs to, the relay's own
copy of a depth book, and a snapshot written in O2's own wire shape (so a reader's
venue decodes it like the server's ``subscribe_depth``)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Callable, Optional, cast

from .._json import dumps, loads
from ..engine.registry import Topic
from ..engine.venue import TopicSpec, url_path
from ..o2 import protocol
from ..o2.decode import DECODERS, decode_depth, market_key
from ..o2.depth import DepthTopic, TopicBook
from ..o2.models import DepthChanges, DepthSnapshot
from .envelope import stream_name

VENUE = "o2"
#: The stream kinds the relay carries for O2 (account streams: not yet).
KINDS = ("depth", "trades")


def _noop(event: Any) -> None:
    """The relay's own consumer: the frames are what it wants, not the events."""


def snapshot_frame(market_id: str, bids: list[tuple[Any, Any]], asks: list[tuple[Any, Any]]
                   ) -> bytes:
    """A ``subscribe_depth`` frame of these absolute levels (best first)."""
    return dumps({"action": "subscribe_depth", "market_id": market_id, "orders": {
        "buys": [{"price": str(p), "quantity": str(q)} for p, q in bids],
        "sells": [{"price": str(p), "quantity": str(q)} for p, q in asks]}}).encode()


class RelayBook:
    """The relay's copy of one depth stream, following exactly the frames it logs."""

    def __init__(self, market_id: str) -> None:
        self.market_id = market_id
        self.book = TopicBook()

    @property
    def ready(self) -> bool:
        return self.book.ready

    def apply(self, msg: dict[str, Any]) -> bool:
        """Apply one depth frame; True when it was a snapshot. A frame that does not
        decode leaves the book not ready (a reader then waits for a snapshot too)."""
        try:
            event = decode_depth(msg)
        except Exception:  # counted by the caller as a broken book
            self.book.ready = False
            return False
        if event.is_snapshot:
            self.book.load(cast(DepthSnapshot, event.changes))
            return True
        self.book.apply(cast(DepthChanges, event.changes))
        return False

    def invalidate(self) -> None:
        self.book.ready = False

    def load_frame(self, data: bytes) -> None:
        """Reload from a synthesized snapshot frame."""
        self.apply(loads(data))

    def snapshot(self) -> bytes:
        return snapshot_frame(self.market_id, self.book.bids.top(), self.book.asks.top())

    def levels(self) -> dict[str, list[tuple[int, int]]]:
        """Both sides now (tests compare books with this)."""
        return {"bids": self.book.bids.top(), "asks": self.book.asks.top()}


class O2Publishing:
    """The O2 half of a publishing relay: subscribes the chosen topics on the
    client and tells which topic each raw frame belongs to."""

    venue = VENUE

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.streams: dict[Hashable, tuple[str, str, str]] = {}  # key -> (stream, kind, target)
        # the relay's own consumers: held here, or Python collects (and unsubscribes) them
        self.subscriptions: list[Any] = []

    def markets_body(self) -> Any:
        """The exchange's ``GET /v1/markets`` answer, for readers without REST."""
        return self.client.rest.get("markets")

    def add(self, kind: str, target: str, precision: int = 1
            ) -> tuple[Hashable, str, str, str, bool]:
        """Subscribe ``kind:target`` on the client; its key, stream, kind, pair, and
        whether the client already streamed it (the relay then missed its snapshot)."""
        if kind not in KINDS:
            raise ValueError(f"the relay carries {', '.join(KINDS)} of O2, not {kind!r}")
        market = self.client.get_market(target)
        key: Hashable = (kind, market.market_id)
        existed = key in self.client._engine.topics
        if kind == "depth":
            stream = stream_name(self.prefix, VENUE, kind, market.pair, precision)
            sub = self.client._depth(market, precision, None, sink=_noop)
        else:
            stream = stream_name(self.prefix, VENUE, kind, market.pair)
            frame = dumps(protocol.subscribe_trades(market.market_id))
            spec = TopicSpec(key, self.client.ws_url, (frame,))
            sub = self.client._engine.subscribe(spec, name=f"relay:{stream}", sink=_noop)
        self.subscriptions.append(sub)
        self.streams[key] = (stream, kind, market.pair)
        return key, stream, kind, market.pair, existed

    @staticmethod
    def classify(url: str, data: bytes) -> Optional[tuple[Hashable, bool, Any]]:
        """The topic key of a frame, whether it is a depth snapshot, and the parsed
        message; None for frames of no relayed topic (pongs, acks, errors)."""
        if data == protocol.PONG:
            return None
        try:
            msg = loads(data)
        except ValueError:
            return None
        if msg.__class__ is not dict:
            return None
        entry = DECODERS.get(msg.get("action"))  # type: ignore[arg-type]
        market_id = msg.get("market_id")
        if entry is None or not isinstance(market_id, str) or entry[0] not in KINDS:
            return None
        try:
            key = (entry[0], market_key(market_id))
        except Exception:  # a malformed id belongs to no topic
            return None
        return key, msg["action"] == "subscribe_depth", msg

    def new_book(self, key: Hashable) -> Optional[RelayBook]:
        kind, market_id = cast(tuple[str, str], key)
        return RelayBook(market_id) if kind == "depth" else None

    def engine_snapshot(self, key: Hashable) -> Optional[bytes]:
        """The client engine's own book of ``key`` as a snapshot frame, taken on the
        reader thread between two frames (None when it is not ready)."""
        topic = self.client._engine.topics.get(key)
        if topic is None or not isinstance(topic.info, DepthTopic):
            return None
        book = topic.info.book
        with book.lock:
            if not book.ready or topic.awaiting_snapshot:
                return None
            return snapshot_frame(cast(tuple[str, str], key)[1], book.bids.top(),
                                  book.asks.top())

    def close(self) -> None:
        """End the relay's own consumers (the client's wire subscriptions go with the last)."""
        for sub in self.subscriptions:
            sub.close()
        self.subscriptions.clear()

    def path(self, url: str) -> str:
        return url_path(url)


class O2Reading:
    """The O2 half of a relay source: the stream of each topic of a reading client."""

    venue = VENUE

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def stream_for(self, topic: Topic) -> Optional[str]:
        kind, market_id = cast(tuple[str, str], topic.key)
        if kind not in KINDS:
            return None
        pair = self.client.get_market(market_id).pair
        if kind == "depth":
            info: DepthTopic = topic.info
            return stream_name(self.prefix, VENUE, kind, pair, info.precision)
        return stream_name(self.prefix, VENUE, kind, pair)


Resolver = Callable[[Topic], Optional[str]]
