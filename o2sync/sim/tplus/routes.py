"""REST and WebSocket routes of the tplus simulator's two services.

MDS (market data), one origin:

* REST ``GET /marketdepth/{asset}``, ``/klines/{asset}?page&limit&end_timestamp_ns&interval``,
  ``/trades?page&limit``, ``/trades/{asset}``, ``/ticker/{asset}``, ``/tickers``;
  the user's history with the MDS token (``Authorization: Bearer`` + ``User-Id``):
  ``/orders/user/{user_id}[/{asset}]`` (open orders; ``?status=`` also searches
  recently closed ones) and ``/trades/user/{user_id}[/{asset}]`` (settled fills,
  newest first), each ``{"orders"|"trades": [...], "has_next_page", "next_page"}``;
  login ``GET /nonce/{user_id}`` + ``POST /auth``.
* WebSocket ``/trades``, ``/trades/events``, ``/marketdepth/diff/{asset}``,
  ``/klines/diff/{asset}``; Bearer headers accepted but not required.

OMS (orders), one origin:

* REST ``GET /market/{asset}``, ``/markets?page&limit&include_symbol_map``,
  ``/nonce/{user_id}``, ``POST /auth``; the user's live orders
  ``/orders/user/{user_id}[/{asset}]`` (:mod:`.rest_pages`).
* WebSocket ``/orders`` and ``/trades/user/events/{user_id}``: upgrades need a
  valid OMS token and ``User-Id`` (401 otherwise, 403 for another user's token).

Errors use the envelope of §5.1 (``{"error": {"code", "message", "details",
"retryable"}}``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Callable, Optional

from aiohttp import WSMsgType, web

from . import rest_pages
from .auth import USER_ID_RE
from .klines import interval_ns
from .markets import normalise_asset
from .server import Conn, control_frame
from .wire import dumps, error_body

if TYPE_CHECKING:
    from .server import TplusServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Largest message a client may send us (we send far smaller frames than 1 MiB).
MAX_MESSAGE = 1 << 20
_CODES = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
          405: "METHOD_NOT_ALLOWED", 426: "UPGRADE_REQUIRED", 429: "RATE_LIMITED",
          503: "SERVER_BUSY"}


class ApiError(Exception):
    def __init__(self, status: int, code: Optional[str] = None, message: str = "",
                 headers: Optional[dict[str, str]] = None, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code or _CODES.get(status, "ERROR")
        self.message, self.headers, self.details = message or self.code, headers, details


def _json(body: Any, status: int = 200, headers: Optional[dict[str, str]] = None) -> web.Response:
    return web.Response(text=dumps(body), status=status, content_type="application/json",
                        headers=headers)


def _error(exc: ApiError) -> web.Response:
    retryable = exc.status in (429, 503)
    return _json(error_body(exc.code, exc.message, retryable=retryable, details=exc.details),
                 exc.status, exc.headers)


def _is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _bearer(request: web.Request) -> Optional[str]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def build_app(server: TplusServer, service: str) -> web.Application:
    """The aiohttp application of ``service`` ("mds" or "oms")."""
    from .account_routes import add_account_routes

    api = _Api(server, service)
    app = web.Application(middlewares=[api.middleware])
    add_account_routes(app, api, service)  # tickers WS, positions, margin, intent ...
    get = app.router.add_get
    get("/nonce/{user_id}", api.nonce)
    app.router.add_post("/auth", api.login)
    if service == "mds":
        get("/marketdepth/{asset}", api.depth)
        get("/klines/{asset}", api.klines)
        get("/trades", api.trades)
        get("/trades/events", api.ws_public)
        get("/trades/user/{user_id}", api.user_trades)
        get("/trades/user/{user_id}/{asset}", api.user_trades)
        get("/trades/{asset}", api.trades)
        get("/orders/user/{user_id}", api.user_orders)
        get("/orders/user/{user_id}/{asset}", api.user_orders)
        get("/ticker/{asset}", api.ticker)
        get("/tickers", api.tickers)
        get("/marketdepth/diff/{asset}", api.ws_public)
        get("/klines/diff/{asset}", api.ws_public)
    else:
        get("/market/{asset}", api.market)
        get("/markets", api.markets)
        get("/orders", api.ws_user)
        get("/trades/user/events/{user_id}", api.ws_user)
    rest_pages.add_routes(api, get, service)
    return app


class _Api:
    def __init__(self, server: TplusServer, service: str) -> None:
        self.server, self.service = server, service
        self.engine = server.engine

    # -- middleware: records, refusal, rate limits, error envelope --------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if _is_upgrade(request):
            try:
                return await handler(request)
            except web.HTTPException as exc:  # unknown path or method on an upgrade
                return await self._upgrade_rejected(request, exc.status, None)
        faults = self.server.faults
        body: Any = None
        try:
            if faults.refusing(self.service, upgrade=False):
                raise ApiError(503, message="Service unavailable")
            limited = faults.take(faults.rate)
            if limited is not None:
                retry_after = limited[1]
                headers = None if retry_after is None else {
                    "Retry-After": str(max(0, math.ceil(retry_after)))}
                raise ApiError(429, message="Too many requests", headers=headers)
            response = await handler(request)
        except ApiError as exc:
            response = _error(exc)
        except web.HTTPException as exc:
            response = _error(ApiError(exc.status, message=exc.reason))
        if request.method == "POST":
            try:  # aiohttp keeps the body read, so this costs no second read
                body = json.loads(await request.text())
            except ValueError:
                body = None
        from .records import RequestRecord

        self.server.observer.request(RequestRecord(
            self.service, request.method, request.path, dict(request.query), response.status,
            _bearer(request), body))
        return response

    # -- helpers ------------------------------------------------------------------------------

    def _asset(self, request: web.Request) -> str:
        asset = normalise_asset(request.match_info["asset"])
        if asset not in self.engine.books:
            raise ApiError(404, "MARKET_NOT_FOUND", f"unknown asset {asset}",
                           details={"asset_id": request.match_info["asset"]})
        return asset

    @staticmethod
    def _int(request: web.Request, name: str, default: Optional[int],
             low: int = 0, high: Optional[int] = None) -> Optional[int]:
        raw = request.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, "INVALID_PARAMETER", f"{name} must be an integer") from None
        if value < low or (high is not None and value > high):
            raise ApiError(400, "INVALID_PARAMETER", f"{name} out of range")
        return value

    def _page(self, request: web.Request, rows: list[Any], default_limit: int = 100,
              ) -> tuple[list[Any], int, int, bool]:
        page = self._int(request, "page", 0) or 0
        limit = self._int(request, "limit", default_limit, 1, 1000) or default_limit
        chunk = rows[page * limit:(page + 1) * limit]
        return chunk, page, limit, (page + 1) * limit < len(rows)

    def _user_check(self, request: web.Request) -> str:
        user_id = request.match_info["user_id"]
        check = self.server.auth.check(self.service, request.headers, user_id)
        if check.status != 200:
            raise ApiError(check.status, check.code, check.message)
        return user_id

    # -- auth ---------------------------------------------------------------------------------

    async def nonce(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        if not USER_ID_RE.match(user_id):
            raise ApiError(400, "INVALID_USER_ID", "user id must be 64 lowercase hex")
        return _json({"value": self.server.auth.nonce(self.service, user_id)})

    async def login(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise ApiError(400, "INVALID_REQUEST", "body is not JSON") from None
        failed = self.server.faults.take(self.server.faults.auth)
        if failed is not None:
            raise ApiError(failed[0], "UNAUTHORIZED", "login refused (simulated)")
        status, answer = self.server.auth.login(self.service, body)
        if status != 200:
            raise ApiError(status, answer["code"], answer["message"])
        self.server.observer.changed()
        return _json(answer)

    # -- MDS REST -----------------------------------------------------------------------------

    async def depth(self, request: web.Request) -> web.Response:
        return _json(self.engine.snapshot(self._asset(request)))

    async def klines(self, request: web.Request) -> web.Response:
        asset = self._asset(request)
        width = interval_ns(request.query.get("interval"))
        if width is None:
            raise ApiError(400, "INVALID_INTERVAL", "unknown interval")
        end = self._int(request, "end_timestamp_ns", None)
        bars = self.engine.books[asset].candles.history(
            width, time.time_ns() if end is None else end)
        bars, cutoff = rest_pages.clamp_klines(bars, self.engine.klines_window)
        chunk, page, _, more = self._page(request, bars)
        return _json({"items": self.engine.bar_rows(chunk), "has_next_page": more,
                      "next_page": page + 1 if more else None,
                      "truncated_before_ns": None if more else cutoff})

    async def trades(self, request: web.Request) -> web.StreamResponse:
        if "asset" in request.match_info:
            fills = list(self.engine.books[self._asset(request)].trades)
        else:
            if _is_upgrade(request):
                return await self.ws_public(request)
            fills = list(self.engine.all_trades)
        fills.sort(key=lambda f: f.trade_id, reverse=True)  # newest trade first
        chunk, _, _, _ = self._page(request, fills)
        return _json([self.engine.trade_row(f) for f in chunk])

    async def ticker(self, request: web.Request) -> web.Response:
        return _json(self.engine.ticker(self._asset(request)))

    async def tickers(self, request: web.Request) -> web.Response:
        return _json([self.engine.ticker(a) for a in self.engine.books])

    def _filtered(self, request: web.Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        asset = self._asset(request) if "asset" in request.match_info else None
        start = self._int(request, "start_time", None)
        end = self._int(request, "end_time", None)
        side = request.query.get("side")
        out = []
        for row in rows:
            if asset is not None and row.get("asset_id", row.get("base_asset")) != asset:
                continue
            ts = row["timestamp_ns"]
            if (start is not None and ts < start) or (end is not None and ts > end):
                continue
            if side and _row_side(row).lower() != side.lower():
                continue
            out.append(row)
        return out

    async def user_orders(self, request: web.Request) -> web.Response:
        user_id = self._user_check(request)
        status = request.query.get("status")
        rows = (self.engine.user_order_rows(status)
                if user_id == self.engine.user.user_id else [])
        chunk, page, _, more = self._page(request, self._filtered(request, rows))
        return _json({"orders": chunk, "has_next_page": more,
                      "next_page": page + 1 if more else None})

    async def user_trades(self, request: web.Request) -> web.Response:
        user_id = self._user_check(request)
        rows = self.engine.user_trade_rows() if user_id == self.engine.user.user_id else []
        status = request.query.get("status")
        if status:
            rows = [r for r in rows if r["status"].lower() == status.lower()]
        chunk, page, _, more = self._page(request, self._filtered(request, rows))
        return _json({"trades": chunk, "has_next_page": more,
                      "next_page": page + 1 if more else None})

    # -- OMS REST -----------------------------------------------------------------------------

    async def market(self, request: web.Request) -> web.Response:
        return _json(self.engine.books[self._asset(request)].spec.info)

    async def markets(self, request: web.Request) -> web.Response:
        rows = [{**b.spec.info, "isolated_only": False} for b in self.engine.books.values()]
        chunk, page, limit, more = self._page(request, rows, 1000)
        extra = ({"symbol_map": rest_pages.symbol_map(self.engine)}
                 if request.query.get("include_symbol_map") == "true" else {})
        return _json({**extra,
            "page": page, "limit": limit, "total_pages": math.ceil(len(rows) / limit),
            "cursor_size": len(chunk), "has_next_page": more,
            "next_page": page + 1 if more else None, "markets": chunk,
            "total_markets": len(rows),
        })

    # -- WebSocket ----------------------------------------------------------------------------

    async def ws_public(self, request: web.Request) -> web.StreamResponse:
        if not _is_upgrade(request):
            raise ApiError(426, message="this path is a WebSocket stream")
        asset_ok = True
        if "asset" in request.match_info:
            asset = normalise_asset(request.match_info["asset"])
            asset_ok = asset in self.engine.books
            topic = request.path.rsplit("/", 1)[0] + "/" + asset
        else:
            topic = request.path
        return await self._ws(request, topic, asset_ok=asset_ok, auth=False)

    async def ws_user(self, request: web.Request) -> web.StreamResponse:
        if not _is_upgrade(request):
            raise ApiError(426, message="this path is a WebSocket stream")
        path_user = request.match_info.get("user_id")
        return await self._ws(request, request.path, asset_ok=True, auth=True,
                              path_user=path_user)

    async def _upgrade_rejected(self, request: web.Request, status: int,
                                record: Any, message: str = "") -> web.Response:
        if record is None:
            record = self.server.observer.handshake(
                self.service, request.path, dict(request.headers), _bearer(request),
                request.headers.get("User-Id"), request.remote or "")
        record.status = status
        self.server.observer.changed()
        return _error(ApiError(status, message=message))

    async def _ws(self, request: web.Request, topic: str, *, asset_ok: bool, auth: bool,
                  path_user: Optional[str] = None) -> web.StreamResponse:
        server = self.server
        record = server.observer.handshake(
            self.service, request.path, dict(request.headers), _bearer(request),
            request.headers.get("User-Id"), request.remote or "")
        if server.faults.refusing(self.service, upgrade=True):
            return await self._upgrade_rejected(request, 503, record, "Service unavailable")
        if not asset_ok:
            return await self._upgrade_rejected(request, 404, record, "unknown asset")
        if auth:
            check = server.auth.check(self.service, request.headers, path_user)
            if check.status != 200:
                return await self._upgrade_rejected(request, check.status, record, check.message)
            failed = server.faults.take(server.faults.upgrades)
            if failed is not None:
                return await self._upgrade_rejected(request, failed[0], record, "simulated")
            if request.path == "/orders":
                topic = "/orders@" + str(check.user_id)
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=MAX_MESSAGE,
                                   timeout=2.0)
        if not ws.can_prepare(request).ok:
            return await self._upgrade_rejected(request, 400, record, "bad upgrade")
        # recorded before the 101 leaves: a client that already sees the socket open
        # must find its handshake accepted in the records (tests read them at once)
        record.status = 101
        try:
            await ws.prepare(request)
        except BaseException:
            record.status = 0  # never answered after all
            raise
        record.open = True
        conn = Conn(self.service, request.path, topic, ws, request, record)
        conn.send(control_frame("subscriptions", request.path))
        server.register(conn)
        server.observer.changed()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    record.frames_received.append(msg.data)
                    server.observer.changed()
        finally:
            server.unregister(conn)
            record.open = False
            record.close_code = ws.close_code if ws.close_code is not None else 1006
            server.observer.changed()
        return ws


def _row_side(row: dict[str, Any]) -> str:
    if "side" in row:
        return str(row["side"])
    return "Buy" if row.get("is_buyer") else "Sell"
