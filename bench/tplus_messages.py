"""Wire messages of the tplus benchmark feed, and the true book they describe.

Depth: ``/marketdepth/diff/{asset}`` frames ``{"sequence_number": n, "asks": [[p, q],
...], "bids": [...], "sent_ns": t}``. Prices and quantities are JSON numbers with a
fractional part (``2499.75``, ``1.234``; ``0`` removes a level), as in the protocol
fixtures, or decimal strings (``numbers="str"``). Quantities are absolute (§7.4).
``sent_ns`` is a spare field (the send time) that tpluspy's pydantic models and
o2sync's decoder ignore; latency is joined by sequence number instead (the feed
records when it sent each batch).

Each side has ``PRICES`` possible prices; every diff sets ``levels`` of them per
side. A pool of ``POOL`` templates is cycled, diff ``k`` (1-based) being template
``(k - 1) % POOL`` with sequence number ``SEQ0 + k``. Since every price is set by
some template, the book after ``k >= POOL`` diffs depends only on the last ``POOL``
diffs, so :func:`true_book` is exact for any ``k`` from ``2 * POOL`` precomputed
states (the feed serves it as the REST snapshot; the bench checks the o2sync book
against it).

Trades: ``/trades`` frames in tpluspy's ``Trade`` shape with decimal strings;
``timestamp_ns`` is the send time.

Sequence numbers and trade ids have 10 digits and timestamps 19, so each template's
frame length is fixed and its WebSocket header is built once (by ``websockets``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Optional

from websockets.frames import Frame, Opcode

ASSET0 = 200  # registry index of the first benchmark asset (each run takes a fresh one)
SEQ0 = 1_000_000_000  # sequence number of the initial book (10 digits)
TRADE_ID0 = 1_000_000_000
POOL = 256
PRICES = 20  # possible prices a side
MID = Decimal("2500.00")
TICK = Decimal("0.25")
SEQ_DIGITS = 10
TS_DIGITS = 19
_SEED = 20_260_901

Book = dict[Decimal, Decimal]  # price -> quantity (no zero quantities)


def text_frame(payload: bytes) -> bytes:
    """An unmasked server-to-client text frame, serialised by ``websockets``."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


def bid_price(i: int) -> Decimal:
    return MID - TICK * (i + 1)


def ask_price(i: int) -> Decimal:
    return MID + TICK * (i + 1)


def _qty(rng: random.Random) -> Decimal:
    if rng.random() < 0.125:
        return Decimal(0)
    return Decimal(rng.randrange(1, 5_000)).scaleb(-3)


@dataclass(frozen=True)
class Diff:
    asks: tuple[tuple[Decimal, Decimal], ...]
    bids: tuple[tuple[Decimal, Decimal], ...]


@cache
def diffs(levels: int) -> tuple[Diff, ...]:
    """The pool of ``POOL`` diffs with ``levels`` levels a side (fixed seed)."""
    rng = random.Random(_SEED + levels)
    out = []
    for _ in range(POOL):
        bids = tuple((bid_price(i), _qty(rng)) for i in sorted(rng.sample(range(PRICES), levels)))
        asks = tuple((ask_price(i), _qty(rng)) for i in sorted(rng.sample(range(PRICES), levels)))
        out.append(Diff(asks=asks, bids=bids))
    for side in ("asks", "bids"):
        touched = {p for d in out for p, _ in getattr(d, side)}
        assert len(touched) == PRICES, "every price must be set by some template"
    return tuple(out)


def initial_book() -> tuple[Book, Book]:
    """(bids, asks) at ``SEQ0``: every price with a quantity."""
    rng = random.Random(_SEED)
    bids = {bid_price(i): Decimal(rng.randrange(1, 5_000)).scaleb(-3) for i in range(PRICES)}
    asks = {ask_price(i): Decimal(rng.randrange(1, 5_000)).scaleb(-3) for i in range(PRICES)}
    return bids, asks


@cache
def _states(levels: int) -> tuple[tuple[tuple[tuple[Decimal, Decimal], ...], ...], ...]:
    bids, asks = initial_book()
    pool = diffs(levels)
    states = []
    for k in range(2 * POOL):
        states.append((_sorted(bids, True), _sorted(asks, False)))
        d = pool[k % POOL]  # diff k + 1
        for book, side in ((bids, d.bids), (asks, d.asks)):
            for p, q in side:
                if q:
                    book[p] = q
                else:
                    book.pop(p, None)
    return tuple(states)


def _sorted(book: Book, descending: bool) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple(sorted(book.items(), reverse=descending))


def true_book(k: int, levels: int) -> tuple[tuple[tuple[Decimal, Decimal], ...], ...]:
    """(bids best first, asks best first) after ``k`` diffs (sequence ``SEQ0 + k``)."""
    states = _states(levels)
    idx = k if k < 2 * POOL else POOL + (k - POOL) % POOL
    return states[idx]


def _num(x: Decimal, numbers: str) -> str:
    text = str(x) if x else "0"
    return f'"{text}"' if numbers == "str" else text


def _levels_json(side: tuple[tuple[Decimal, Decimal], ...], numbers: str) -> str:
    return "[" + ",".join(f"[{_num(p, numbers)},{_num(q, numbers)}]" for p, q in side) + "]"


@lru_cache(maxsize=4096)
def snapshot_body(k: int, levels: int, numbers: str) -> bytes:
    """The ``GET /marketdepth/{asset}`` body after ``k`` diffs."""
    bids, asks = true_book(k, levels)
    return (f'{{"asks":{_levels_json(asks, numbers)},"bids":{_levels_json(bids, numbers)},'
            f'"sequence_number":{SEQ0 + k}}}').encode()


@dataclass(frozen=True)
class Template:
    """A pre-built frame split around two fixed-width slots: ``pre + a + mid + b + tail``."""

    pre: bytes
    mid: bytes
    tail: bytes

    def frame(self, a: bytes, b: bytes) -> bytes:
        return self.pre + a + self.mid + b + self.tail


def _split(payload: str, head: str, foot: str, a_digits: int, b_digits: int) -> Template:
    """``payload`` = head + A + middle + B + foot, with placeholder digits A and B."""
    frame = text_frame(payload.encode())
    hdr = len(frame) - len(payload.encode())
    a_at = hdr + len(head.encode())
    b_at = len(frame) - len(foot.encode()) - b_digits
    return Template(frame[:a_at], frame[a_at + a_digits:b_at], frame[b_at + b_digits:])


@cache
def depth_templates(levels: int, numbers: str) -> tuple[Template, ...]:
    """One template per pool diff: slots for the sequence number and ``sent_ns``."""
    head, foot = '{"sequence_number":', "}"
    out = []
    for d in diffs(levels):
        payload = (f'{head}{"1" * SEQ_DIGITS},"asks":{_levels_json(d.asks, numbers)},'
                   f'"bids":{_levels_json(d.bids, numbers)},"sent_ns":{"9" * TS_DIGITS}{foot}')
        out.append(_split(payload, head, foot, SEQ_DIGITS, TS_DIGITS))
    return tuple(out)


@cache
def trade_templates(asset: int = ASSET0) -> tuple[Template, ...]:
    """``/trades`` frames (tpluspy ``Trade`` shape, decimal strings): slots for
    ``trade_id`` and ``timestamp_ns`` (the send time)."""
    rng = random.Random(_SEED - 1)
    head, foot = f'{{"asset_id":"{asset}","trade_id":', "}"
    out = []
    for _ in range(POOL):
        price = MID + TICK * rng.randrange(-40, 40)
        qty = Decimal(rng.randrange(1, 5_000)).scaleb(-3)
        maker = "true" if rng.random() < 0.5 else "false"
        payload = (f'{head}{"1" * SEQ_DIGITS},"order_id":"","price":"{price}",'
                   f'"quantity":"{qty}","buyer_is_maker":{maker},"status":"Confirmed",'
                   f'"timestamp_ns":{"9" * TS_DIGITS}{foot}')
        out.append(_split(payload, head, foot, SEQ_DIGITS, TS_DIGITS))
    return tuple(out)


def parse_gaps(text: Optional[str]) -> tuple[int, ...]:
    """``gap_at=1000,2000`` -> (1000, 2000): diff indices produced but not sent."""
    if not text:
        return ()
    return tuple(sorted(int(x) for x in text.split(",") if x))
