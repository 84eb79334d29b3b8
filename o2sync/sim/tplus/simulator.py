"""The public, thread-safe front of the tplus simulator: :class:`TplusSimulator`."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional, TypeVar

from ..flow import Flow
from ..loophost import LoopHost
from .auth import AuthState, TokenRecord, UserKey
from .engine import TplusEngine
from .faults import TplusFaults
from .markets import DEFAULT_MARKETS, DEFAULT_USER_SEED, MarketSpec, normalise_asset
from .records import HandshakeRecord, Observer, RequestRecord
from .server import SERVICES, TplusServer
from .wire import Encoder

logger = logging.getLogger(__name__)

T = TypeVar("T")
_SENDABLE_CLOSE_CODES = set(range(1000, 1004)) | set(range(1007, 1015)) | set(range(3000, 5000))


class TplusSimulator(LoopHost):
    """A local tplus: the market-data service (MDS) and the order service (OMS),
    each one loopback origin serving REST and WebSocket, driven by a seeded market.

    Protocol: ``tplus-streams.md`` (tpluspy 0.6.0); routes in
    :mod:`o2sync.sim.tplus.routes`. Both services run on one asyncio loop in a
    daemon thread named ``o2sync-tplus-sim``; every method may be called from any
    other thread::

        with TplusSimulator(seed=1, start_flow=False) as sim:
            sim.step(100)                      # 100 engine events, frames queued
            sim.book("200")                    # the true book now
            sim.drop_connections()             # abrupt TCP drop, no close frame

    Args:
        host: interface to bind (loopback by default).
        mds_port, oms_port: TCP ports; 0 picks free ones (kept by :meth:`restart`).
        seed: seed of the market engine; same seed and calls, same market.
        rate: background engine events per second (0: none), batched per loop tick.
        start_flow: False to start paused (use :meth:`step`).
        user_seed: 32-byte hex seed of the simulated user who trades here.
        token_ttl: lifetime of issued tokens in seconds.
        floats: send decimal fields as JSON floats instead of decimal strings.
        control_interval: seconds between ``{"type": "ping"}`` control frames on
            every socket (None or 0: never; :meth:`send_control` sends one now).
            Every socket gets a ``subscriptions`` control frame first.
        clock: ``time.time_ns``-like clock for event timestamps (a fake one makes
            frames bit-identical across runs).
        markets: market specs (default: assets ``200`` and WETH ``address@chain``).
        ssl_context: a server-side :class:`ssl.SSLContext` to serve TLS on both
            services (``https://`` URLs, ``wss://`` streams).
        klines_window: REST klines serve at most this many bars per window (newest
            first); the window's last page then names ``truncated_before_ns`` for the
            older rest (None: never truncated).
    """

    thread_name = "o2sync-tplus-sim"
    label = "tplus simulator"

    def __init__(
        self,
        host: str = "127.0.0.1",
        mds_port: int = 0,
        oms_port: int = 0,
        *,
        seed: int = 0,
        rate: float = 20.0,
        start_flow: bool = True,
        user_seed: str = DEFAULT_USER_SEED,
        token_ttl: float = 3600.0,
        floats: bool = False,
        control_interval: Optional[float] = 15.0,
        clock: Optional[Callable[[], int]] = None,
        markets: Sequence[MarketSpec] = DEFAULT_MARKETS,
        ssl_context: Optional[ssl.SSLContext] = None,
        klines_window: Optional[int] = None,
    ) -> None:
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(f"ssl_context must be an ssl.SSLContext, got {ssl_context!r}")
        self.host = host
        self.ssl_context = ssl_context
        self._ports = {"mds": mds_port, "oms": oms_port}
        self.seed = seed
        self._user = UserKey(user_seed)
        self._clock = clock or time.time_ns
        self._engine = TplusEngine(seed, self._user, markets, Encoder(floats), self._clock)
        self._engine.klines_window = klines_window
        self._flow = Flow(rate, paused=not start_flow)
        self._faults = TplusFaults()
        self._observer = Observer()
        self._auth = AuthState(token_ttl, self._clock)
        self.control_interval = control_interval
        super().__init__()
        self._server: Optional[TplusServer] = None

    # -- lifecycle ----------------------------------------------------------------------

    def _make_server(self) -> TplusServer:
        return TplusServer(self._engine, self.host, self._ports, self._flow, self._faults,
                           self._observer, self._auth, self.control_interval, self.ssl_context)

    def _started(self, ports: dict[str, int]) -> None:
        self._ports = ports

    # -- addresses and identities ----------------------------------------------------------

    def _url(self, service: str) -> str:
        port = self._ports[service]
        if not port:
            raise RuntimeError("the simulator has no port yet: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}"

    @property
    def mds_url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with an ``ssl_context``) of the market-data
        service (REST and WebSocket)."""
        return self._url("mds")

    @property
    def oms_url(self) -> str:
        """``http://HOST:PORT`` of the order service (REST and WebSocket)."""
        return self._url("oms")

    @property
    def ports(self) -> dict[str, int]:
        return dict(self._ports)

    @property
    def user(self) -> str:
        """The simulated user's seed (hex): ``User(sim.user)`` logs in as it."""
        return self._user.seed_hex

    @property
    def user_seed(self) -> str:
        """Same as :attr:`user`: the 32-byte seed as 64 hex digits."""
        return self._user.seed_hex

    @property
    def user_id(self) -> str:
        """The simulated user's public key, 64 lowercase hex (the tplus user id)."""
        return self._user.user_id

    @property
    def assets(self) -> list[str]:
        return list(self._engine.books)

    @property
    def markets(self) -> list[dict[str, Any]]:
        """``GET /market/{asset}`` bodies of every market."""
        return [dict(b.spec.info) for b in self._engine.books.values()]

    @property
    def events(self) -> int:
        return self._engine.events

    # -- order flow ---------------------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        """Run ``n`` engine events now; returns once their frames are queued to clients."""
        if n < 0:
            raise ValueError("n must be >= 0")
        self._call(self._run_events, n)
        self._observer.changed()

    def _run_events(self, n: int) -> None:
        if self._server is not None:
            self._server.run_events(n)
        else:
            for _ in range(n):
                self._engine.step()

    # -- truth ---------------------------------------------------------------------------------

    def book(self, asset: str) -> dict[str, Any]:
        """The true book now: ``{"bids": [(Decimal price, Decimal qty)...best first],
        "asks": [...], "sequence_number": int}`` (the number of the last diff sent)."""
        key = self._asset(asset)
        return self._call(self._engine.true_book, key)

    def snapshot(self, asset: str) -> dict[str, Any]:
        """Exactly what ``GET /marketdepth/{asset}`` would answer now."""
        return self._call(self._engine.snapshot, self._asset(asset))

    def user_orders(self) -> list[dict[str, Any]]:
        """The simulated user's open orders, as ``/orders/user/{user_id}`` rows."""
        return self._call(self._engine.user_order_rows)

    def oms_orders(self, asset: Optional[str] = None, open_only: bool = True
                   ) -> list[dict[str, Any]]:
        """The simulated user's orders as the order service's ``OrderResponse`` rows
        (``/orders/user/{user_id}/{asset}``), newest first; open ones only by default."""
        from .rest_pages import order_rows

        key = None if asset is None else self._asset(asset)
        return self._call(lambda: order_rows(self._engine, key, open_only))

    def _asset(self, asset: str) -> str:
        key = normalise_asset(asset)
        if key not in self._engine.books:
            raise KeyError(f"unknown asset {asset!r}")
        return key

    # -- faults ----------------------------------------------------------------------------------

    def drop_connections(self, code: Optional[int] = None, path: Optional[str] = None,
                         service: Optional[str] = None) -> int:
        """Cut open WebSockets (all, or those of ``path`` / ``service``); how many.

        ``code=None``: abort TCP, no close frame. An int: send a close frame with it.
        """
        if code is not None and code not in _SENDABLE_CLOSE_CODES:
            raise ValueError(f"close code {code} cannot be sent on the wire")
        self._check_service(service)
        if self._server is None:
            return 0
        return self._call_async(self._server.drop(code, path, service))

    def refuse(self, seconds: float, tcp: bool = False, *, rest: bool = False,
               service: Optional[str] = None) -> None:
        """Refuse new connections for ``seconds``; open WebSockets stay up.

        Default: upgrades are answered with HTTP 503 (``rest=True``: REST too).
        ``tcp=True``: the listening sockets close, so connects fail with
        ECONNREFUSED, and reopen on the same ports after ``seconds``.
        ``service``: "mds" or "oms" only.
        """
        self._check_service(service)
        if tcp:
            if self._server is not None:
                self._call_async(self._server.refuse_tcp(seconds, service))
        else:
            self._faults.refuse_for(seconds, rest, service)

    def stall(self) -> None:
        """Half-open every open WebSocket: TCP stays up, the server stops sending and
        stops reading (so protocol pings get no pong). Later connections are normal."""
        if self._server is not None:
            self._call(self._server.stall)

    def unstall(self) -> None:
        """End :meth:`stall`: reading resumes and queued frames are delivered."""
        if self._server is not None:
            self._call(self._server.unstall)

    def inject(self, path: Optional[str], text: str) -> int:
        """Send raw ``text`` to every open socket of ``path`` (None: all); how many."""
        if self._server is None:
            return 0
        return self._call(self._server.inject, path, text)

    def send_control(self, kind: str = "ping", path: Optional[str] = None) -> int:
        """Send a control frame (``ping``/``pong``/``subscriptions``) now; how many sockets."""
        if kind not in ("ping", "pong", "subscriptions"):
            raise ValueError(f"unknown control frame type {kind!r}")
        if self._server is None:
            return 0
        return self._call(self._server.send_control, kind, path)

    def rate_limit(self, n: int, retry_after: Optional[float] = None) -> None:
        """Answer the next ``n`` REST requests (either service) with HTTP 429 and the
        ``RATE_LIMITED`` envelope; with ``retry_after``, a ``Retry-After`` header."""
        self._faults.set(self._faults.rate, n, 429, retry_after)

    def fail_auth(self, n: int = 1, status: int = 401) -> None:
        """Answer the next ``n`` ``POST /auth`` (either service) with ``status``."""
        self._faults.set(self._faults.auth, n, status)

    def reject_upgrades(self, n: int = 1, status: int = 401) -> None:
        """Answer the next ``n`` authenticated upgrades (OMS) with ``status``, even
        with a valid token: tpluspy's one-shot re-auth path."""
        self._faults.set(self._faults.upgrades, n, status)

    def skip_sequence(self, asset: str, count: int = 1) -> None:
        """The next depth diff of ``asset`` skips ``count`` numbers: a gap."""
        key = self._asset(asset)

        def skip() -> None:
            self._engine.books[key].skip += count
        self._call(skip)

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (open sockets stay up)."""
        self._call(self._auth.expire_all)

    def revoke_tokens(self) -> None:
        """Every token issued so far is revoked (open sockets stay up)."""
        self._call(self._auth.revoke_all)

    # -- observation ---------------------------------------------------------------------------

    def handshakes(self, path: Optional[str] = None,
                   service: Optional[str] = None) -> list[HandshakeRecord]:
        """Every upgrade request (accepted or not), oldest first; survives restart."""
        return [h for h in list(self._observer.handshakes)
                if (path is None or h.path == path) and (service is None or h.service == service)]

    def requests(self, path: Optional[str] = None,
                 service: Optional[str] = None) -> list[RequestRecord]:
        """Every REST request, oldest first."""
        return [r for r in list(self._observer.requests)
                if (path is None or r.path == path) and (service is None or r.service == service)]

    @property
    def tokens(self) -> list[TokenRecord]:
        """Every token issued by either service's ``POST /auth``, oldest first."""
        return self._auth.snapshot()

    def token_record(self, token: Optional[str]) -> Optional[TokenRecord]:
        """The record of ``token``, or None if this simulator never issued it."""
        return next((t for t in self.tokens if t.token == token), None)

    def latest_token(self, service: str = "oms", user_id: Optional[str] = None) -> Optional[str]:
        """The newest token issued by ``service`` (for ``user_id``, if given)."""
        for record in reversed(self.tokens):
            if record.service == service and (user_id is None or record.user_id == user_id):
                return record.token
        return None

    def presented_fresh_token(self, path: str) -> bool:
        """True if the last accepted handshake on ``path`` presented a token issued
        after the previous accepted handshake on ``path`` (a reconnect re-logged in)."""
        accepted = [h for h in self.handshakes(path) if h.accepted]
        if len(accepted) < 2:
            return False
        prev, last = accepted[-2], accepted[-1]
        new, old = self.token_record(last.token), self.token_record(prev.token)
        if new is None:
            return False
        return last.token != prev.token and (old is None or new.issued_ns >= old.issued_ns)

    def open_connections(self, path: Optional[str] = None) -> int:
        """How many WebSockets are open now (of ``path``, if given)."""
        return sum(1 for h in self.handshakes(path) if h.open)

    def wait_for(self, predicate: Callable[[TplusSimulator], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(sim)`` holds; False if ``timeout`` passes first."""
        return self._observer.wait_for(lambda: predicate(self), timeout)

    # -- plumbing --------------------------------------------------------------------------------

    @staticmethod
    def _check_service(service: Optional[str]) -> None:
        if service is not None and service not in SERVICES:
            raise ValueError(f"service must be one of {SERVICES}")

    # -- the simulated user's account (positions, margin, intent; account_routes.py) ------

    def set_market_maker(self, user_id: Optional[str] = None, enabled: bool = True) -> None:
        """Let ``user_id`` (default: the simulated user) open ``/intent/ws``, or not:
        other users' upgrades are refused with 403, as the OMS does for non market makers."""
        from .account_routes import account_state

        target = self.user_id if user_id is None else user_id
        makers = account_state(self._engine).market_makers

        def apply() -> None:
            (makers.add if enabled else makers.discard)(target)
        self._call(apply)

    def positions(self) -> list[dict[str, Any]]:
        """The simulated user's positions now, as ``GET /positions/{user}`` rows."""
        from .account_routes import account_state

        return self._call(account_state(self._engine).position_rows)


__all__ = ["TplusSimulator"]
