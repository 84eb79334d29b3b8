"""Where the tplus examples connect: given service URLs, or a simulator they start.

    --mds-url/--oms-url URL   the market-data and order services (e.g. `o2sync sim --venue tplus`)
    --user-seed HEX           the user's 32-byte Ed25519 seed (default: the simulator's user)
    (neither URL)             a tplus simulator started in-process, with a busy market
    --events N                stop each section after about N events
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class TplusEndpoint:
    mds_url: str
    oms_url: str
    user_seed: Optional[str]
    events: int
    simulator: Any = None


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--mds-url", help="market-data service, e.g. http://127.0.0.1:8011")
    p.add_argument("--oms-url", help="order service, e.g. http://127.0.0.1:3032")
    p.add_argument("--user-seed", help="the user's Ed25519 seed, 64 hex digits")
    p.add_argument("--asset", default="200", help="asset id (index or address@chain)")
    p.add_argument("--events", type=int, default=20, help="events per section")
    p.add_argument("--rate", type=float, default=300.0, help="simulator events per second")
    return p


@contextlib.contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[TplusEndpoint]:
    """Yield a TplusEndpoint; starts (and finally stops) a simulator if no URL was given."""
    if args.mds_url or args.oms_url:
        if not (args.mds_url and args.oms_url):
            raise SystemExit("give both --mds-url and --oms-url")
        yield TplusEndpoint(args.mds_url, args.oms_url, args.user_seed, args.events)
        return
    from o2sync.testing import TplusSimulator

    with TplusSimulator(rate=args.rate, mds_port=0, oms_port=0) as sim:
        print(f"# tplus simulator: MDS {sim.mds_url}, OMS {sim.oms_url}, user {sim.user_id}")
        yield TplusEndpoint(sim.mds_url, sim.oms_url, args.user_seed or sim.user_seed,
                            args.events, sim)
