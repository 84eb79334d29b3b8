"""The delivery side of :class:`~o2sync.engine.stream.StreamEngine`: frames in,
events out, errors reported, and the interface its subscriptions talk to
(:class:`~o2sync.engine.subscription.SubscriptionOwner`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..errors import CallbackError, O2SyncError, StreamOverflow
from .dispatcher import Dispatcher
from .link import Link
from .options import Options
from .registry import ERRORS, LIFECYCLE, Topic
from .subscription import Subscription
from .venue import Venue, url_path
from .watchdog import Watchdog

log = logging.getLogger(__name__)

_LOG_EVERY = 1000  # after the first few, log one repeated error in this many
_DISPATCHER_ONLY = frozenset((ERRORS.key, LIFECYCLE.key))  # never inline (documented)


class InlineState(threading.local):
    """Per reader thread, in inline mode: the callbacks made due by the frame being
    routed (None outside a frame, and on every other thread)."""

    held: Optional[list[tuple[Subscription[Any], Any]]] = None


class EngineDelivery:
    """Mixin of StreamEngine: delivery, reports, stats. State lives on the engine."""

    name: str
    venue: Venue
    topics: dict[Hashable, Topic]
    links: dict[str, Link]
    counters: dict[str, int]
    watchdog: Watchdog
    dispatcher: Dispatcher
    options: Options
    _inline: InlineState
    _inline_lock: threading.Lock
    _lock: threading.RLock
    _taps: tuple[Callable[[bytes], None], ...]
    _socket_taps: tuple[Callable[[str, bytes], None], ...]
    _error_counts: dict[str, int]
    _dropped_by_closed: int
    _retired_pongs: int
    _unproven: set[str]
    _state: Any

    if TYPE_CHECKING:  # provided by StreamEngine
        @property
        def is_connected(self) -> bool: ...

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

    def _choose_delivery(self) -> None:
        """Inline mode swaps in its frame handler and dispatch for this engine, so
        the default path pays no per-frame test for it."""
        if self.options.inline_callbacks:
            self._on_frame = self._on_frame_inline  # type: ignore[method-assign]
            self.dispatch = self._dispatch_inline  # type: ignore[method-assign]

    def _on_frame_inline(self, url: str, data: bytes) -> None:
        """Inline mode (reader thread): route the frame collecting the callbacks it
        makes due, then run them here, in order, once the venue holds no lock."""
        held: list[tuple[Subscription[Any], Any]] = []
        self._inline.held = held
        try:
            EngineDelivery._on_frame(self, url, data)  # the default handler (not swapped)
        finally:
            self._inline.held = None
        for sub, event in held:
            sub.run_callback(event)  # reports its own exceptions (callback_failed)

    def _on_frame(self, url: str, data: bytes) -> None:
        for tap in self._taps:
            tap(data)
        for socket_tap in self._socket_taps:
            socket_tap(url, data)
        counters = self.counters
        events = counters["events"]
        try:
            self.venue.route(url, data)
        except Exception as exc:  # a venue bug must not kill the reader thread
            counters["decode_errors"] += 1
            self.report(O2SyncError(f"internal error routing a frame: {exc!r}"))
        if url in self._unproven and counters["events"] != events:
            self._proven(url)

    def _proven(self, url: str) -> None:
        """The socket of ``url`` delivered an event: it is healthy (reader thread)."""
        with self._lock:
            self._unproven.discard(url)
            link = self.links.get(url)
            if link is not None:
                link.proven = True

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

    def _publish(self, key: Hashable, event: Any) -> None:
        topic = self.topics.get(key)
        if topic is not None:
            topic.push(event)

    # ------------------------------------------------- subscription owner interface

    def dispatch(self, sub: Subscription[Any], event: Any) -> None:
        self.dispatcher.submit(sub.run_callback, event)

    def _dispatch_inline(self, sub: Subscription[Any], event: Any) -> None:
        """Inline mode: on a reader thread, hold the callback to run after the frame;
        anywhere else (a joiner's snapshot, a REST splice), and for ``on_error`` and
        ``on_lifecycle`` consumers, use the dispatcher. While
        a consumer has a callback on the dispatcher (queued or running), its events
        go there too, so its callbacks never overtake or overlap each other."""
        held = self._inline.held
        if held is not None and not sub.elsewhere and sub.key not in _DISPATCHER_ONLY:
            held.append((sub, event))
            return
        with self._inline_lock:
            sub.elsewhere += 1
        self.dispatcher.submit(self._run_elsewhere, (sub, event))

    def _run_elsewhere(self, item: tuple[Subscription[Any], Any]) -> None:
        sub, event = item
        try:
            sub.run_callback(event)
        finally:
            with self._inline_lock:
                sub.elsewhere -= 1

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
            connect_failures=self.watchdog.connect_failures,
            pings_sent=self.watchdog.pings_sent,
            subscriptions=len(refs),
            wire_subscriptions=wire_topics,
            state=self._state.value,
            connected=self.is_connected,
            sockets=sockets,
            callback_backlog=self.dispatcher.backlog,
        )
        source = getattr(self, "source", None)
        if source is not None:
            out["source"] = source.stats()
        return out
