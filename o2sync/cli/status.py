"""What the ``o2sync`` commands say on stderr about the connection, one line per event.

:class:`LifecycleReporter` subscribes to a client's lifecycle stream and turns each
event into one human line (lost, reconnecting with attempt and delay, back, gave up
and why). A permanent failure (``FAILED``, or ``CLOSED`` for any reason other than
our own ``close()``) is remembered as :attr:`LifecycleReporter.failure` and closes the
client, so that the command's loop ends and the command exits non-zero.

The reporter knows nothing of O2 beyond ``on_lifecycle``/``close``: a tplus client
offers the same two, so the same reporter serves it.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from typing import Any, Optional, TextIO

from ..engine.lifecycle import ConnectionEvent, ConnectionState

#: The engine's ``FAILED`` state, or None on an engine that has none yet.
FAILED: Optional[ConnectionState] = getattr(ConnectionState, "FAILED", None)

_ATTEMPT = re.compile(r"attempt (\d+) in ([0-9.]+)s")


def clock() -> str:
    """Local wall-clock time for the start of a line: ``14:03:07.251``."""
    now = time.time()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def describe(event: ConnectionEvent) -> str:
    """One line (without prefix) for a lifecycle event, naming its socket at the end."""
    where = f" [{event.stream}]" if getattr(event, "stream", "") else ""
    return _describe(event) + where


def _describe(event: ConnectionEvent) -> str:
    state, message = event.state, event.message
    if state is ConnectionState.CONNECTED:
        if message.startswith("connected"):
            return message
        return f"connected: {message}" if message else "connected"
    if state is ConnectionState.DISCONNECTED:
        return f"lost the connection: {message or 'no reason given'}"
    if state is ConnectionState.RECONNECTING:
        found = _ATTEMPT.search(message)
        if found:
            return (f"reconnecting: attempt {found.group(1)}, "
                    f"next try in {float(found.group(2)):.2f}s")
        return f"reconnecting: attempt {event.attempt} ({message})"
    if state is ConnectionState.RECONNECTED:
        return f"connection back after {event.attempt} attempt(s)"
    if FAILED is not None and state is FAILED:
        return f"cannot connect: {message or 'permanent failure'}"
    if state is ConnectionState.CLOSED:
        if not is_failure(event):
            return "closed"
        if message.startswith("gave up"):
            return message
        return f"gave up: {message}"
    return f"{state.value}: {message}"


def is_failure(event: ConnectionEvent) -> bool:
    """True for an event after which the command cannot go on."""
    if FAILED is not None and event.state is FAILED:
        return True
    return event.state is ConnectionState.CLOSED and bool(event.message) \
        and event.message != "closed by client"


class LifecycleReporter:
    """Prints a line to ``err`` for each lifecycle event of ``client``.

    ``prefix`` starts every line (``"o2sync watch"``). ``quiet_close`` leaves out the
    line for the client's own ``close()``. Thread-safe; the callback runs on the
    client's dispatcher.
    """

    def __init__(self, client: Any, prefix: str, err: Optional[TextIO] = None) -> None:
        self.client = client
        self.prefix = prefix
        self.err = err
        self.failure: Optional[str] = None
        self.events: list[ConnectionEvent] = []
        self._muted = False
        self._lock = threading.Lock()
        self.subscription = client.on_lifecycle(self._on_event)

    def _on_event(self, event: ConnectionEvent) -> None:
        with self._lock:
            self.events.append(event)
            if self._muted:
                return
            if event.state is ConnectionState.CLOSED and not is_failure(event):
                return  # our own close(): the command says goodbye itself
            self.line(describe(event))
            if is_failure(event) and self.failure is None:
                self.failure = describe(event)
                self._close_soon()

    def _close_soon(self) -> None:
        # close() from the dispatcher thread is allowed, but doing it on a thread of
        # our own keeps this callback short and the order of lines stable.
        threading.Thread(target=self.client.close, name="cli-close",
                         daemon=True).start()

    def line(self, text: str) -> None:
        """Write one prefixed, timestamped line to stderr."""
        out = self.err if self.err is not None else sys.stderr
        out.write(f"{self.prefix}: {clock()} {text}\n")
        out.flush()

    def finish(self) -> Optional[str]:
        """Print nothing more; the failure already reported, if any.

        The command calls this before it reports an error of its own, so that one
        failure makes one line, whichever of the two saw it first.
        """
        with self._lock:
            self._muted = True
            return self.failure

    def close(self) -> None:
        self.subscription.close()
