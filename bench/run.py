"""o2sync benchmark (issue 3, "Speed"): throughput, latency, burst loss and profile.

Starts the feed (``feed.py``) in a separate process, then measures against it, in
one run: (a) the bare websocket-client ceiling, (b) o2sync iteration, (c) o2sync
callbacks, (d) the official async o2-sdk. See README.md for the options.

    /root/venv/bin/python bench/run.py            # full run, about 2-3 minutes
    /root/venv/bin/python bench/run.py --quick    # about 30 s
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from phases import Config

HERE = Path(__file__).resolve().parent
ALL = ("recv", "ceiling", "ceiling-thread", "o2sync-iter", "o2sync-cb", "o2sync-inline",
       "o2-sdk")


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="o2sync benchmark against a local O2 feed")
    p.add_argument("--quick", action="store_true", help="short run (about 30 s)")
    p.add_argument("--count", type=int, help="deltas per flood run (100000; quick 20000)")
    p.add_argument("--reps", type=int, help="flood repetitions, median reported (3; quick 1)")
    p.add_argument("--levels", type=int, default=10, help="levels a side in flood deltas")
    p.add_argument("--rates", default="1000,5000", help="fixed rates for latency, msgs/s")
    p.add_argument("--duration", type=float, help="seconds per latency rate (5; quick 1)")
    p.add_argument("--burst", type=int, default=100_000,
                   help="one-level deltas in the burst (0 skips it)")
    p.add_argument("--slow", type=int,
                   help="deltas for the slow-consumer overflow run (50000; quick 10000; 0 skips)")
    p.add_argument("--only", default=",".join(ALL),
                   help=f"comma-separated consumers among {','.join(ALL)}")
    p.add_argument("--idle", type=float,
                   help="end a run after this many seconds without a delta (3; quick 1.5)")
    p.add_argument("--no-profile", action="store_true", help="skip the hot-path profile")
    p.add_argument("--json", choices=("auto", "stdlib"), default="auto",
                   help="stdlib: hide orjson so o2sync and the ceiling use the json module")
    p.add_argument("--summary-file", help="also write the JSON summary to this file")
    p.add_argument("--touch", choices=("none", "best", "all"), default="best",
                   help="how much of each delta every consumer reads: its timestamp only, "
                        "the first bid's price (the O2 guide's pattern; default), or "
                        "every level")
    args = p.parse_args(argv)
    only = {c for c in args.only.split(",") if c}
    if only - set(ALL):
        p.error(f"unknown consumer(s) {sorted(only - set(ALL))}; choose among {ALL}")
    args.only = tuple(c for c in ALL if c in only)  # table order, whatever the order given
    return args


def _meta(cfg: Config) -> dict[str, Any]:
    from procstat import git_rev

    import o2sync
    from o2sync._json import BACKEND

    return {"o2sync": getattr(o2sync, "__version__", "?"), "git": git_rev(),
            "json_backend": BACKEND, "python": platform.python_version(),
            "cpus": os.cpu_count(), "count": cfg.count, "levels": cfg.levels,
            "reps": cfg.reps, "rates": list(cfg.rates), "duration": cfg.duration,
            "burst": cfg.burst, "slow": cfg.slow,
            "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}


def _quiet_logs() -> None:
    """The clients log every dropped message as a warning; keep the printout readable
    (their counters still report every loss)."""
    logging.basicConfig(level=logging.ERROR, format="%(name)s: %(message)s")
    for name in ("o2_sdk", "o2sync", "websockets", "websocket"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    if args.json == "stdlib":
        sys.modules["orjson"] = None  # type: ignore[assignment]  # o2sync falls back
    _quiet_logs()
    # imported only now: o2sync picks its JSON backend at import time
    import consumers
    from feed import FeedProcess
    from phases import Bench, Config
    from report import Results, render, summary

    consumers.TOUCH = args.touch
    cfg = Config.from_args(args)

    started = time.monotonic()
    res = Results(meta=_meta(cfg))
    res.meta["touch"] = args.touch
    with FeedProcess() as feed:
        print(f"feed pid {feed.proc.pid if feed.proc else '?'} at {feed.api_url}", flush=True)
        bench = Bench(cfg, feed, res)
        bench.throughput()
        bench.latency()
        bench.burst()
        bench.slow_consumer()
        bench.profile()
    res.meta["wall_s"] = round(time.monotonic() - started, 1)
    print(render(res))
    if args.summary_file:
        Path(args.summary_file).write_text(json.dumps(summary(res), indent=2) + "\n")


if __name__ == "__main__":
    main()
