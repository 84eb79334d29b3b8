"""The watchdog thread: connects, keeps the link alive and honest, reconnects.

It owns the connection's life: the first connect, the text heartbeat (the O2
server drops a socket that sends nothing for 60 s), the liveness check (no frame
at all within ``pong_timeout`` of a heartbeat means a half-open link), reconnects
with capped exponential backoff and jitter, and the lifecycle events. What to do
once a socket is up (replaying subscriptions) is the owner's ``on_open`` hook.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

from . import threads
from .backoff import Backoff
from .connection import Connection
from .lifecycle import ConnectionState

log = logging.getLogger(__name__)

OpenHook = Callable[[int], None]
LifecycleHook = Callable[[ConnectionState, int, str], None]


class Watchdog(threads.ThreadOwner):
    """Supervises one :class:`Connection` on its own named thread."""

    def __init__(self, connection: Connection, *, name: str, on_open: OpenHook,
                 on_lifecycle: LifecycleHook, ping_text: Optional[str], ping_interval: float,
                 pong_timeout: float, backoff: Backoff, connect_timeout: float,
                 reconnect: bool, max_attempts: Optional[int]) -> None:
        if ping_interval <= 0 or pong_timeout <= 0:
            raise ValueError("ping_interval and pong_timeout must be > 0")
        if max_attempts is not None and max_attempts < 0:
            raise ValueError(f"max_reconnect_attempts must be >= 0 or None, got {max_attempts}")
        self._conn = connection
        self._on_open = on_open
        self._on_lifecycle = on_lifecycle
        self._ping_text = ping_text
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._backoff = backoff
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect
        self._max_attempts = max_attempts
        self._wake = threading.Condition(threading.Lock())
        self._lost: Optional[str] = None
        self._stopping = False
        self._ever_connected = False
        self.reconnects = 0
        self.pings_sent = 0
        self.state = ConnectionState.DISCONNECTED
        self._thread = threading.Thread(target=self._run, name=f"{name}-watchdog", daemon=True)

    # ------------------------------------------------------------ called by others


    def connection_lost(self, generation: int, reason: str) -> None:
        """Connection's ``on_lost`` hook (reader or watchdog thread)."""
        with self._wake:
            self._lost = reason
            self._wake.notify_all()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()



    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        try:
            while not self._stopping:
                if not self._connect_with_retries():
                    break
                reason = self._supervise()
                if reason is None:
                    break
                self._set_state(ConnectionState.DISCONNECTED, 0, reason)
                if not self._reconnect:
                    break
        except Exception:  # never die silently: a dead watchdog means a dead client
            log.exception("watchdog crashed")
        finally:
            self._set_state(ConnectionState.CLOSED, 0, self._closed_reason())

    def _closed_reason(self) -> str:
        if self._stopping:
            return "closed by client"
        if not self._reconnect:
            return "connection lost and reconnect=False"
        return f"gave up after {self._max_attempts} reconnect attempt(s)"

    def _connect_with_retries(self) -> bool:
        """Connect, retrying with backoff. False if stopped or out of attempts.

        The very first connect is tried at once; after a loss, attempt 1 waits the
        (short, jittered) first backoff delay so a server that just dropped
        everybody is not hit by all clients in the same millisecond.
        """
        attempt = 1 if self._ever_connected else 0
        while not self._stopping:
            if attempt:
                if self._max_attempts is not None and attempt > self._max_attempts:
                    return False
                delay = self._backoff.delay(attempt)
                self._set_state(ConnectionState.RECONNECTING, attempt,
                                f"attempt {attempt} in {delay:.2f}s")
                if self._sleep(delay):
                    return False
            with self._wake:
                self._lost = None  # set again if the new socket dies before we supervise it
            try:
                generation = self._conn.open(self._connect_timeout)
            except Exception as exc:
                log.info("connect to %s failed: %r", self._conn.url, exc)
                if not self._reconnect:
                    return False
                attempt += 1
                continue
            self._on_open(generation)
            if self._ever_connected:
                self.reconnects += 1
                self._set_state(ConnectionState.RECONNECTED, attempt,
                                "reconnected; re-sync state from REST")
            else:
                self._ever_connected = True
                self._set_state(ConnectionState.CONNECTED, 0, f"connected to {self._conn.url}")
            return True
        return False

    def _supervise(self) -> Optional[str]:
        """Heartbeat and liveness until the socket is lost (reason) or we stop (None)."""
        generation = self._conn.generation
        next_ping = time.monotonic() + self._ping_interval
        ping_sent_at: Optional[float] = None
        while True:
            with self._wake:
                if self._stopping:
                    return None
                if self._lost is not None:
                    return self._lost
                now = time.monotonic()
                deadline = next_ping
                if ping_sent_at is not None:
                    deadline = min(deadline, ping_sent_at + self._pong_timeout)
                if deadline > now:
                    self._wake.wait(deadline - now)
                    continue
            now = time.monotonic()
            if ping_sent_at is not None and self._conn.last_rx < ping_sent_at:
                if now - ping_sent_at >= self._pong_timeout:
                    reason = f"no answer to heartbeat within {self._pong_timeout}s (half-open link)"
                    log.warning("%s: %s", self._conn.url, reason)
                    self._conn.drop(generation, reason)
                    continue  # connection_lost() has set self._lost
            elif ping_sent_at is not None:
                ping_sent_at = None  # answered (any frame counts)
            if now >= next_ping:
                if self._ping_text is not None:
                    self._conn.send(self._ping_text)
                    self.pings_sent += 1
                if ping_sent_at is None:
                    ping_sent_at = now
                next_ping = now + self._ping_interval

    def _sleep(self, seconds: float) -> bool:
        """Wait, waking early on stop. True if stopping."""
        end = time.monotonic() + seconds
        with self._wake:
            while not self._stopping:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(left)
            return True

    def _set_state(self, state: ConnectionState, attempt: int, message: str) -> None:
        self.state = state
        log.info("%s: %s %s", self._conn.url, state.value, message)
        self._on_lifecycle(state, attempt, message)
