"""A tiny loopback WebSocket server for the test venue of tests/test_engine_venue.py.

One socket path per stream (``/ticks``, ``/quotes``, ``/secure``, ...), ``/missing``
answered 404, ``/secure`` requiring ``Authorization: Bearer <token>``, a REST
``GET /snapshot?path=...`` returning the current state of a path as JSON, and fault
controls (drop, refuse, stall). It runs on its own asyncio loop in a daemon thread;
every public method is thread-safe. Server-side pings are off; websockets answers
the client's pings by itself (unless the socket is stalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import defaultdict
from typing import Any, Callable, Optional
from urllib.parse import parse_qs

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

MISSING = "/missing"
SECURE = "/secure"


class VenueServer:
    """Per-path sockets publishing ``{"seq": n}`` frames, with faults on demand."""

    def __init__(self) -> None:
        self.handshakes: list[tuple[str, dict[str, str]]] = []  # every upgrade attempt
        self.sockets: dict[str, set[ServerConnection]] = defaultdict(set)  # open, per path
        self.closed: dict[str, int] = defaultdict(int)  # sockets ended, per path
        self.seq: dict[str, int] = defaultdict(int)  # last published seq, per path
        self.rejected_tokens: set[str] = set()
        self.reject_next_token = False  # 401 the next token presented (and remember it)
        self.reject_all_tokens = False
        self._refuse_until = 0.0
        self._stalled: set[ServerConnection] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="venue-server",
                                        daemon=True)
        self._thread.start()
        self._server: Server = self._call(self._listen())
        self.port = self._server.sockets[0].getsockname()[1]
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.http_url = f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ thread-safe API

    def publish(self, path: str, n: int = 1) -> list[int]:
        """Send ``n`` frames ``{"seq": ...}`` to every (unstalled) socket of ``path``."""
        return self._call(self._publish(path, n))

    def drop(self, path: Optional[str] = None) -> None:
        """Abort the TCP connections (of ``path``, or all): no close frame."""
        def abort() -> None:
            for ws in self._open(path):
                ws.transport.abort()
        self._on_loop(abort)

    def refuse(self, seconds: float) -> None:
        """Answer WebSocket upgrades with HTTP 503 for ``seconds``."""
        self._refuse_until = time.monotonic() + seconds

    def stall(self, path: Optional[str] = None) -> None:
        """Half-open the open sockets: send nothing, read nothing (pings go unanswered)."""
        def pause() -> None:
            for ws in self._open(path):
                self._stalled.add(ws)
                ws.transport.pause_reading()
        self._on_loop(pause)

    def unstall(self) -> None:
        def resume() -> None:
            for ws in self._stalled:
                if not ws.transport.is_closing():
                    ws.transport.resume_reading()
            self._stalled.clear()
        self._on_loop(resume)

    def ping_clients(self, path: str, timeout: float = 2.0) -> int:
        """Send a WebSocket ping on every socket of ``path``; how many answered with a pong."""
        async def ping_all() -> int:
            waiters = [await ws.ping() for ws in self._open(path)]
            done = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True),
                                          timeout)
            return sum(1 for result in done if not isinstance(result, BaseException))
        return int(self._call(ping_all()))

    def send_fragmented(self, path: str, parts: list[str]) -> None:
        """Send one text message in ``len(parts)`` fragments to every socket of ``path``."""
        async def send_all() -> None:
            for ws in self._open(path):
                await ws.send(iter(parts))
        self._call(send_all())

    def close_sockets(self, path: str, code: int) -> None:
        """Close every socket of ``path`` with a close frame of ``code``."""
        async def close_all() -> None:
            for ws in self._open(path):
                await ws.close(code)
        self._call(close_all())

    def open_count(self, path: str) -> int:
        return len(self.sockets[path])

    def handshakes_on(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in list(self.handshakes) if p == path]

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(2.0)

    # ------------------------------------------------------------ loop side

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(5.0)

    def _on_loop(self, fn: Callable[[], Any]) -> None:
        async def run() -> None:
            fn()
        self._call(run())

    def _open(self, path: Optional[str]) -> list[ServerConnection]:
        paths = [path] if path is not None else list(self.sockets)
        return [ws for p in paths for ws in list(self.sockets[p])]

    async def _listen(self) -> Server:
        quiet = logging.getLogger("tests.venue_server")
        quiet.setLevel(logging.CRITICAL)
        return await serve(self._handler, "127.0.0.1", 0, process_request=self._request,
                           ping_interval=None, compression=None, close_timeout=0.5,
                           logger=quiet)

    async def _publish(self, path: str, n: int) -> list[int]:
        sent = []
        for _ in range(n):
            self.seq[path] += 1
            sent.append(self.seq[path])
            frame = json.dumps({"seq": self.seq[path]})
            for ws in list(self.sockets[path]):
                if ws not in self._stalled:
                    with contextlib.suppress(ConnectionClosed):  # dying: its handler ends
                        await ws.send(frame)
        return sent

    def _request(self, connection: ServerConnection, request: Request) -> Optional[Response]:
        path, _, query = request.path.partition("?")
        if path == "/snapshot":
            wanted = parse_qs(query).get("path", [""])[0]
            body = json.dumps({"path": wanted, "seq": self.seq[wanted]})
            response = connection.respond(200, body)
            del response.headers["Content-Type"]
            response.headers["Content-Type"] = "application/json"
            return response
        self.handshakes.append((path, dict(request.headers.raw_items())))
        if path == MISSING:
            return connection.respond(404, "no such stream\n")
        if time.monotonic() < self._refuse_until:
            return connection.respond(503, "unavailable (simulated)\n")
        if path == SECURE:
            auth = request.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
            if self.reject_next_token and token:
                self.reject_next_token = False
                self.rejected_tokens.add(token)
            if not token or self.reject_all_tokens or token in self.rejected_tokens:
                return connection.respond(401, "bad token\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        path = ws.request.path.partition("?")[0]
        self.sockets[path].add(ws)
        try:
            async for _ in ws:  # the test venue sends nothing; pings are answered below us
                pass
        except Exception:
            pass
        finally:
            self.sockets[path].discard(ws)
            self._stalled.discard(ws)
            self.closed[path] += 1
