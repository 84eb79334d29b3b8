"""Subscriptions: the consumer side of a stream (queue iterator or callback), and merge()."""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Generic,
    Optional,
    TypeVar,
)

from ..errors import SubscriptionClosed

if TYPE_CHECKING:
    from .stream import StreamEngine

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Longest single wait inside get()/iteration, so Ctrl-C reaches the main thread promptly.
WAIT_SLICE = 0.2


class Overflow(str, enum.Enum):
    """What a full subscription queue does with one more event. Either way it is counted.

    Depth streams always behave as DROP_NEWEST and then resynchronise (they discard
    deltas until a fresh snapshot), because a depth stream with a hole is a wrong book.
    """

    DROP_NEWEST = "drop_newest"
    DROP_OLDEST = "drop_oldest"


class Subscription(Generic[T]):
    """One consumer of one stream.

    Queue form (``client.stream_*``): a blocking iterator with ``get(timeout)``;
    iteration ends when the subscription or the client closes, after what was
    already queued. Callback form (``client.on_*``): events are handed to the
    callback on the dispatcher thread, in arrival order. Both forms bound the number
    of pending events (``queue_size``); overflow is counted in ``dropped`` and
    reported through ``on_error`` and logging, never silent.

    Usable as a context manager; ``close()`` is idempotent and sends the unsubscribe
    frame when this was the last consumer of the wire stream.
    """

    def __init__(self, engine: Optional[StreamEngine], name: str, *, maxsize: int,
                 overflow: Overflow = Overflow.DROP_NEWEST,
                 callback: Optional[Callable[[T], Any]] = None, is_depth: bool = False,
                 sink: Optional[Callable[[T], None]] = None) -> None:
        if maxsize < 1:
            raise ValueError(f"queue_size must be >= 1, got {maxsize}")
        self.name = name
        self._engine = engine
        self._callback = callback
        self._sink = sink  # internal consumers (order books) run inline on the producer thread
        self._maxsize = maxsize
        self._overflow = Overflow(overflow)
        self._is_depth = is_depth
        self._cond = threading.Condition(threading.Lock())
        self._buf: deque[T] = deque()
        self._waiters = 0
        self._watchers: list[threading.Event] = []
        self._pending = 0  # callback form: events handed to the dispatcher, not yet run
        self._closed = False  # accepts no more events
        self._cancelled = False  # closed by the user (not by the client shutting down)
        self._needs_snapshot = False  # depth: dropped an event, waiting for a fresh snapshot
        self._resync_due = False  # depth: ask for that snapshot once the backlog has room
        self._overflowing = False
        self._counts = [0, 0]  # dropped, received; shared with the engine's weak reference

    # ---------------------------------------------------------------- producer side

    def _push(self, event: T) -> None:
        """Hand one event over (reader, watchdog or dispatcher thread). Never blocks."""
        if self._sink is not None:
            if not self._closed:
                self._counts[1] += 1
                self._sink(event)
            return
        first_drop = False
        accepted = False
        with self._cond:
            if self._closed:
                return
            forced = False
            if self._is_depth:
                if getattr(event, "is_snapshot", False):
                    self._needs_snapshot = False
                    forced = True  # a snapshot always gets in: it heals the stream
                elif self._needs_snapshot:
                    self._counts[0] += 1
                    return
            backlog = self._pending if self._callback is not None else len(self._buf)
            if backlog >= self._maxsize and not forced:
                first_drop = self._count_drop_locked()
                if self._can_drop_oldest():
                    self._buf.popleft()
                    accepted = True
            else:
                self._overflowing = False
                accepted = True
            if accepted:
                self._counts[1] += 1
                if self._callback is None:
                    self._buf.append(event)
                    if self._waiters:
                        self._cond.notify()
                else:
                    self._pending += 1
        if accepted:
            if self._callback is not None and self._engine is not None:
                self._engine._dispatch(self, event)
            for watcher in self._watchers:
                watcher.set()
        if first_drop and self._engine is not None:
            self._engine._overflowed(self)

    def _can_drop_oldest(self) -> bool:
        return (self._overflow is Overflow.DROP_OLDEST and self._callback is None
                and not self._is_depth)

    def _count_drop_locked(self) -> bool:
        """Count one dropped event; True if it starts an overflow episode (to report)."""
        self._counts[0] += 1
        if self._is_depth and not self._needs_snapshot:
            self._needs_snapshot = True
            self._resync_due = True
        first = not self._overflowing
        self._overflowing = True
        return first

    def _run_callback(self, event: T) -> None:
        """Run the user callback for one event (dispatcher thread or the user's GUI loop)."""
        with self._cond:
            self._pending -= 1
            if self._cancelled:
                return  # closed by the user: do not call back any more
            resync = self._take_resync_locked(self._pending)
        if resync:
            self._request_resync()
        assert self._callback is not None
        try:
            self._callback(event)
        except Exception as exc:  # a user callback must not stop anything
            if self._engine is not None:
                self._engine._callback_failed(self, exc)

    def _end(self) -> None:
        """No more events will come; iterators finish what is queued, then stop."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for watcher in self._watchers:
            watcher.set()

    # ---------------------------------------------------------------- consumer side

    @property
    def dropped(self) -> int:
        """Events lost to overflow (each one also counted in ``client.stats()``)."""
        return self._counts[0]

    @property
    def received(self) -> int:
        """Events accepted into this subscription."""
        return self._counts[1]

    @property
    def is_callback(self) -> bool:
        """True for the callback form (``on_*``)."""
        return self._callback is not None

    @property
    def closed(self) -> bool:
        """True once closed (by ``close()`` or by the client)."""
        return self._closed

    @property
    def pending(self) -> int:
        """Events queued and not yet consumed (or not yet run, for callbacks)."""
        return self._pending if self._callback is not None else len(self._buf)

    @property
    def needs_snapshot(self) -> bool:
        """Depth only: events were lost and deltas are skipped until a fresh snapshot."""
        return self._needs_snapshot

    def get(self, timeout: Optional[float] = None) -> T:
        """Next event, waiting up to ``timeout`` seconds (forever if None).

        Raises ``queue.Empty`` on timeout and :class:`~o2sync.errors.SubscriptionClosed`
        once the subscription has ended and everything queued was consumed.
        """
        if self._callback is not None:
            raise TypeError(f"{self!r} delivers to a callback; it has no queue to get() from")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._buf:
                    event = self._buf.popleft()
                    if self._resync_due and self._take_resync_locked(len(self._buf)):
                        break
                    return event
                if self._closed:
                    raise SubscriptionClosed(f"{self.name} is closed")
                wait = WAIT_SLICE
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        raise queue.Empty
                self._waiters += 1
                try:
                    self._cond.wait(wait)
                finally:
                    self._waiters -= 1
        self._request_resync()
        return event

    def _take_resync_locked(self, backlog: int) -> bool:
        """True (once) when a depth stream that lost events should ask for its snapshot.

        Not at the overflow itself: a consumer that has stopped reading would then
        make the stream resubscribe after every snapshot. Only once the consumer has
        worked its backlog down to half the queue.
        """
        if self._resync_due and backlog <= self._maxsize // 2:
            self._resync_due = False
            return True
        return False

    def _request_resync(self) -> None:
        if self._engine is not None and not self._closed:
            self._engine._resync_for(self)

    def _get_nowait(self) -> tuple[bool, Any]:
        """(True, event) if one is queued; (False, ended) otherwise."""
        with self._cond:
            if self._buf:
                return True, self._buf.popleft()
            return False, self._closed

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        try:
            return self.get()
        except SubscriptionClosed:
            raise StopIteration from None

    def __call__(self, event: T) -> Any:
        """Decorator form keeps the decorated name callable: forwards to the callback."""
        if self._callback is None:
            raise TypeError(f"{self!r} has no callback")
        return self._callback(event)

    def close(self) -> None:
        """Stop this subscription (idempotent). Unsubscribes on the wire if it was the last."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cancelled = True
            self._buf.clear()
            self._cond.notify_all()
        for watcher in self._watchers:
            watcher.set()
        if self._engine is not None:
            self._engine._unsubscribe(self)

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        form = "callback" if self._callback is not None else "queue"
        state = "closed" if self._closed else "open"
        return (f"<Subscription {self.name} {form} {state} pending={self.pending} "
                f"dropped={self.dropped}>")


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
        sub._watchers.append(wake)
    try:
        yield from _merge_loop(list(subs), wake, timeout)
    finally:
        for sub in subs:
            sub._watchers.remove(wake)


def _merge_loop(subs: list[Subscription[Any]], wake: threading.Event,
                timeout: Optional[float]) -> Iterator[tuple[Subscription[Any], Any]]:
    idle_since = time.monotonic()
    while True:
        wake.clear()
        ended = 0
        got_any = False
        for sub in subs:
            ok, value = sub._get_nowait()
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
        wait = WAIT_SLICE
        if timeout is not None:
            wait = min(wait, idle_since + timeout - time.monotonic())
            if wait <= 0:
                return
        wake.wait(wait)
