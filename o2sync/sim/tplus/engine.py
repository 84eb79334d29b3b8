"""The seeded, deterministic market engine of the tplus simulator.

Pure state and arithmetic, no I/O: :meth:`TplusEngine.step` runs one event and
returns the frames it produced as ``(topic, payload)`` pairs. A topic is a stream
path (``/trades``, ``/marketdepth/diff/200`` ...) except for the user's order events,
whose topic is ``/orders@<user_id>`` (``/orders`` takes the user from the handshake).

Each event picks a market by weight and one of: a resting limit order from someone
(some of them the simulated user's), a cancel, an aggressive order that crosses and
trades, the user's replace/amend/trigger/failed/expired events, or a drift of the
mid price. Trades are ``Pending`` at once and settle a few events later, as
``Confirmed`` or (now and then) ``Rollbacked``; finalized trades feed ``/trades``,
klines and the trade history. Prices and quantities are integers in book units;
they are turned into human decimals only on the way out.

Same seed, same sequence of calls: same orders, ids, prices, quantities, trades
and sequence numbers. Timestamps come from ``clock`` (wall time by default; pass a
fake clock for bit-identical frames).
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import json
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Optional

from .auth import UserKey
from .klines import MINUTE_NS, Bar, Candles
from .markets import MarketSpec
from .wire import Encoder, human

Emit = tuple[str, Any]
BUY, SELL = "Buy", "Sell"

#: Per market: fewer resting orders than this → only add; more → only cancel.
MIN_ORDERS, MAX_ORDERS = 40, 240
#: How many events after a trade it settles (inclusive range) and the rollback odds.
SETTLE_AFTER = (1, 4)
ROLLBACK_ODDS = 0.06
#: Kept for REST.
KEEP_TRADES = 1000
KEEP_CLOSED_ORDERS = 200


@dataclass
class Order:
    order_id: str
    asset: str
    side: str
    price: int
    quantity: int  # total ordered (book units)
    remaining: int
    user: bool
    created_ns: int
    filled: int = 0
    confirmed: int = 0
    filled_amount: int = 0
    confirmed_amount: int = 0
    fees: Decimal = Decimal(0)
    revision: int = 0
    status: str = "Open"
    updated_ns: int = 0


@dataclass
class Fill:
    """A trade as the engine keeps it until it settles."""

    trade_id: int
    asset: str
    order_id: str  # the taker's
    price: int
    quantity: int
    ts: int
    buyer_is_maker: bool
    user_order: Optional[Order] = None  # the user's side, if the user took part
    user_is_maker: bool = False
    fee: Decimal = Decimal(0)


@dataclass
class Book:
    spec: MarketSpec
    mid: int
    seq: int = 1000
    skip: int = 0
    levels: dict[str, dict[int, deque[Order]]] = field(
        default_factory=lambda: {BUY: {}, SELL: {}}
    )
    orders: dict[str, Order] = field(default_factory=dict)
    touched: set[tuple[str, int]] = field(default_factory=set)
    candles: Candles = field(default_factory=Candles)
    trades: deque[Fill] = field(default_factory=lambda: deque(maxlen=KEEP_TRADES))
    last_price: Optional[int] = None
    volume: int = 0

    def qty(self, side: str, price: int) -> int:
        queue = self.levels[side].get(price)
        return sum(o.remaining for o in queue) if queue else 0

    def best(self, side: str) -> Optional[int]:
        prices = self.levels[side]
        if not prices:
            return None
        return max(prices) if side == BUY else min(prices)

    def add(self, order: Order) -> None:
        self.levels[order.side].setdefault(order.price, deque()).append(order)
        self.orders[order.order_id] = order
        self.touched.add((order.side, order.price))

    def remove(self, order: Order) -> None:
        queue = self.levels[order.side].get(order.price)
        if queue is not None:
            with contextlib.suppress(ValueError):
                queue.remove(order)
            if not queue:
                del self.levels[order.side][order.price]
        self.orders.pop(order.order_id, None)
        self.touched.add((order.side, order.price))

    def sorted_levels(self, side: str) -> list[tuple[int, int]]:
        prices = sorted(self.levels[side], reverse=side == BUY)
        return [(p, self.qty(side, p)) for p in prices]


class TplusEngine:
    """All market state; every method runs on the simulator's loop thread."""

    #: REST klines: a window of more bars than this is clamped (``truncated_before_ns``)
    klines_window: Optional[int] = None

    def __init__(
        self,
        seed: int,
        user: UserKey,
        markets: Sequence[MarketSpec],
        encoder: Encoder,
        clock: Callable[[], int],
    ) -> None:
        self.rng = random.Random(seed)
        self.user = user
        self.enc = encoder
        self.clock = clock
        self.specs = list(markets)
        self.books = {spec.asset_id: Book(spec, spec.start_mid, seq=1000 if spec.seeded else 0)
                      for spec in self.specs}
        self._weights = [spec.weight for spec in self.specs]
        self.events = 0
        self.next_trade_id = 200_000 + self.rng.randrange(1000)
        self._settle: list[tuple[int, int, Fill]] = []
        self.user_orders: dict[str, Order] = {}
        self.user_closed: deque[Order] = deque(maxlen=KEEP_CLOSED_ORDERS)
        self.user_trades: deque[tuple[Fill, str, Optional[str]]] = deque(maxlen=KEEP_TRADES)
        self.all_trades: deque[Fill] = deque(maxlen=KEEP_TRADES)
        self.orders_topic = "/orders@" + user.user_id
        self.user_trades_topic = "/trades/user/events/" + user.user_id
        now = clock()
        for book in self.books.values():
            if book.spec.seeded:
                self._seed_book(book, now)

    # -- setup ------------------------------------------------------------------------

    def _seed_book(self, book: Book, now: int) -> None:
        for depth in range(1, 16):
            for side, price in ((BUY, book.mid - depth), (SELL, book.mid + depth)):
                for _ in range(self.rng.randint(1, 3)):
                    book.add(self._order(book, side, price, self._lot_qty(book), False, now))
        book.touched.clear()
        # two hours of 1-minute history, so REST klines have something from the start
        price = book.mid
        start = (now // MINUTE_NS - 120) * MINUTE_NS
        for i in range(120):
            o = price
            moves = [self.rng.randint(-3, 3) for _ in range(4)]
            path = [o]
            for m in moves:
                path.append(max(1, path[-1] + m))
            price = path[-1]
            pd = book.spec.price_decimals
            vol = human(self._lot_qty(book) * self.rng.randint(1, 10), book.spec.quantity_decimals)
            t0 = start + i * MINUTE_NS
            book.candles.seed(Bar(
                t0, t0 + MINUTE_NS - 1, human(o, pd), human(max(path), pd),
                human(min(path), pd), human(price, pd), vol,
            ))

    def _lot_qty(self, book: Book) -> int:
        lot = int(10 ** max(0, book.spec.quantity_decimals - 2))
        return self.rng.randint(1, 50) * lot

    def _order_id(self) -> str:
        return base64.b64encode(self.rng.getrandbits(128).to_bytes(16, "big")).decode()

    def _order(
        self, book: Book, side: str, price: int, qty: int, user: bool, now: int
    ) -> Order:
        return Order(self._order_id(), book.spec.asset_id, side, price, qty, qty, user, now,
                     updated_ns=now)

    # -- one event --------------------------------------------------------------------

    def step(self) -> list[Emit]:
        """Run one event; the frames it produced, in order."""
        self.events += 1
        out: list[Emit] = []
        now = self.clock()
        self._settle_due(out, now)
        book = self.rng.choices(list(self.books.values()), self._weights)[0]
        r = self.rng.random()
        count = len(book.orders)
        if count < MIN_ORDERS or (r < 0.42 and count <= MAX_ORDERS):
            self._passive(book, out, now, user=self.rng.random() < 0.15)
        elif r < 0.70 or count > MAX_ORDERS:
            self._cancel(book, out, now)
        elif r < 0.86:
            self._aggressive(book, out, now, user=self.rng.random() < 0.15)
        elif r < 0.91:
            self._modify(book, out, now)
        elif r < 0.93:
            self._triggered(book, out, now)
        elif r < 0.95:
            self._user_misc(book, out, now)
        else:
            book.mid = max(2, book.mid + self.rng.choice((-1, 1)))
            self._passive(book, out, now, user=False)
        self._flush_depth(out)
        return out

    def _passive_price(self, book: Book, side: str) -> int:
        away = self.rng.randint(0, 8)
        if side == BUY:
            ask = book.best(SELL)
            top = min(book.mid, ask - 1) if ask is not None else book.mid
            return max(1, top - away)
        bid = book.best(BUY)
        bottom = max(book.mid, bid + 1) if bid is not None else book.mid
        return bottom + away

    def _passive(self, book: Book, out: list[Emit], now: int, user: bool) -> None:
        side = self.rng.choice((BUY, SELL))
        order = self._order(book, side, self._passive_price(book, side), self._lot_qty(book),
                            user, now)
        if user:
            self._created(order, out, now)
        book.add(order)

    def _cancel(self, book: Book, out: list[Emit], now: int) -> None:
        if not book.orders:
            return
        order = book.orders[self.rng.choice(list(book.orders))]
        book.remove(order)
        if order.user:
            out.append((self.orders_topic, {"Canceled": {
                "order_id": order.order_id, "asset_id": order.asset,
                "user_id": self.user.user_id, "timestamp_ns": now, "reason": "UserRequested",
            }}))
            self._removed(order, "Canceled", out, now)

    def _aggressive(self, book: Book, out: list[Emit], now: int, user: bool) -> None:
        side = self.rng.choice((BUY, SELL))
        other = SELL if side == BUY else BUY
        best = book.best(other)
        if best is None:
            self._passive(book, out, now, user)
            return
        through = self.rng.randint(0, 3)
        price = best + through if side == BUY else max(1, best - through)
        qty = self._lot_qty(book) * self.rng.randint(1, 3)
        taker = self._order(book, side, price, qty, user, now)
        if user:
            self._created(taker, out, now)
        self._match(book, taker, out, now)
        if taker.remaining > 0 and user:
            book.add(taker)
            # others' takers are immediate-or-cancel: the rest is dropped

    def _match(self, book: Book, taker: Order, out: list[Emit], now: int) -> None:
        other = SELL if taker.side == BUY else BUY
        while taker.remaining > 0:
            best = book.best(other)
            if best is None or (best > taker.price if taker.side == BUY else best < taker.price):
                break
            maker = book.levels[other][best][0]
            if maker.user and taker.user:  # self-trade prevention: the resting one goes
                book.remove(maker)
                self._removed(maker, "SelfTradePrevented", out, now)
                continue
            qty = min(maker.remaining, taker.remaining)
            for o in (maker, taker):
                o.remaining -= qty
                o.filled += qty
                o.filled_amount += qty * best
                o.updated_ns = now
            book.touched.add((other, best))
            fill = Fill(self.next_trade_id, book.spec.asset_id, taker.order_id, best, qty, now,
                        buyer_is_maker=taker.side == SELL)
            self.next_trade_id += 1
            book.last_price = best
            book.mid = best
            if maker.user or taker.user:
                fill.user_order = maker if maker.user else taker
                fill.user_is_maker = maker.user
                notional = human(qty * best, book.spec.price_decimals + book.spec.quantity_decimals)
                rate = Decimal("-0.0001") if maker.user else Decimal("0.0005")
                fill.fee = (notional * rate).quantize(Decimal("0.000001"))
                fill.user_order.fees += fill.fee
            out.append(("/trades/events", {"Pending": self._trade(fill, "Pending")}))
            if fill.user_order is not None:
                out.append((self.user_trades_topic, self._user_trade(fill, "Pending", None)))
            due = self.events + self.rng.randint(*SETTLE_AFTER)
            heapq.heappush(self._settle, (due, fill.trade_id, fill))
            if maker.remaining == 0:
                book.remove(maker)
                if maker.user:
                    self._removed(maker, "Completed", out, now)
        if taker.user and taker.remaining == 0:
            self._removed(taker, "Completed", out, now)

    def _settle_due(self, out: list[Emit], now: int) -> None:
        while self._settle and self._settle[0][0] <= self.events:
            _, _, fill = heapq.heappop(self._settle)
            rolled = self.rng.random() < ROLLBACK_ODDS
            status = "Rollbacked" if rolled else "Confirmed"
            out.append(("/trades/events", {status: self._trade(fill, status)}))
            book = self.books[fill.asset]
            if not rolled:
                trade = self._trade(fill, "Confirmed")
                out.append(("/trades", trade))
                book.trades.append(fill)
                self.all_trades.append(fill)
                book.volume += fill.quantity
                spec = book.spec
                bars = book.candles.trade(
                    fill.ts, human(fill.price, spec.price_decimals),
                    human(fill.quantity, spec.quantity_decimals),
                )
                out.append(("/klines/diff/" + fill.asset, [self._bar(b) for b in bars]))
            if fill.user_order is not None:
                order = fill.user_order
                reason = "SettlementFailed" if rolled else None
                if not rolled:
                    order.confirmed += fill.quantity
                    order.confirmed_amount += fill.quantity * fill.price
                self.user_trades.append((fill, status, reason))
                out.append((self.user_trades_topic, self._user_trade(fill, status, reason)))

    def _modify(self, book: Book, out: list[Emit], now: int) -> None:
        """Replace or amend one of the user's resting orders on this market."""
        mine = [o for o in book.orders.values() if o.user]
        if not mine:
            self._passive(book, out, now, user=True)
            return
        order = self.rng.choice(mine)
        lot = 10 ** max(0, book.spec.quantity_decimals - 2)
        order.revision += 1
        order.updated_ns = now
        if self.rng.random() < 0.5:  # Replaced: new price and size, back of the queue
            book.remove(order)
            order.price = self._passive_price(book, order.side)
            order.quantity = order.filled + self._lot_qty(book)
            order.remaining = order.quantity - order.filled
            book.add(order)
            self.user_orders[order.order_id] = order
            out.append((self.orders_topic, {"Replaced": {
                "order_id": order.order_id, "asset_id": order.asset,
                "user_id": self.user.user_id, "new_quantity": order.quantity,
                "new_price": order.price, "timestamp_ns": now,
                "authorization_revision": order.revision, "operator_pubkey": None,
                "initial_receive_timestamp_ns": now - 2_000_000,
            }}))
        elif order.remaining > lot:  # Amended: smaller, keeps its place
            order.remaining -= self.rng.randint(1, order.remaining // lot - 1 or 1) * lot
            order.remaining = max(order.remaining, lot)
            order.quantity = order.filled + order.remaining
            book.touched.add((order.side, order.price))
            out.append((self.orders_topic, {"Amended": {
                "order_id": order.order_id, "asset_id": order.asset,
                "user_id": self.user.user_id, "new_quantity": order.quantity,
                "remaining_quantity": order.remaining,
                "authorization_revision": order.revision,
                "book_quantity_decimals": book.spec.quantity_decimals,
                "timestamp_ns": now, "operator_pubkey": None,
            }}))
        else:
            out.append((self.orders_topic, {"AmendFailed": {
                "order_id": order.order_id, "user_id": self.user.user_id,
                "reason": "InvalidQuantity",
            }}))

    def _triggered(self, book: Book, out: list[Emit], now: int) -> None:
        """A user trigger order: Created (trigger null), then Triggered; then it rests."""
        side = self.rng.choice((BUY, SELL))
        order = self._order(book, side, self._passive_price(book, side), self._lot_qty(book),
                            True, now)
        self._created(order, out, now)
        out.append((self.orders_topic, {"Triggered": {
            "order_id": order.order_id, "asset_id": order.asset, "user_id": self.user.user_id,
            "timestamp_ns": now, "quantity": order.quantity, "trigger_touched": True,
            "operator_pubkey": None,
        }}))
        book.add(order)

    def _user_misc(self, book: Book, out: list[Emit], now: int) -> None:
        """A failed request of the user, or one of its orders expiring / rejected."""
        kind = self.rng.choice(("CreateFailed", "CancelFailed", "ReplaceFailed", "Expired",
                                "Rejected"))
        mine = [o for o in book.orders.values() if o.user]
        if kind in ("Expired", "Rejected") and mine:
            order = self.rng.choice(mine)
            book.remove(order)
            self._removed(order, kind, out, now)
            return
        if kind in ("Expired", "Rejected"):
            kind = "CreateFailed"
        reason = {"CreateFailed": "InsufficientMargin", "CancelFailed": "OrderNotFound",
                  "ReplaceFailed": "OrderNotFound"}[kind]
        order_id = mine[0].order_id if (mine and kind == "ReplaceFailed") else self._order_id()
        out.append((self.orders_topic, {kind: {
            "order_id": order_id, "user_id": self.user.user_id, "reason": reason,
        }}))

    # -- user order events -------------------------------------------------------------

    def _created(self, order: Order, out: list[Emit], now: int) -> None:
        spec = self.books[order.asset].spec
        user_order = {
            "signer": self.user.user_id,
            "order_id": order.order_id,
            "base_asset": order.asset,
            "book_price_decimals": spec.price_decimals,
            "book_quantity_decimals": spec.quantity_decimals,
            "details": {"Limit": {
                "limit_price": order.price, "quantity": order.quantity,
                "time_in_force": {"GTC": {"post_only": False}},
            }},
            "side": order.side,
            "trigger": None,
            "creation_timestamp_ns": now,
            "target": {"account": 1, "is_spot": True},
            "reduce_only": False,
            "max_trading_fees_rate": 50000,
            "protocol_version": 1,
        }
        signature = self.user.sign_raw(
            json.dumps(user_order, separators=(",", ":")).encode("utf-8")
        )
        self.user_orders[order.order_id] = order
        out.append((self.orders_topic, {"Created": {
            "user_order": user_order, "signature": signature,
            "book_timestamp_ns": now + 4_000, "limit_overrides": None,
            "limit_overrides_signature": None,
        }}))

    def _removed(self, order: Order, reason: str, out: list[Emit], now: int) -> None:
        spec = self.books[order.asset].spec
        order.status = {"Completed": "Filled"}.get(reason, reason)
        order.updated_ns = now
        self.user_orders.pop(order.order_id, None)
        self.user_closed.append(order)
        scale = 10 ** spec.quantity_decimals
        out.append((self.orders_topic, {"Removed": {
            "order_id": order.order_id, "asset_id": order.asset,
            "user_id": self.user.user_id, "timestamp_ns": now, "operator_pubkey": None,
            "reason": reason, "filled_quantity": order.filled,
            "confirmed_quantity": order.confirmed,
            "filled_amount": order.filled_amount // scale,
            "confirmed_amount": order.confirmed_amount // scale,
            "book_quantity_decimals": spec.quantity_decimals,
            "initial_receive_timestamp_ns": now - 5_000_000,
        }}))

    # -- depth ----------------------------------------------------------------------------

    def _flush_depth(self, out: list[Emit]) -> None:
        for book in self.books.values():
            if not book.touched:
                continue
            touched, book.touched = book.touched, set()
            pd, qd = book.spec.price_decimals, book.spec.quantity_decimals
            asks = sorted(p for s, p in touched if s == SELL)
            bids = sorted((p for s, p in touched if s == BUY), reverse=True)
            book.seq += 1 + book.skip
            book.skip = 0
            out.append(("/marketdepth/diff/" + book.spec.asset_id, {
                "asks": [self.enc.level(human(p, pd), human(book.qty(SELL, p), qd)) for p in asks],
                "bids": [self.enc.level(human(p, pd), human(book.qty(BUY, p), qd)) for p in bids],
                "sequence_number": book.seq,
            }))

    def snapshot(self, asset: str) -> dict[str, Any]:
        """The ``GET /marketdepth/{asset}`` body: every level, last diff folded in."""
        book = self.books[asset]
        pd, qd = book.spec.price_decimals, book.spec.quantity_decimals
        return {
            "asks": [self.enc.level(human(p, pd), human(q, qd))
                     for p, q in book.sorted_levels(SELL)],
            "bids": [self.enc.level(human(p, pd), human(q, qd))
                     for p, q in book.sorted_levels(BUY)],
            "sequence_number": book.seq,
        }

    def true_book(self, asset: str) -> dict[str, Any]:
        """The book as exact Decimals (for tests)."""
        book = self.books[asset]
        pd, qd = book.spec.price_decimals, book.spec.quantity_decimals
        return {
            "bids": [(human(p, pd), human(q, qd)) for p, q in book.sorted_levels(BUY)],
            "asks": [(human(p, pd), human(q, qd)) for p, q in book.sorted_levels(SELL)],
            "sequence_number": book.seq,
        }

    # -- shapes ---------------------------------------------------------------------------

    def _trade(self, fill: Fill, status: str) -> dict[str, Any]:
        spec = self.books[fill.asset].spec
        return {
            "asset_id": fill.asset, "trade_id": fill.trade_id, "order_id": fill.order_id,
            "price": self.enc.dec(human(fill.price, spec.price_decimals)),
            "quantity": self.enc.dec(human(fill.quantity, spec.quantity_decimals)),
            "timestamp_ns": fill.ts, "buyer_is_maker": fill.buyer_is_maker, "status": status,
        }

    def trade_row(self, fill: Fill) -> dict[str, Any]:
        """A finalized trade as REST lists show it."""
        return self._trade(fill, "Confirmed")

    def _user_fields(self, fill: Fill, status: str, reason: Optional[str]) -> dict[str, Any]:
        spec = self.books[fill.asset].spec
        order = fill.user_order
        assert order is not None
        return {
            "asset_id": fill.asset, "order_id": order.order_id,
            "price": self.enc.dec(human(fill.price, spec.price_decimals)),
            "quantity": self.enc.dec(human(fill.quantity, spec.quantity_decimals)),
            "timestamp_ns": fill.ts, "is_maker": fill.user_is_maker,
            "is_buyer": order.side == BUY, "status": status, "rollback_reason": reason,
            "is_liquidation": False, "is_auto_deleverage": False, "sub_account": 1,
            "trading_fee": self.enc.dec(fill.fee),
        }

    def _user_trade(self, fill: Fill, status: str, reason: Optional[str]) -> dict[str, Any]:
        row = self._user_fields(fill, status, reason)
        return {"asset_id": row.pop("asset_id"), "trade_id": fill.trade_id, **row}

    def user_trade_rows(self) -> list[dict[str, Any]]:
        """The user's settled trades, newest first (REST history rows: no ``trade_id``)."""
        rows = sorted(self.user_trades, key=lambda row: row[0].trade_id, reverse=True)
        return [self._user_fields(f, s, r) for f, s, r in rows]

    def user_order_rows(self, status: Optional[str] = None) -> list[dict[str, Any]]:
        """Open orders of the user (newest first); with ``status``, open and recent
        closed orders whose status matches."""
        orders = list(self.user_orders.values())
        if status:
            orders += list(self.user_closed)
            orders = [o for o in orders if self._status(o).lower() == status.lower()]
        orders.sort(key=lambda o: o.created_ns, reverse=True)
        return [self._order_row(o) for o in orders]

    @staticmethod
    def _status(order: Order) -> str:
        if order.status == "Open" and order.filled:
            return "PartiallyFilled"
        return order.status

    def _order_row(self, order: Order) -> dict[str, Any]:
        spec = self.books[order.asset].spec
        pd, qd = spec.price_decimals, spec.quantity_decimals
        d = self.enc.dec
        return {
            "order_id": order.order_id, "base_asset": order.asset, "account_index": 1,
            "is_spot": True, "side": order.side, "limit_price": d(human(order.price, pd)),
            "quantity": d(human(order.quantity, qd)), "amount": None,
            "confirmed_filled_quantity": d(human(order.confirmed, qd)),
            "confirmed_filled_amount": d(human(order.confirmed_amount, pd + qd)),
            "confirmed_trading_fees_amount": d(order.fees),
            "good_until_timestamp_ns": None, "timestamp_ns": order.created_ns,
            "is_immediate_or_cancel": False, "is_fill_or_kill": False, "is_liquidation": False,
            "is_auto_deleverage": False, "is_reduce_only": False,
            "canceled": order.status == "Canceled", "status": self._status(order),
            "trigger_above_price": None, "trigger_below_price": None, "trigger_touched": None,
            "trigger_enabled_quantity": None, "parent_id": None,
            "last_update_timestamp_ns": order.updated_ns,
        }

    def _bar(self, bar: Bar) -> dict[str, Any]:
        d = self.enc.dec
        return {
            "open": d(bar.open), "high": d(bar.high), "low": d(bar.low), "close": d(bar.close),
            "volume": d(bar.volume), "open_timestamp_ns": bar.open_ns,
            "close_timestamp_ns": bar.close_ns,
        }

    def bar_rows(self, bars: list[Bar]) -> list[dict[str, Any]]:
        return [self._bar(b) for b in bars]

    def ticker(self, asset: str) -> dict[str, Any]:
        """A ``Ticker`` for ``asset`` (enough for ``/ticker`` and ``/tickers``)."""
        book = self.books[asset]
        pd, qd = book.spec.price_decimals, book.spec.quantity_decimals
        d = self.enc.dec

        def side(s: str) -> Optional[dict[str, Any]]:
            p = book.best(s)
            return None if p is None else {"price": d(human(p, pd)),
                                           "size": d(human(book.qty(s, p), qd))}

        last = book.last_price if book.last_price is not None else book.mid
        return {
            "asset_id": asset, "last_price": d(human(last, pd)),
            "mark_price": d(human(book.mid, pd)),
            "index_price": d(human(book.mid, pd)), "best_bid": side(BUY), "best_ask": side(SELL),
            "volume_24h": d(human(book.volume, qd)), "timestamp_ns": self.clock(),
        }
