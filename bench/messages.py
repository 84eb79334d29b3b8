"""Wire messages of the benchmark feed: pre-built O2 depth frames with a send-time slot.

Every delta is a ``subscribe_depth_update`` of SIGNED RELATIVE changes, as the
exchange sends them (o2-websocket.md section 6.2): each level of a delta is added
to, partly removed (a negative change smaller than the level), fully removed (the
negative of its whole size) or, where a previous delta removed it, created again.
The pool of deltas walks away from the snapshot's book and then undoes that walk
step by step, so cycling over it keeps the book consistent for ever; a subscribe
in the middle of the cycle is answered by the snapshot of the book at that point
(:func:`book_after`). The send time goes into ``seen_timestamp`` as
``str(time.time_ns())``: always 19 digits, so a template's frame length is constant
and its WebSocket header can be built once. A frame is then ``head + timestamp +
tail``, two bytes concatenations per message.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.frames import Frame, Opcode

MARKETS_FILE = Path(__file__).with_name("o2_markets.json")
PAIR = "fFUEL/fUSDC"
TS_DIGITS = 19  # len(str(time.time_ns())) until the year 2286
_TS_SLOT = "9" * TS_DIGITS
_MID_PRICE = 12_500_000
_TICK = 1_000
_POOL_SEED = 20_240_601


def markets_json() -> bytes:
    """The ``GET /v1/markets`` body (a copy of the protocol fixture)."""
    return MARKETS_FILE.read_bytes()


def market_id(pair: str = PAIR) -> str:
    """The market id of a pair name in the markets fixture."""
    for m in json.loads(markets_json())["markets"]:
        if f"{m['base']['symbol']}/{m['quote']['symbol']}" == pair:
            return str(m["market_id"])
    raise KeyError(pair)


def text_frame(payload: bytes) -> bytes:
    """An unmasked server-to-client text frame, serialised by ``websockets``.

    Built once per template so the feed can write pre-built frames in batches.
    """
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


_LOT = 1_000_000_000
_SNAPSHOT_LEVELS = 50
Changes = list[tuple[int, int]]  # (price, signed change) of one side


def _level(price: int, quantity: int) -> dict[str, str]:
    return {"price": str(price), "quantity": str(quantity)}


def _prices(levels: int, sign: int) -> list[int]:
    """``levels`` price levels walking away from the mid (bids: sign -1)."""
    return [_MID_PRICE + sign * (i + 1) * _TICK for i in range(levels)]


def _base_book() -> tuple[dict[int, int], dict[int, int]]:
    """(bids, asks) of the snapshot a subscribe gets first: 50 levels a side."""
    rng = random.Random(_POOL_SEED)
    return tuple(  # type: ignore[return-value]
        {price: rng.randrange(1, 5_000) * _LOT for price in _prices(_SNAPSHOT_LEVELS, sign)}
        for sign in (-1, +1))


def _walk_side(rng: random.Random, book: dict[int, int], prices: list[int]) -> Changes:
    """One side of a delta: a signed change per price, applied to ``book`` as made.
    About 1 in 8 changes empties its level, 3 in 8 take part of it, the rest add."""
    out: Changes = []
    for price in prices:
        held = book.get(price, 0)
        roll = rng.random()
        if not held:
            change = rng.randrange(1, 5_000) * _LOT  # the level comes back
        elif roll < 0.125:
            change = -held
        elif roll < 0.5 and held > _LOT:
            change = -rng.randrange(1, held // _LOT) * _LOT
        else:
            change = rng.randrange(1, 5_000) * _LOT
        total = held + change
        if total:
            book[price] = total
        else:
            del book[price]
        out.append((price, change))
    return out


def signed_deltas(levels: int, size: int = 256) -> list[tuple[Changes, Changes]]:
    """``size`` deltas (buys, sells) of ``levels`` changes a side, fixed seed: a walk
    away from the snapshot's book for the first half, and the same steps undone, in
    reverse, for the second (so after the whole pool the book is the snapshot again)."""
    rng = random.Random(_POOL_SEED + levels)
    bids, asks = _base_book()
    forward = [(_walk_side(rng, bids, _prices(levels, -1)),
                _walk_side(rng, asks, _prices(levels, +1))) for _ in range(size // 2)]
    back = [([(p, -c) for p, c in reversed(buys)], [(p, -c) for p, c in reversed(sells)])
            for buys, sells in reversed(forward)]
    return forward + back


def book_after(levels: int, position: int, size: int = 256
               ) -> tuple[dict[int, int], dict[int, int]]:
    """(bids, asks) after the first ``position % size`` deltas of the pool."""
    bids, asks = _base_book()
    for buys, sells in signed_deltas(levels, size)[:position % size]:
        for book, changes in ((bids, buys), (asks, sells)):
            for price, change in changes:
                total = book.get(price, 0) + change
                if total > 0:
                    book[price] = total
                else:
                    book.pop(price, None)
    return bids, asks


def depth_delta(mid: str, buys: Changes, sells: Changes, seen: str = _TS_SLOT) -> dict[str, Any]:
    """One ``subscribe_depth_update`` of signed changes."""
    return {
        "action": "subscribe_depth_update",
        "changes": {"buys": [_level(p, c) for p, c in buys],
                    "sells": [_level(p, c) for p, c in sells]},
        "market_id": mid,
        "onchain_timestamp": "1767225601",
        "seen_timestamp": seen,
    }


def depth_snapshot(mid: str, book: Any = None) -> dict[str, Any]:
    """The ``subscribe_depth`` snapshot answering a subscribe (book under ``orders``):
    ``book`` (bids, asks) or the pool's starting book, best first."""
    bids, asks = _base_book() if book is None else book
    orders = {"buys": [_level(p, q) for p, q in sorted(bids.items(), reverse=True)],
              "sells": [_level(p, q) for p, q in sorted(asks.items())]}
    return {"action": "subscribe_depth", "market_id": mid, "orders": orders,
            "onchain_timestamp": "1767225601", "seen_timestamp": "1767225601"}


def dumps(msg: dict[str, Any]) -> str:
    """Compact JSON, as a server would send it."""
    return json.dumps(msg, separators=(",", ":"))


@dataclass(frozen=True)
class Template:
    """One pre-built delta frame, split around its ``seen_timestamp`` value."""

    head: bytes  # WebSocket header + JSON up to the timestamp digits
    tail: bytes  # JSON after the timestamp digits

    def frame(self, ts: bytes) -> bytes:
        return self.head + ts + self.tail


def template_pool(mid: str, levels: int, size: int = 256) -> list[Template]:
    """``size`` different deltas (:func:`signed_deltas`), ready to be stamped and sent."""
    pool = []
    for buys, sells in signed_deltas(levels, size):
        payload = dumps(depth_delta(mid, buys, sells)).encode()
        frame = text_frame(payload)
        cut = frame.rindex(_TS_SLOT.encode())
        pool.append(Template(frame[:cut], frame[cut + TS_DIGITS:]))
    return pool


def sample_texts(mid: str, levels: int, size: int = 256) -> list[str]:
    """The same deltas as JSON text (stamped with a fixed time), for micro-benchmarks."""
    return [dumps(depth_delta(mid, buys, sells, seen="1767225601000000000"))
            for buys, sells in signed_deltas(levels, size)]
