"""Wire messages of the benchmark feed: pre-built O2 depth frames with a send-time slot.

Every delta is a ``subscribe_depth_update`` with absolute level quantities (the
protocol shape, ``"0"`` removes a level). The send time goes into
``seen_timestamp`` as ``str(time.time_ns())``: always 19 digits, so a template's
frame length is constant and its WebSocket header can be built once. A frame is
then ``head + timestamp + tail``, two bytes concatenations per message.
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


def _level(price: int, quantity: int) -> dict[str, str]:
    return {"price": str(price), "quantity": str(quantity)}


def _side(rng: random.Random, levels: int, sign: int) -> list[dict[str, str]]:
    """``levels`` price levels walking away from the mid; about 1 in 8 is a removal."""
    out = []
    for i in range(levels):
        price = _MID_PRICE + sign * (i + 1) * _TICK
        qty = 0 if rng.random() < 0.125 else rng.randrange(1, 5_000) * 1_000_000_000
        out.append(_level(price, qty))
    return out


def depth_delta(mid: str, levels: int, rng: random.Random, seen: str = _TS_SLOT) -> dict[str, Any]:
    """One ``subscribe_depth_update`` with ``levels`` levels a side."""
    return {
        "action": "subscribe_depth_update",
        "changes": {"buys": _side(rng, levels, -1), "sells": _side(rng, levels, +1)},
        "market_id": mid,
        "onchain_timestamp": "1767225601",
        "seen_timestamp": seen,
    }


def depth_snapshot(mid: str, levels: int = 50) -> dict[str, Any]:
    """The ``subscribe_depth`` snapshot answering a subscribe (book under ``orders``)."""
    rng = random.Random(_POOL_SEED)
    book = {"buys": _side(rng, levels, -1), "sells": _side(rng, levels, +1)}
    for side in book.values():
        for lv in side:
            lv["quantity"] = lv["quantity"] if lv["quantity"] != "0" else "1000000000"
    return {"action": "subscribe_depth", "market_id": mid, "orders": book,
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
    """``size`` different deltas (fixed seed), ready to be stamped and sent."""
    rng = random.Random(_POOL_SEED + levels)
    pool = []
    for _ in range(size):
        payload = dumps(depth_delta(mid, levels, rng)).encode()
        frame = text_frame(payload)
        cut = frame.rindex(_TS_SLOT.encode())
        pool.append(Template(frame[:cut], frame[cut + TS_DIGITS:]))
    return pool


def sample_texts(mid: str, levels: int, size: int = 256) -> list[str]:
    """The same deltas as JSON text (stamped with a fixed time), for micro-benchmarks."""
    rng = random.Random(_POOL_SEED + levels)
    return [dumps(depth_delta(mid, levels, rng, seen="1767225601000000000"))
            for _ in range(size)]
