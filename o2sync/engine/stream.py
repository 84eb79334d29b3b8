"""StreamEngine: the venue-agnostic core of a streaming client.

It owns the registry of topics and their consumers, one :class:`Link` (socket +
reader thread) per socket URL in use, one watchdog and one dispatcher thread.
A socket opens with its first topic and, unless the venue keeps sockets open,
closes with its last; thread count is 2 + open sockets. The venue (see
:mod:`o2sync.engine.venue`) supplies everything protocol-specific.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Hashable
from typing import Any, Callable, Optional

from ..errors import (
    ClientClosedError,
    ConnectError,
)
from ..redact import redact_url
from .connection import Connection
from .delivery import EngineDelivery, InlineState
from .dispatcher import Dispatcher
from .lifecycle import ConnectionEvent, ConnectionState
from .link import Link, LinkState
from .options import Options, check_queue_size, overflow_policy
from .registry import ERRORS, LIFECYCLE, SubRef, Topic
from .sockets import EngineSockets
from .source import Source
from .subscription import Subscription
from .threads import wait_slice
from .venue import TopicSpec, Venue
from .watchdog import Watchdog

log = logging.getLogger(__name__)

__all__ = ["ERRORS", "LIFECYCLE", "StreamEngine"]

_COUNTERS = ("messages", "events", "decode_errors", "server_errors", "ignored",
             "resync_skipped", "resyncs", "callback_errors", "pongs", "control_frames",
             "unknown_kinds")


class StreamEngine(EngineSockets, EngineDelivery):
    """Registry, sockets and threads of one client. Threads start lazily.

    This module holds the registry (subscribe, unsubscribe, resubscribe) and the
    client's life (start, connect, close); the sockets are in
    :mod:`~o2sync.engine.sockets`, frames in and events out in
    :mod:`~o2sync.engine.delivery`.
    """

    def __init__(self, venue: Venue, options: Options, *, name: str) -> None:
        self.name = name
        self.options = options
        self.venue = venue
        self.topics: dict[Hashable, Topic] = {}
        self.links: dict[str, Link] = {}
        self.counters: dict[str, int] = dict.fromkeys(_COUNTERS, 0)
        self._lock = threading.RLock()  # guards topics, links, subscribers and what is sent
        self._replayed: dict[str, int] = {}  # url -> generation whose topics were replayed
        self._started = False
        self._dispatcher_started = False
        self._closing = False
        self._finished = False
        self._connected = threading.Event()
        self._closed = threading.Event()
        self._dropped_by_closed = 0
        self._pinned: set[Subscription[Any]] = set()  # callback consumers, alive until closed
        self._error_counts: dict[str, int] = {}
        self._taps: tuple[Callable[[bytes], None], ...] = ()
        self._socket_taps: tuple[Callable[[str, bytes], None], ...] = ()
        self._inline = InlineState()  # per reader thread (see EngineDelivery.dispatch)
        self._inline_lock = threading.Lock()  # guards Subscription.elsewhere
        self._choose_delivery()
        self._retired: list[Connection] = []  # closed sockets whose reader may still be ending
        self._retired_pongs = 0  # WebSocket pongs of sockets closed for good
        self._unproven: set[str] = set()  # urls whose socket has not delivered an event yet
        self._socket_ids = itertools.count(1)
        self._state = ConnectionState.DISCONNECTED
        self.source: Optional[Source] = None  # frames from a relay log, not sockets
        self.watchdog = Watchdog(name, self, options)
        self.dispatcher = Dispatcher(f"{name}-dispatcher", options.dispatcher, self._hook_failed)
        venue.bind(self)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the watchdog and dispatcher threads (idempotent)."""
        with self._lock:
            self._check_open()
            if self._started:
                return
            self._started = True
        self._start_dispatcher()
        self.watchdog.start()

    def connect(self, url: str, timeout: Optional[float]) -> None:
        """Open the socket of ``url`` (if not open) and block until it is up."""
        if self.source is not None:
            self._check_open()
            self.source.connect(timeout)
            return
        with self._lock:
            self._check_open()
            link = self.links.get(url) or self._open_link(url)
        self._wait_live(link, timeout)

    def _wait_live(self, link: Link, timeout: Optional[float]) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        shown = redact_url(link.url)
        while not self._is_live(link.url):
            if self._closed.is_set():
                raise ConnectError(f"{shown}: client closed before connecting")
            if link.state is LinkState.FAILED:
                raise ConnectError(f"{shown}: {self._failure_reason(link)}",
                                   cause=link.last_error)
            # polls: a connect is brief, and another socket's state may set the event
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                cause = f" (last attempt: {link.last_error})" if link.last_error else ""
                raise ConnectError(f"could not connect to {shown} in {timeout}s{cause}",
                                   cause=link.last_error)
            self._connected.wait(left)

    @property
    def is_connected(self) -> bool:
        """True while every socket in use is up and its topics are replayed."""
        if self.source is not None:
            return self.source.is_connected
        with self._lock:
            return bool(self.links) and all(self._is_live(url) for url in self.links)

    @property
    def closing(self) -> bool:
        return self._closing

    def wait_closed(self, timeout: Optional[float]) -> bool:
        """Block until the engine has closed (in slices on the main thread, so Ctrl-C
        gets through)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed.is_set():
            left = wait_slice(deadline, time.monotonic())
            if left is not None and left <= 0:
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
        self._finish("closed by client")
        ok = True
        for part in (self.watchdog, self.dispatcher):
            ok = part.join(max(deadline - time.monotonic(), 0)) and ok
        for conn in self._retired:
            ok = conn.join(max(deadline - time.monotonic(), 0)) and ok
        if self.source is not None:
            ok = self.source.join(max(deadline - time.monotonic(), 0)) and ok
        if not ok:
            log.warning("%s: some threads did not stop within %.1fs", self.name, timeout)
        return ok

    def give_up(self, reason: str) -> None:
        """Watchdog: reconnecting is over (out of attempts, or reconnect=False)."""
        self._finish(reason)

    def _finish(self, reason: str) -> None:
        """Terminal: emit CLOSED, end every subscription, stop the threads."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self._closing = True
            links = list(self.links.values())
            self.links.clear()
            self._state = ConnectionState.CLOSED
            self._publish(LIFECYCLE.key, ConnectionEvent(ConnectionState.CLOSED, 0, reason))
            subs = [s for t in self.topics.values() for s in t.subscribers]
            self._pinned.clear()
        self.watchdog.stop()
        if self.source is not None:
            self.source.stop()
        for link in links:
            self._retire(link)
        for sub in subs:
            sub.finish()
        self.dispatcher.stop()
        self._connected.set()  # wake connect() waiters; they see the close
        self._closed.set()

    def _check_open(self) -> None:
        if self._closing:
            raise ClientClosedError(f"{self.name} is closed")

    # ------------------------------------------------------------- subscriptions

    def subscribe(self, spec: TopicSpec, *, name: str,
                  callback: Optional[Callable[[Any], Any]] = None, is_depth: bool = False,
                  conflict: Optional[Callable[[Topic], None]] = None,
                  sink: Optional[Callable[[Any], None]] = None,
                  queue_size: Optional[int] = None, overflow: Any = None,
                  on_gap: Optional[Callable[[], None]] = None) -> Subscription[Any]:
        """Register a consumer of ``spec`` before sending anything, then subscribe.

        Consumers of one key share one topic (one wire subscription). ``conflict``
        may raise if an existing topic of that key cannot serve this request (for
        example a depth stream of another precision). ``queue_size`` and
        ``overflow`` override the client's options for this consumer; ``on_gap``
        tells a sink that the stream lost an event.
        """
        size = self.options.queue_size if queue_size is None else check_queue_size(queue_size)
        policy = self.options.overflow if overflow is None else overflow_policy(overflow)
        sub: Subscription[Any] = Subscription(self, name, maxsize=size, overflow=policy,
                                              callback=callback, is_depth=is_depth, sink=sink,
                                              key=spec.key, on_gap=on_gap)
        ref = SubRef(sub, self._forget)
        ref.counts, ref.key = sub.counts, spec.key
        with self._lock:
            self._check_open()
            topic = self.topics.get(spec.key)
            if topic is not None and conflict is not None:
                conflict(topic)
            if callback is not None:
                self._pinned.add(sub)
            if topic is None:
                topic = Topic(spec)
                topic.awaiting_snapshot = is_depth
                topic.refs = (ref,)
                self.topics[spec.key] = topic
                self._topic_started(topic)
            else:
                if is_depth and self.venue.joiners_start_from_snapshot:
                    sub.joins()  # before it can see a delta: it starts at a snapshot
                topic.refs = (*topic.refs, ref)
                self.venue.joined(topic, sub)
        if callback is not None:
            self._start_dispatcher()
        return sub

    def local(self, spec: TopicSpec, name: str, callback: Optional[Callable[[Any], Any]],
              sink: Optional[Callable[[Any], None]] = None) -> Subscription[Any]:
        """A subscription to a local stream (lifecycle, errors, book changes): nothing
        goes on the wire, and registering one does not connect."""
        return self.subscribe(spec, name=name, callback=callback, sink=sink)

    def _topic_started(self, topic: Topic) -> None:
        if topic.url is None:
            return
        if self.source is not None:
            self.source.topic_started(topic)
            return
        link = self.links.get(topic.url) or self._open_link(topic.url)
        if self._is_live(link.url):
            self._send_all(link, topic.subscribe_frames)

    def _start_dispatcher(self) -> None:
        with self._lock:
            if self._dispatcher_started:
                return
            self._dispatcher_started = True
        self.dispatcher.start()

    def unsubscribe(self, sub: Subscription[Any]) -> None:
        """A consumer closed: forget it; unsubscribe on the wire if it was the last."""
        with self._lock:
            self._pinned.discard(sub)
            topic = self.topics.get(sub.key)
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

    def _remove(self, topic: Topic, ref: SubRef) -> None:
        self._dropped_by_closed += ref.counts[0]
        topic.refs = tuple(r for r in topic.refs if r is not ref)
        if topic.refs:
            return
        del self.topics[topic.key]
        if self.source is not None:
            if topic.url is not None:
                self.source.topic_stopped(topic)
            return
        link = self.links.get(topic.url) if topic.url is not None else None
        if link is None:
            return
        remaining = self._topics_on(link.url)
        if self._is_live(link.url):
            self._send_all(link, self.venue.unsubscribe_frames(topic, remaining))
        if not remaining and not self.venue.keep_sockets_open:
            del self.links[link.url]
            self._retire(link)

    def resubscribe(self, topic: Topic) -> None:
        """Ask the server for a fresh snapshot of ``topic``: unsubscribe + subscribe,
        at once the first time, rate-limited in a run (see :meth:`resync_delay`)."""
        with self._lock:
            if (self.topics.get(topic.key) is not topic or topic.url is None
                    or self._closing):
                return
            if self.source is not None:
                topic.awaiting_snapshot = True
                self.source.resync(topic)
                return
            topic.awaiting_snapshot = True  # deltas are skipped until the snapshot
            if topic.resync_pending:
                return  # one is planned; it will fetch the snapshot for everyone
            delay = self.resync_delay(topic)
            if delay > 0:
                topic.resync_pending = True
                self.watchdog.submit(lambda: self._resubscribe_now(topic), delay)
                return
            self._send_resubscription(topic)

    def _resubscribe_now(self, topic: Topic) -> None:
        """Watchdog: a rate-limited resubscription is due."""
        with self._lock:
            topic.resync_pending = False
            if self.topics.get(topic.key) is topic and topic.awaiting_snapshot:
                self._send_resubscription(topic)
            # else: gone, or healed meanwhile (a reconnect replayed it)

    def _send_resubscription(self, topic: Topic) -> None:
        assert topic.url is not None
        link = self.links.get(topic.url)
        if link is not None and self._is_live(topic.url):
            remaining = self._topics_on(topic.url)
            self._send_all(link, self.venue.unsubscribe_frames(topic, remaining))
            self._send_all(link, topic.subscribe_frames)

    def resync_delay(self, topic: Topic, progress: Optional[int] = None) -> float:
        """Seconds before a resync of ``topic`` asked for now may run, counted in
        ``stats()["resyncs"]``: 0 for the first of a run, then exponentially spaced
        per topic (:class:`~o2sync.engine.backoff.ResyncLimiter`), so a server that
        breaks every snapshot cannot make the client hammer it. ``progress`` counts
        the topic's good events so far (by default, the most any consumer received):
        enough of them since the last resync end the run."""
        self.counters["resyncs"] += 1
        if progress is None:
            progress = max((ref.counts[1] for ref in topic.refs), default=0)
        return topic.resyncs.next_delay(time.monotonic(), progress)

    def lost_event(self, topic: Topic) -> None:
        """An event of ``topic`` could not be delivered (a malformed depth delta):
        every consumer waits for a fresh snapshot, which the venue asks for."""
        for sub in topic.subscribers:
            sub.lost()
        self.venue.resync(topic)

    def _topics_on(self, url: str) -> list[Topic]:
        """The topics carried by the socket of ``url`` (engine lock held)."""
        return [t for t in self.topics.values() if t.url == url]

    def run_task(self, task: Callable[[], None], delay: float = 0.0) -> None:
        """Run ``task`` on the watchdog thread in ``delay`` seconds (REST snapshot
        fetches), never on a reader."""
        self.start()
        self.watchdog.submit(task, delay)

    # ------------------------------------------------------------- frame source

    def attach_source(self, source: Source) -> None:
        """Read every topic from ``source`` instead of sockets (before any topic)."""
        with self._lock:
            self._check_open()
            if self.source is not None or any(t.url is not None for t in self.topics.values()):
                raise RuntimeError(f"{self.name}: a source is attached before any stream")
            self.source = source
        source.bind(self)

    def source_frame(self, url: str, data: bytes) -> None:
        """A raw frame the source read for the socket ``url`` (the source's thread):
        the taps and the venue's route, as for a frame off a socket."""
        self._on_frame(url, data)

    def source_gap(self, topic: Topic, lost: int) -> None:
        """The source lost ``lost`` frames of ``topic`` (0: an unknown number; a jump,
        a gap, a new epoch): depth consumers wait for the next snapshot (sinks are
        told), the others count the loss in ``dropped``."""
        with self._lock:
            if self.topics.get(topic.key) is not topic:
                return
            depth = any(s.is_depth for s in topic.subscribers)
            topic.awaiting_snapshot = depth
        for sub in topic.subscribers:
            if sub.is_depth:
                sub.lost()
            else:
                sub.counts[0] += lost

    def source_state(self, state: ConnectionState, attempt: int, message: str,
                     path: str) -> None:
        """The source changed state: publish it as a lifecycle event."""
        log.info("%s %s: %s %s", self.name, path, state.value, message)
        with self._lock:
            if self._finished:
                return
            self._state = state
            if state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTED):
                self._connected.set()
            else:
                self._connected.clear()
            self._publish(LIFECYCLE.key, ConnectionEvent(state, attempt, message, path))
