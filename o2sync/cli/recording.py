"""``o2sync record`` and ``o2sync replay``: raw frames to a file, and back to a client.

Recording format (JSON Lines, UTF-8), version 1:

* line 1, the header::

    {"o2sync_recording": 1, "ws_url": "...", "api_url": "...",
     "started_at": "2026-11-21T17:45:00Z", "streams": ["depth:fFUEL/fUSDC", ...],
     "markets": [ <the GET /v1/markets "markets" list> ]}

* every further line, one frame as the server sent it::

    {"t": 0.012345, "frame": "<raw text frame>"}

  ``t`` is seconds since the recording started (monotonic clock, receive time).
  Frames are stored verbatim, including ones o2sync could not decode; the text
  heartbeat answer ``PONG`` is left out.

Replay serves the header's markets over REST and the frames over the simulator's
WebSocket (which then generates no market activity of its own), either at the
recorded pace (scaled by ``speed``) or as fast as possible.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, Optional

from ..o2.client import O2Client
from .watch import open_stream

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass
class Recording:
    """A recording read back: its header and its (time, frame) pairs."""

    header: dict[str, Any]
    frames: list[tuple[float, str]]

    @property
    def markets(self) -> list[dict[str, Any]]:
        return list(self.header.get("markets") or [])


def parse_stream_spec(spec: str) -> tuple[str, str]:
    """``"depth:fFUEL/fUSDC"`` -> ``("depth", "fFUEL/fUSDC")``; ValueError otherwise."""
    kind, sep, target = spec.partition(":")
    if not sep or not target:
        raise ValueError(
            f"stream must look like KIND:TARGET (e.g. trades:fFUEL/fUSDC), got {spec!r}")
    return kind, target


def record(client: O2Client, specs: Sequence[str], out: IO[str], *, frames: int = 0,
           seconds: float = 0.0) -> int:
    """Record the raw frames of the given streams into ``out``.

    Stops after ``frames`` frames or ``seconds`` seconds (0 = neither), or when the
    client closes (Ctrl-C in the CLI). Returns the number of frames written.
    """
    parsed = [parse_stream_spec(s) for s in specs]
    markets = [m.to_dict() for m in client.get_markets()]
    header = {"o2sync_recording": FORMAT_VERSION, "ws_url": client.ws_url,
              "api_url": client.api_url, "streams": list(specs),
              "started_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "markets": [_wire_market(m) for m in markets]}
    out.write(json.dumps(header) + "\n")
    written = 0
    done = threading.Event()
    lock = threading.Lock()
    start = time.monotonic()

    def tap(data: bytes) -> None:
        nonlocal written
        if data == b"PONG" or done.is_set():
            return
        text = data.decode("utf-8", "replace")
        with lock:
            out.write(json.dumps({"t": round(time.monotonic() - start, 6), "frame": text}) + "\n")
            written += 1
            if frames and written >= frames:
                done.set()

    client._engine.add_tap(tap)
    subs = [open_stream(client, kind, target) for kind, target in parsed]
    try:
        deadline = start + seconds if seconds else None
        while not done.is_set() and not client._engine.closing:
            if deadline is not None and time.monotonic() >= deadline:
                break
            done.wait(0.2)
    finally:
        done.set()
        for sub in subs:
            sub.close()
        with lock:
            out.flush()
    return written


def _wire_market(m: dict[str, Any]) -> dict[str, Any]:
    """A Market's dict in the shape of ``GET /v1/markets`` (what replay serves back)."""
    return {"market_id": m["market_id"], "contract_id": m["contract_id"],
            "maker_fee": m["maker_fee"], "taker_fee": m["taker_fee"],
            "min_order": m["min_order"], "dust": m["dust"], "price_window": m["price_window"],
            "whitelist_id": None, "blacklist_id": None, "base": m["base"], "quote": m["quote"]}


def load(path: str) -> Recording:
    """Read a recording; ValueError with the line number if it is not one."""
    with open(path, encoding="utf-8") as fh:
        lines = iter(enumerate(fh, 1))
        try:
            _, first = next(lines)
        except StopIteration:
            raise ValueError(f"{path}: empty file, not an o2sync recording") from None
        header = json.loads(first)
        if not isinstance(header, dict) or header.get("o2sync_recording") != FORMAT_VERSION:
            raise ValueError(f"{path}:1: not an o2sync recording (version {FORMAT_VERSION})")
        frames = []
        for number, line in lines:
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                frames.append((float(item["t"]), str(item["frame"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: bad frame line ({exc})") from None
    return Recording(header, frames)


def paced(frames: Sequence[tuple[float, str]], speed: float) -> Iterator[str]:
    """Yield frames at their recorded times divided by ``speed`` (0 = no waiting)."""
    start = time.monotonic()
    for t, frame in frames:
        if speed > 0:
            delay = start + t / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing a replay, not synchronising threads
        yield frame


def replay(recording: Recording, sim: Any, *, speed: float = 1.0,
           wait_for_client: Optional[float] = None, subscribed_timeout: float = 10.0) -> int:
    """Send the recording's frames through ``sim`` to its connected clients.

    Waits for a first client (``wait_for_client`` seconds, None = forever) and for
    its first subscribe frame, then sends every frame. Returns how many were sent.
    """
    if not sim.wait_for(lambda s: s.open_connections > 0,
                        wait_for_client if wait_for_client is not None else 10**9):
        raise TimeoutError("no client connected to the replay")
    sim.wait_for(lambda s: bool(s.client_frames()), subscribed_timeout)
    sent = 0
    for frame in paced(recording.frames, speed):
        sim.inject(frame)
        sent += 1
    return sent
