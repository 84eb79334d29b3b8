"""StreamEngine: one connection with its reader, watchdog and dispatcher threads,
and the registry of subscriptions that is replayed on every (re)connect.

Venue code supplies a router (``on_frame(text)``, run on the reader thread) that
decodes frames and calls :meth:`StreamEngine.deliver`, and the frames that
subscribe and unsubscribe each topic. Everything else is shared by every venue.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Hashable
from typing import Any, Callable, Optional

from ..errors import CallbackError, ClientClosedError, ConnectError, O2SyncError, StreamOverflow
from .backoff import Backoff
from .connection import Connection
from .dispatcher import Dispatcher, Scheduler
from .lifecycle import ConnectionEvent, ConnectionState
from .subscription import Overflow, Subscription
from .watchdog import Watchdog

log = logging.getLogger(__name__)

LIFECYCLE: tuple[str] = ("lifecycle",)
ERRORS: tuple[str] = ("errors",)
_LOG_EVERY = 1000  # after the first few, log one repeated error in this many


class Topic:
    """One wire stream (or a local one such as lifecycle): its frames and consumers.

    ``refs`` holds weak references to the consumers, in a tuple replaced on change
    so the reader thread can read it without a lock. Weak, because a queue
    subscription nobody references any more can never be read: it is closed and
    unsubscribed when Python collects it (the usual ``for ev in client.stream_x():
    break`` leaves exactly that). Callback subscriptions are kept alive by the
    engine until closed. ``awaiting_snapshot`` (depth) makes the router skip deltas
    that precede the snapshot of a (re)subscription.
    """

    __slots__ = ("awaiting_snapshot", "info", "key", "refs", "subscribe_frames")

    def __init__(self, key: Hashable, subscribe_frames: list[str], info: Any = None) -> None:
        self.key = key
        self.subscribe_frames = subscribe_frames
        self.refs: tuple[_SubRef, ...] = ()
        self.awaiting_snapshot = False
        self.info = info

    @property
    def subscribers(self) -> list[Subscription[Any]]:
        """The live consumers."""
        return [sub for sub in (ref() for ref in self.refs) if sub is not None]

    def __repr__(self) -> str:
        return f"Topic({self.key!r}, subscribers={len(self.refs)})"


class _SubRef(weakref.ref):  # type: ignore[type-arg,unused-ignore]
    """A weak reference to a Subscription that remembers its counters and topic."""

    __slots__ = ("counts", "key")
    counts: list[int]
    key: Hashable


def _push_all(topic: Topic, event: Any) -> None:
    for ref in topic.refs:
        sub = ref()
        if sub is not None:
            sub._push(event)


UnsubscribeFrames = Callable[[Topic, dict[Hashable, Topic]], list[str]]


class StreamEngine:
    """The venue-agnostic core of a streaming client. Threads start lazily."""

    def __init__(self, url: str, *, name: str, ping_text: Optional[str] = "PING",
                 ping_interval: float = 20.0, pong_timeout: float = 20.0,
                 reconnect: bool = True, max_reconnect_attempts: Optional[int] = None,
                 backoff_initial: float = 0.25, backoff_max: float = 30.0,
                 connect_timeout: float = 10.0, queue_size: int = 10_000,
                 overflow: Any = Overflow.DROP_NEWEST, dispatcher: Optional[Scheduler] = None,
                 sslopt: Optional[dict[str, Any]] = None, proxy: Optional[str] = None,
                 header: Optional[dict[str, str]] = None,
                 unsubscribe_frames: Optional[UnsubscribeFrames] = None) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.name = name
        self.queue_size = queue_size
        self.overflow = Overflow(overflow)
        self.topics: dict[Hashable, Topic] = {}
        self.counters: dict[str, int] = dict.fromkeys(
            ("messages", "events", "decode_errors", "server_errors", "ignored",
             "resync_skipped", "callback_errors", "pongs"), 0)
        self._unsubscribe_frames = unsubscribe_frames or (lambda topic, topics: [])
        self._lock = threading.RLock()  # guards topics, subscribers and what is sent
        self._replayed_generation = -1
        self._started = False
        self._dispatcher_started = False
        self._closing = False
        self._finished = False
        self._connected = threading.Event()
        self._closed = threading.Event()
        self._dropped_by_closed = 0
        self._pinned: set[Subscription[Any]] = set()  # callback consumers, alive until closed
        self._error_counts: dict[str, int] = {}
        self.router: Callable[[bytes], None] = self._no_router
        self._taps: tuple[Callable[[bytes], None], ...] = ()
        self.connection = Connection(url, name=name, on_frame=self._on_frame,
                                     on_lost=self._on_lost, sslopt=sslopt, proxy=proxy,
                                     header=header)
        self.watchdog = Watchdog(
            self.connection, name=name, on_open=self._on_open, on_lifecycle=self._on_lifecycle,
            ping_text=ping_text, ping_interval=ping_interval, pong_timeout=pong_timeout,
            backoff=Backoff(backoff_initial, backoff_max), connect_timeout=connect_timeout,
            reconnect=reconnect, max_attempts=max_reconnect_attempts)
        self.dispatcher = Dispatcher(f"{name}-dispatcher", dispatcher, self._hook_failed)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the threads (idempotent). The watchdog connects in the background."""
        with self._lock:
            self._check_open()
            if self._started:
                return
            self._started = True
        self._start_dispatcher()
        self.connection.start()
        self.watchdog.start()

    def wait_connected(self, timeout: Optional[float]) -> None:
        """Start if needed and block until connected; ConnectError on timeout or close."""
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._connected.is_set():
            if self._closed.is_set():
                raise ConnectError(f"{self.connection.url}: client closed before connecting")
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                raise ConnectError(f"could not connect to {self.connection.url} in {timeout}s")
            self._connected.wait(left)

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    @property
    def closing(self) -> bool:
        return self._closing

    def wait_closed(self, timeout: Optional[float]) -> bool:
        """Block until the engine has closed (slices, so Ctrl-C gets through)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed.is_set():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                return False
            self._closed.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> bool:
        """Close everything within ``timeout`` seconds. Idempotent, callable from any thread.

        Emits CLOSED, ends every iterator (after what they had queued), stops every
        thread. Returns True if all threads ended in time. From inside a callback the
        dispatcher thread ends as soon as that callback returns.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = True
            started = self._started
        self.watchdog.stop()
        self.connection.close()
        if started:
            self.watchdog.join(max(deadline - time.monotonic(), 0))
        self._finish()  # no-op when the watchdog already finished (it emits CLOSED)
        ok = True
        for part in (self.watchdog, self.connection, self.dispatcher):
            ok = part.join(max(deadline - time.monotonic(), 0)) and ok
        if not ok:
            log.warning("%s: some threads did not stop within %.1fs", self.name, timeout)
        return ok

    def _finish(self) -> None:
        """Terminal: CLOSED has been emitted; end every subscription, stop the threads."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self._closing = True
            if not self._started or not self.watchdog.thread.is_alive():
                self._emit_closed_if_missing()
            subs = [s for t in self.topics.values() for s in t.subscribers]
            self._pinned.clear()
        for sub in subs:
            sub._end()
        self.connection.close()
        self.dispatcher.stop()
        self._connected.clear()
        self._closed.set()

    def _emit_closed_if_missing(self) -> None:
        if self.watchdog.state is not ConnectionState.CLOSED:
            self.watchdog.state = ConnectionState.CLOSED
            self._publish(LIFECYCLE, ConnectionEvent(ConnectionState.CLOSED, 0, "closed by client"))

    def _check_open(self) -> None:
        if self._closing:
            raise ClientClosedError(f"{self.name} is closed")

    # ------------------------------------------------------------- subscriptions

    def subscribe(self, key: Hashable, frames: list[str], *, name: str,
                  callback: Optional[Callable[[Any], Any]] = None, is_depth: bool = False,
                  info: Any = None, conflict: Optional[Callable[[Topic], None]] = None,
                  sink: Optional[Callable[[Any], None]] = None) -> Subscription[Any]:
        """Register a consumer of ``key`` before sending anything, then subscribe.

        Two consumers of one key share one wire subscription. ``conflict`` may raise
        if an existing topic of that key cannot serve this request (for example a
        depth stream of another precision).
        """
        sub: Subscription[Any] = Subscription(self, name, maxsize=self.queue_size,
                                              overflow=self.overflow, callback=callback,
                                              is_depth=is_depth, sink=sink)
        sub._key = key  # type: ignore[attr-defined]
        ref = _SubRef(sub, self._forget)
        ref.counts, ref.key = sub._counts, key
        with self._lock:
            self._check_open()
            topic = self.topics.get(key)
            if topic is not None and conflict is not None:
                conflict(topic)
            if callback is not None:
                self._pinned.add(sub)
            if topic is None:
                topic = Topic(key, frames, info)
                topic.awaiting_snapshot = is_depth
                topic.refs = (ref,)
                self.topics[key] = topic
                if self._is_live():
                    self._send_all(topic.subscribe_frames)
            else:
                topic.refs = (*topic.refs, ref)
                if is_depth:
                    # A depth consumer joining a running stream needs a snapshot to start
                    # from: it skips deltas until the one this resync asks for.
                    sub._needs_snapshot = True
                    self.resync(topic)
        if frames:
            self.start()
        return sub

    def local(self, key: Hashable, name: str, callback: Optional[Callable[[Any], Any]],
              sink: Optional[Callable[[Any], None]] = None) -> Subscription[Any]:
        """A subscription to a local stream (lifecycle, errors): nothing goes on the wire,
        and registering one does not connect."""
        sub = self.subscribe(key, [], name=name, callback=callback, sink=sink)
        if callback is not None:
            self._start_dispatcher()
        return sub

    def _start_dispatcher(self) -> None:
        with self._lock:
            if self._dispatcher_started:
                return
            self._dispatcher_started = True
        self.dispatcher.start()

    def _unsubscribe(self, sub: Subscription[Any]) -> None:
        """A consumer closed: forget it; unsubscribe on the wire if it was the last."""
        key = getattr(sub, "_key", None)
        with self._lock:
            self._pinned.discard(sub)
            topic = self.topics.get(key)
            if topic is None:
                return
            for ref in topic.refs:
                if ref() is sub:
                    self._remove(topic, ref)
                    return

    def _forget(self, ref: Any) -> None:
        """Weak-reference callback: an unreachable queue subscription was collected."""
        with self._lock:
            topic = self.topics.get(ref.key)
            if topic is not None and ref in topic.refs:
                log.debug("%s: closing unreferenced subscription of %s", self.name, ref.key)
                self._remove(topic, ref)

    def _remove(self, topic: Topic, ref: _SubRef) -> None:
        self._dropped_by_closed += ref.counts[0]
        topic.refs = tuple(r for r in topic.refs if r is not ref)
        if topic.refs:
            return
        del self.topics[topic.key]
        if topic.subscribe_frames and self._is_live():
            self._send_all(self._unsubscribe_frames(topic, self.topics))

    def resync(self, topic: Topic) -> None:
        """Ask the server for a fresh snapshot of ``topic`` (unsubscribe + subscribe)."""
        with self._lock:
            if self.topics.get(topic.key) is not topic:
                return
            topic.awaiting_snapshot = True
            if self._is_live():
                self._send_all(self._unsubscribe_frames(topic, self.topics))
                self._send_all(topic.subscribe_frames)

    def _is_live(self) -> bool:
        return (self.connection.is_open
                and self._replayed_generation == self.connection.generation)

    def _send_all(self, frames: list[str]) -> None:
        for frame in frames:
            self.connection.send(frame)

    def _on_open(self, generation: int) -> None:
        """Watchdog hook, new socket up: replay every active subscription, once."""
        with self._lock:
            for topic in self.topics.values():
                if topic.subscribe_frames:
                    topic.awaiting_snapshot = any(s._is_depth for s in topic.subscribers)
                    self._send_all(topic.subscribe_frames)
            self._replayed_generation = generation

    def _on_lost(self, generation: int, reason: str) -> None:
        self._connected.clear()
        self.watchdog.connection_lost(generation, reason)

    # ------------------------------------------------------------------ delivery

    def add_tap(self, tap: Callable[[bytes], None]) -> None:
        """Also hand every raw frame (UTF-8 bytes) to ``tap`` (reader thread, before routing).

        For recorders: ``tap`` must be quick and must not raise.
        """
        with self._lock:
            self._taps = (*self._taps, tap)

    def _on_frame(self, data: bytes) -> None:
        for tap in self._taps:
            tap(data)
        try:
            self.router(data)
        except Exception as exc:  # a router bug must not kill the reader thread
            self.counters["decode_errors"] += 1
            self.report(O2SyncError(f"internal error routing a frame: {exc!r}"))

    def _no_router(self, data: bytes) -> None:
        self.counters["ignored"] += 1

    def deliver(self, topic: Topic, event: Any) -> None:
        """Hand one decoded event to every consumer of ``topic`` (reader thread)."""
        self.counters["events"] += 1
        _push_all(topic, event)

    def skip_until_snapshot(self, topic: Topic) -> None:
        """A depth delta arrived while ``topic`` waits for a fresh snapshot (reader thread).

        Consumers that asked for the resync because they lost an event count it as
        dropped (it is lost to them); otherwise it is stale data from before a
        (re)subscription, counted in ``resync_skipped``.
        """
        self.counters["resync_skipped"] += 1
        for ref in topic.refs:
            sub = ref()
            if sub is not None and sub._needs_snapshot:
                sub._counts[0] += 1

    def _publish(self, key: Hashable, event: Any) -> None:
        """Hand a locally made event (lifecycle, error) to ``key``'s consumers."""
        topic = self.topics.get(key)
        if topic is not None:
            _push_all(topic, event)

    def _dispatch(self, sub: Subscription[Any], event: Any) -> None:
        self.dispatcher.submit(sub._run_callback, event)

    def _on_lifecycle(self, state: ConnectionState, attempt: int, message: str) -> None:
        if state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTED):
            self._connected.set()
        else:
            self._connected.clear()
        self._publish(LIFECYCLE, ConnectionEvent(state, attempt, message))
        if state is ConnectionState.CLOSED:
            self._finish()

    # ------------------------------------------------------------------ errors

    def report(self, error: O2SyncError) -> None:
        """Log an error and hand it to every ``on_error`` consumer."""
        kind = type(error).__name__
        seen = self._error_counts.get(kind, 0) + 1
        self._error_counts[kind] = seen
        if seen <= 10 or seen % _LOG_EVERY == 0:
            log.warning("%s: %s (%s #%d)", self.name, error, kind, seen)
        self._publish(ERRORS, error)

    def _overflowed(self, sub: Subscription[Any]) -> None:
        if getattr(sub, "_key", None) == ERRORS:
            log.warning("%s: on_error consumer is too slow; error reports dropped", self.name)
            return
        self.report(StreamOverflow(sub, 1))

    def _resync_for(self, sub: Subscription[Any]) -> None:
        """A depth consumer that lost events has room again: fetch a fresh snapshot."""
        topic = self.topics.get(getattr(sub, "_key", None))
        if topic is not None:
            self.resync(topic)

    def _callback_failed(self, sub: Subscription[Any], exc: Exception) -> None:
        self.counters["callback_errors"] += 1
        if getattr(sub, "_key", None) == ERRORS:
            log.error("%s: on_error callback raised", self.name, exc_info=exc)
            return
        log.error("%s: callback of %s raised", self.name, sub.name, exc_info=exc)
        self._publish(ERRORS, CallbackError(sub, exc))

    def _hook_failed(self, exc: BaseException) -> None:
        self.counters["callback_errors"] += 1

    # ------------------------------------------------------------------ stats

    def stats(self) -> dict[str, Any]:
        """Counters since creation: messages, events, errors, drops, reconnects..."""
        with self._lock:
            refs = [r for t in self.topics.values() for r in t.refs]
            wire_topics = sum(1 for t in self.topics.values() if t.subscribe_frames)
            dropped = self._dropped_by_closed + sum(r.counts[0] for r in refs)
        out: dict[str, Any] = dict(self.counters)
        out.update(
            dropped=dropped,
            reconnects=self.watchdog.reconnects,
            pings_sent=self.watchdog.pings_sent,
            subscriptions=len(refs),
            wire_subscriptions=wire_topics,
            state=self.watchdog.state.value,
            connected=self.is_connected,
        )
        return out
