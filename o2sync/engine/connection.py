"""One socket URL and its reader thread.

:class:`Connection` is the low-level half (websocket-client's ``WebSocket``): it
opens a socket when the watchdog asks (with the headers the venue computed for
that handshake), sends text and pings, and runs one named reader thread that
only receives frames and hands data frames to ``on_frame`` (decode + route, no
user code). Every frame, control frames included, proves the link alive
(``last_rx``). A socket that fails is reported once, by generation, through
``on_lost``; reconnecting is the watchdog's job.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import weakref
from typing import Any, Callable, Optional, cast

import websocket
from websocket._abnf import continuous_frame, frame_buffer

from ..proxy import parse_proxy
from ..redact import redact_text, redact_url
from . import threads

log = logging.getLogger(__name__)

#: How long close() may spend sending the close frame to a peer that stopped reading.
CLOSE_SEND_TIMEOUT = 1.0

#: Gets each text frame's payload as UTF-8 bytes: JSON parsers take bytes, so the
#: hot path never builds a str it does not need.
FrameHandler = Callable[[bytes], None]
LostHandler = Callable[[int, str], None]

_DATA_OPCODES = (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY)
_MESSAGE_OPCODES = (*_DATA_OPCODES, websocket.ABNF.OPCODE_CONT)
_PING, _PONG, _CLOSE = (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG,
                        websocket.ABNF.OPCODE_CLOSE)


class MessageTooLarge(Exception):
    """A frame, or a fragmented message, exceeded ``max_message_size``."""


def proxy_options(proxy: Optional[str]) -> dict[str, Any]:
    """websocket-client connect options for a proxy URL (see :func:`o2sync.proxy.parse_proxy`)."""
    parsed = parse_proxy(proxy)
    return parsed.websocket_options() if parsed is not None else {}


#: Smallest socket read. websocket-client asks the socket for each frame's header,
#: length and payload separately (three syscalls per frame, each letting the GIL go
#: to another thread); reading ahead serves many frames per syscall. Each syscall
#: also hands the GIL over: the consumer thread waiting for it rarely gets it in the
#: short window of a syscall, and under a flood it only catches up in long turns.
#: Fewer, larger reads mean fewer futile handovers: measured with bench/run.py,
#: 16 KiB gave 0.82 of the ceiling, 64-256 KiB 0.87-0.95, 1 MiB less again.
#: The buffer is held as one bytes object and an offset, so its size costs no copies.
READ_AHEAD = 256 * 1024


class _BoundedFrameBuffer(frame_buffer):  # type: ignore[misc,unused-ignore]
    """websocket-client's frame buffer, refusing a frame whose declared length is too
    large before reading (and allocating) its payload, and holding what it has read
    ahead without copying it again and again.

    The framing (header, length, mask, payload, validation) stays websocket-client's;
    only :meth:`recv_strict`, its "give me exactly n bytes" primitive, is replaced.
    """

    max_size = 0

    def __init__(self, recv_fn: Callable[[int], bytes], skip_utf8_validation: bool) -> None:
        super().__init__(recv_fn, skip_utf8_validation)
        self._held = b""  # bytes read from the socket, not yet handed out from _start on
        self._start = 0

    def recv_strict(self, bufsize: int) -> bytes:
        """Exactly ``bufsize`` bytes. websocket-client's own version joins and
        re-slices everything it holds on each call (three calls a frame), which with
        a large read-ahead copies the whole read-ahead for every two-byte header;
        here the held bytes are one buffer and an offset, and only what is handed out
        is copied. A payload larger than the read-ahead is read into one buffer of
        its size (each byte copied once), and nothing of it is held afterwards."""
        held, start = self._held, self._start
        end = start + bufsize
        if end <= len(held):
            self._start = end
            return held[start:end]
        if bufsize > READ_AHEAD:
            return self._recv_large(bufsize)  # type: ignore[return-value]
        parts = [held[start:]]
        have = len(held) - start
        while have < bufsize:
            chunk = self.recv(min(READ_AHEAD, bufsize - have))
            parts.append(chunk)
            have += len(chunk)
        held = b"".join(parts)
        self._held, self._start = held, bufsize
        return held[:bufsize]

    def _recv_large(self, bufsize: int) -> bytearray:
        """``bufsize`` bytes in a bytearray filled in place: joining read-ahead chunks
        and slicing the result would hold the payload three times at once."""
        out = bytearray(bufsize)
        view = memoryview(out)
        have = len(self._held) - self._start
        view[:have] = memoryview(self._held)[self._start:]
        self._held, self._start = b"", 0
        while have < bufsize:
            chunk = self.recv(min(READ_AHEAD, bufsize - have))
            if not chunk:
                raise websocket.WebSocketConnectionClosedException("Connection is already closed.")
            take = min(len(chunk), bufsize - have)
            view[have:have + take] = chunk[:take]
            have += take
            if take < len(chunk):  # read ahead past this payload: keep the rest
                self._held = chunk[take:]
        view.release()
        return out

    def recv_length(self) -> None:
        super().recv_length()
        if (self.length or 0) > self.max_size:
            raise MessageTooLarge(f"frame of {self.length} bytes is larger than "
                                  f"max_message_size ({self.max_size} bytes)")


class _Continuation(continuous_frame):  # type: ignore[misc,unused-ignore]
    """websocket-client's reassembly of fragmented messages, in a bytearray.

    Its own ``cont_data[1] += frame.data`` copies the whole message on every fragment
    (quadratic time, and two copies alive at once); a message that never ends then
    costs several times ``max_message_size`` before the bound drops it. A single-frame
    message (the usual case) stays the bytes it arrived as.
    """

    max_size = 0

    def add(self, frame: websocket.ABNF) -> None:
        data = self.cont_data
        if data is not None:
            # one frame is bounded by its header (_BoundedFrameBuffer); fragments add
            # up, and are refused before joining: the message never exceeds the bound
            if len(data[1]) + len(frame.data) > self.max_size:
                raise MessageTooLarge(
                    f"fragmented message of more than {self.max_size} bytes "
                    f"(max_message_size)")
            if not isinstance(data[1], bytearray):
                data[1] = bytearray(data[1])
            data[1] += frame.data
        else:
            if frame.opcode in _DATA_OPCODES:
                self.recving_frames = frame.opcode
            self.cont_data = [frame.opcode, frame.data]
        if frame.fin:
            self.recving_frames = None

    def extract(self, frame: websocket.ABNF) -> tuple[int, Any]:
        data = self.cont_data
        if data is not None and isinstance(data[1], bytearray):
            data[1] = bytes(data[1])
        return super().extract(frame)

    def reset(self) -> None:
        """Forget a half-received message (its socket is gone)."""
        self.cont_data = None
        self.recving_frames = None


class _ReadAheadWebSocket(websocket.WebSocket):
    """websocket-client's WebSocket, reading the socket READ_AHEAD bytes at a time and
    bounding the size of a message.

    Its frame buffer (``recv_strict``) already keeps any bytes beyond what it asked
    for, so returning more than requested is safe; framing stays websocket-client's.
    """

    def __init__(self, max_message_size: int, **options: Any) -> None:
        super().__init__(**options)
        # The frame buffer reads through a weak reference: websocket-client hands it
        # the bound method self._recv, a reference cycle (socket <-> buffer) that
        # kept every dead socket, and the last message it was reading, alive until a
        # full garbage collection. Under a reconnect storm that was hundreds of MiB.
        bounded = _BoundedFrameBuffer(_weak_recv(self),
                                      options.get("skip_utf8_validation", False))
        bounded.max_size = max_message_size
        self.frame_buffer = bounded
        self.cont_frame = _Continuation(self.cont_frame.fire_cont_frame,
                                        self.cont_frame.skip_utf8_validation)
        self.cont_frame.max_size = max_message_size

    def _recv(self, bufsize: int) -> bytes:
        data: bytes = super()._recv(max(bufsize, READ_AHEAD))  # type: ignore[no-untyped-call,unused-ignore]
        return data

    # websocket-client sets ``self.sock`` once TCP (and TLS) are up, then makes the
    # upgrade on it. A property sees that moment: a socket the client gave up on
    # (close() during the handshake) is shut down as it arrives, so the handshake
    # fails at once instead of waiting out connect_timeout.
    _abandoned = False
    _socket: Optional[socket.socket] = None

    @property  # type: ignore[override,unused-ignore]
    def sock(self) -> Optional[socket.socket]:
        return self._socket

    @sock.setter
    def sock(self, value: Optional[socket.socket]) -> None:
        self._socket = value
        if value is not None and self._abandoned:
            _shut(value)

    def abandon(self) -> None:
        """Fail the connect or the link at once, from any thread."""
        self._abandoned = True
        sock = self._socket
        if sock is not None:
            _shut(sock)


def _weak_recv(ws: _ReadAheadWebSocket) -> Callable[[int], bytes]:
    """``ws._recv`` without a strong reference to ``ws``."""
    ref = weakref.ref(ws)

    def recv(bufsize: int) -> bytes:
        target = ref()
        if target is None:
            raise websocket.WebSocketConnectionClosedException("socket is gone")
        return target._recv(bufsize)

    return recv


class Connection(threads.ThreadOwner):
    """One WebSocket URL: at most one live socket at a time, plus its reader thread."""

    def __init__(self, url: str, *, name: str, on_frame: FrameHandler, on_lost: LostHandler,
                 sslopt: Optional[dict[str, Any]] = None, proxy: Optional[str] = None,
                 max_message_size: int = 16 * 1024 * 1024) -> None:
        self.url = url
        self._shown = redact_url(url)  # what logs may show
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._sslopt = sslopt
        self._connect_options = proxy_options(proxy)
        self._max_message_size = max_message_size
        self._lock = threading.Condition(threading.Lock())
        self._ws: Optional[websocket.WebSocket] = None
        self._connecting: Optional[_ReadAheadWebSocket] = None  # mid-handshake
        self._generation = 0
        self._closing = False
        self.last_rx = 0.0  # monotonic time of the last frame of any kind
        self.pongs = 0  # WebSocket pong frames received
        # ``name`` is the reader thread's whole name (the engine passes o2sync-N-reader)
        self._thread = threading.Thread(target=self._read_loop, name=name, daemon=True)

    # ------------------------------------------------------------------ control

    def open(self, timeout: float, header: Optional[dict[str, str]] = None) -> int:
        """Connect a fresh socket and hand it to the reader. Returns its generation.

        Raises whatever websocket-client raises when the connect fails.
        """
        ws = _ReadAheadWebSocket(self._max_message_size, skip_utf8_validation=True,
                                 enable_multithread=True, sslopt=self._sslopt)
        with self._lock:
            if self._closing:
                raise websocket.WebSocketConnectionClosedException("client is closing")
            self._connecting = ws  # close() aborts a handshake in progress
        try:
            ws.connect(self.url, timeout=timeout, header=header or None,  # type: ignore[no-untyped-call,unused-ignore]
                       **self._connect_options)
        except Exception:
            if self._closing:
                raise websocket.WebSocketConnectionClosedException("client is closing") from None
            raise
        finally:
            with self._lock:
                self._connecting = None
        # Reads block without a timeout: the watchdog aborts a dead socket instead,
        # which wakes recv() at once and costs no extra syscall per frame.
        ws.settimeout(None)
        with self._lock:
            if self._closing:
                ws.shutdown()  # type: ignore[no-untyped-call,unused-ignore]
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
            # subscriptions and heartbeats only (never the inbound hot path): -vv shows them
            log.debug("%s -> %s", self._shown, redact_text(text[:500]))
            return True
        except Exception as exc:  # the reader or watchdog will see the socket die
            log.debug("send failed on %s: %r", self._shown, exc)
            return False

    def ping(self) -> bool:
        """Send a WebSocket ping on the live socket; False if there is none or it failed."""
        ws = self._ws
        if ws is None:
            return False
        try:
            ws.ping()
            log.debug("%s -> WebSocket ping", self._shown)
            return True
        except Exception as exc:
            log.debug("ping failed on %s: %r", self._shown, exc)
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
            connecting = self._connecting
            self._lock.notify_all()
        if connecting is not None:
            # wakes a handshake blocked on a server that never answers (a TLS setup
            # that stalls runs inside websocket-client, bounded by connect_timeout)
            connecting.abandon()
        if ws is not None:
            try:
                if ws.sock is not None:
                    ws.sock.settimeout(CLOSE_SEND_TIMEOUT)
                ws.send_close()
            except Exception as exc:  # already dead: nothing to be polite to
                log.debug("close frame not sent: %r", exc)
            _abort(ws)

    # ------------------------------------------------------------------ reader

    def _next_socket(self) -> Optional[tuple[websocket.WebSocket, int]]:
        with self._lock:
            while self._ws is None and not self._closing:
                self._lock.wait()
            if self._closing or self._ws is None:
                return None
            return self._ws, self._generation

    def _read_loop(self) -> None:
        while True:
            current = self._next_socket()
            if current is None:
                return
            ws, generation = current
            reason = self._receive(ws)
            if isinstance(ws.cont_frame, _Continuation):
                ws.cont_frame.reset()  # a half-received message dies with its link
            self.drop(generation, reason)
            # nothing here keeps the dead socket (or its buffers) alive while the
            # reader waits for the next one
            del ws, current

    def _receive(self, ws: websocket.WebSocket) -> str:
        """Receive until the socket fails; return why it ended."""
        try:
            while True:
                frame = ws.recv_frame()  # type: ignore[no-untyped-call,unused-ignore]
                self.last_rx = time.monotonic()  # every frame proves the link alive
                if self._deliver(ws, frame):
                    code = (int.from_bytes(frame.data[:2], "big")
                            if len(frame.data) >= 2 else None)
                    return f"connection closed by server (close code {code})"
        except websocket.WebSocketConnectionClosedException as exc:
            return f"connection closed by server ({exc})"
        except MessageTooLarge as exc:
            # the text, not the exception: a record kept by a handler would keep its
            # traceback, and with it this socket and its buffers, alive
            log.warning("%s: %s; dropping the link", self._shown, str(exc))
            return f"{exc}; link dropped"
        except Exception as exc:  # socket errors, protocol errors, an abort()
            return f"connection lost ({exc!r})"

    def _deliver(self, ws: websocket.WebSocket, frame: websocket.ABNF) -> bool:
        """Act on one frame parsed by websocket-client; True for a close frame.

        What websocket-client's ``recv_data_frame`` does, less its per-frame calls
        for the usual case: a whole text frame outside a fragmented message is its
        own message, so it goes straight to ``on_frame``; fragments go through
        websocket-client's reassembly (validated, joined, bounded).
        """
        opcode = frame.opcode
        cont = ws.cont_frame
        if opcode in _DATA_OPCODES and frame.fin and not cont.recving_frames:
            payload = cast(bytes, frame.data)  # never decoded to str on this path
            if payload:
                # a large frame was read in place, into a bytearray
                self._on_frame(payload if payload.__class__ is bytes else bytes(payload))
        elif opcode in _MESSAGE_OPCODES:
            cont.validate(frame)
            cont.add(frame)
            if cont.is_fire(frame):
                data = cont.extract(frame)[1].data  # the joined message, as bytes
                if data:
                    self._on_frame(data)
        elif opcode == _PONG:
            self.pongs += 1
        elif opcode == _PING:
            if len(frame.data) >= 126:
                raise websocket.WebSocketProtocolException("Ping message is too long")
            ws.pong(frame.data)
        elif opcode == _CLOSE:
            with contextlib.suppress(Exception):  # answer the close, as websocket-client does
                ws.send_close()
            return True
        return False


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed or never connected
        sock.shutdown(socket.SHUT_RDWR)


def _abort(ws: websocket.WebSocket) -> None:
    """Wake a recv() blocked in another thread, then close the socket.

    websocket-client's own abort() does nothing once a close frame was sent (it
    checks ``connected``), so shut the raw socket down directly.
    """
    sock = ws.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed or never connected
            sock.shutdown(socket.SHUT_RDWR)
    ws.shutdown()  # type: ignore[no-untyped-call,unused-ignore]
