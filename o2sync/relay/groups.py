"""Consumer groups: a relayed stream as an at-least-once worker queue across hosts.

``stream_trades(market, group="workers")`` on a client reading a relay joins the
Redis consumer group ``workers`` of that stream: each entry goes to one member. An
event is acknowledged (``XACK``) when its consumer takes the next one, or calls
``sub.ack(event)``; what a dead worker took and never acknowledged is reclaimed
(``XAUTOCLAIM``) by a live member after ``claim_after`` seconds and delivered again.
Depth refuses group mode: a book needs every delta.
"""

from __future__ import annotations

import collections
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

from ..engine.subscription import Subscription


@dataclass
class GroupInfo:
    """A topic read as a member of a consumer group (``Topic.info``)."""

    group: str
    consumer: str
    claim_after: float
    ids: collections.deque[bytes] = field(default_factory=collections.deque, compare=False)
    sub: Optional[Subscription[Any]] = field(default=None, compare=False)


def default_consumer() -> str:
    """A consumer name unique to this process: host, pid and a counter."""
    return f"{socket.gethostname()}-{os.getpid()}-{next(_counter)}"


_counter = iter(range(1, 1 << 62))


def check_group(group: object, consumer: object) -> None:
    """ValueError at the call for a bad group or consumer name."""
    if not isinstance(group, str) or not group:
        raise ValueError(f"group must be a non-empty string, got {group!r}")
    if consumer is not None and (not isinstance(consumer, str) or not consumer):
        raise ValueError(f"consumer must be a non-empty string, got {consumer!r}")


class GroupSubscription:
    """A queue subscription of a consumer group: ``get()``/iteration as on any
    subscription, plus :meth:`ack`. Everything else is the inner subscription's."""

    def __init__(self, inner: Subscription[Any], info: GroupInfo, acker: Any) -> None:
        self._inner = inner
        self._info = info
        self._acker = acker  # acker(ids): XACK them
        self._lock = threading.Lock()
        self._current: Optional[tuple[Any, bytes]] = None

    def get(self, timeout: Optional[float] = None) -> Any:
        """The next event; acknowledges the one taken before (unless acked already)."""
        event = self._inner.get(timeout)
        with self._lock:
            entry_id = self._info.ids.popleft() if self._info.ids else None
            previous, self._current = self._current, (
                (event, entry_id) if entry_id is not None else None)
        if previous is not None:
            self._acker([previous[1]])
        return event

    def ack(self, event: Any) -> None:
        """Acknowledge ``event`` (the last one taken) now: it will not be delivered again."""
        with self._lock:
            current = self._current
            if current is None or current[0] is not event:
                return  # acknowledged already (or never taken)
            self._current = None
        self._acker([current[1]])

    def __iter__(self) -> GroupSubscription:
        return self

    def __next__(self) -> Any:
        from ..errors import SubscriptionClosed

        try:
            return self.get()
        except SubscriptionClosed:
            raise StopIteration from None

    def close(self) -> None:
        """Leave; what was taken and not acknowledged is reclaimed by another member."""
        self._inner.close()

    def __enter__(self) -> GroupSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not set yet (or private): never recurse
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return (f"<GroupSubscription {self._info.group}/{self._info.consumer} "
                f"of {self._inner!r}>")
