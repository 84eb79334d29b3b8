"""``o2sync relay``: relay streams into Redis Streams; ``o2sync relay status``: what
the relays there are doing (streams, lag, drops, the age of the latest snapshot)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import IO, Any, Callable

#: Seconds between two progress lines on a terminal.
PROGRESS_EVERY = 2.0


def add_relay(subparsers: Any, endpoint_options: Callable[[argparse.ArgumentParser], None],
              run: Callable[[argparse.Namespace], int]) -> None:
    """Declare ``o2sync relay``."""
    parser = subparsers.add_parser(
        "relay", help="relay the raw frames of streams into Redis Streams",
        description="Relay every frame of the given streams into a Redis (or Valkey) "
                    "server, one stream per topic, for O2Client.from_relay on any host. "
                    "'o2sync relay status --to URL' shows the relays there.")
    parser.add_argument("streams", nargs="+", metavar="KIND:TARGET",
                        help="e.g. depth:fFUEL/fUSDC trades:fFUEL/fUSDC; or 'status'")
    parser.add_argument("--to", required=True, metavar="redis://HOST:PORT[/DB]",
                        help="the Redis server")
    parser.add_argument("--prefix", default="o2sync",
                        help="prefix of the stream names (default: %(default)s)")
    parser.add_argument("--maxlen", type=int, default=100_000,
                        help="entries kept per stream (default: %(default)s)")
    parser.add_argument("--snapshot-every", type=int, default=1000,
                        help="a book snapshot entry every N deltas (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="stop after S seconds (default: until Ctrl-C)")
    parser.add_argument("--json", action="store_true", help="status: print JSON")
    endpoint_options(parser)
    parser.set_defaults(func=run)


def relay_until_stopped(client: Any, args: argparse.Namespace,
                        out: IO[str] = sys.stderr) -> tuple[dict[str, Any], bool]:
    """Relay ``args.streams`` of ``client`` until Ctrl-C or ``args.seconds``; the
    stats, and whether Ctrl-C ended it."""
    from o2sync.relay import Relay

    if args.venue != "o2":
        raise ValueError("o2sync relay carries O2 streams so far (--venue o2)")
    relay = Relay(client, args.streams, args.to, prefix=args.prefix, maxlen=args.maxlen,
                  snapshot_every=args.snapshot_every).start()
    live = out.isatty()
    deadline = time.monotonic() + args.seconds if args.seconds else None
    stop = threading.Event()
    last, last_frames = time.monotonic(), 0
    interrupted = False
    try:
        while deadline is None or time.monotonic() < deadline:
            left = PROGRESS_EVERY if deadline is None else min(PROGRESS_EVERY,
                                                              deadline - time.monotonic())
            stop.wait(max(left, 0))  # the main thread: Ctrl-C gets through between waits
            if live:
                stats = relay.stats()
                now = time.monotonic()
                rate = (stats["frames"] - last_frames) / max(now - last, 1e-9)
                last, last_frames = now, stats["frames"]
                print(_progress_line(stats, rate), file=out, flush=True)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        relay.close()
    return relay.stats(), interrupted


def _progress_line(stats: dict[str, Any], rate: float) -> str:
    lag = stats["lag"]
    streams = ", ".join(f"{name.rsplit(':', 2)[-2] if name.endswith(':p1') else name}: "
                        f"{s['frames']} frames" for name, s in stats["streams"].items())
    return (f"relay: {rate:,.0f} frames/s, lag {0 if lag is None else lag * 1000:.0f} ms, "
            f"dropped {stats['dropped']}, engine lost {stats['engine_lost']} | {streams}")


def status(url: str, prefix: str) -> list[dict[str, Any]]:
    """Every relayed stream under ``prefix`` at ``url``: length, writer, epoch, lag and
    the age of its latest snapshot (seconds)."""
    from o2sync.relay._redis import connect_redis
    from o2sync.relay.envelope import Entry, meta_key

    redis = connect_redis(url)
    try:
        now = time.time()
        rows = []
        for key in sorted(redis.scan_iter(match=f"{prefix}:*", count=1000, _type="STREAM")):
            stream = key.decode()
            meta = {k.decode(): v.decode()
                    for k, v in redis.hgetall(meta_key(stream)).items()}
            last = redis.xrevrange(stream, "+", "-", count=1)
            entry = Entry.parse(last[0][1]) if last else None
            holder = redis.get(f"{stream}:lease")
            rows.append({
                "stream": stream, "length": redis.xlen(stream),
                "writer": holder.decode() if holder else None,
                "epoch": entry.epoch if entry else meta.get("epoch"),
                "seq": entry.seq if entry else None,
                "lag": round(now - entry.t, 3) if entry else None,
                "snapshot_age": (round(now - float(meta["snapshot_t"]), 3)
                                 if "snapshot_t" in meta else None),
                "gaps": sum(1 for _, f in redis.xrevrange(stream, "+", "-", count=1000)
                            if f.get(b"type") == b"gap"),
            })
        return rows
    finally:
        redis.close()


def print_status(rows: list[dict[str, Any]], as_json: bool, out: IO[str] = sys.stdout) -> None:
    if as_json:
        print(json.dumps(rows, indent=2), file=out)
        return
    if not rows:
        print("no relayed streams", file=out)
        return
    for row in rows:
        writer = row["writer"] or "none (no live relay)"
        print(f"{row['stream']}: {row['length']} entries, writer {writer}, "
              f"seq {row['seq']}, lag {row['lag']} s, snapshot age {row['snapshot_age']} s, "
              f"gaps in the last 1000: {row['gaps']}", file=out)
