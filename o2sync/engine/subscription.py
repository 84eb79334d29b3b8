"""Subscriptions: the consumer side of a stream, as a queue iterator or a callback.

A :class:`Subscription` talks to whoever feeds it through the small
:class:`SubscriptionOwner` interface (the engine implements it); the feeding side
calls :meth:`Subscription.offer`, :meth:`Subscription.finish` and
:meth:`Subscription.skip`. Nothing else crosses between the two.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Hashable, Iterator
from typing import Any, Callable, Generic, Optional, Protocol, TypeVar

from ..errors import SubscriptionClosed
from .options import Overflow, overflow_policy
from .threads import wait_slice

log = logging.getLogger(__name__)

T = TypeVar("T")

_END = object()  # queued behind the last event of a subscription that ended


class SubscriptionOwner(Protocol):
    """What a subscription asks of the side that feeds it (the engine)."""

    def dispatch(self, sub: Subscription[Any], event: Any) -> None:
        """Run ``sub``'s callback for ``event`` on the callback thread."""

    def overflowed(self, sub: Subscription[Any]) -> None:
        """``sub`` started dropping events (report it once per episode)."""

    def resync_requested(self, sub: Subscription[Any]) -> None:
        """``sub`` lost depth events and has room again: it wants a fresh snapshot."""

    def unsubscribe(self, sub: Subscription[Any]) -> None:
        """``sub`` was closed by its user."""

    def callback_failed(self, sub: Subscription[Any], exc: Exception) -> None:
        """``sub``'s callback raised ``exc``."""


class Subscription(Generic[T]):
    """One consumer of one stream.

    Queue form (``client.stream_*``): a blocking iterator with ``get(timeout)``;
    iteration ends when the subscription or the client closes, after what was
    already queued. Callback form (``client.on_*``): events are handed to the
    callback on the dispatcher thread, in arrival order. Both forms bound the number
    of pending events (``queue_size``); overflow is counted in ``dropped`` and
    reported through ``on_error`` and logging, never silent. A stream whose socket
    can never connect (HTTP 404 on the handshake, say), or never did within
    ``connect_timeout`` (refused, timed out, a certificate), ends with that error:
    the iterator and ``get()`` raise :class:`~o2sync.errors.StreamFailedError`.

    Usable as a context manager; ``close()`` is idempotent and sends the unsubscribe
    frame when this was the last consumer of the wire stream.
    """

    def __init__(self, owner: Optional[SubscriptionOwner], name: str, *, maxsize: int,
                 overflow: Overflow = Overflow.DROP_NEWEST,
                 callback: Optional[Callable[[T], Any]] = None, is_depth: bool = False,
                 sink: Optional[Callable[[T], None]] = None, key: Hashable = None,
                 on_gap: Optional[Callable[[], None]] = None) -> None:
        if maxsize < 1:
            raise ValueError(f"queue_size must be >= 1, got {maxsize}")
        self.name = name
        self.key = key  # the topic it consumes
        self._owner = owner
        self._callback = callback
        self._sink = sink  # internal consumers (order books) run inline on the producer thread
        self._on_gap = on_gap  # sinks: told when the stream lost an event
        self._maxsize = maxsize
        self._overflow = overflow_policy(overflow)
        self._is_depth = is_depth
        # One lock guards the bookkeeping (flags, counts, overflow); the events
        # themselves travel through a C-level SimpleQueue, so a blocked get() waits
        # and wakes without any Python-level condition machinery.
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._ended = False  # the end marker is in the queue (closed, finished)
        self._watchers: list[threading.Event] = []
        self._end_hooks: tuple[Callable[[], None], ...] = ()  # told once it has ended
        self._pending = 0  # callback form: events handed to the dispatcher, not yet run
        self._closed = False  # accepts no more events
        self._cancelled = False  # closed by the user (not by the client shutting down)
        self._error: Optional[BaseException] = None  # why the stream ended, if it failed
        self._needs_snapshot = False  # depth: dropped an event, waiting for a fresh snapshot
        self._joining = False  # depth: joined a running stream; what it skips it never had
        self._resync_due = False  # depth: ask for that snapshot once the backlog has room
        self._overflowing = False
        self.counts = [0, 0]  # dropped, received; shared with the engine's weak reference
        self.callback_failures = 0  # times the callback raised
        self.elsewhere = 0  # inline mode: callbacks of it on the dispatcher thread

    # ---------------------------------------------------------------- producer side

    @property
    def is_depth(self) -> bool:
        """True for a depth stream: it heals from snapshots after losing events."""
        return self._is_depth

    def offer(self, event: T) -> None:
        """Hand one event over (reader, watchdog or dispatcher thread). Never blocks."""
        if self._sink is not None:
            if not self._closed:
                if self._needs_snapshot and getattr(event, "is_snapshot", False):
                    self._needs_snapshot = self._joining = False
                self.counts[1] += 1
                self._sink(event)
            return
        first_drop = False
        accepted = False
        with self._lock:
            if self._closed:
                return
            forced = False
            if self._is_depth:
                if getattr(event, "is_snapshot", False):
                    self._needs_snapshot = self._joining = False
                    forced = True  # a snapshot always gets in: it heals the stream
                elif self._needs_snapshot:
                    if not self._joining:
                        self.counts[0] += 1  # lost to this consumer
                    return
            callback = self._callback
            backlog = self._pending if callback is not None else self._queue.qsize()
            if backlog >= self._maxsize and not forced:
                first_drop = self._count_drop_locked()
                if self._can_drop_oldest():
                    self._discard_oldest()
                    accepted = True
            else:
                self._overflowing = False
                accepted = True
            if accepted:
                self.counts[1] += 1
                if callback is None:
                    self._queue.put(event)
                else:
                    self._pending += 1
        if accepted:
            if callback is not None and self._owner is not None:
                self._owner.dispatch(self, event)
            for watcher in self._watchers:
                watcher.set()
        if first_drop and self._owner is not None:
            self._owner.overflowed(self)

    def _discard_oldest(self) -> None:
        """DROP_OLDEST: make room by taking the oldest event out (the consumer may
        have taken it first, which makes room just as well)."""
        with contextlib.suppress(queue.Empty):
            self._queue.get_nowait()

    def skip(self) -> None:
        """Count one event this consumer will never see (it waits for a snapshot);
        a consumer that is still joining never had it, so nothing is lost."""
        if not self._joining:
            self.counts[0] += 1

    def wants_snapshot(self) -> None:
        """Depth: skip deltas from now until the next snapshot (a gap, a rebuild)."""
        with self._lock:
            self._needs_snapshot = True

    def joins(self) -> None:
        """Depth: this consumer joins a running stream; it starts at the next snapshot,
        and the deltas before that one are not losses (it never had them)."""
        with self._lock:
            self._needs_snapshot = self._joining = True

    def lost(self) -> None:
        """The stream lost an event (a frame that could not be decoded): a depth
        consumer waits for the fresh snapshot, a sink is told."""
        if self._on_gap is not None:
            self._on_gap()
        elif self._is_depth:
            self.wants_snapshot()

    def _can_drop_oldest(self) -> bool:
        return (self._overflow is Overflow.DROP_OLDEST and self._callback is None
                and not self._is_depth)

    def _count_drop_locked(self) -> bool:
        """Count one dropped event; True if it starts an overflow episode (to report)."""
        self.counts[0] += 1
        if self._is_depth and not self._needs_snapshot:
            self._needs_snapshot = True
            self._resync_due = True
        first = not self._overflowing
        self._overflowing = True
        return first

    def run_callback(self, event: T) -> None:
        """Run the user callback for one event (dispatcher thread or the user's GUI loop)."""
        with self._lock:
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
            if self._owner is not None:
                self._owner.callback_failed(self, exc)

    def finish(self, error: Optional[BaseException] = None) -> None:
        """No more events will come; iterators finish what is queued, then stop
        (or raise ``error``, when the stream failed)."""
        with self._lock:
            if error is not None and not self._closed:
                self._error = error
            self._closed = True
            self._end_locked()
        for watcher in self._watchers:
            watcher.set()
        self._ended_hooks()

    def on_end(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` once this subscription has ended (closed, finished or
        failed; at once if it already has): a sink's owner wakes its waiters."""
        with self._lock:
            ended = self._closed
            if not ended:
                self._end_hooks = (*self._end_hooks, hook)
        if ended:
            hook()

    def _ended_hooks(self) -> None:
        with self._lock:
            hooks, self._end_hooks = self._end_hooks, ()
        for hook in hooks:
            try:
                hook()
            except Exception:  # an owner's bug must not stop a close
                log.exception("end hook of %r failed", self)

    # ---------------------------------------------------------------- consumer side

    @property
    def dropped(self) -> int:
        """Events lost to overflow (each one also counted in ``client.stats()``)."""
        return self.counts[0]

    @property
    def received(self) -> int:
        """Events accepted into this subscription."""
        return self.counts[1]

    @property
    def is_callback(self) -> bool:
        """True for the callback form (``on_*``)."""
        return self._callback is not None

    @property
    def closed(self) -> bool:
        """True once closed (by ``close()``, by the client, or by a failed stream)."""
        return self._closed

    @property
    def error(self) -> Optional[BaseException]:
        """Why the stream ended, when it failed (None while open or after a normal end)."""
        return self._error

    @property
    def pending(self) -> int:
        """Events queued and not yet consumed (or not yet run, for callbacks)."""
        if self._callback is not None:
            return self._pending
        return max(0, self._queue.qsize() - self._ended)

    @property
    def needs_snapshot(self) -> bool:
        """Depth only: events were lost and deltas are skipped until a fresh snapshot."""
        return self._needs_snapshot

    def get(self, timeout: Optional[float] = None) -> T:
        """Next event, waiting up to ``timeout`` seconds (forever if None).

        Raises ``queue.Empty`` on timeout and :class:`~o2sync.errors.SubscriptionClosed`
        once the subscription has ended and everything queued was consumed (or the
        error the stream failed with, a :class:`~o2sync.errors.StreamFailedError`).
        """
        if self._callback is not None:
            raise TypeError(f"{self!r} delivers to a callback; it has no queue to get() from")
        try:
            event = self._queue.get(False)  # the usual case while events flow: no waiting
        except queue.Empty:
            event = self._wait(timeout)
        if event is _END:
            self._queue.put(_END)  # for the next getter: the end is for everyone
            self._raise_ended()
        if self._resync_due:
            with self._lock:
                resync = self._take_resync_locked(self._queue.qsize())
            if resync:
                self._request_resync()
        return event  # type: ignore[no-any-return]

    def _wait(self, timeout: Optional[float]) -> Any:
        """Wait for the next item of the queue (an event or the end marker);
        queue.Empty on timeout. A worker thread waiting forever gets ``None`` from
        :func:`wait_slice`: one wait in C, no wake-ups while idle."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = wait_slice(deadline, time.monotonic())
            if wait is not None and wait <= 0:
                raise queue.Empty
            try:
                return self._queue.get(timeout=wait)
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    def _end_locked(self) -> None:
        """Put the end marker behind what is queued (once): getters finish the queue,
        then see it (each puts it back for the next one)."""
        if not self._ended:
            self._ended = True
            self._queue.put(_END)

    def _discard_all(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()

    def _raise_ended(self) -> None:
        if self._error is not None:
            raise self._error
        raise SubscriptionClosed(f"{self.name} is closed")

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
        if self._owner is not None and not self._closed:
            self._owner.resync_requested(self)

    def poll(self) -> tuple[bool, Any]:
        """``(True, event)`` if one is queued; ``(False, ended)`` otherwise. Raises the
        stream's error once it failed and is drained."""
        try:
            event = self._queue.get_nowait()
        except queue.Empty:
            return False, self._closed
        if event is not _END:
            return True, event
        self._queue.put(_END)
        if self._error is not None:
            self._raise_ended()
        return False, True

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
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._cancelled = True
            self._discard_all()
            self._end_locked()
        for watcher in self._watchers:
            watcher.set()
        self._ended_hooks()
        if self._owner is not None:
            self._owner.unsubscribe(self)

    def watch(self, wake: threading.Event) -> None:
        """Set ``wake`` whenever an event arrives or the subscription ends (merge)."""
        self._watchers.append(wake)

    def unwatch(self, wake: threading.Event) -> None:
        self._watchers.remove(wake)

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        form = "callback" if self._callback is not None else "queue"
        state = "failed" if self._error is not None else "closed" if self._closed else "open"
        return (f"<Subscription {self.name} {form} {state} pending={self.pending} "
                f"dropped={self.dropped}>")
