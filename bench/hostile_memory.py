"""Client memory under hostile frames (issue 10, item 3): one 50 MB frame, and an
endless fragmented message, with ``max_message_size`` at its 16 MiB default and
unbounded (the behaviour before the bound existed).

Loopback only, bounded in time. Each case runs a client in a fresh process (so its
peak RSS is its own) against a bare ``websockets`` server in another process::

    .venv/bin/python bench/hostile_memory.py              # all four cases, about 1 minute
    .venv/bin/python bench/hostile_memory.py --seconds 5  # shorter fragmented runs

Prints, per case: RSS before connecting, peak RSS while the hostile server sends
(the client's ``VmHWM``), the growth, and how many times the client dropped the link.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

MIB = 1024 * 1024
FRAME = 50 * 1000 * 1000  # the 50 MB frame
CHUNK = 64 * 1024  # one fragment
INTERVAL = 0.005  # seconds between fragments: about 12.5 MiB/s
UNBOUNDED = 1 << 62  # max_message_size "off": the old behaviour
ACCOUNT = "0x" + "ab" * 32


# ------------------------------------------------------------------ server process


async def serve(mode: str) -> None:
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve
    from websockets.exceptions import ConnectionClosed

    async def fragments(ws: ServerConnection) -> AsyncIterator[str]:
        chunk = "y" * CHUNK
        while ws.state.name == "OPEN":
            yield chunk
            await asyncio.sleep(INTERVAL)

    async def handler(ws: ServerConnection) -> None:
        try:
            if mode == "frame":
                await ws.send("x" * FRAME)
                await ws.wait_closed()
            else:
                await ws.send(fragments(ws))  # never a FIN
        except (ConnectionClosed, OSError):
            pass

    async with ws_serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None,
                        compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


# ------------------------------------------------------------------ client process


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def client(port: int, limit: int, seconds: float) -> dict[str, Any]:
    from o2sync import ConnectionState, O2Client

    url = f"ws://127.0.0.1:{port}/v1/ws"
    c = O2Client(ws_url=url, api_url=f"http://127.0.0.1:{port}", max_message_size=limit,
                 backoff_initial=0.05, backoff_max=0.2, ping_interval=60, pong_timeout=60)
    drops = []
    done = threading.Event()
    c.on_lifecycle(lambda e: drops.append(e.message)
                   if e.state is ConnectionState.DISCONNECTED else None)
    c.on_error(lambda e: None)
    before = rss()
    sub = c.stream_nonce(ACCOUNT)
    deadline = time.monotonic() + seconds
    top = before
    while not done.wait(0.05) and time.monotonic() < deadline:
        top = max(top, rss())
    stats = c.stats()
    c.close(timeout=5)
    del sub
    return {"rss_before": before, "rss_peak": max(top, peak()), "drops": len(drops),
            "reason": drops[0] if drops else "", "decode_errors": stats["decode_errors"]}


# ------------------------------------------------------------------ driver


def run_case(mode: str, limit: int, seconds: float) -> dict[str, Any]:
    server = subprocess.Popen([sys.executable, __file__, "--serve", mode],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        out = subprocess.run([sys.executable, __file__, "--client", str(port), str(limit),
                              str(seconds)], capture_output=True, text=True, timeout=seconds + 60,
                             check=True)
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of the fragmented-message runs (default 20)")
    parser.add_argument("--serve", choices=("frame", "fragments"), help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if args.client:
        port, limit, seconds = int(args.client[0]), int(args.client[1]), float(args.client[2])
        print(json.dumps(client(port, limit, seconds)))
        return
    cases = [("frame", 16 * MIB, 5.0), ("frame", UNBOUNDED, 5.0),
             ("fragments", 16 * MIB, args.seconds), ("fragments", UNBOUNDED, args.seconds)]
    print(f"{'case':<34} {'rss before':>10} {'peak':>9} {'growth':>9} {'drops':>6}")
    for mode, limit, seconds in cases:
        what = "50 MB frame" if mode == "frame" else f"fragments {seconds:g}s"
        bound = "16 MiB" if limit != UNBOUNDED else "unbounded (old)"
        r = run_case(mode, limit, seconds)
        print(f"{what + ', ' + bound:<34} {r['rss_before'] / MIB:>8.1f}Mi "
              f"{r['rss_peak'] / MIB:>7.1f}Mi {(r['rss_peak'] - r['rss_before']) / MIB:>7.1f}Mi "
              f"{r['drops']:>6}", flush=True)
        if r["reason"]:
            print(f"    first drop: {r['reason']}")


if __name__ == "__main__":
    main()
