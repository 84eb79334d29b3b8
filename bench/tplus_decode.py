"""Per-frame cost of o2sync's tplus decoding, fast path against the strict path, in one run.

Single thread, no sockets: the 10+10-level depth diffs and the trades of the bench
feed (``tplus_messages.py``), decoded

* by the strict path (what every frame took before issue 21, and what a frame the
  fast path declines still takes): the stdlib scanner with ``parse_float=Decimal``,
  then the field-by-field checks;
* by the fast path the venue runs first: msgspec over the frame's bytes, the byte
  checks, and (depth) the ``Decimal`` levels built only when read; "read" adds
  building one side, as a consumer that reads the best bid does.

    python bench/tplus_decode.py            # about 10 s
    python bench/tplus_decode.py --numbers str
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tplus_messages as tm

from o2sync.tplus import decode as D


def payload(template: Any, a_digits: int, b_digits: int) -> bytes:
    """The JSON of one of the feed's pre-built WebSocket frames, its two slots filled."""
    frame = template.frame(b"1" * a_digits, b"1765150000123456789"[:b_digits])
    length = frame[1] & 0x7F  # a server frame: unmasked
    return bytes(frame[2 if length < 126 else 4 if length == 126 else 10:])


def depth_frames(numbers: str) -> list[bytes]:
    return [payload(t, tm.SEQ_DIGITS, tm.TS_DIGITS)
            for t in tm.depth_templates(10, numbers)[:64]]


def per_frame_us(fn: Callable[[bytes], Any], frames: list[bytes], reps: int) -> float:
    def loop() -> None:
        for frame in frames:
            fn(frame)
    runs = timeit.repeat(loop, number=reps, repeat=5)
    return statistics.median(runs) / (reps * len(frames)) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--numbers", choices=["num", "str"], default="num")
    ap.add_argument("--reps", type=int, default=300)
    args = ap.parse_args()
    frames = depth_frames(args.numbers)
    for frame in frames:  # both paths agree on every frame measured
        fast = D.decode_depth_diff_frame(frame)
        assert fast is not None and fast == D.decode_depth_diff(
            D._DECODER.decode(frame.decode()))

    def strict_depth(b: bytes) -> Any:
        return D.decode_depth_diff(D._DECODER.decode(b.decode("utf-8")))

    def fast_depth_read(b: bytes) -> Any:
        diff = D.decode_depth_diff_frame(b)
        return diff.bids[0][0]  # type: ignore[union-attr]

    rows = [("depth diff, strict path", per_frame_us(strict_depth, frames, args.reps)),
            ("depth diff, fast path", per_frame_us(D.decode_depth_diff_frame, frames,
                                                   args.reps)),
            ("depth diff, fast path + best bid read", per_frame_us(fast_depth_read, frames,
                                                                  args.reps))]
    trades = [payload(t, tm.SEQ_DIGITS, tm.TS_DIGITS) for t in tm.trade_templates()[:64]]

    def strict_trade(b: bytes) -> Any:
        return D._checked_trade(D._DECODER.decode(b.decode("utf-8")), "Trade")

    def fast_trade(b: bytes) -> Any:
        return D.decode_trade(D.parse_frame(b))

    for b in trades:
        assert fast_trade(b) == strict_trade(b)
    rows += [("trade, strict path", per_frame_us(strict_trade, trades, args.reps)),
             ("trade, fast path", per_frame_us(fast_trade, trades, args.reps))]
    print(f"tplus decoding, µs per frame (median of 5; depth levels as {args.numbers})")
    for name, us in rows:
        print(f"  {name:40s} {us:6.2f}")
    print("PERF_SUMMARY " + json.dumps({"bench": "tplus_decode", "numbers": args.numbers,
                                        **{name: round(us, 2) for name, us in rows}}))


if __name__ == "__main__":
    main()
