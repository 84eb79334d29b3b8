"""The asyncio side of the tplus simulator: two aiohttp origins (MDS and OMS).

Everything here runs on the simulator's loop thread; :class:`TplusSimulator`
(``simulator.py``) is the thread-safe front. Each service is one aiohttp
application on its own loopback port serving REST (GET, and ``POST /auth``) and
WebSocket upgrades; the routes themselves live in ``routes.py``. This module owns
the listeners, the open connections and the fan-out of engine frames to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterable
from typing import Any, Optional

from aiohttp import web

from ..flow import Flow, run_flow
from .account_routes import account_state
from .auth import AuthState
from .engine import Emit, TplusEngine
from .faults import TplusFaults
from .records import HandshakeRecord, Observer
from .wire import dumps

logger = logging.getLogger(__name__)

SERVICES = ("mds", "oms")
#: Time a client gets to answer our close frame before its TCP connection is aborted.
CLOSE_TIMEOUT = 2.0
#: During stop(), how long open clients get to complete the close handshake.
STOP_GRACE = 0.25


class Conn:
    """One open WebSocket: its outgoing queue and sender task."""

    def __init__(self, service: str, path: str, topic: str, ws: web.WebSocketResponse,
                 request: web.Request, record: HandshakeRecord) -> None:
        self.service, self.path, self.topic = service, path, topic
        self.ws, self.request, self.record = ws, request, record
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.unstalled = asyncio.Event()
        self.unstalled.set()
        self.sender: Optional[asyncio.Task[None]] = None

    def send(self, text: str) -> None:
        self.queue.put_nowait(text)

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    def stall(self) -> None:
        self.unstalled.clear()
        transport = self.request.transport
        if transport is not None:
            transport.pause_reading()  # pings are answered by the reader: now they are not

    def unstall(self) -> None:
        transport = self.request.transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()
        self.unstalled.set()

    async def run_sender(self) -> None:
        """Send queued frames in order; wait while stalled."""
        try:
            while True:
                text = await self.queue.get()
                await self.unstalled.wait()
                await self.ws.send_str(text)
                self.record.frames_sent += 1
        except (ConnectionError, RuntimeError):
            pass  # the socket went away; the handler cleans up


class TplusServer:
    """One run of both services (``start()`` to ``shutdown()``); the engine outlives it."""

    def __init__(
        self,
        engine: TplusEngine,
        host: str,
        ports: dict[str, int],
        flow: Flow,
        faults: TplusFaults,
        observer: Observer,
        auth: AuthState,
        control_interval: Optional[float],
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self.engine, self.host, self.ports = engine, host, dict(ports)
        self.ssl_context = ssl_context
        self.flow, self.faults, self.observer, self.auth = flow, faults, observer, auth
        self.control_interval = control_interval
        self.conns: dict[str, dict[Conn, None]] = {}
        self._runners: dict[str, web.AppRunner] = {}
        self._listeners: dict[str, Optional[asyncio.base_events.Server]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        # made in start(), on the loop: before Python 3.10 an asyncio.Event binds to
        # the loop of the thread that creates it, and this object is built elsewhere
        self._wake: Optional[asyncio.Event] = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> dict[str, int]:
        from .routes import build_app

        for service in SERVICES:
            runner = web.AppRunner(build_app(self, service), handle_signals=False,
                                   access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            self._runners[service] = runner
            await self._listen(service)
        self._wake = asyncio.Event()
        self._tasks.append(asyncio.ensure_future(run_flow(self.flow, self.run_events, self._wake)))
        if self.control_interval:
            self._tasks.append(asyncio.ensure_future(self._control_loop(self.control_interval)))
        return dict(self.ports)

    async def _listen(self, service: str) -> None:
        loop = asyncio.get_running_loop()
        runner = self._runners[service]
        assert runner.server is not None
        server = await loop.create_server(runner.server, self.host, self.ports.get(service, 0),
                                          reuse_address=True, ssl=self.ssl_context)
        self.ports[service] = server.sockets[0].getsockname()[1]
        self._listeners[service] = server

    async def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._close_all(1001, STOP_GRACE)
        for service in SERVICES:
            listener = self._listeners.pop(service, None)
            if listener is not None:
                listener.close()
        for runner in self._runners.values():
            await runner.cleanup()
        self._runners.clear()

    async def _close_all(self, code: int, grace: float, conns: Optional[list[Conn]] = None) -> None:
        targets = self.open_conns() if conns is None else conns
        if not targets:
            return
        for conn in targets:
            if not conn.unstalled.is_set():
                conn.abort()  # a stalled link would never answer the close frame
        tasks = [asyncio.ensure_future(c.ws.close(code=code)) for c in targets
                 if c.unstalled.is_set()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
        for conn in targets:
            if not conn.ws.closed:
                conn.abort()

    # -- connections ----------------------------------------------------------------------

    def register(self, conn: Conn) -> None:
        self.conns.setdefault(conn.topic, {})[conn] = None
        conn.sender = asyncio.ensure_future(conn.run_sender())

    def unregister(self, conn: Conn) -> None:
        subs = self.conns.get(conn.topic)
        if subs is not None:
            subs.pop(conn, None)
            if not subs:
                del self.conns[conn.topic]
        if conn.sender is not None:
            conn.sender.cancel()

    def open_conns(self, path: Optional[str] = None,
                   service: Optional[str] = None) -> list[Conn]:
        return [c for subs in self.conns.values() for c in subs
                if (path is None or c.path == path) and (service is None or c.service == service)]

    # -- engine ------------------------------------------------------------------------------

    def run_events(self, count: int) -> None:
        engine = self.engine
        account = account_state(engine)
        for _ in range(count):
            emits = engine.step()
            self.publish(emits)
            # tickers (if streamed), positions, account events, intent
            self.publish(account.after_step(emits, self.conns.__contains__))

    def publish(self, emits: Iterable[Emit]) -> None:
        conns = self.conns
        for topic, payload in emits:
            subs = conns.get(topic)
            if subs:
                text = dumps(payload)
                for conn in subs:
                    conn.send(text)

    def flow_changed(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- faults -------------------------------------------------------------------------------

    async def drop(self, code: Optional[int], path: Optional[str], service: Optional[str]) -> int:
        conns = self.open_conns(path, service)
        if code is None:
            for conn in conns:
                conn.abort()
        else:
            await self._close_all(code, CLOSE_TIMEOUT, conns)
        return len(conns)

    def stall(self) -> None:
        for conn in self.open_conns():
            conn.stall()

    def unstall(self) -> None:
        for conn in self.open_conns():
            conn.unstall()

    def inject(self, path: Optional[str], text: str) -> int:
        conns = self.open_conns(path)
        for conn in conns:
            conn.send(text)
        return len(conns)

    def send_control(self, kind: str, path: Optional[str]) -> int:
        conns = self.open_conns(path)
        for conn in conns:
            conn.send(control_frame(kind, conn.path))
        return len(conns)

    async def _control_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.send_control("ping", None)

    async def refuse_tcp(self, seconds: float, service: Optional[str]) -> None:
        for name in SERVICES if service is None else (service,):
            listener = self._listeners.get(name)
            if listener is not None:
                listener.close()
                self._listeners[name] = None
        loop = asyncio.get_running_loop()
        loop.call_later(max(0.0, seconds), self._reopen, service)

    def _reopen(self, service: Optional[str]) -> None:
        async def reopen() -> None:
            for name in SERVICES if service is None else (service,):
                if name in self._runners and self._listeners.get(name) is None:
                    try:
                        await self._listen(name)
                    except OSError:
                        logger.exception("tplus simulator: cannot reopen %s listener", name)
        self._tasks.append(asyncio.ensure_future(reopen()))


def control_frame(kind: str, path: str) -> str:
    """A control frame: ``{"type": "ping"}`` or ``{"type": "subscriptions", ...}``."""
    if kind == "subscriptions":
        return dumps({"type": "subscriptions", "subscriptions": [path]})
    return dumps({"type": kind})
