"""Candlesticks of the tplus simulator: live 1-minute bars and REST history.

Stream (``/klines/diff/{asset}``, simulator convention of §6.4): 1-minute bars,
``close_timestamp_ns = open + 60 s - 1 ns``; each frame is a JSON array holding the
current bar, preceded by the just-closed one at a rollover.

REST (``GET /klines/{asset}``): bars of any §6.4 ``interval`` are aggregated from
1-second bars kept for the last :data:`KEEP_SECONDS`; newest first, paged.
"""

from __future__ import annotations

import datetime
import re
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

NS = 1_000_000_000
MINUTE_NS = 60 * NS
KEEP_SECONDS = 6 * 3600
MONTH = "1M"
_WEEK_OFFSET = 4 * 86400 * NS  # 1970-01-01 was a Thursday; weeks start on Monday

_CANONICAL = {
    "1S": NS, "5S": 5 * NS, "15S": 15 * NS, "30S": 30 * NS,
    **{str(m): m * MINUTE_NS for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 480, 720)},
    "1D": 86400 * NS, "3D": 3 * 86400 * NS, "1W": 7 * 86400 * NS,
}
_SUFFIXED = re.compile(r"^(\d+)([smhdw])$", re.IGNORECASE)
_UNIT = {"s": NS, "m": MINUTE_NS, "h": 3600 * NS, "d": 86400 * NS, "w": 7 * 86400 * NS}


def interval_ns(interval: Optional[str]) -> Optional[int]:
    """Width of ``interval`` in ns; 0 for the calendar month ``1M``; None if invalid.

    No interval means 1 minute. Canonical spellings (``1S``, ``15``, ``1D``) and
    suffixed forms (``5m``, ``4h``, ``1d``) are accepted; only ``1M`` is case-sensitive.
    """
    if interval is None or interval == "":
        return MINUTE_NS
    if interval == MONTH:
        return 0
    if interval in _CANONICAL:
        return _CANONICAL[interval]
    upper = interval.upper()
    if upper in _CANONICAL and upper != MONTH:
        return _CANONICAL[upper]
    match = _SUFFIXED.match(interval)
    if match and int(match.group(1)) > 0:
        return int(match.group(1)) * _UNIT[match.group(2).lower()]
    return None


def bucket(ts_ns: int, width: int) -> tuple[int, int]:
    """(open, close) ns of the bucket of width ``width`` (0: calendar month) holding ``ts_ns``."""
    if width == 0:
        day = datetime.datetime.fromtimestamp(ts_ns // NS, tz=datetime.timezone.utc)
        first = day.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        after = (first + datetime.timedelta(days=32)).replace(day=1)
        return int(first.timestamp()) * NS, int(after.timestamp()) * NS - 1
    offset = _WEEK_OFFSET if width % (7 * 86400 * NS) == 0 else 0
    start = (ts_ns - offset) // width * width + offset
    return start, start + width - 1


@dataclass
class Bar:
    """One candlestick in human-unit Decimals."""

    open_ns: int
    close_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def add(self, price: Decimal, quantity: Decimal) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.volume += quantity

    def merge(self, other: Bar) -> None:
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.close = other.close
        self.volume += other.volume


def new_bar(open_ns: int, close_ns: int, price: Decimal, quantity: Decimal) -> Bar:
    return Bar(open_ns, close_ns, price, price, price, price, quantity)


class Candles:
    """Bars of one market: the current 1-minute bar and 1-second history."""

    def __init__(self) -> None:
        self.minute: Optional[Bar] = None
        self.seconds: deque[Bar] = deque(maxlen=KEEP_SECONDS)

    def seed(self, bar: Bar) -> None:
        """Add a history bar (any width up to 1 minute, oldest first)."""
        self.seconds.append(bar)

    def trade(self, ts_ns: int, price: Decimal, quantity: Decimal) -> list[Bar]:
        """Fold a finalized trade in; the bars of the stream frame (closed one first)."""
        frame: list[Bar] = []
        start, end = bucket(ts_ns, MINUTE_NS)
        if self.minute is not None and self.minute.open_ns != start:
            if self.minute.open_ns < start:
                frame.append(self.minute)
                self.minute = None
            else:  # clock went backwards: keep the bar open
                start, end = self.minute.open_ns, self.minute.close_ns
        if self.minute is None:
            self.minute = new_bar(start, end, price, quantity)
        else:
            self.minute.add(price, quantity)
        frame.append(self.minute)
        s_start, s_end = bucket(ts_ns, NS)
        last = self.seconds[-1] if self.seconds else None
        if last is not None and last.open_ns >= s_start:
            last.add(price, quantity)
        else:
            self.seconds.append(new_bar(s_start, s_end, price, quantity))
        return frame

    def history(self, width: int, end_ns: int) -> list[Bar]:
        """Bars of ``width`` (0: month) opening at or before ``end_ns``, newest first."""
        out: list[Bar] = []
        for bar in reversed(self.seconds):
            if bar.open_ns > end_ns:
                continue
            start, end = bucket(bar.open_ns, width)
            if out and out[-1].open_ns == start:
                agg = out[-1]
                # iterating newest first: this bar is older, so it sets the open
                agg.open = bar.open
                agg.high = max(agg.high, bar.high)
                agg.low = min(agg.low, bar.low)
                agg.volume += bar.volume
            else:
                out.append(Bar(start, end, bar.open, bar.high, bar.low, bar.close, bar.volume))
        return out
