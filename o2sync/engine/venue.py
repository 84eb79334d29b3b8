"""The venue interface: what a venue tells the engine, and nothing the engine knows of venues.

A venue (O2, tplus, ...) plugs into :class:`~o2sync.engine.stream.StreamEngine` by
supplying a :class:`Venue` object. The engine asks it:

* which socket (URL) carries a topic and which frames subscribe it: a
  :class:`TopicSpec`, made by the venue's client; possibly no frames at all (on
  tplus the path *is* the subscription);
* which frames unsubscribe a topic (:meth:`Venue.unsubscribe_frames`);
* how a frame received on a socket becomes events (:meth:`Venue.route`, on that
  socket's reader thread; it calls the engine's ``deliver`` / ``report``);
* how a topic resynchronises when a consumer lost events (:meth:`Venue.resync`);
* the heartbeat of its sockets (:meth:`Venue.heartbeat_text`: a text ping, or
  None for WebSocket pings; any frame proves liveness either way);
* the handshake headers, computed on every connect (:meth:`Venue.handshake_headers`),
  and what a failed handshake means (:meth:`Venue.classify_failure`).
"""

from __future__ import annotations

import enum
import socket
import ssl
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlsplit

import websocket

from ..errors import AuthError

if TYPE_CHECKING:
    from .registry import Topic
    from .stream import StreamEngine

#: Handshake statuses that no retry can fix: the URL is wrong.
PERMANENT_STATUSES = frozenset({400, 404, 405, 410, 414, 426, 501, 505})
#: Handshake statuses that mean "who are you": refresh credentials once, then back off.
AUTH_STATUSES = frozenset({401, 403})


class Failure(enum.Enum):
    """What a failed connect means for the socket."""

    TRANSIENT = "transient"  # refused, timed out, 429, 5xx: back off and retry
    AUTH = "auth"  # 401/403: refresh credentials once, then back off
    PERMANENT = "permanent"  # 404/400, a bad URL, a refused login: end its streams


@dataclass(frozen=True)
class TopicSpec:
    """One stream as the venue defines it.

    ``key`` identifies the topic (consumers of one key share it); ``url`` is the
    socket that carries it (None for local streams such as lifecycle, which never
    connect); ``subscribe_frames`` are sent on every (re)connect and when the topic
    starts on a live socket; ``info`` is the venue's own data (precision, book state).
    """

    key: Hashable
    url: Optional[str] = None
    subscribe_frames: tuple[str, ...] = ()
    info: Any = field(default=None, compare=False)


def describe_failure(exc: BaseException) -> str:
    """A short, credential-free cause for a failed connect ("HTTP 404 Not Found",
    "connection refused", "certificate verify failed: ...")."""
    if isinstance(exc, websocket.WebSocketBadStatusException):
        message = getattr(exc, "status_message", None) or ""
        if isinstance(message, bytes):
            message = message.decode("latin-1", "replace")
        return f"HTTP {exc.status_code} {message}".strip()
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError, websocket.WebSocketTimeoutException)):
        return "timed out"
    if isinstance(exc, (socket.gaierror, websocket.WebSocketAddressException)):
        return f"host name not resolved ({exc})"
    if isinstance(exc, AuthError):
        return f"login failed ({exc})"
    return f"{type(exc).__name__}: {exc}"


def classify(exc: BaseException) -> Failure:
    """The engine's default reading of a failed connect."""
    if isinstance(exc, websocket.WebSocketBadStatusException):
        if exc.status_code in AUTH_STATUSES:
            return Failure.AUTH
        if exc.status_code in PERMANENT_STATUSES:
            return Failure.PERMANENT
        return Failure.TRANSIENT
    if isinstance(exc, AuthError):
        return Failure.PERMANENT if exc.permanent else Failure.TRANSIENT
    if isinstance(exc, ssl.SSLError):  # SSLCertVerificationError is a ValueError too
        return Failure.TRANSIENT  # a certificate can be fixed or rotated: keep trying
    if isinstance(exc, ValueError):  # websocket-client: bad scheme or URL
        return Failure.PERMANENT
    return Failure.TRANSIENT


def retry_after(exc: BaseException) -> Optional[float]:
    """Seconds a 429/503 handshake answer asked us to wait (``Retry-After``), if any."""
    headers = getattr(exc, "resp_headers", None)
    if not isinstance(headers, dict):
        return None
    value = headers.get("retry-after") or headers.get("Retry-After")
    if isinstance(value, str) and value.strip().isdigit():
        return float(value.strip())
    return None


def url_path(url: str) -> str:
    """The path of a socket URL, the name lifecycle events give it (``/v1/ws``)."""
    return urlsplit(url).path or "/"


class Venue:
    """Base of every venue's protocol object; override what the venue needs.

    The defaults describe the simplest venue: a text-free WebSocket-ping heartbeat,
    no headers, no unsubscribe frames, resync by resubscribing.
    """

    #: Once a socket has opened, keep it open (and connected) until close(),
    #: even without topics (O2: ``connect()`` is meaningful). False: a socket
    #: closes with its last topic.
    keep_sockets_open = False

    #: A depth consumer joining a running topic starts at a snapshot (O2: the
    #: stream's own shape is snapshot + deltas). False: it gets the stream as it is
    #: from where it joins (tplus: raw diffs, as its guide shows them).
    joiners_start_from_snapshot = False

    engine: StreamEngine

    def bind(self, engine: StreamEngine) -> None:
        """Called once by the engine it serves."""
        self.engine = engine

    def unsubscribe_frames(self, topic: Topic, remaining: Sequence[Topic]) -> list[str]:
        """Frames that end ``topic`` on its socket (``remaining``: the topics left)."""
        return []

    def route(self, url: str, data: bytes) -> None:
        """Decode one data frame received on ``url`` and deliver it (reader thread)."""
        raise NotImplementedError

    def resync(self, topic: Topic) -> None:
        """A consumer of ``topic`` lost events and needs a fresh snapshot."""
        self.engine.resubscribe(topic)

    def joined(self, topic: Topic, sub: Any) -> None:
        """A consumer joined a running topic; with ``joiners_start_from_snapshot`` a
        depth joiner skips deltas until the venue gets it a snapshot."""

    def heartbeat_text(self, url: str) -> Optional[str]:
        """The text frame to send as heartbeat on ``url``; None for a WebSocket ping."""
        return None

    def handshake_headers(self, url: str, refresh: bool) -> dict[str, str]:
        """Headers for the handshake about to be made on ``url`` (called on every connect).

        ``refresh`` is True right after the server rejected the credentials (401/403).
        Raise :class:`~o2sync.errors.AuthError` when no credentials can be had.
        """
        return {}

    def classify_failure(self, url: str, exc: BaseException) -> Failure:
        """What a failed connect to ``url`` means; the default reads the HTTP status."""
        return classify(exc)
