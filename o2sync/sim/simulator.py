"""The public, thread-safe front of the simulator: :class:`Simulator`."""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, TypeVar, Union

from .depth import aggregate, width_for_level
from .engine import Exchange
from .faults import Faults, RestOverride
from .flow import Flow
from .loophost import LoopHost
from .markets import find_market
from .records import ConnectionRecord, Observer
from .server import WS_PATH, SimServer

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: Valid close codes a test may ask :meth:`Simulator.drop_connections` to send.
_SENDABLE_CLOSE_CODES = set(range(1000, 1004)) | set(range(1007, 1015)) | set(range(3000, 5000))


class Simulator(LoopHost):
    """A local O2 Exchange: REST and WebSocket on one loopback port.

    It speaks the protocol of ``o2-websocket.md`` / ``o2-rest.md`` and runs a
    seeded, deterministic market (limit orders, cancels, trades) on every market
    of ``GET /v1/markets``; a share of the orders belong to :attr:`account`, so
    the orders, balances and nonce streams move too. Fault controls let a test
    break the link in every way a client must survive.

    The server runs on an asyncio loop in one daemon thread named ``o2sync-sim``;
    every method may be called from any other thread::

        with Simulator(seed=1, start_flow=False) as sim:
            client = O2Client(ws_url=sim.ws_url, api_url=sim.api_url)
            sim.step(100)                # 100 engine events, frames queued to clients
            sim.drop_connections()      # abrupt TCP drop, no close frame

    Args:
        host: interface to bind, an IP address (loopback by default).
        port: TCP port; 0 picks a free one (kept by :meth:`restart`).
        seed: seed of the market engine; same seed and steps, same market.
        rate: background engine events per second (0: none). Timing decides how
            many events run between two observations, never which ones.
        start_flow: False to start paused (no background events until :meth:`resume`).
        markets: market dicts in the ``GET /v1/markets`` shape (default: fFUEL/fUSDC
            and fETH/fUSDC as in the fixtures); an optional ``"sim_price"`` key gives
            the initial mid price in raw quote units.
        passive: serve REST and accept subscriptions, but send no market data of its
            own (no snapshots; use with rate=0): what a client receives comes only
            from :meth:`inject`. ``o2sync replay`` serves recordings this way.
        ssl_context: a server-side :class:`ssl.SSLContext` (certificate loaded) to
            serve TLS: :attr:`ws_url` is then ``wss://`` and :attr:`api_url` ``https://``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 0,
        rate: float = 20.0,
        start_flow: bool = True,
        markets: Optional[Sequence[Mapping[str, Any]]] = None,
        passive: bool = False,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(f"ssl_context must be an ssl.SSLContext, got {ssl_context!r}")
        self.host = host
        self.ssl_context = ssl_context
        self._port = port
        self.seed = seed
        self.passive = passive
        self._exchange = Exchange(seed, markets)
        self._flow = Flow(rate, paused=not start_flow)
        self._faults = Faults()
        self._observer = Observer()
        super().__init__()
        self._server: Optional[SimServer] = None

    # -- lifecycle ----------------------------------------------------------------

    def _make_server(self) -> SimServer:
        return SimServer(self._exchange, self.host, self._port, self._flow, self._faults,
                         self._observer, self.passive, self.ssl_context)

    def _started(self, port: int) -> None:
        self._port = port

    # -- addresses and static data --------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port (the bound one once started)."""
        return self._port

    @property
    def ws_url(self) -> str:
        """``ws://HOST:PORT/v1/ws`` (``wss://`` with an ``ssl_context``)."""
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://{self._netloc()}{WS_PATH}"

    @property
    def api_url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with an ``ssl_context``): the REST base
        (paths start with ``/v1/``)."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self._netloc()}"

    def _netloc(self) -> str:
        if not self._port:
            raise RuntimeError("the simulator has no port yet: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self._port}"

    @property
    def markets(self) -> list[dict[str, Any]]:
        """Market dicts exactly as in ``GET /v1/markets`` ``"markets"``."""
        return [json.loads(json.dumps(spec.info)) for spec in self._exchange.specs]

    @property
    def account(self) -> str:
        """The simulated trade account id (``0x`` + 64 hex), owner of some orders."""
        return self._exchange.account.account_id

    @property
    def events(self) -> int:
        """Engine events run so far (background flow and :meth:`step`)."""
        return self._exchange.events

    # -- order flow -----------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        """Run ``n`` engine events now, whether or not background flow runs.

        Returns after their frames are queued to every subscribed connection
        (so each client will receive them, in order).
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        self._call(self._run_events, n)
        self._observer.changed()

    def _run_events(self, n: int) -> None:
        if self._server is not None:
            self._server.run_events(n)
        else:  # not serving: nobody to tell
            for _ in range(n):
                self._exchange.step()

    # -- truth ----------------------------------------------------------------------

    def book(self, market_id_or_pair: str, precision: int = 1) -> dict[str, list[tuple[int, int]]]:
        """The current book as WS snapshots and REST depth show it.

        ``precision`` is the user level 1..18 (wire value ``10**precision``).
        Returns ``{"buys": [(price, qty), ...best first], "sells": [...]}`` in raw ints.
        """
        spec = find_market(self._exchange.specs, market_id_or_pair)
        if spec is None:
            raise KeyError(f"unknown market {market_id_or_pair!r}")
        width = width_for_level(precision)
        bids, asks = self._call(aggregate, self._exchange.book(spec.market_id), width)
        return {"buys": bids, "sells": asks}

    def rest_account_orders(self, market_id_or_pair: str, count: int) -> list[str]:
        """Rest ``count`` open buy orders of the simulated account on a market, below
        the book (e.g. more than one page of ``GET /v1/orders``); returns their ids."""
        spec = find_market(self._exchange.specs, market_id_or_pair)
        if spec is None:
            raise KeyError(f"unknown market {market_id_or_pair!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("count must be an int >= 0")
        return self._call(self._exchange.rest_account_orders, spec.market_id, count)

    # -- faults -----------------------------------------------------------------------

    def drop_connections(self, code: Optional[int] = None) -> None:
        """Cut every open WebSocket connection.

        ``code=None``: abort the TCP connection, no close frame (a crash or a dead
        link). An int: send a close frame with that code (e.g. 1011, 1012, 4000).
        Returns once the connections are aborted or their close frames written.
        """
        if code is not None and code not in _SENDABLE_CLOSE_CODES:
            raise ValueError(f"close code {code} cannot be sent on the wire")
        if self._server is not None:
            self._call_async(self._server.drop(code))

    def refuse(self, seconds: float, tcp: bool = False) -> None:
        """Refuse new WebSocket connections for ``seconds``; open ones stay up.

        Default: the handshake is answered with HTTP 503 (REST keeps working).
        ``tcp=True``: the listening socket is closed, so connects (REST included)
        fail with ECONNREFUSED, then it reopens on the same port.
        """
        if tcp:
            if self._server is not None:
                self._call_async(self._server.refuse_tcp(seconds))
        else:
            self._faults.refuse_for(seconds)

    def stall(self) -> None:
        """Half-open every open connection: TCP stays up, but the server stops
        reading (so protocol pings and text PINGs get no answer) and sending.
        Connections made later are served normally."""
        if self._server is not None:
            self._call(self._server.stall)

    def unstall(self) -> None:
        """End :meth:`stall`: reading resumes and queued frames are delivered."""
        if self._server is not None:
            self._call(self._server.unstall)

    def inject(self, text: str) -> None:
        """Send ``text`` as a raw text frame (it may be invalid JSON) to every open
        connection, after whatever is already queued to it."""
        if self._server is not None:
            self._call(self._server.inject, text)

    def inject_depth_changes(self, market_id_or_pair: str,
                             buys: Sequence[tuple[int, int]] = (),
                             sells: Sequence[tuple[int, int]] = ()) -> int:
        """Send one signed depth delta (``(price, change)`` pairs) to every connection
        subscribed to that market's depth, after what is queued to it; returns how
        many it reached. The market itself does not change: use it for what a
        healthy market never sends (a change to an unknown level, a ``0``, more
        removed than a level holds); the last one leaves a client's book apart from
        :meth:`book` until its next snapshot."""
        spec = find_market(self._exchange.specs, market_id_or_pair)
        if spec is None:
            raise KeyError(f"unknown market {market_id_or_pair!r}")
        levels = [(int(p), int(q)) for p, q in buys], [(int(p), int(q)) for p, q in sells]
        if any(p < 0 for side in levels for p, _ in side):
            raise ValueError("prices must be >= 0")
        if self._server is None:
            return 0
        server = self._server
        return int(self._call(lambda: server.hub.publish_depth_changes(
            spec.market_id, levels[0], levels[1], time.time())))

    def inject_fragments(self, chunk: str, count: Optional[int] = None,
                         interval: float = 0.0) -> None:
        """Start one fragmented text message on every open connection, after what is
        queued to it: ``count`` fragments of ``chunk``, the last with FIN; ``count=None``
        sends fragments without end (never a FIN) until the connection closes. One
        fragment every ``interval`` seconds; other frames wait until the message ends.
        """
        if count is not None and count < 1:
            raise ValueError("count must be >= 1 or None")
        if interval < 0:
            raise ValueError("interval must be >= 0 seconds")
        if self._server is not None:
            self._call(self._server.inject_fragments, chunk, count, float(interval))

    def rest_override(self, path: str, status: int = 200, body: Union[bytes, str] = b"",
                      headers: Optional[Mapping[str, str]] = None,
                      trickle: Optional[float] = None) -> None:
        """Answer every REST request for ``path`` (e.g. ``"/v1/markets"``) with this
        status, raw body and headers instead of the real answer, until
        :meth:`clear_rest_override`. ``trickle``: send the body one byte every
        ``trickle`` seconds (a server that trickles its answer). The WebSocket path
        cannot be overridden."""
        if path == WS_PATH:
            raise ValueError("the WebSocket path cannot be overridden")
        if not 100 <= status <= 599:
            raise ValueError(f"status must be 100..599, got {status}")
        if trickle is not None and trickle <= 0:
            raise ValueError("trickle must be > 0 seconds")
        data = body.encode() if isinstance(body, str) else bytes(body)
        self._faults.set_override(path, RestOverride(status, data, dict(headers or {}), trickle))

    def clear_rest_override(self, path: Optional[str] = None) -> None:
        """End :meth:`rest_override` for ``path``, or for every path."""
        if path is None:
            self._faults.clear_overrides()
        else:
            self._faults.set_override(path, None)

    def rate_limit(self, n: int) -> None:
        """Answer the next ``n`` REST requests with HTTP 429
        ``{"code": 1003, "message": "Rate limit exceeded"}``."""
        self._faults.rate_limit(n)

    # -- observation ------------------------------------------------------------------

    @property
    def connections(self) -> list[ConnectionRecord]:
        """Every WebSocket connection accepted by this simulator, oldest first.

        Records survive :meth:`restart` (ids keep increasing), so a test can check
        what a client re-sent after a reconnect.
        """
        return list(self._observer.records)

    @property
    def open_connections(self) -> int:
        """How many WebSocket connections are open now."""
        return sum(1 for record in self._observer.records if record.open)

    def client_frames(self, action: Optional[str] = None) -> list[dict[str, Any]]:
        """JSON frames sent by clients (all connections, in order); non-JSON skipped.

        With ``action``, only frames whose ``"action"`` equals it.
        """
        frames = []
        for record in self.connections:
            for text in list(record.frames):
                try:
                    frame = json.loads(text)
                except ValueError:
                    continue
                if isinstance(frame, dict) and (action is None or frame.get("action") == action):
                    frames.append(frame)
        return frames

    def wait_for(self, predicate: Callable[[Simulator], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(sim)`` is true; False if ``timeout`` passes first.

        Wakes on every connection event and client frame, and polls every 20 ms
        for everything else, so tests never need ``sleep()``.
        """
        return self._observer.wait_for(lambda: predicate(self), timeout)

    # -- plumbing -------------------------------------------------------------------

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = f"{self.host}:{self._port}" if self._port else self.host
        flow = "paused" if self._flow.paused else f"{self._flow.rate:g} ev/s"
        connections = f"{self.open_connections}/{len(self._observer.records)}"
        return (
            f"<Simulator {state} {where} seed={self.seed} flow={flow} "
            f"events={self.events} connections={connections}>"
        )
