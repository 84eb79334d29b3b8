"""The registry's records: one :class:`Topic` per stream, holding weak references to
its consumers. Reconnect = new socket + replay of every topic on it."""

from __future__ import annotations

import weakref
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Optional

from .backoff import ResyncLimiter
from .venue import TopicSpec

if TYPE_CHECKING:
    from .subscription import Subscription

#: The local topics every engine has: connection events and error reports.
LIFECYCLE = TopicSpec(("lifecycle",))
ERRORS = TopicSpec(("errors",))


class SubRef(weakref.ref):  # type: ignore[type-arg,unused-ignore]
    """A weak reference to a Subscription that remembers its counters and topic key,
    so the engine can account for a subscription Python has already collected."""

    __slots__ = ("counts", "key")
    counts: list[int]
    key: Hashable


class Topic:
    """One stream (a wire subscription, or a local one such as lifecycle) and its consumers.

    ``refs`` holds weak references to the consumers, in a tuple replaced on change
    so the reader thread can read it without a lock. Weak, because a queue
    subscription nobody references any more can never be read: it is closed and
    unsubscribed when Python collects it (the usual ``for ev in client.stream_x():
    break`` leaves exactly that). Callback subscriptions are kept alive by the
    engine until closed. ``awaiting_snapshot`` (depth) lets the venue skip deltas
    that precede the snapshot of a (re)subscription.
    """

    __slots__ = ("awaiting_snapshot", "info", "key", "refs", "resync_pending", "resyncs",
                 "subscribe_frames", "url")

    def __init__(self, spec: TopicSpec) -> None:
        self.key = spec.key
        self.url: Optional[str] = spec.url
        self.subscribe_frames = list(spec.subscribe_frames)
        self.info: Any = spec.info
        self.refs: tuple[SubRef, ...] = ()
        self.awaiting_snapshot = False
        self.resyncs = ResyncLimiter()  # spaces this topic's resyncs out in a run
        self.resync_pending = False  # a rate-limited resubscription is planned

    @property
    def subscribers(self) -> list[Subscription[Any]]:
        """The live consumers."""
        return [sub for sub in (ref() for ref in self.refs) if sub is not None]

    def push(self, event: Any) -> None:
        """Offer ``event`` to every consumer (reader thread, lock-free)."""
        for ref in self.refs:
            sub = ref()
            if sub is not None:
                sub.offer(event)

    def __repr__(self) -> str:
        return f"Topic({self.key!r}, subscribers={len(self.refs)})"
