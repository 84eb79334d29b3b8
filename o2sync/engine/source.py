"""A frame source beside the WebSocket connections: where a client's raw frames come
from when they do not come from the exchange (a relay log such as Redis Streams).

A :class:`Source` attached to a :class:`~o2sync.engine.stream.StreamEngine` replaces
its sockets: a topic that starts is handed to the source instead of a socket, and the
source hands the raw frames it reads to :meth:`StreamEngine.source_frame`, which runs
them through the venue's own ``route`` (the same decoders, the same subscriptions,
the same taps). The engine knows nothing of what the source reads; the source knows
nothing of the venue's frames beyond where they belong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from .registry import Topic
    from .stream import StreamEngine


class Source:
    """Base of every frame source; the engine calls these under its lock, so each
    must be quick (hand the work to the source's own thread)."""

    engine: StreamEngine

    def bind(self, engine: StreamEngine) -> None:
        """Called once, by the engine it feeds."""
        self.engine = engine

    def topic_started(self, topic: Topic) -> None:
        """``topic`` has its first consumer: start reading it."""
        raise NotImplementedError

    def topic_stopped(self, topic: Topic) -> None:
        """``topic`` lost its last consumer: stop reading it."""
        raise NotImplementedError

    def resync(self, topic: Topic) -> None:
        """A consumer of ``topic`` lost events and needs a fresh snapshot."""
        raise NotImplementedError

    def connect(self, timeout: Optional[float]) -> None:
        """Block until the source is reachable; raise ConnectError otherwise."""
        raise NotImplementedError

    @property
    def is_connected(self) -> bool:
        """True while the source is reachable."""
        raise NotImplementedError

    def stop(self) -> None:
        """Begin closing (never blocks): the engine is finishing."""
        raise NotImplementedError

    def join(self, timeout: float) -> bool:
        """Wait for the source's threads; True when they all ended."""
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """The source's own counters (under ``stats()["source"]``)."""
        return {}
