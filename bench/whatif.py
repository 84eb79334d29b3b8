"""What the suggested engine changes would buy, measured before anyone writes them.

Patches *this process only* (nothing under ``o2sync/`` is edited) and reruns the
flood for o2sync iteration and callbacks:

* ``buffered``: websocket-client reads each frame with three ``socket.recv`` calls
  (2-byte header, extended length, payload), and every call releases the GIL, which
  in a threaded client hands the GIL to the consumer thread up to three times per
  message. The patch makes ``WebSocket._recv`` ask for at least 16 KiB;
  ``frame_buffer.recv_strict`` already keeps the surplus for the next frame.
* ``fastdecode``: ``decode_depth`` with ``int(s)`` on decimal strings instead of
  ``to_int`` (40 calls per 10-level message), falling back to the strict path for
  anything else (JSON numbers, ``0x`` hex, bad input), so errors stay identical.
* ``framereader``: after websocket-client's handshake, the reader thread parses
  RFC 6455 frames itself from 64 KiB ``sock.recv`` chunks (text, continuation,
  ping -> pong, close) instead of calling ``ws.recv()``: one syscall per many
  frames and a few slices instead of websocket-client's per-frame Python machinery.

    /root/venv/bin/python bench/whatif.py [--count 50000] [--reps 3]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Iterator
from typing import Any, Callable

import websocket
from consumers import Job, Limits, measure
from feed import FeedProcess, Scenario

import o2sync.o2.decode as decode
from o2sync.engine.connection import Connection
from o2sync.models import DepthChanges, DepthLevel, DepthUpdate
from o2sync.o2.protocol import normalize_id

READ_AT_LEAST = 16_384
ORIGINAL_RECV = websocket.WebSocket._recv
ORIGINAL_DEPTH = decode.DECODERS["subscribe_depth_update"]
ORIGINAL_RECEIVE = Connection._receive
CHUNK = 65_536


def _buffered_recv(self: websocket.WebSocket, bufsize: int) -> bytes:
    return ORIGINAL_RECV(self, max(bufsize, READ_AT_LEAST))  # type: ignore[no-any-return]


def _fast_levels(raw: Any) -> list[DepthLevel]:
    if raw is None:
        return []
    try:
        if all(lv["price"].__class__ is str and lv["quantity"].__class__ is str for lv in raw):
            return [DepthLevel(int(lv["price"]), int(lv["quantity"])) for lv in raw]
    except (KeyError, TypeError, ValueError):
        pass
    return decode._levels(raw)  # the strict path: same results, same errors


def fast_decode_depth(msg: dict[str, Any]) -> DepthUpdate:
    """``decode.decode_depth`` with the decimal-string fast path for levels."""
    is_snapshot = msg["action"] == "subscribe_depth"
    if is_snapshot:
        container = msg.get("orders") or msg.get("view") or msg
    else:
        container = msg.get("changes") or msg
    if not isinstance(container, dict):
        return decode.decode_depth(msg)
    return DepthUpdate(normalize_id(msg["market_id"]),
                       DepthChanges(_fast_levels(container.get("buys")),
                                    _fast_levels(container.get("sells"))),
                       is_snapshot, decode._opt_str(msg.get("onchain_timestamp")),
                       decode._opt_str(msg.get("seen_timestamp")))


def frames(sock: Any) -> Iterator[tuple[int, bool, bytes]]:
    """(opcode, fin, payload) of each server frame (unmasked), read in big chunks."""
    buf, pos = bytearray(), 0
    while True:
        have = len(buf) - pos
        if have >= 2:
            short = buf[pos + 1] & 0x7F
            head = 2 if short < 126 else (4 if short == 126 else 10)
            size = short if short < 126 else int.from_bytes(buf[pos + 2:pos + head], "big")
            if have >= head + size:
                start = pos + head
                pos = start + size
                yield buf[start - head] & 0x0F, bool(buf[start - head] & 0x80), \
                    bytes(buf[start:pos])
                continue
        del buf[:pos]
        pos = 0
        chunk = sock.recv(CHUNK)
        if not chunk:
            return
        buf += chunk


def _frame_reader_receive(self: Connection, ws: websocket.WebSocket) -> str:
    """``Connection._receive`` on :func:`frames` (text frames to ``on_frame``)."""
    on_frame, clock, parts = self._on_frame, time.monotonic, []
    try:
        for opcode, fin, payload in frames(ws.sock):
            self.last_rx = clock()
            if opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if fin:
                    on_frame(b"".join(parts).decode("utf-8", "replace"))
                    parts = []
            elif opcode == 0x9:
                ws.pong(payload)
            elif opcode == 0x8:
                return "connection closed by server"
        return "connection closed by server (EOF)"
    except Exception as exc:
        return f"connection lost ({exc!r})"


def _apply(buffered: bool = False, fast: bool = False, reader: bool = False) -> None:
    websocket.WebSocket._recv = _buffered_recv if buffered else ORIGINAL_RECV
    decode.DECODERS["subscribe_depth_update"] = (
        ("depth", fast_decode_depth) if fast else ORIGINAL_DEPTH)
    Connection._receive = _frame_reader_receive if reader else ORIGINAL_RECEIVE


VARIANTS: dict[str, Callable[[], None]] = {
    "baseline": lambda: _apply(),
    "buffered": lambda: _apply(buffered=True),
    "fastdecode": lambda: _apply(fast=True),
    "buffered+fastdecode": lambda: _apply(buffered=True, fast=True),
    "framereader": lambda: _apply(reader=True),
    "framereader+fastdecode": lambda: _apply(reader=True, fast=True),
}
REFERENCES = ("ceiling", "o2-sdk")  # measured unpatched, every rep
CLIENTS = ("o2sync-iter", "o2sync-cb")


def main() -> None:
    p = argparse.ArgumentParser(description="o2sync what-if: buffered reads, faster decode")
    p.add_argument("--count", type=int, default=50_000)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    scenario = Scenario(mode="flood", count=args.count, levels=10)
    rates: dict[tuple[str, str], list[float]] = {}
    with FeedProcess() as feed:
        job = Job(feed, scenario, Limits(idle=3.0))
        for rep in range(args.reps):  # interleaved so drift hits every variant alike
            for variant, apply in VARIANTS.items():
                apply()
                names = CLIENTS + (REFERENCES if variant == "baseline" else ())
                for name in names:
                    rates.setdefault((variant, name), []).append(measure(name, job).rate)
            print(f"rep {rep + 1}/{args.reps} done", flush=True)
        VARIANTS["baseline"]()
    ref = {n: statistics.median(rates[("baseline", n)]) for n in REFERENCES}
    print(f"\n{'variant':<24}{'consumer':<14}{'median/s':>10}{'x ceiling':>11}{'x o2-sdk':>10}"
          "   runs")
    for (variant, name), rs in rates.items():
        med = statistics.median(rs)
        print(f"{variant:<24}{name:<14}{med:>10,.0f}{med / ref['ceiling']:>11.2f}"
              f"{med / ref['o2-sdk']:>10.2f}   {', '.join(f'{r:,.0f}' for r in rs)}")


if __name__ == "__main__":
    main()
