"""Relay benchmark (issue 20): frames/s of a flood read directly from the simulator
against the same flood read back from the relay (Redis Streams) in ANOTHER process,
and whether a burst lost anything uncounted.

    .venv/bin/python bench/relay.py                 # 20,000 engine events
    .venv/bin/python bench/relay.py --events 100000

Needs redis-server on PATH (started here on a free loopback port, no persistence).
The direct figure is the upstream client's own depth+trades stream over the same
flood; the relay figure counts, in a separate reader process, the entries of both
streams from the first to the last (the relay's thread, Redis and XREAD included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

READER = r"""
import sys, time, json
from o2sync import O2Client
url, want = sys.argv[1], int(sys.argv[2])
with O2Client.from_relay(url, queue_size=1_000_000) as c:
    depth = c.stream_depth("fFUEL/fUSDC")
    trades = c.stream_trades("fFUEL/fUSDC")
    depth.get(timeout=30)                       # the snapshot: the reader is in place
    print("ready", flush=True)
    n, first, last = 0, None, None
    deadline = time.monotonic() + 120
    while n < want and time.monotonic() < deadline:
        for sub in (depth, trades):
            ok, _ = sub.poll()
            if ok:
                n += 1
                last = time.perf_counter()
                first = first or last
        if not (depth.pending or trades.pending):
            time.sleep(0.0005)                   # a benchmark poll loop, not a sync point
    print(json.dumps({"events": n, "seconds": (last or 0) - (first or 0),
                      "dropped": c.stats()["dropped"]}), flush=True)
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=20_000, help="engine events in the flood")
    args = p.parse_args()

    from clientutil import client_for
    from redis_server import RedisServer

    from o2sync.relay import Relay
    from o2sync.testing import Simulator

    with tempfile.TemporaryDirectory() as tmp, Simulator(start_flow=False, seed=1) as sim:
        server = RedisServer(Path(tmp)).start()
        try:
            upstream = client_for(sim, queue_size=1_000_000)
            # held: the direct consumers (unreferenced subscriptions are closed)
            direct = [upstream.stream_depth("fFUEL/fUSDC"), upstream.stream_trades("fFUEL/fUSDC")]
            direct[0].get(timeout=10)
            relay = Relay(upstream, ["depth:fFUEL/fUSDC", "trades:fFUEL/fUSDC"], server.url,
                          maxlen=max(2 * args.events, 100_000), snapshot_every=1000,
                          queue_size=1_000_000).start()
            time.sleep(0.5)  # the relay writes its first snapshot (bench setup only)
            # direct: how many events the flood makes, and how fast the client gets them
            before = upstream.stats()["events"]
            t0 = time.perf_counter()
            sim.step(args.events)
            want = None
            # direct: wait for the client to have received the whole flood
            while True:
                got = upstream.stats()["events"] - before
                if want is not None and got == want:
                    break
                time.sleep(0.01)
                now = upstream.stats()["events"] - before
                if now == got and got > 0:
                    want = got
            direct_s = time.perf_counter() - t0
            flood = want or 0
            # the relay path: a second flood of the same size, read in another process
            reader = subprocess.Popen([sys.executable, "-c", READER, server.url,
                                       str(flood)], stdout=subprocess.PIPE, text=True)
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == "ready"
            before = upstream.stats()["events"]
            t0 = time.perf_counter()
            sim.step(args.events)
            result = json.loads(reader.stdout.readline())
            reader.wait(30)
            relay_s = result["seconds"]
            stats = relay.stats()
            print(json.dumps({
                "events_per_flood": flood,
                "direct_frames_per_s": round(flood / direct_s),
                "relay_frames_per_s": round(result["events"] / relay_s) if relay_s else None,
                "ratio": round((result["events"] / relay_s) / (flood / direct_s), 2)
                if relay_s else None,
                "remote_events": result["events"], "remote_dropped": result["dropped"],
                "relay_dropped": stats["dropped"], "relay_engine_lost": stats["engine_lost"],
                "relay_entries": stats["entries"],
            }, indent=2))
            relay.close()
            upstream.close()
        finally:
            server.kill()


if __name__ == "__main__":
    main()
