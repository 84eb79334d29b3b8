"""The benchmark feed: a bare ``websockets`` server speaking just enough O2.

Run standalone (``python bench/feed.py --port 8765``) or through :class:`FeedProcess`,
which starts it in a separate process. It serves:

* ``GET /v1/markets``: the markets fixture (through the ``process_request`` hook);
* ``/v1/ws?mode=...``: a WebSocket that answers ``subscribe_depth`` with a snapshot
  (book under ``orders``), then sends ``count`` pre-built ``subscribe_depth_update``
  frames of signed changes, ``levels`` a side (see ``messages.py``), either as fast
  as the socket takes them (``mode=flood``) or paced at ``rate`` messages/s in 1 ms
  batches (``mode=rate``).
  ``seen_timestamp`` carries the send time (``time.time_ns()``). Text ``PING`` gets
  ``PONG``. After an ``unsubscribe_depth`` the deltas pause until the next
  ``subscribe_depth`` (which is answered by a fresh snapshot of the book where the
  pool of deltas stands), like the real server.

Frames are written to the transport in batches (header and JSON built once per
template, only the timestamp differs), so the feed runs several times faster than
any client it measures; ``websockets``' own flow control (``drain``) applies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

from messages import (
    book_after,
    depth_snapshot,
    dumps,
    market_id,
    markets_json,
    template_pool,
    text_frame,
)

FLOOD_BATCH = 64  # frames per transport write in flood mode
PACE_TICK = 0.001  # seconds between batches in rate mode
WRITE_LIMIT = 1 << 18  # transport high-water mark (bytes)
PONG_FRAME = text_frame(b"PONG")


@dataclass(frozen=True)
class Scenario:
    """What one WebSocket connection gets after it subscribes (from the URL query)."""

    mode: str = "flood"  # "flood": as fast as possible; "rate": paced
    count: int = 10_000  # deltas to send
    levels: int = 10  # levels a side in each delta
    rate: float = 1_000.0  # messages/s in "rate" mode

    @classmethod
    def from_path(cls, path: str) -> Scenario:
        q = dict(parse_qsl(urlsplit(path).query))
        return cls(mode=q.get("mode", cls.mode), count=int(q.get("count", cls.count)),
                   levels=int(q.get("levels", cls.levels)), rate=float(q.get("rate", cls.rate)))

    def query(self) -> str:
        return urlencode(asdict(self))


class FeedSession:
    """One client connection: answers its frames and streams the scenario's deltas."""

    def __init__(self, ws: Any, scenario: Scenario, mid: str) -> None:
        self.ws = ws
        self.scenario = scenario
        self.mid = mid
        self.transport = ws.transport
        self.pool = template_pool(mid, scenario.levels)
        self.position = 0  # index of the next delta in the pool
        self.subscribed = asyncio.Event()
        self.sent = 0

    def on_text(self, text: str) -> None:
        """A client frame: PING, subscribe_depth or unsubscribe_depth (others ignored)."""
        if text == "PING":
            self.transport.write(PONG_FRAME)
            return
        try:
            msg = json.loads(text)
        except ValueError:
            return
        if not isinstance(msg, dict) or str(msg.get("market_id", "")).lower() != self.mid:
            return
        if msg.get("action") == "subscribe_depth":
            # the deltas are signed: the snapshot is the book where the pool stands now
            book = book_after(self.scenario.levels, self.position, len(self.pool))
            self.transport.write(text_frame(dumps(depth_snapshot(self.mid, book)).encode()))
            self.subscribed.set()
        elif msg.get("action") == "unsubscribe_depth":
            self.subscribed.clear()

    async def stream(self) -> None:
        """Send the scenario's deltas, pausing while unsubscribed."""
        if self.scenario.mode == "rate":
            await self._paced()
        else:
            await self._flood()

    async def _flood(self) -> None:
        total = self.scenario.count
        while self.sent < total and not self.transport.is_closing():
            await self.subscribed.wait()
            await self._send(min(FLOOD_BATCH, total - self.sent))

    async def _paced(self) -> None:
        loop = asyncio.get_running_loop()
        total, rate = self.scenario.count, self.scenario.rate
        await self.subscribed.wait()
        start = loop.time()
        while self.sent < total and not self.transport.is_closing():
            await self.subscribed.wait()
            due = min(total, int((loop.time() - start) * rate) + 1)
            if due > self.sent:
                await self._send(due - self.sent)
            await asyncio.sleep(PACE_TICK)

    async def _send(self, n: int) -> None:
        pool, now, start, size = self.pool, time.time_ns, self.position, len(self.pool)
        frames = [pool[(start + i) % size].frame(str(now()).encode()) for i in range(n)]
        self.position = (start + n) % size
        self.transport.write(b"".join(frames))
        self.sent += n
        await self.ws.drain()


def _http_response(status: int, body: bytes, content_type: str) -> Any:
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Connection", "close")])
    return Response(status, "OK" if status == 200 else "Not Found", headers, body)


def _process_request(markets: bytes) -> Any:
    def process_request(connection: Any, request: Any) -> Any:
        path = urlsplit(request.path).path
        if path == "/v1/markets":
            return _http_response(200, markets, "application/json")
        if path != "/v1/ws":
            return _http_response(404, b"not found\n", "text/plain")
        return None  # go on with the WebSocket handshake

    return process_request


async def _handler(ws: Any, mid: str) -> None:
    session = FeedSession(ws, Scenario.from_path(ws.request.path), mid)
    writer = asyncio.create_task(session.stream())
    try:
        async for text in ws:
            if isinstance(text, str):
                session.on_text(text)
    except Exception:  # the client went away mid-frame: nothing to report
        pass
    finally:
        writer.cancel()


async def serve(host: str, port: int, max_seconds: float) -> None:
    """Serve until killed, until ``max_seconds`` pass, or until the parent process dies."""
    from websockets.asyncio.server import serve as ws_serve

    mid, parent = market_id(), os.getppid()
    async with ws_serve(lambda ws: _handler(ws, mid), host, port, compression=None,
                        ping_interval=None, write_limit=WRITE_LIMIT,
                        process_request=_process_request(markets_json())) as server:
        print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline and os.getppid() == parent:
            await asyncio.sleep(0.5)


class FeedProcess:
    """Context manager: the feed in a child process on a free loopback port."""

    #: the feed script run in the child (``tplus_feed.py`` overrides it)
    script = Path(__file__).resolve()

    def __init__(self, host: str = "127.0.0.1", max_seconds: float = 900.0,
                 start_timeout: float = 20.0) -> None:
        self.host = host
        self.max_seconds = max_seconds
        self.start_timeout = start_timeout
        self.port = 0
        self.proc: Optional[subprocess.Popen[str]] = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ws_url(self, scenario: Scenario) -> str:
        return f"ws://{self.host}:{self.port}/v1/ws?{scenario.query()}"

    def __enter__(self) -> FeedProcess:
        cmd = [sys.executable, str(self.script), "--host", self.host,
               "--port", "0", "--max-seconds", str(self.max_seconds)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:
            self.port = self._read_port(self.proc)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _read_port(self, proc: subprocess.Popen[str]) -> int:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(self.start_timeout):
                raise RuntimeError(f"feed did not start within {self.start_timeout}s")
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            raise RuntimeError(f"feed failed to start (exit code {proc.poll()})")
        return int(line[1])

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--max-seconds", type=float, default=3600.0,
                        help="exit after this long (default 1 h)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.max_seconds))


if __name__ == "__main__":
    main()
