"""One socket as the watchdog sees it: its connection, heartbeat and retry state."""

from __future__ import annotations

import enum
from typing import Optional

from .connection import Connection
from .heartbeat import Heartbeat
from .venue import url_path


class LinkState(enum.Enum):
    """Where a socket is in its life."""

    WAITING = "waiting"  # not connected; the next attempt is due at ``retry_at``
    OPEN = "open"  # connected and supervised
    FAILED = "failed"  # can never connect; its streams have ended
    CLOSED = "closed"  # no longer wanted (last topic gone, or the client closed)


class Link:
    """The watchdog's record of one socket URL.

    Only the watchdog thread changes ``state``, ``attempt`` and the timers; the
    reader thread sets ``lost`` (under the watchdog's lock) when the socket dies.
    """

    __slots__ = (
        "attempt",
        "auth_rejections",
        "connection",
        "ever_connected",
        "failure",
        "failures",
        "first_attempt_at",
        "generation",
        "heartbeat",
        "last_error",
        "lost",
        "opened_at",
        "proven",
        "refresh_auth",
        "retry_at",
        "state",
        "url",
    )

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.url = connection.url
        self.state = LinkState.WAITING
        self.retry_at = 0.0  # the first connect is tried at once
        self.attempt = 0  # reconnect attempts since the link last proved healthy
        self.ever_connected = False
        self.generation = 0  # of the socket being supervised
        self.heartbeat: Optional[Heartbeat] = None
        self.lost: Optional[str] = None  # why the supervised socket died, not yet handled
        self.refresh_auth = False  # the server rejected our credentials: refresh once
        self.auth_rejections = 0  # 401/403 handshakes in a row
        self.failure: Optional[str] = None  # why it can never connect (state FAILED)
        self.last_error: Optional[str] = None  # why the last connect attempt failed
        self.failures = 0  # failed connect attempts in a row (the first one is a warning)
        self.first_attempt_at: Optional[float] = None  # start of the very first connect
        self.opened_at = 0.0  # when the supervised socket's handshake completed
        # the supervised socket delivered an event: a handshake alone proves nothing
        # (a server may fail every link right after it), data does
        self.proven = False

    @property
    def path(self) -> str:
        """The URL path, the name lifecycle events give this socket."""
        return url_path(self.url)

    def __repr__(self) -> str:
        return f"<Link {self.path} {self.state.value} attempt={self.attempt}>"
