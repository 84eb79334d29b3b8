"""The asyncio side of the simulator: one port, WebSocket at ``/v1/ws``, REST elsewhere.

Everything here runs on the simulator's event loop thread; :class:`Simulator`
(``simulator.py``) is the thread-safe front. REST is served through websockets'
``process_request`` hook, so there is a single server and no HTTP parsing of our
own; a request for any path other than ``/v1/ws`` is answered with JSON and never
upgraded.
"""

from __future__ import annotations

import asyncio
import http
import logging
import ssl
import time
from typing import Optional
from urllib.parse import parse_qs

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import messages, rest
from .engine import Exchange
from .faults import Faults, RestOverride
from .flow import Flow, run_flow
from .hub import Hub
from .peer import Peer
from .records import Observer
from .session import handle_frame

logger = logging.getLogger(__name__)

WS_PATH = "/v1/ws"
_STATUSES = {status.value for status in http.HTTPStatus}
#: Time a client gets to answer our close frame before its TCP connection is aborted.
CLOSE_TIMEOUT = 2.0
#: During stop(), how long open clients get to complete the close handshake.
STOP_GRACE = 0.25


class SimServer:
    """One run of the server (``start()`` to ``stop()``); the engine outlives it."""

    def __init__(
        self,
        exchange: Exchange,
        host: str,
        port: int,
        flow: Flow,
        faults: Faults,
        observer: Observer,
        passive: bool = False,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self.exchange = exchange
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self.flow = flow
        self.faults = faults
        self.observer = observer
        self.hub = Hub(exchange, passive)
        self.peers: dict[Peer, None] = {}
        self._servers: list[Server] = []  # the live one last; older ones after a TCP refusal
        self._reopen: Optional[asyncio.TimerHandle] = None
        self._flow_task: Optional[asyncio.Task[None]] = None
        self._flow_wake: Optional[asyncio.Event] = None
        self._ws_logger = logging.getLogger(__name__ + ".websockets")
        self._closing = False
        self._tasks: set[asyncio.Future[None]] = set()

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> int:
        """Listen; return the bound port (useful when asked for port 0)."""
        await self._listen()
        self._flow_wake = asyncio.Event()
        self._flow_task = asyncio.get_running_loop().create_task(
            run_flow(self.flow, self.run_events, self._flow_wake)
        )
        self._flow_task.add_done_callback(_report_flow_end)
        return self.port

    async def shutdown(self) -> None:
        """Stop listening, close every connection (1001), stop the flow."""
        self._closing = True
        if self._reopen is not None:
            self._reopen.cancel()
        if self._flow_task is not None:
            self._flow_task.cancel()
        for server in self._servers:
            server.server.close()  # stop accepting first
        await self._close_peers()
        for server in self._servers:
            server.close(close_connections=False)
        waits = [server.wait_closed() for server in self._servers]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), timeout=2.0)
        except asyncio.TimeoutError:
            logger.warning("simulator: some connections did not finish closing")

    async def _listen(self) -> None:
        server = await serve(
            self._handler,
            self.host,
            self.port,
            process_request=self._process_request,
            compression=None,  # per-message deflate would cost more than it saves here
            ping_interval=None,  # the server never pings; it only answers pings
            close_timeout=CLOSE_TIMEOUT,
            logger=self._ws_logger,
            ssl=self.ssl_context,
        )
        self.port = server.sockets[0].getsockname()[1]
        self._servers.append(server)
        logger.info("simulator listening on %s:%d", self.host, self.port)

    async def _close_peers(self) -> None:
        closing = []
        for peer in list(self.peers):
            if peer.stalled:
                peer.abort()  # a stalled link would never answer the close frame
            else:
                peer.flush()
                closing.append(asyncio.ensure_future(peer.ws.close(1001, "simulator stopping")))
        if closing:
            await asyncio.wait(closing, timeout=STOP_GRACE)
        for peer in list(self.peers):
            peer.abort()

    # -- engine -------------------------------------------------------------------

    def run_events(self, count: int) -> None:
        """Run ``count`` engine events and queue their frames to subscribers."""
        step, publish = self.exchange.step, self.hub.publish
        for _ in range(count):
            publish(step())

    def flow_changed(self) -> None:
        """The rate or the pause switch changed."""
        if self._flow_wake is not None:
            self._flow_wake.set()

    # -- HTTP / WebSocket -----------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Optional[Response]:
        path, _, query = request.path.partition("?")
        override = self.faults.override_for(path) if path != WS_PATH else None
        if override is not None:
            if override.trickle is not None:
                await self._trickle(connection, override)
            response = connection.respond(override.status, "")
            response.body = override.body
            del response.headers["Content-Type"]
            del response.headers["Content-Length"]
            response.headers["Content-Type"] = "application/json"
            for name, value in override.headers.items():
                response.headers[name] = value
            response.headers["Content-Length"] = str(len(override.body))
            return response
        if path == WS_PATH:
            if self.faults.refusing():
                return _json(
                    connection, 503, messages.error(1000, "Service unavailable (simulated)")
                )
            return None  # go on with the WebSocket handshake
        if self.faults.take_rate_limit():
            return _json(connection, 429, messages.error(1003, "Rate limit exceeded"))
        try:
            status, body = rest.handle(self.exchange, path, parse_qs(query, keep_blank_values=True))
        except Exception:  # a simulator bug: answer like a server would, keep serving
            logger.exception("simulator: REST %s failed", request.path)
            status, body = 500, messages.error(1000, "InternalError")
        return _json(connection, status, body)

    async def _trickle(self, connection: ServerConnection, override: RestOverride) -> None:
        """Write the override's answer ourselves, its body one byte at a time, then close.

        (websockets writes a Response in one go; a trickling server needs this.) The
        Response returned afterwards goes nowhere: the transport is closed by then.
        """
        transport = connection.transport
        reason = http.HTTPStatus(override.status).phrase if override.status in _STATUSES else ""
        head = [f"HTTP/1.1 {override.status} {reason}", "Content-Type: application/json",
                f"Content-Length: {len(override.body)}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in override.headers.items()]
        transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        assert override.trickle is not None
        for i in range(len(override.body)):
            if transport.is_closing() or self._closing:
                break
            await asyncio.sleep(override.trickle)
            transport.write(override.body[i:i + 1])
        transport.close()

    async def _handler(self, ws: ServerConnection) -> None:
        address = ws.remote_address
        remote = f"{address[0]}:{address[1]}" if address else ""
        record = self.observer.new_record(remote)
        peer = Peer(ws, record)
        self.peers[peer] = None
        logger.debug("connection #%d from %s", record.id, remote)
        try:
            async for message in ws:
                await peer.wait_running()  # stalled: leave the frame unread for now
                if not isinstance(message, str):
                    continue  # the protocol is text only
                record.frames.append(message)
                self.observer.changed()
                try:
                    handle_frame(self.hub, peer, message, time.time())
                except Exception:  # a simulator bug must not end the connection
                    logger.exception("simulator: frame %r failed", message[:200])
                    peer.send(messages.ws_error(1000, "InternalError").encode())
        except ConnectionClosed:
            pass
        finally:
            peer.finish()
            self.hub.drop(peer)
            self.peers.pop(peer, None)
            record.close_code = ws.protocol.close_code
            record.open = False
            self.observer.changed()
            logger.debug("connection #%d closed (%s)", record.id, record.close_code)

    # -- faults -------------------------------------------------------------------

    async def drop(self, code: Optional[int]) -> None:
        """Abort every connection (``code=None``) or close it with ``code``.

        Returns once the TCP connections are aborted or the close frames written.
        """
        for peer in list(self.peers):
            if code is None:
                peer.abort()
            else:
                peer.flush()  # what was queued before the drop still goes first
                task = asyncio.ensure_future(peer.ws.close(code, "simulated drop"))
                self._tasks.add(task)  # keep a reference until the handshake ends
                task.add_done_callback(self._tasks.discard)
        await asyncio.sleep(0)  # let the close tasks write their frames

    def stall(self) -> None:
        for peer in self.peers:
            peer.stall()

    def unstall(self) -> None:
        for peer in self.peers:
            peer.unstall()

    def inject(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        for peer in self.peers:
            peer.send(data)

    def inject_fragments(self, chunk: str, count: Optional[int], interval: float) -> None:
        for peer in self.peers:
            task = asyncio.ensure_future(peer.send_fragments(chunk, count, interval))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def refuse_tcp(self, seconds: float) -> None:
        """Close the listening socket (connects get ECONNREFUSED), reopen it later.

        Connections already open stay up.
        """
        if self._reopen is not None:
            self._reopen.cancel()
        live = self._servers[-1]
        if live.is_serving():
            live.server.close()
        loop = asyncio.get_running_loop()
        self._reopen = loop.call_later(seconds, lambda: loop.create_task(self._reopen_listener()))

    async def _reopen_listener(self) -> None:
        self._reopen = None
        if self._closing:
            return
        try:
            await self._listen()
        except OSError:
            logger.exception("simulator: could not listen again on port %d", self.port)
            return
        if self._closing:  # shutdown began while we were binding
            self._servers[-1].close()


def _report_flow_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("simulator: background flow stopped", exc_info=task.exception())


def _json(connection: ServerConnection, status: int, body: object) -> Response:
    response = connection.respond(status, messages.dumps(body))
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response
