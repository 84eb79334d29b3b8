"""The simulated user's account in the tplus simulator, and the paths that serve it.

State (:class:`AccountState`, one per engine, advanced after every engine event):

* positions on sub-account 1 (seeded: long on ``200``, short on the address
  asset), moved by the user's **confirmed** fills; each change pushes the complete
  list on ``/positions/ws/{user}`` (as the OMS does, §6.8);
* spot balances (sub-account 0) and account events on ``/account/events/{user}``:
  a fixed cycle of ``DepositLanded``, ``MarginCallUpdated`` (called),
  ``WithdrawalCompleted``, ``SubAccountAssetTransferred``, ``MarginCallUpdated``
  (cleared) and ``PositionCleared`` every few events; seeded with deposits;
* tickers: every event that moved a market sends its ticker on
  ``/ticker/ws/{asset}`` and the changed ones as one list on ``/tickers/ws``;
* open interest per market (the address market reports none until it first trades);
* the anonymous intent aggregate on ``/intent/ws``, for market makers only (an
  upgrade from anyone else is refused with 403; :meth:`AccountState.market_makers`);
* finalized user trades mirrored from the trade events onto ``/trades/user/{user}``.

REST (OMS): ``/positions/{user}[/{asset}]?page&limit&sub_account`` (full page meta),
``/inventory/user/{user}``, ``/margin/user/{user}?sub_account&include_positions&now_ns``,
``/solvency/user/{user}``; any other user is unknown (404, margin: no accounts).
REST (MDS): ``/openinterest[/{asset}]``, ``/positions/user/{user}/basis[/{asset}]``,
``/sub-accounts/user/{user}``. Shapes: ``tplus-streams.md`` §5.2, §5.3, §6.8-6.10.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Optional

from aiohttp import web

from .engine import Emit, TplusEngine
from .wire import human

if TYPE_CHECKING:
    from .routes import _Api

#: Engine events between two account events, and between two intent windows.
ACCOUNT_EVERY = 5
INTENT_EVERY = 3
MARGIN_SUB = 1  # the default margin sub-account
E18 = 10 ** 18
_Q = Decimal("0.000001")
_MARGIN_RATE = Decimal("0.1")
_MAINTENANCE_RATE = Decimal("0.05")
_CHAIN = "00000000000000a4b1"
_USDC = "af88d065e77c8cc2239327c5edb3a432268e5831000000000000000000000000@" + _CHAIN
_STATES: weakref.WeakKeyDictionary[TplusEngine, AccountState] = weakref.WeakKeyDictionary()


def account_state(engine: TplusEngine) -> AccountState:
    """The account state of ``engine``'s simulated user (made on first use)."""
    state = _STATES.get(engine)
    if state is None:
        state = _STATES[engine] = AccountState(engine)
    return state


@dataclass
class Position:
    asset: str
    size: Decimal  # signed: > 0 long, < 0 short
    entry: Decimal
    cost: Decimal  # what the open size cost, signed like size


class AccountState:
    """Positions, balances, events, open interest and intent of the simulated user."""

    def __init__(self, engine: TplusEngine) -> None:
        self.engine = engine
        self.user_id = engine.user.user_id
        self.market_makers: set[str] = set()  # users allowed on /intent/ws
        self.positions: dict[str, Position] = {}
        self.spot: dict[str, int] = {_USDC: 250_000 * E18}  # 1e18 inventory units
        self.open_interest: dict[str, Optional[tuple[Decimal, Decimal, int]]] = {}
        self.margin_calls: list[dict[str, int]] = []
        self.intent: dict[str, tuple[int, Decimal]] = {}
        self.deposit_nonce = 0
        self.withdrawal_nonce = 0
        self.cycle = 0
        self.steps = 0
        now = engine.clock()
        assets = list(engine.books)
        for i, asset in enumerate(assets):
            mid = self._mark(asset)
            sign = Decimal(1) if i % 2 == 0 else Decimal(-1)
            size = sign * Decimal(2 + i)
            self.positions[asset] = Position(asset, size, mid, size * mid)
            self.open_interest[asset] = ((Decimal(1000 + 10 * i), Decimal(990 + 10 * i), now)
                                         if i == 0 else None)
            self.intent[asset] = (0, Decimal(0))
        self.deposits = [self._deposit(now - 3_600_000_000_000),
                         self._deposit(now - 1_800_000_000_000)]
        # a margin call already open on venue 2 (the event cycle replaces, then clears it)
        self.margin_calls = [{"venue": 2, "started_at_ns": now - 60_000_000_000,
                              "deadline_ns": now + 840_000_000_000}]

    # -- helpers ---------------------------------------------------------------------

    def _mark(self, asset: str) -> Decimal:
        book = self.engine.books[asset]
        return human(book.mid, book.spec.price_decimals)

    def _d(self, value: Decimal) -> Any:
        return self.engine.enc.dec(value.quantize(_Q).normalize() if value else Decimal(0))

    # -- after each engine event -------------------------------------------------------

    def after_step(self, emits: list[Emit],
                   listening: Callable[[str], bool] = lambda topic: True) -> list[Emit]:
        """The frames this event adds to what the engine produced (tickers only when
        ``listening`` says someone streams them: they cost the most to build)."""
        self.steps += 1
        out: list[Emit] = []
        moved: list[str] = []
        now = self.engine.clock()
        user_events = self.engine.user_trades_topic
        for topic, payload in emits:
            if topic == user_events and payload.get("status") == "Confirmed":
                out.append(("/trades/user/" + self.user_id, payload))
                self._fill(payload, now)
                out.append(self.position_update(now))
            elif topic == "/trades":
                self._traded(payload, now)
            asset = _asset_of(topic)
            if asset is not None and asset not in moved:
                moved.append(asset)
        every = listening("/tickers/ws")
        shown = [a for a in moved if every or listening("/ticker/ws/" + a)]
        if shown:
            tickers = [self.engine.ticker(a) for a in shown]
            out.extend(("/ticker/ws/" + a, t) for a, t in zip(shown, tickers))
            if every:
                out.append(("/tickers/ws", tickers))
        if self.steps % ACCOUNT_EVERY == 0:
            out.append(("/account/events/" + self.user_id, self._account_event(now)))
        if self.steps % INTENT_EVERY == 0 and moved:
            out.append(("/intent/ws", self._intent(moved[0], now)))
        return out

    def _fill(self, trade: dict[str, Any], now: int) -> None:
        asset = str(trade["asset_id"])
        qty, price = Decimal(str(trade["quantity"])), Decimal(str(trade["price"]))
        signed = qty if trade["is_buyer"] else -qty
        pos = self.positions.get(asset) or Position(asset, Decimal(0), price, Decimal(0))
        new = pos.size + signed
        if pos.size == 0 or ((pos.size > 0) != (new > 0) and new != 0):
            pos.entry, pos.cost = price, new * price  # opened, or flipped through zero
        elif abs(new) > abs(pos.size):
            pos.cost += signed * price  # added to: the entry is the average
            pos.entry = pos.cost / new
        else:
            pos.cost = new * pos.entry  # reduced: the entry stays
        pos.size = new
        self.positions[asset] = pos

    def _traded(self, trade: dict[str, Any], now: int) -> None:
        asset = str(trade["asset_id"])
        qty = Decimal(str(trade["quantity"]))
        current = self.open_interest.get(asset)
        long, short = (current[0], current[1]) if current else (Decimal(0), Decimal(0))
        self.open_interest[asset] = (long + qty, short + qty, now)

    def _account_event(self, now: int) -> dict[str, Any]:
        kind = self.cycle % 6
        self.cycle += 1
        user = self.user_id
        asset = next(iter(self.positions), "200")
        if kind == 0:
            return {"DepositLanded": self._deposit(now)}
        if kind == 1:
            self.margin_calls = [{"venue": 3, "started_at_ns": now,
                                  "deadline_ns": now + 900_000_000_000}]
            return {"MarginCallUpdated": {
                "user": user, "sub_account_index": MARGIN_SUB, "timestamp_ns": now,
                "called_venues": [{"venue": c["venue"], "deadline_ns": c["deadline_ns"]}
                                  for c in self.margin_calls]}}
        if kind == 2:
            amount = 1_250 * E18
            self.spot[_USDC] -= amount
            self.withdrawal_nonce += 1
            return {"WithdrawalCompleted": {
                "user": user, "asset": _USDC, "amount": str(amount), "chain_id": _CHAIN,
                "withdrawal_nonce": self.withdrawal_nonce, "timestamp_ns": now}}
        if kind == 3:
            return {"SubAccountAssetTransferred": {
                "user": user, "source_sub_account_index": 0,
                "target_sub_account_index": MARGIN_SUB, "asset": _USDC,
                "amount": str(500 * E18), "timestamp_ns": now}}
        if kind == 4:
            self.margin_calls = []
            return {"MarginCallUpdated": {"user": user, "sub_account_index": MARGIN_SUB,
                                          "called_venues": [], "timestamp_ns": now}}
        return {"PositionCleared": {"user": user, "sub_account_index": MARGIN_SUB,
                                    "asset": asset, "timestamp_ns": now}}

    def _deposit(self, now: int) -> dict[str, Any]:
        amount = 10_000 * E18 + 5 * 10 ** 17  # 10000.5 USDC
        self.spot[_USDC] = self.spot.get(_USDC, 0) + amount
        self.deposit_nonce += 1
        return {"user": self.user_id, "asset": _USDC, "amount": str(amount),
                "chain_id": _CHAIN, "deposit_nonce": self.deposit_nonce, "timestamp_ns": now}

    def _intent(self, asset: str, now: int) -> dict[str, Any]:
        watchers, quantity = self.intent[asset]
        step = self.steps // INTENT_EVERY
        dw = 1 if step % 3 else -1
        dq = Decimal("1.5") if dw > 0 else Decimal("-0.5")
        if watchers + dw < 0 or quantity + dq < 0:
            dw, dq = 1, Decimal("1.5")
        watchers, quantity = watchers + dw, quantity + dq
        self.intent[asset] = (watchers, quantity)
        d = self.engine.enc.dec
        return {"asset_id": asset, "watchers_delta": dw, "quantity_delta": d(dq),
                "watchers": watchers, "quantity": d(quantity), "window_end_ns": now}

    # -- what REST and streams show ------------------------------------------------------

    def position_rows(self, asset: Optional[str] = None,
                      sub_account: Optional[int] = None) -> list[dict[str, Any]]:
        rows = []
        for pos in self.positions.values():
            if (asset is not None and pos.asset != asset) or (
                    sub_account is not None and sub_account != MARGIN_SUB):
                continue
            rows.append(self._position_row(pos))
        return rows

    def _position_row(self, pos: Position) -> dict[str, Any]:
        mark = self._mark(pos.asset)
        size = abs(pos.size)
        side = "closed" if pos.size == 0 else ("long" if pos.size > 0 else "short")
        notional = size * mark
        upnl = pos.size * (mark - pos.entry)
        margin = notional * _MARGIN_RATE
        liq = (pos.entry * (1 - _MARGIN_RATE) if pos.size > 0 else pos.entry * (1 + _MARGIN_RATE))
        long, short = pos.size > 0, pos.size < 0
        return {
            "asset_id": pos.asset, "sub_account_index": MARGIN_SUB, "name": "Default margin",
            "side": side, "size": self._d(size),
            "entry_price": self._d(pos.entry) if pos.size else None,
            "mark_price": self._d(mark), "unrealized_pnl": self._d(upnl),
            "margin": self._d(margin), "leverage": self._d(Decimal(10)) if pos.size else None,
            "liquidation_price": self._d(liq) if pos.size else None,
            "base_credits": self._d(size if long else Decimal(0)),
            "base_liabilities": self._d(size if short else Decimal(0)),
            "quote_credits": self._d(abs(pos.cost) if short else Decimal(0)),
            "quote_liabilities": self._d(abs(pos.cost) if long else Decimal(0)),
        }

    def position_update(self, now: int) -> Emit:
        return ("/positions/ws/" + self.user_id,
                {"user_id": self.user_id, "positions": self.position_rows(),
                 "timestamp_ns": now})

    def inventory(self) -> dict[str, Any]:
        margins = {}
        for pos in self.positions.values():
            size = abs(pos.size)
            margins[pos.asset] = {
                "base": {"credits": self._d(size if pos.size > 0 else Decimal(0)),
                         "liabilities": self._d(size if pos.size < 0 else Decimal(0))},
                "quote": {"credits": self._d(abs(pos.cost) if pos.size < 0 else Decimal(0)),
                          "liabilities": self._d(abs(pos.cost) if pos.size > 0
                                                 else Decimal(0))}}
        spot = {a: self._d(Decimal(v) / E18) for a, v in self.spot.items()}
        return {"accounts": {"0": {"kind": "spot", "spot": spot, "margins": {}},
                             str(MARGIN_SUB): {"kind": "cross_margin", "spot": {},
                                               "margins": margins}},
                "is_mm": self.user_id in self.market_makers}

    def _account_numbers(self) -> tuple[Decimal, Decimal, Decimal, list[dict[str, Any]]]:
        upnl = notional_sum = margin_sum = Decimal(0)
        rows = []
        for pos in self.positions.values():
            mark = self._mark(pos.asset)
            notional = abs(pos.size) * mark
            upnl += pos.size * (mark - pos.entry)
            notional_sum += notional
            margin_sum += notional * _MAINTENANCE_RATE
            if pos.size:
                rows.append({"asset_id": pos.asset,
                             "side": "long" if pos.size > 0 else "short",
                             "size": self._d(abs(pos.size)),
                             "notional_value": self._d(notional),
                             "margin": self._d(notional * _MAINTENANCE_RATE)})
        return upnl, notional_sum, margin_sum, rows

    def margin(self, sub_account: Optional[int], include_positions: bool) -> dict[str, Any]:
        upnl, notional, maintenance, rows = self._account_numbers()
        collateral = Decimal(self.spot.get(_USDC, 0)) / E18 / 4
        equity = collateral + upnl
        initial = notional * _MARGIN_RATE
        account = {
            "account_equity": self._d(equity), "available_margin": self._d(equity - initial),
            "utilized_margin": self._d(initial),
            "maintenance_margin_surplus": self._d(equity - maintenance),
            "mm_requirement": self._d(maintenance),
            "account_leverage": self._d(notional / equity) if equity > 0 else None,
            "is_solvent": equity >= initial, "is_liquidatable": equity < maintenance,
            "total_upnl": self._d(upnl), "im_surplus": self._d(equity - initial),
            "net_apy": None, "margin_calls": list(self.margin_calls), "netting": None,
            "positions": rows if include_positions else None,
        }
        accounts = {} if sub_account not in (None, MARGIN_SUB) else {str(MARGIN_SUB): account}
        warnings = ([{"sub_account": MARGIN_SUB, "code": "STALE_ORACLE",
                      "message": "mark price older than 5 s", "asset": None}]
                    if self.margin_calls else [])
        return {"accounts": accounts, "warnings": warnings}

    def solvency(self) -> dict[str, Any]:
        upnl, _, maintenance, _ = self._account_numbers()
        equity = Decimal(self.spot.get(_USDC, 0)) / E18 / 4 + upnl
        return {"accounts": {str(MARGIN_SUB): {
            "is_solvent": equity >= maintenance,
            "distance_from_liquidation": self._d(equity - maintenance)}}}

    def open_interest_row(self, asset: str) -> dict[str, Any]:
        current = self.open_interest.get(asset)
        if current is None:
            return {"asset_id": asset, "long": None, "short": None, "timestamp_ns": None}
        return {"asset_id": asset, "long": self._d(current[0]), "short": self._d(current[1]),
                "timestamp_ns": current[2]}

    def basis_rows(self, asset: Optional[str], sub_account: Optional[int]
                   ) -> list[dict[str, Any]]:
        rows = []
        if sub_account in (None, 0) and asset is None:
            rows.append({"sub_account": 0, "asset_id": "200", "domain": "spot", "side": None,
                         "quantity": self._d(Decimal("0.25")),
                         "cost": self._d(Decimal("967.8")), "entry_price": None,
                         "avg_acquisition_price": self._d(Decimal("3871.2")),
                         "mark_price": self._d(self._mark("200"))
                         if "200" in self.engine.books else None,
                         "unrealized_pnl": None})
        if sub_account in (None, MARGIN_SUB):
            for pos in self.positions.values():
                if pos.size == 0 or (asset is not None and pos.asset != asset):
                    continue
                mark = self._mark(pos.asset)
                rows.append({"sub_account": MARGIN_SUB, "asset_id": pos.asset,
                             "domain": "margin", "side": "long" if pos.size > 0 else "short",
                             "quantity": self._d(abs(pos.size)), "cost": self._d(pos.cost),
                             "entry_price": self._d(pos.entry), "avg_acquisition_price": None,
                             "mark_price": self._d(mark),
                             "unrealized_pnl": self._d(pos.size * (mark - pos.entry))})
        return rows


def _asset_of(topic: str) -> Optional[str]:
    for prefix in ("/marketdepth/diff/", "/klines/diff/"):
        if topic.startswith(prefix):
            return topic[len(prefix):]
    return None


# ---------------------------------------------------------------------- routes


def add_account_routes(app: web.Application, api: _Api, service: str) -> None:
    """Register the account paths of ``service`` ("mds" or "oms") on ``app``."""
    routes = _AccountRoutes(api)
    get = app.router.add_get
    if service == "mds":
        get("/ticker/ws/{asset}", api.ws_public)
        get("/tickers/ws", api.ws_public)
        get("/openinterest", routes.all_open_interest)
        get("/openinterest/{asset}", routes.open_interest)
        get("/positions/user/{user_id}/basis", routes.basis)
        get("/positions/user/{user_id}/basis/{asset}", routes.basis)
        get("/sub-accounts/user/{user_id}", routes.sub_account_names)
    else:
        get("/trades/user/{user_id}", api.ws_user)
        get("/positions/ws/{user_id}", api.ws_user)  # before /positions/{user}/{asset}
        get("/account/events/{user_id}", api.ws_user)
        get("/intent/ws", routes.intent)
        get("/positions/{user_id}", routes.positions)
        get("/positions/{user_id}/{asset}", routes.positions)
        get("/inventory/user/{user_id}", routes.inventory)
        get("/margin/user/{user_id}", routes.margin)
        get("/solvency/user/{user_id}", routes.solvency)


class _AccountRoutes:
    def __init__(self, api: _Api) -> None:
        self.api = api
        self.state = account_state(api.engine)

    def _known(self, request: web.Request) -> bool:
        """Check the token (401/403 as every user read); True for the simulated user."""
        return self.api._user_check(request) == self.state.user_id

    # -- MDS ----------------------------------------------------------------------------

    async def open_interest(self, request: web.Request) -> web.Response:
        return _json(self.state.open_interest_row(self.api._asset(request)))

    async def all_open_interest(self, request: web.Request) -> web.Response:
        return _json([self.state.open_interest_row(a) for a in self.api.engine.books])

    async def basis(self, request: web.Request) -> web.Response:
        known = self._known(request)
        asset = self.api._asset(request) if "asset" in request.match_info else None
        if not known:
            raise _not_found("position basis")
        sub = self.api._int(request, "sub_account", None)
        return _json(self.state.basis_rows(asset, sub))

    async def sub_account_names(self, request: web.Request) -> web.Response:
        names = ([{"account_index": 0, "name": "Spot"},
                  {"account_index": MARGIN_SUB, "name": "Default margin"}]
                 if self._known(request) else [])
        return _json({"names": names})

    # -- OMS ----------------------------------------------------------------------------

    async def intent(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            check = self.api.server.auth.check("oms", request.headers, None)
            if check.status == 200 and check.user_id not in self.state.market_makers:
                return await self.api._upgrade_rejected(request, 403, None,
                                                        "market makers only")
        return await self.api.ws_user(request)

    async def positions(self, request: web.Request) -> web.Response:
        known = self._known(request)
        asset = self.api._asset(request) if "asset" in request.match_info else None
        if not known:
            raise _not_found("positions")
        sub = self.api._int(request, "sub_account", None)
        rows = self.state.position_rows(asset, sub)
        chunk, page, limit, more = self.api._page(request, rows, 100)
        return _json({"positions": chunk, "total_positions": len(rows), "page": page,
                      "limit": limit, "total_pages": math.ceil(len(rows) / limit),
                      "cursor_size": len(chunk), "has_next_page": more,
                      "next_page": page + 1 if more else None})

    async def inventory(self, request: web.Request) -> web.Response:
        if not self._known(request):
            raise _not_found("inventory")
        return _json(self.state.inventory())

    async def margin(self, request: web.Request) -> web.Response:
        known = self._known(request)
        sub = self.api._int(request, "sub_account", None)
        include = request.query.get("include_positions", "false").lower() == "true"
        if not known:
            return _json({"accounts": {}, "warnings": []})
        return _json(self.state.margin(sub, include))

    async def solvency(self, request: web.Request) -> web.Response:
        if not self._known(request):
            raise _not_found("solvency")
        return _json(self.state.solvency())


def _not_found(what: str) -> Exception:
    from .routes import ApiError  # (routes imports this module)

    return ApiError(404, "USER_NOT_FOUND", f"no {what} for this user")


def _json(body: Any) -> web.Response:
    from .wire import dumps

    return web.Response(text=dumps(body), content_type="application/json")
