"""The tplus benchmark feed: a bare ``websockets`` server speaking just enough tplus MDS.

Run standalone (``python bench/tplus_feed.py --port 8011``) or through
:class:`TplusFeedProcess`, which starts it in a separate process. It serves:

* ``/marketdepth/diff/{asset}`` (WebSocket): pre-built ``OrderBookDiff`` frames
  (``tplus_messages.py``), ``SEQ0 + k`` for the ``k``-th diff of the asset;
* ``/trades`` (WebSocket): pre-built ``Trade`` frames, ``timestamp_ns`` = send time;
* ``GET /marketdepth/{asset}``: the asset's true book after every diff produced so
  far (``sequence_number`` = the last one), through the ``process_request`` hook;
* ``GET /bench/setup?stream=depth&asset=N&mode=...``: the scenario of the next
  connection(s) to that stream. o2sync and tpluspy build stream URLs from a base URL
  with no query string, so the scenario is registered here first; a WebSocket URL
  with a query (``/marketdepth/diff/201?mode=flood&count=1000``) sets it directly;
* ``GET /bench/sent/{asset}``: when each batch of diffs was sent and when each gap
  frame (the first diff after a skipped sequence number) was sent, and how many
  WebSockets connected to the stream since its scenario was set, as JSON.

Scenario (query): ``mode=flood|rate``, ``count`` (diffs or trades produced),
``rate`` (msgs/s, in 1 ms batches), ``levels`` (a side), ``numbers=num|str`` (depth
levels as JSON numbers or decimal strings), ``gap_at=N[,M...]`` (diff ``N`` is
produced, so it is in later snapshots, but not sent: a sequence gap).

The asset's state (diffs produced) outlives a connection, as on a real server: a
reconnecting client continues the sequence. One connection per asset streams at a
time (a second one gets nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

from feed import WRITE_LIMIT, FeedProcess, _http_response
from tplus_messages import (
    POOL,
    SEQ0,
    TRADE_ID0,
    depth_templates,
    parse_gaps,
    snapshot_body,
    trade_templates,
)

FLOOD_BATCH = 64
PACE_TICK = 0.001


@dataclass(frozen=True)
class Scenario:
    """What one stream produces (from a URL query)."""

    stream: str = "depth"  # "depth" or "trades"
    mode: str = "flood"
    count: int = 10_000
    rate: float = 1_000.0
    levels: int = 10
    numbers: str = "num"  # depth levels: "num" (JSON numbers) or "str" (decimal strings)
    gap_at: str = ""  # comma-separated diff indices not sent

    @classmethod
    def from_query(cls, query: str) -> Scenario:
        q = dict(parse_qsl(query))
        d = cls()
        return cls(stream=q.get("stream", d.stream), mode=q.get("mode", d.mode),
                   count=int(q.get("count", d.count)), rate=float(q.get("rate", d.rate)),
                   levels=int(q.get("levels", d.levels)), numbers=q.get("numbers", d.numbers),
                   gap_at=q.get("gap_at", d.gap_at))

    def query(self) -> str:
        return urlencode(asdict(self))


@dataclass
class StreamState:
    """One asset's diff stream (or one trades run): what was produced and when sent."""

    scenario: Scenario
    k: int = 0  # items produced (sent or skipped)
    streaming: bool = False
    connections: int = 0  # WebSockets opened on this stream (streaming or not)
    gaps: frozenset[int] = frozenset()
    batches: list[tuple[int, int, int]] = field(default_factory=list)  # (first k, last k, ns)
    gap_sent: list[tuple[int, int]] = field(default_factory=list)  # (skipped k, ns)

    def __post_init__(self) -> None:
        self.gaps = frozenset(parse_gaps(self.scenario.gap_at))


class Feed:
    def __init__(self) -> None:
        self.assets: dict[str, StreamState] = {}
        self.trades: collections.deque[StreamState] = collections.deque()
        self.last_trades: Optional[StreamState] = None

    # ------------------------------------------------------------ HTTP

    def process_request(self, connection: Any, request: Any) -> Any:
        parts = urlsplit(request.path)
        path = parts.path
        if path.startswith("/marketdepth/diff/") or path == "/trades":
            return None  # WebSocket handshake
        if path.startswith("/marketdepth/"):
            state = self.assets.get(path.rsplit("/", 1)[1])
            sc = state.scenario if state else Scenario()
            body = snapshot_body(state.k if state else 0, sc.levels, sc.numbers)
            return _http_response(200, body, "application/json")
        if path == "/bench/setup":
            sc = Scenario.from_query(parts.query)
            if sc.stream == "trades":
                self.trades.append(StreamState(sc))
            else:
                asset = dict(parse_qsl(parts.query)).get("asset", "200")
                self.assets[asset] = StreamState(sc)
            return _http_response(200, b"ok\n", "text/plain")
        if path.startswith("/bench/sent/"):
            key = path.rsplit("/", 1)[1]
            state = self.last_trades if key == "trades" else self.assets.get(key)
            body = json.dumps({} if state is None else {
                "produced": state.k, "batches": state.batches, "gaps": state.gap_sent,
                "connections": state.connections}).encode()
            return _http_response(200, body, "application/json")
        return _http_response(404, b"not found\n", "text/plain")

    # ------------------------------------------------------------ WebSocket

    async def handler(self, ws: Any) -> None:
        parts = urlsplit(ws.request.path)
        state: Optional[StreamState]
        if parts.path == "/trades":
            state = (StreamState(Scenario.from_query(parts.query + "&stream=trades"))
                     if parts.query else (self.trades.popleft() if self.trades else None))
            self.last_trades = state
        else:
            asset = parts.path.rsplit("/", 1)[1]
            if parts.query:
                self.assets[asset] = StreamState(Scenario.from_query(parts.query))
            state = self.assets.setdefault(asset, StreamState(Scenario(count=0)))
        writer = None
        if state is not None:
            state.connections += 1
        if state is not None and not state.streaming:
            state.streaming = True
            writer = asyncio.create_task(Writer(ws, state).run())
        try:
            async for _ in ws:  # tplus clients send nothing; pings are answered below us
                pass
        except Exception:  # the client went away mid-frame: nothing to report
            pass
        finally:
            if writer is not None:
                writer.cancel()
                assert state is not None
                state.streaming = False


class Writer:
    """Streams a state's scenario on one connection, flood or paced."""

    def __init__(self, ws: Any, state: StreamState) -> None:
        self.ws = ws
        self.state = state
        self.transport = ws.transport
        sc = state.scenario
        self.depth = sc.stream != "trades"
        self.pool = depth_templates(sc.levels, sc.numbers) if self.depth else trade_templates()
        self.gap_pending = False

    async def run(self) -> None:
        st, sc = self.state, self.state.scenario
        if sc.mode == "rate":
            loop = asyncio.get_running_loop()
            start, k0 = loop.time(), st.k
            while st.k < sc.count and not self.transport.is_closing():
                due = min(sc.count, k0 + int((loop.time() - start) * sc.rate) + 1)
                if due > st.k:
                    await self._send(due - st.k)
                await asyncio.sleep(PACE_TICK)
        else:
            while st.k < sc.count and not self.transport.is_closing():
                await self._send(min(FLOOD_BATCH, sc.count - st.k))

    async def _send(self, n: int) -> None:
        st, pool, gaps = self.state, self.pool, self.state.gaps
        ns = time.time_ns()
        ts = str(ns).encode()
        frames = []
        first = st.k + 1
        for _ in range(n):
            st.k += 1
            k = st.k
            if k in gaps:
                self.gap_pending = True  # produced (in snapshots from now on), never sent
                continue
            if self.gap_pending:
                self.gap_pending = False
                st.gap_sent.append((k - 1, ns))
            seq = str((SEQ0 if self.depth else TRADE_ID0) + k).encode()
            frames.append(pool[(k - 1) % POOL].frame(seq, ts))
        st.batches.append((first, st.k, ns))
        self.transport.write(b"".join(frames))
        await self.ws.drain()


async def serve(host: str, port: int, max_seconds: float) -> None:
    """Serve until killed, until ``max_seconds`` pass, or until the parent process dies."""
    from websockets.asyncio.server import serve as ws_serve

    feed, parent = Feed(), os.getppid()
    async with ws_serve(feed.handler, host, port, compression=None, ping_interval=None,
                        write_limit=WRITE_LIMIT,
                        process_request=feed.process_request) as server:
        print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline and os.getppid() == parent:
            await asyncio.sleep(0.5)


class TplusFeedProcess(FeedProcess):
    """Context manager: the tplus feed in a child process on a free loopback port."""

    script = Path(__file__).resolve()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def setup(self, scenario: Scenario, asset: Optional[int] = None) -> None:
        """Register the scenario of the next ``/trades`` connection or of ``asset``."""
        import urllib.request

        query = scenario.query() + (f"&asset={asset}" if asset is not None else "")
        with urllib.request.urlopen(f"{self.base_url}/bench/setup?{query}", timeout=5) as r:
            r.read()

    def sent(self, key: str) -> dict[str, Any]:
        """Send times recorded for ``asset`` (or ``"trades"``: the last trades run)."""
        import urllib.request

        with urllib.request.urlopen(f"{self.base_url}/bench/sent/{key}", timeout=10) as r:
            result: dict[str, Any] = json.loads(r.read())
        return result


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011, help="0 picks a free port")
    parser.add_argument("--max-seconds", type=float, default=3600.0,
                        help="exit after this long (default 1 h)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.max_seconds))


if __name__ == "__main__":
    main()
