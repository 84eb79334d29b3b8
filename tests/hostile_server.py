"""A hostile WebSocket server for issue 18's tests, run in its own process.

    python tests/hostile_server.py MODE [MODE ...] [--tls CERT KEY]

Listens on one free loopback port per MODE, prints ``{"MODE": port, ...}`` as one
JSON line, and serves until its stdin closes (the test that started it ended).
Every port answers ``GET /_stats`` with its counters as JSON: ``handshakes``
(WebSocket upgrades completed), ``subscribes`` (O2 ``subscribe_depth`` frames) and
``snapshots`` (REST ``/marketdepth/...`` answers). It also serves the REST calls the
clients make first (O2 ``/v1/markets`` from the fixture, tplus ``/marketdepth/{asset}``).

Modes, each a fault class of issue 18, for either venue (the path tells them apart):

* ``oversize``: a frame of ``OVERSIZE`` bytes right after the handshake;
* ``garbage``: bytes that are no WebSocket frame right after the handshake;
* ``tcp_close``: the TCP connection aborted right after the handshake;
* ``close_frame``: a close frame (1011) right after the handshake;
* ``fragments``: one text message that never ends, in fragments of ``--fragment`` bytes;
* ``bad_delta``: O2 depth: every snapshot is followed by an undecodable delta;
* ``gap_depth``: tplus depth: diffs at ``--rate`` a second whose sequence numbers
  always skip one (REST snapshots are consistent with the stream);
* ``silent``: accepts TCP and never answers the upgrade.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import ssl
import sys
from pathlib import Path
from typing import Any, Optional

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

FIXTURES = Path(__file__).parent / "fixtures"
OVERSIZE = 2 * 1024 * 1024  # above the 1 MiB max_message_size the tests give clients
MODES = ("oversize", "garbage", "tcp_close", "close_frame", "fragments", "bad_delta",
         "gap_depth", "silent")


class Hostile:
    """One port's fault and counters."""

    def __init__(self, mode: str, fragment: int, rate: float) -> None:
        self.mode = mode
        self.fragment = fragment
        self.rate = rate
        self.stats: dict[str, int] = dict.fromkeys(("handshakes", "subscribes", "snapshots"), 0)
        self.seq = 1000  # the depth stream's sequence number (gap_depth)
        self.markets = (FIXTURES / "o2_markets.json").read_text()
        self.market_id = json.loads(self.markets)["markets"][0]["market_id"]

    def request(self, connection: ServerConnection, request: Request) -> Optional[Response]:
        """REST answers; None lets the WebSocket upgrade go on."""
        path = request.path.partition("?")[0]
        if path == "/_stats":
            return _json(connection, json.dumps(self.stats))
        if path.endswith("/markets"):
            return _json(connection, self.markets)
        if path.startswith("/marketdepth/") and not path.startswith("/marketdepth/diff/"):
            self.stats["snapshots"] += 1
            snapshot = json.loads((FIXTURES / "tplus_orderbook_snapshot.json").read_text())
            snapshot["sequence_number"] = self.seq
            return _json(connection, json.dumps(snapshot))
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return connection.respond(404, "not here\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        self.stats["handshakes"] += 1
        with contextlib.suppress(ConnectionClosed, OSError):
            await getattr(self, f"_{self.mode}")(ws)

    async def _oversize(self, ws: ServerConnection) -> None:
        await ws.send("x" * OVERSIZE)
        await ws.wait_closed()

    async def _garbage(self, ws: ServerConnection) -> None:
        ws.transport.write(b"\x8b\x05hello")  # a frame of reserved opcode 0xB: a protocol error
        await ws.wait_closed()

    async def _tcp_close(self, ws: ServerConnection) -> None:
        ws.transport.abort()

    async def _close_frame(self, ws: ServerConnection) -> None:
        await ws.close(1011, "go away")

    async def _fragments(self, ws: ServerConnection) -> None:
        chunk = "x" * self.fragment

        async def endless() -> Any:
            while True:
                yield chunk

        await ws.send(endless())

    async def _bad_delta(self, ws: ServerConnection) -> None:
        async for frame in ws:
            if frame == "PING":
                await ws.send("PONG")
                continue
            msg = json.loads(frame)
            if msg.get("action") != "subscribe_depth":
                continue
            self.stats["subscribes"] += 1
            market = msg["market_id"]
            level = {"price": "12490000", "quantity": "820000000000"}
            ask = {"price": "12510000", "quantity": "640000000000"}
            await ws.send(json.dumps({"action": "subscribe_depth", "market_id": market,
                                      "orders": {"buys": [level], "sells": [ask]}}))
            bad = {"price": "12490000", "quantity": "not a number"}  # undecodable, any rule
            await ws.send(json.dumps({"action": "subscribe_depth_update", "market_id": market,
                                      "changes": {"buys": [bad], "sells": []}}))

    async def _gap_depth(self, ws: ServerConnection) -> None:
        while True:
            self.seq += 2  # always skips one
            await ws.send(json.dumps({"asks": [[3871.5, 0.5]], "bids": [[3870.75, 1.2]],
                                      "sequence_number": self.seq}))
            await asyncio.sleep(1 / self.rate)


def _json(connection: ServerConnection, body: str) -> Response:
    response = connection.respond(200, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while await reader.read(65536):
            pass  # never a byte back: the upgrade never completes
    writer.close()


async def _main(args: argparse.Namespace) -> None:
    quiet = logging.getLogger("hostile")
    quiet.setLevel(logging.CRITICAL)
    context: Optional[ssl.SSLContext] = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
    ports: dict[str, int] = {}
    servers = []
    for mode in args.modes:
        if mode == "silent":
            server: Any = await asyncio.start_server(_silent, "127.0.0.1", 0)
        else:
            hostile = Hostile(mode, args.fragment, args.rate)
            server = await serve(hostile.handler, "127.0.0.1", 0, ssl=context,
                                 process_request=hostile.request, ping_interval=None,
                                 compression=None, close_timeout=0.5, logger=quiet,
                                 max_size=None)
        servers.append(server)
        ports[mode] = server.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modes", nargs="+", choices=MODES)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--fragment", type=int, default=256 * 1024)
    parser.add_argument("--rate", type=float, default=50.0)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
