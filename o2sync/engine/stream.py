"""StreamEngine: the venue-agnostic core of a streaming client.

It owns the registry of topics and their consumers, one :class:`Link` (socket +
reader thread) per socket URL in use, one watchdog and one dispatcher thread.
A socket opens with its first topic and, unless the venue keeps sockets open,
closes with its last; thread count is 2 + open sockets. The venue (see
:mod:`o2sync.engine.venue`) supplies everything protocol-specific.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections.abc import Hashable
from typing import Any, Callable, Optional

from ..errors import (
    CallbackError,
    ClientClosedError,
    ConnectError,
    O2SyncError,
    StreamFailedError,
    StreamOverflow,
)
from ..redact import redact_url
from .connection import Connection
from .dispatcher import Dispatcher
from .lifecycle import ConnectionEvent, ConnectionState
from .link import Link, LinkState
from .options import Options, check_queue_size, overflow_policy
from .registry import SubRef, Topic
from .subscription import Subscription
from .threads import wait_slice
from .venue import Failure, TopicSpec, Venue, url_path
from .watchdog import Watchdog

log = logging.getLogger(__name__)

LIFECYCLE = TopicSpec(("lifecycle",))
ERRORS = TopicSpec(("errors",))
_LOG_EVERY = 1000  # after the first few, log one repeated error in this many
_COUNTERS = ("messages", "events", "decode_errors", "server_errors", "ignored",
             "resync_skipped", "callback_errors", "pongs", "control_frames", "unknown_kinds")


class StreamEngine:
    """Registry, sockets and threads of one client. Threads start lazily."""

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
        self._retired: list[Connection] = []  # closed sockets whose reader may still be ending
        self._retired_pongs = 0  # WebSocket pongs of sockets closed for good
        self._socket_ids = itertools.count(1)
        self._state = ConnectionState.DISCONNECTED
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
                raise ConnectError(f"{shown}: {self._failure_reason(link)}")
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
        link = self.links.get(topic.url) or self._open_link(topic.url)
        if self._is_live(link.url):
            self._send_all(link, topic.subscribe_frames)

    def _open_link(self, url: str) -> Link:
        """A new socket for ``url``: reader thread and watchdog supervision (lock held)."""
        self.start()
        seq = next(self._socket_ids)
        thread_name = f"{self.name}-reader" + (f"-{seq}" if seq > 1 else "")
        conn = Connection(url, name=thread_name,
                          on_frame=functools.partial(self._on_frame, url),
                          on_lost=lambda generation, reason: self._on_lost(url, reason),
                          sslopt=self.options.websocket_sslopt, proxy=self.options.proxy,
                          max_message_size=self.options.max_message_size)
        link = Link(conn)
        self.links[url] = link
        conn.start()
        self.watchdog.add(link)
        return link

    def _retire(self, link: Link) -> None:
        """Close a socket for good (its last topic left, or the client closed)."""
        self.watchdog.remove(link)
        self._replayed.pop(link.url, None)
        link.connection.close()
        with self._lock:
            self._retired_pongs += link.connection.pongs
        self._retired = [c for c in self._retired if c.thread.is_alive()]
        self._retired.append(link.connection)

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
        link = self.links.get(topic.url) if topic.url is not None else None
        if link is None:
            return
        remaining = [t for t in self.topics.values() if t.url == link.url]
        if self._is_live(link.url):
            self._send_all(link, self.venue.unsubscribe_frames(topic, remaining))
        if not remaining and not self.venue.keep_sockets_open:
            del self.links[link.url]
            self._retire(link)

    def resubscribe(self, topic: Topic) -> None:
        """Ask the server for a fresh snapshot of ``topic``: unsubscribe + subscribe."""
        with self._lock:
            if self.topics.get(topic.key) is not topic or topic.url is None:
                return
            topic.awaiting_snapshot = True
            link = self.links.get(topic.url)
            if link is not None and self._is_live(topic.url):
                remaining = [t for t in self.topics.values() if t.url == topic.url]
                self._send_all(link, self.venue.unsubscribe_frames(topic, remaining))
                self._send_all(link, topic.subscribe_frames)

    def lost_event(self, topic: Topic) -> None:
        """An event of ``topic`` could not be delivered (a malformed depth delta):
        every consumer waits for a fresh snapshot, which the venue asks for."""
        for sub in topic.subscribers:
            sub.lost()
        self.venue.resync(topic)

    def topics_on(self, url: str) -> list[Topic]:
        """The topics carried by the socket of ``url``."""
        with self._lock:
            return [t for t in self.topics.values() if t.url == url]

    def run_task(self, task: Callable[[], None], delay: float = 0.0) -> None:
        """Run ``task`` on the watchdog thread in ``delay`` seconds (REST snapshot
        fetches), never on a reader."""
        self.start()
        self.watchdog.submit(task, delay)

    def is_live(self, url: str) -> bool:
        """True while the socket of ``url`` is up and its topics are replayed."""
        with self._lock:
            return self._is_live(url)

    def reconnect(self, url: str, reason: str) -> None:
        """Drop the socket of ``url`` so the watchdog replaces it (and replays it)."""
        with self._lock:
            link = self.links.get(url)
        if link is not None and link.state is LinkState.OPEN:
            log.warning("%s %s: %s; reconnecting", self.name, url_path(url), reason)
            link.connection.drop(link.generation, reason)

    def _is_live(self, url: str) -> bool:
        link = self.links.get(url)
        return (link is not None and link.state is LinkState.OPEN
                and link.connection.is_open and self._replayed.get(url) == link.generation)

    def _send_all(self, link: Link, frames: list[str]) -> None:
        for frame in frames:
            link.connection.send(frame)

    # --------------------------------------------------------- watchdog's owner side

    def handshake_headers(self, link: Link, refresh: bool) -> dict[str, str]:
        return self.venue.handshake_headers(link.url, refresh)

    def classify_failure(self, link: Link, exc: BaseException) -> Failure:
        return self.venue.classify_failure(link.url, exc)

    def heartbeat_text(self, link: Link) -> Optional[str]:
        return self.venue.heartbeat_text(link.url)

    def link_opened(self, link: Link, generation: int) -> None:
        """New socket up: replay every topic it carries, once."""
        with self._lock:
            if self.links.get(link.url) is not link:
                return
            for topic in self.topics.values():
                if topic.url == link.url:
                    topic.awaiting_snapshot = any(s.is_depth for s in topic.subscribers)
                    self._send_all(link, topic.subscribe_frames)
            self._replayed[link.url] = generation

    def link_event(self, link: Link, state: ConnectionState, attempt: int, message: str) -> None:
        """A socket changed state: publish it, keep ``is_connected`` current."""
        path = url_path(link.url)
        if state is ConnectionState.CONNECTED:
            message = f"connected to {redact_url(link.url)}"
        log.info("%s %s: %s %s", self.name, path, state.value, message)
        with self._lock:
            if self._finished or self.links.get(link.url) is not link:
                return
            self._state = state
            if self.is_connected:
                self._connected.set()
            else:
                self._connected.clear()
            self._publish(LIFECYCLE.key, ConnectionEvent(state, attempt, message, path))

    def link_failed(self, link: Link, reason: str, status: Optional[int]) -> None:
        """A socket can never connect: end the streams it carries with the error."""
        shown = redact_url(link.url)
        error = StreamFailedError(shown, reason, status)
        with self._lock:
            if self.links.get(link.url) is not link:
                return
            del self.links[link.url]
            topics = [t for t in self.topics.values() if t.url == link.url]
            for topic in topics:
                del self.topics[topic.key]
            subs = [s for t in topics for s in t.subscribers]
            self._pinned.difference_update(subs)
            link.failure = reason
            self._publish(LIFECYCLE.key, ConnectionEvent(
                ConnectionState.FAILED, 0, str(error), url_path(link.url)))
        self._retire(link)
        link.state = LinkState.FAILED
        self._connected.set()  # wake connect() waiters; they see the failure
        for sub in subs:
            sub.finish(error)
        self.report(error)

    @staticmethod
    def _failure_reason(link: Link) -> str:
        return link.failure or "cannot connect"

    def _on_lost(self, url: str, reason: str) -> None:
        with self._lock:
            link = self.links.get(url)
            self._replayed.pop(url, None)
            self._connected.clear()
        if link is not None:
            self.watchdog.connection_lost(link, reason)

    # ------------------------------------------------------------------ delivery

    def add_tap(self, tap: Callable[[bytes], None]) -> None:
        """Also hand every raw frame (UTF-8 bytes) to ``tap`` (reader thread, before routing).

        For recorders: ``tap`` must be quick and must not raise.
        """
        with self._lock:
            self._taps = (*self._taps, tap)

    def add_socket_tap(self, tap: Callable[[str, bytes], None]) -> None:
        """Like :meth:`add_tap`, but ``tap(url, data)`` also learns the socket's URL
        (for venues with one socket per stream path, such as tplus)."""
        with self._lock:
            self._socket_taps = (*self._socket_taps, tap)

    def remove_tap(self, tap: Callable[..., None]) -> None:
        """Stop handing frames to ``tap`` (added by either method); no-op if unknown."""
        with self._lock:
            self._taps = tuple(t for t in self._taps if t is not tap)
            self._socket_taps = tuple(t for t in self._socket_taps if t is not tap)

    def _on_frame(self, url: str, data: bytes) -> None:
        for tap in self._taps:
            tap(data)
        for socket_tap in self._socket_taps:
            socket_tap(url, data)
        try:
            self.venue.route(url, data)
        except Exception as exc:  # a venue bug must not kill the reader thread
            self.counters["decode_errors"] += 1
            self.report(O2SyncError(f"internal error routing a frame: {exc!r}"))

    def deliver(self, topic: Topic, event: Any) -> None:
        """Hand one decoded event to every consumer of ``topic`` (reader thread)."""
        self.counters["events"] += 1
        topic.push(event)

    def skip_until_snapshot(self, topic: Topic) -> None:
        """A depth delta arrived while ``topic`` waits for a fresh snapshot (reader thread).

        Consumers that asked for the resync because they lost an event count it as
        dropped (it is lost to them); otherwise it is stale data from before a
        (re)subscription, counted in ``resync_skipped``.
        """
        self.counters["resync_skipped"] += 1
        for sub in topic.subscribers:
            if sub.needs_snapshot:
                sub.skip()

    def publish(self, key: Hashable, event: Any) -> None:
        """Hand a locally made event (lifecycle, error, book change) to ``key``'s consumers."""
        self._publish(key, event)

    def _publish(self, key: Hashable, event: Any) -> None:
        topic = self.topics.get(key)
        if topic is not None:
            topic.push(event)

    # ------------------------------------------------- subscription owner interface

    def dispatch(self, sub: Subscription[Any], event: Any) -> None:
        self.dispatcher.submit(sub.run_callback, event)

    def overflowed(self, sub: Subscription[Any]) -> None:
        if sub.key == ERRORS.key:
            log.warning("%s: on_error consumer is too slow; error reports dropped", self.name)
            return
        self.report(StreamOverflow(sub, 1))

    def resync_requested(self, sub: Subscription[Any]) -> None:
        """A depth consumer that lost events has room again: fetch a fresh snapshot."""
        topic = self.topics.get(sub.key)
        if topic is not None:
            self.venue.resync(topic)

    def callback_failed(self, sub: Subscription[Any], exc: Exception) -> None:
        """A callback raised: the first traceback per subscription is logged, later
        ones only counted (one line per ``_LOG_EVERY``), so a failing callback cannot
        flood the log; every failure still reaches ``on_error``."""
        self.counters["callback_errors"] += 1
        failures = sub.callback_failures = sub.callback_failures + 1
        what = "on_error callback" if sub.key == ERRORS.key else f"callback of {sub.name}"
        if failures == 1:
            log.error("%s: %s raised (later failures are counted, not each logged)",
                      self.name, what, exc_info=exc)
        elif failures % _LOG_EVERY == 0:
            log.error("%s: %s has raised %d times; last: %r", self.name, what, failures, exc)
        if sub.key != ERRORS.key:
            self._publish(ERRORS.key, CallbackError(sub, exc))

    def _hook_failed(self, exc: BaseException) -> None:
        self.counters["callback_errors"] += 1

    # ------------------------------------------------------------------ errors

    def report(self, error: O2SyncError) -> None:
        """Log an error and hand it to every ``on_error`` consumer."""
        kind = type(error).__name__
        seen = self._error_counts.get(kind, 0) + 1
        self._error_counts[kind] = seen
        if seen <= 10 or seen % _LOG_EVERY == 0:
            log.warning("%s: %s (%s #%d)", self.name, error, kind, seen)
        self._publish(ERRORS.key, error)

    # ------------------------------------------------------------------ stats

    def stats(self) -> dict[str, Any]:
        """Counters since creation: messages, events, errors, drops, reconnects..."""
        with self._lock:
            refs = [r for t in self.topics.values() for r in t.refs]
            wire_topics = sum(1 for t in self.topics.values() if t.url is not None)
            dropped = self._dropped_by_closed + sum(r.counts[0] for r in refs)
            sockets = {url_path(url): link.state.value for url, link in self.links.items()}
            pongs = self._retired_pongs + sum(link.connection.pongs
                                              for link in self.links.values())
        out: dict[str, Any] = dict(self.counters)
        out["pongs"] += pongs
        out.update(
            dropped=dropped,
            reconnects=self.watchdog.reconnects,
            pings_sent=self.watchdog.pings_sent,
            subscriptions=len(refs),
            wire_subscriptions=wire_topics,
            state=self._state.value,
            connected=self.is_connected,
            sockets=sockets,
            callback_backlog=self.dispatcher.backlog,
        )
        return out
