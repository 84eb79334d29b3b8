"""Where the examples connect: given URLs, a public network, or a simulator they start.

Every example takes the same options::

    --ws-url/--api-url URL   a deployment (or a simulator you run with `o2sync sim`)
    --network testnet        a public network (needs internet, and --account for
                             the account streams)
    (neither)                a simulator started in-process, with a busy market
    --events N               stop after N events (0 = run until Ctrl-C)
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional

from o2sync import Network, O2Client

DEFAULT_MARKET = "fFUEL/fUSDC"


@dataclass
class Endpoint:
    """What an example needs to build its client and pick its streams."""

    client_options: dict[str, Any]
    market: str
    account: Optional[str]
    events: int
    simulator: Any = None  # the in-process Simulator, when the example started one

    def client(self, **extra: Any) -> O2Client:
        return O2Client(**self.client_options, **extra)


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--ws-url", help="WebSocket URL, e.g. ws://127.0.0.1:8000/v1/ws")
    p.add_argument("--api-url", help="REST base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--network", choices=[n.value for n in Network],
                   help="a public O2 network instead of a simulator")
    p.add_argument("--market", default=DEFAULT_MARKET, help="pair name or market id")
    p.add_argument("--account", help="trade account id for orders/balances/nonce")
    p.add_argument("--events", type=int, default=50, help="stop after N events (0 = forever)")
    p.add_argument("--rate", type=float, default=200.0, help="simulator events per second")
    return p


@contextlib.contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[Endpoint]:
    """Yield an Endpoint; starts (and finally stops) a simulator if no URL was given."""
    if args.ws_url or args.api_url:
        yield Endpoint({"ws_url": args.ws_url, "api_url": args.api_url}, args.market,
                       args.account, args.events)
        return
    if args.network:
        yield Endpoint({"network": Network(args.network)}, args.market, args.account,
                       args.events)
        return
    from o2sync.testing import Simulator

    with Simulator(rate=args.rate) as sim:
        print(f"# simulator at {sim.ws_url} (account {sim.account})")
        yield Endpoint({"ws_url": sim.ws_url, "api_url": sim.api_url}, args.market,
                       args.account or sim.account, args.events, sim)


def enough(count: int, limit: int) -> bool:
    """True once ``limit`` events were seen (never, for limit 0)."""
    return limit > 0 and count >= limit
