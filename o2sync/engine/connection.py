"""The socket and its reader thread.

:class:`Connection` is the low-level half (websocket-client's ``WebSocket``): it
opens a socket when the watchdog asks, sends text, and runs one named reader
thread that only receives frames and hands them to ``on_frame`` (decode + route,
no user code). A socket that fails is reported once, by generation, through
``on_lost``; reconnecting is the watchdog's job.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import websocket

from . import threads

log = logging.getLogger(__name__)

#: How long close() may spend sending the close frame to a peer that stopped reading.
CLOSE_SEND_TIMEOUT = 1.0

#: Gets each text frame's payload as UTF-8 bytes: JSON parsers take bytes, so the
#: hot path never builds a str it does not need.
FrameHandler = Callable[[bytes], None]
LostHandler = Callable[[int, str], None]


def proxy_options(proxy: Optional[str]) -> dict[str, Any]:
    """websocket-client connect options for an ``http://[user:pass@]host:port`` proxy."""
    if not proxy:
        return {}
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    if not parts.hostname:
        raise ValueError(f"proxy must look like http://host:port, got {proxy!r}")
    opts: dict[str, Any] = {"http_proxy_host": parts.hostname,
                            "http_proxy_port": parts.port or 8080,
                            "proxy_type": parts.scheme if parts.scheme != "https" else "http"}
    if parts.username:
        opts["http_proxy_auth"] = (parts.username, parts.password or "")
    return opts


#: Smallest socket read. websocket-client asks the socket for each frame's header,
#: length and payload separately (three syscalls per frame, each letting the GIL go
#: to another thread); reading ahead serves many frames per syscall. Larger reads
#: cost more than they save, because websocket-client re-slices what is left over.
READ_AHEAD = 16 * 1024


class _ReadAheadWebSocket(websocket.WebSocket):
    """websocket-client's WebSocket, reading the socket in 16 KiB chunks.

    Its frame buffer (``recv_strict``) already keeps any bytes beyond what it asked
    for, so returning more than requested is safe; framing stays websocket-client's.
    """

    def _recv(self, bufsize: int) -> bytes:
        data: bytes = super()._recv(max(bufsize, READ_AHEAD))
        return data


class Connection(threads.ThreadOwner):
    """One WebSocket URL: at most one live socket at a time, plus its reader thread."""

    def __init__(self, url: str, *, name: str, on_frame: FrameHandler, on_lost: LostHandler,
                 sslopt: Optional[dict[str, Any]] = None, proxy: Optional[str] = None,
                 header: Optional[dict[str, str]] = None) -> None:
        self.url = url
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._sslopt = sslopt
        self._connect_options = proxy_options(proxy)
        self._header = header
        self._lock = threading.Condition(threading.Lock())
        self._ws: Optional[websocket.WebSocket] = None
        self._generation = 0
        self._closing = False
        self.last_rx = 0.0  # monotonic time of the last frame of any kind
        self._thread = threading.Thread(target=self._read_loop, name=f"{name}-reader",
                                        daemon=True)

    # ------------------------------------------------------------------ control


    def open(self, timeout: float) -> int:
        """Connect a fresh socket and hand it to the reader. Returns its generation.

        Raises whatever websocket-client raises when the connect fails.
        """
        ws = _ReadAheadWebSocket(skip_utf8_validation=True, enable_multithread=True,
                                 sslopt=self._sslopt)
        ws.connect(self.url, timeout=timeout, header=self._header, **self._connect_options)
        # Reads block without a timeout: the watchdog aborts a dead socket instead,
        # which wakes recv() at once and costs no extra syscall per frame.
        ws.settimeout(None)
        with self._lock:
            if self._closing:
                ws.shutdown()
                raise websocket.WebSocketConnectionClosedException("client is closing")
            self._generation += 1
            self._ws = ws
            self.last_rx = time.monotonic()
            self._lock.notify_all()
            return self._generation

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def is_open(self) -> bool:
        return self._ws is not None

    def send(self, text: str) -> bool:
        """Send a text frame on the live socket; False if there is none or it failed."""
        ws = self._ws
        if ws is None:
            return False
        try:
            ws.send(text)
            return True
        except Exception as exc:  # the reader or watchdog will see the socket die
            log.debug("send failed on %s: %r", self.url, exc)
            return False

    def drop(self, generation: int, reason: str) -> bool:
        """Abort the socket of ``generation`` if it is still the live one.

        Returns True for the caller that actually dropped it; that caller's reason is
        reported once through ``on_lost``.
        """
        with self._lock:
            ws = self._ws
            if ws is None or generation != self._generation:
                return False
            self._ws = None
        _abort(ws)
        if not self._closing:
            self._on_lost(generation, reason)
        return True

    def close(self) -> None:
        """Say goodbye (close frame 1000, best effort), abort the socket, end the reader."""
        with self._lock:
            self._closing = True
            ws, self._ws = self._ws, None
            self._lock.notify_all()
        if ws is not None:
            try:
                if ws.sock is not None:
                    ws.sock.settimeout(CLOSE_SEND_TIMEOUT)
                ws.send_close()
            except Exception as exc:  # already dead: nothing to be polite to
                log.debug("close frame not sent: %r", exc)
            _abort(ws)



    # ------------------------------------------------------------------ reader

    def _next_socket(self) -> Optional[tuple]:
        with self._lock:
            while self._ws is None and not self._closing:
                self._lock.wait()
            if self._closing:
                return None
            return self._ws, self._generation

    def _read_loop(self) -> None:
        while True:
            current = self._next_socket()
            if current is None:
                return
            ws, generation = current
            reason = self._receive(ws)
            self.drop(generation, reason)

    def _receive(self, ws: websocket.WebSocket) -> str:
        """Receive until the socket fails; return why it ended."""
        on_frame = self._on_frame
        clock = time.monotonic
        data_opcodes = (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY)
        try:
            while True:
                opcode, data = ws.recv_data()
                self.last_rx = clock()
                if opcode in data_opcodes and data:
                    on_frame(data)
        except websocket.WebSocketConnectionClosedException as exc:
            return f"connection closed by server ({exc})"
        except Exception as exc:  # socket errors, protocol errors, an abort()
            return f"connection lost ({exc!r})"


def _abort(ws: websocket.WebSocket) -> None:
    """Wake a recv() blocked in another thread, then close the socket.

    websocket-client's own abort() does nothing once a close frame was sent (it
    checks ``connected``), so shut the raw socket down directly.
    """
    sock = ws.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed or never connected
            sock.shutdown(socket.SHUT_RDWR)
    ws.shutdown()
