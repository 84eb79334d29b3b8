"""The socket side of :class:`~o2sync.engine.stream.StreamEngine`: one Link per URL.

Opening and retiring sockets, replaying topics on a new socket, and everything the
watchdog asks of its owner (:class:`~o2sync.engine.watchdog.LinkOwner`): handshake
headers, what a failure means, heartbeats, and the lifecycle of each socket.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Optional

from ..errors import StreamFailedError
from ..redact import redact_url
from .connection import Connection
from .lifecycle import ConnectionEvent, ConnectionState
from .link import Link, LinkState
from .options import Options
from .registry import LIFECYCLE, Topic
from .subscription import Subscription
from .venue import Failure, Venue, url_path
from .watchdog import Watchdog

log = logging.getLogger(__name__)


class EngineSockets:
    """Mixin of StreamEngine: its sockets. State lives on the engine (``__init__``)."""

    name: str
    options: Options
    venue: Venue
    topics: dict[Hashable, Topic]
    links: dict[str, Link]
    watchdog: Watchdog
    _lock: threading.RLock
    _replayed: dict[str, int]
    _finished: bool
    _connected: threading.Event
    _pinned: set[Subscription[Any]]
    _retired: list[Connection]
    _retired_pongs: int
    _unproven: set[str]
    _socket_ids: itertools.count[int]
    _state: ConnectionState

    if TYPE_CHECKING:  # provided by StreamEngine and EngineDelivery
        def start(self) -> None: ...
        def report(self, error: Any) -> None: ...
        def _publish(self, key: Hashable, event: Any) -> None: ...
        def _on_frame(self, url: str, data: bytes) -> None: ...
        def _topics_on(self, url: str) -> list[Topic]: ...
        @property
        def is_connected(self) -> bool: ...

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
            self._unproven.add(link.url)  # until it delivers an event (see _on_frame)
            for topic in self._topics_on(link.url):
                topic.awaiting_snapshot = any(s.is_depth for s in topic.subscribers)
                self._send_all(link, topic.subscribe_frames)
            self._replayed[link.url] = generation

    def link_event(self, link: Link, state: ConnectionState, attempt: int, message: str) -> None:
        """A socket changed state: publish it, keep ``is_connected`` current."""
        path = url_path(link.url)
        if state is ConnectionState.CONNECTED:
            message = f"connected to {redact_url(link.url)}"
        if message.startswith(state.value):  # "connected to ...", not "connected connected"
            log.info("%s %s: %s", self.name, path, message)
        else:
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
        """A socket can never connect: end the streams it carries with the error
        (a :class:`~o2sync.errors.ConnectError` naming the cause)."""
        shown = redact_url(link.url)
        error = StreamFailedError(shown, reason, status, cause=link.last_error)
        with self._lock:
            if self.links.get(link.url) is not link:
                return
            del self.links[link.url]
            topics = self._topics_on(link.url)
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
