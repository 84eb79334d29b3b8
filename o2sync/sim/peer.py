"""One WebSocket client as the server sees it: its subscriptions and its send queue.

Every peer has its own queue and writer task, so a slow, stalled or dead client
never blocks the engine or the other clients. The writer frames everything that is
queued with the websockets protocol object and hands it to the transport in ONE
write: one syscall per batch instead of one per message, which is what lets the
simulator push tens of thousands of messages per second.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Optional

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from .records import ConnectionRecord

logger = logging.getLogger(__name__)

#: Queued frames beyond which a client is cut off as too slow (a real server has a
#: few KiB of write buffer per connection; this is far more generous).
MAX_QUEUE = 250_000
#: Frames framed per transport write; bounds the time one writer holds the loop.
BATCH = 512


class Peer:
    """Server-side state of one accepted connection."""

    def __init__(self, ws: ServerConnection, record: ConnectionRecord) -> None:
        self.ws = ws
        self.record = record
        self.queue: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._running = asyncio.Event()  # cleared while stalled
        self._running.set()
        self._free = asyncio.Event()  # cleared while a fragmented message is being sent
        self._free.set()
        self.stalled = False
        self.closed = False
        # subscriptions: market id -> bucket width (None: a precision that never emits)
        self.depth: dict[str, Optional[int]] = {}
        self.trades: set[str] = set()
        self.orders: set[str] = set()
        self.balances: set[str] = set()
        self.nonce: set[str] = set()
        self.writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, data: bytes) -> None:
        """Queue one text frame (UTF-8) for this client."""
        if self.closed:
            return
        self.queue.append(data)
        if len(self.queue) > MAX_QUEUE:
            logger.warning(
                "connection #%d: %d frames queued, cutting it off", self.record.id, len(self.queue)
            )
            self.abort()
            return
        self._wake.set()

    def abort(self) -> None:
        """Drop the TCP connection now: no close frame."""
        self.closed = True
        self.queue.clear()
        self.ws.transport.abort()

    def stall(self) -> None:
        """Half-open link: stop reading (no pongs, no PONG) and stop sending."""
        if not self.stalled and not self.closed:
            self.stalled = True
            self._running.clear()
            self.ws.transport.pause_reading()

    def unstall(self) -> None:
        """Undo :meth:`stall`; queued frames then flow again."""
        if self.stalled:
            self.stalled = False
            self._running.set()
            if not self.ws.transport.is_closing():
                self.ws.transport.resume_reading()

    async def wait_running(self) -> None:
        """Return at once unless stalled; then when unstalled."""
        if self.stalled and not self.ws.transport.is_closing():
            # websockets' own flow control may have resumed reading as the handler
            # took a message from its buffer: pause again before anything is read
            self.ws.transport.pause_reading()
        await self._running.wait()

    async def send_fragments(self, chunk: str, count: Optional[int], interval: float) -> None:
        """Send one text message as ``count`` fragments of ``chunk`` (None: endless,
        never finished, until the connection closes); queued frames wait behind it.

        websockets does the framing (``send`` of an async iterator); our writer holds
        its queue meanwhile, since no other data frame may interleave.
        """

        async def fragments() -> AsyncIterator[str]:
            sent = 0
            while count is None or sent < count:
                if self.closed or self.ws.transport.is_closing():
                    # the message can never end: abort (a close frame mid-message is
                    # not allowed by websockets, and the peer is going away anyway)
                    raise ConnectionAbortedError("connection closed mid-message")
                yield chunk
                sent += 1
                await asyncio.sleep(interval)

        self._free.clear()
        try:
            self.flush()
            await self.ws.send(fragments())
        except (ConnectionClosed, OSError) as exc:
            logger.debug("connection #%d: fragments stopped: %r", self.record.id, exc)
        finally:
            self._free.set()

    def finish(self) -> None:
        """The connection is gone: stop the writer and drop what is queued."""
        self.closed = True
        self.queue.clear()
        self.writer.cancel()

    def flush(self) -> None:
        """Hand everything queued to the transport now (before a close frame)."""
        if not self.stalled and self._free.is_set():
            while self.queue and self._write_batch():
                pass

    def _write_batch(self) -> bool:
        """Frame up to BATCH queued messages and write them at once; False if closed."""
        ws = self.ws
        if ws.protocol.state is not State.OPEN or ws.transport.is_closing():
            return False
        queue = self.queue
        for _ in range(min(len(queue), BATCH)):
            ws.protocol.send_text(queue.popleft())
        ws.transport.write(b"".join(ws.protocol.data_to_send()))
        return True

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self.queue:
                    await self._running.wait()
                    await self._free.wait()
                    if not self._write_batch():
                        return
                    # flow control: wait while the transport buffer is over its high-water mark
                    await self.ws.drain()
        except OSError as exc:  # the connection died under us: the handler cleans up
            logger.debug("connection #%d: writer stopped: %r", self.record.id, exc)
