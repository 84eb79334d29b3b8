"""Shared by tests/test_storms.py and tests/storm_figures.py: the hostile server in its
own process, clients of both venues pointed at it, and the measurements of issue 18."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from o2sync import O2Client
from o2sync.tplus import MarketDataClient

HERE = Path(__file__).parent
SERVER = HERE / "hostile_server.py"
MIB = 1024 * 1024
ASSET = "200"  # a tplus asset id
#: the first market of tests/fixtures/o2_markets.json, which the server lists
MARKET = json.loads((HERE / "fixtures" / "o2_markets.json").read_text())["markets"][0][
    "market_id"]
LINK_FAULTS = ("oversize", "garbage", "tcp_close", "close_frame")


class HostileServer:
    """``tests/hostile_server.py`` in a subprocess: one port per mode."""

    def __init__(self, *modes: str, tls: Optional[tuple[Path, Path]] = None,
                 fragment: Optional[int] = None, rate: Optional[float] = None) -> None:
        args = [sys.executable, str(SERVER), *modes]
        if tls is not None:
            args += ["--tls", str(tls[0]), str(tls[1])]
        if fragment is not None:
            args += ["--fragment", str(fragment)]
        if rate is not None:
            args += ["--rate", str(rate)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until it listens (or dies)
        if not line:
            raise RuntimeError(f"hostile server did not start (exit {self.proc.wait(5)})")
        self.ports: dict[str, int] = json.loads(line)

    def http(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.ports[mode]}"

    def ws(self, mode: str, path: str = "/v1/ws") -> str:
        return f"ws://127.0.0.1:{self.ports[mode]}{path}"

    def stats(self, mode: str) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.http(mode)}/_stats", timeout=5) as answer:
            stats: dict[str, int] = json.loads(answer.read())
        return stats

    def close(self) -> None:
        """Close its stdin (it exits), or end it by its pid if it does not."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def hostile(*modes: str, **options: Any) -> Iterator[HostileServer]:
    server = HostileServer(*modes, **options)
    try:
        yield server
    finally:
        server.close()


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs: bound, never
    listening (released, a port could be taken by another process meanwhile)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def o2_client(ws_url: str, api_url: str, **options: Any) -> O2Client:
    options.setdefault("max_message_size", MIB)
    return O2Client(ws_url=ws_url, api_url=api_url, **options)


def tplus_client(base_url: str, **options: Any) -> MarketDataClient:
    options.setdefault("max_message_size", MIB)
    return MarketDataClient(base_url, **options)


def fragment_stream(server: HostileServer, venue: str, bound: int) -> tuple[Any, Any]:
    """A client of ``venue`` on the server's endless-fragments port, with one stream
    open on it (the socket that receives the fragments): ``(client, stream)``."""
    if venue == "o2":
        o2 = o2_client(server.ws("fragments"), server.http("fragments"), max_message_size=bound)
        return o2, o2.stream_trades(MARKET)
    tp = tplus_client(server.http("fragments"), max_message_size=bound)
    return tp, tp.stream_klines(ASSET)


def client_threads(client: Any) -> list[str]:
    """The live threads of one client."""
    prefix = f"{client._engine.name}-"
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def rss() -> int:
    """This process's resident set size in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples this process's RSS on a thread until stopped; ``growth`` is the peak
    above the RSS at the start."""

    def __init__(self, every: float = 0.01) -> None:
        gc.collect()
        self.start = self.peak = rss()
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-rss", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.peak = max(self.peak, rss())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, rss())
        return self.peak - self.start


def live_websockets() -> int:
    """WebSocket objects of o2sync still alive (reachable or in garbage cycles)."""
    from o2sync.engine.connection import _ReadAheadWebSocket

    return sum(1 for obj in gc.get_objects() if isinstance(obj, _ReadAheadWebSocket))
