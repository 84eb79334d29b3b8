"""The heartbeat rule of one socket, as a small state machine on a clock you pass in.

Every venue has the same liveness rule: send a heartbeat every ``interval``
seconds (a text ping or a WebSocket ping, the venue decides which), and count the
link alive while *any* frame arrives. A heartbeat followed by ``timeout`` seconds
without a single frame means a half-open link. No sockets and no threads here, so
the rule is tested with a fake clock.
"""

from __future__ import annotations

import enum
from typing import Optional


class Beat(enum.Enum):
    """What the watchdog should do for a socket now."""

    NOTHING = "nothing"
    PING = "ping"  # send a heartbeat
    DEAD = "dead"  # no frame within the timeout of a heartbeat: drop the link


class Heartbeat:
    """Heartbeat timing of one live socket, opened at ``now``."""

    __slots__ = ("interval", "next_ping", "sent_at", "timeout")

    def __init__(self, interval: float, timeout: float, now: float) -> None:
        if interval <= 0 or timeout <= 0:
            raise ValueError("ping_interval and pong_timeout must be > 0")
        self.interval = interval
        self.timeout = timeout
        self.next_ping = now + interval
        self.sent_at: Optional[float] = None  # oldest heartbeat not yet answered

    def check(self, now: float, last_rx: float) -> Beat:
        """The action due at ``now``, given the time of the last frame received."""
        if self.sent_at is not None:
            if last_rx >= self.sent_at:
                self.sent_at = None  # answered: any frame counts
            elif now - self.sent_at >= self.timeout:
                return Beat.DEAD
        if now >= self.next_ping:
            self.next_ping = now + self.interval
            if self.sent_at is None:
                self.sent_at = now
            return Beat.PING
        return Beat.NOTHING

    def deadline(self) -> float:
        """When :meth:`check` may next have something to do."""
        if self.sent_at is None:
            return self.next_ping
        return min(self.next_ping, self.sent_at + self.timeout)

    def __repr__(self) -> str:
        return (f"Heartbeat(interval={self.interval}, timeout={self.timeout}, "
                f"awaiting={'yes' if self.sent_at is not None else 'no'})")
