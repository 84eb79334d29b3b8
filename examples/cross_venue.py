"""Two venues, one loop: an O2 depth stream and a tplus depth stream through merge().

Each side keeps a live book (O2: ``order_book``; tplus: ``order_book``, healed by
sequence number); the loop prints both best bids side by side whenever either
venue's depth moves. Both are read through ``book.scaled()``, the book in market
units (exact Decimals on both venues), so one line of code prints either.

    python examples/cross_venue.py                 # against two simulators it starts
    python examples/cross_venue.py --ws-url URL --api-url URL --mds-url URL
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from o2sync import O2Client, merge
from o2sync.books import BookReader
from o2sync.tplus import AssetIdentifier, MarketDataClient


@contextlib.contextmanager
def endpoints(args: argparse.Namespace) -> Iterator[tuple[dict[str, Any], str]]:
    """(O2Client options, tplus MDS URL), starting simulators for what was not given."""
    with contextlib.ExitStack() as stack:
        if args.ws_url or args.api_url:
            o2 = {"ws_url": args.ws_url, "api_url": args.api_url}
        else:
            from o2sync.testing import Simulator

            sim = stack.enter_context(Simulator(rate=args.rate))
            o2 = {"ws_url": sim.ws_url, "api_url": sim.api_url}
        if args.mds_url:
            mds = args.mds_url
        else:
            from o2sync.testing import TplusSimulator

            mds = stack.enter_context(TplusSimulator(rate=args.rate, mds_port=0,
                                                     oms_port=0)).mds_url
        yield o2, mds


def _best_bid(book: BookReader) -> str:
    """The best bid price of either venue's book, in market units."""
    bid = book.best_bid
    return f"{bid.price:f}" if bid is not None else "-"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ws-url"), p.add_argument("--api-url"), p.add_argument("--mds-url")
    p.add_argument("--market", default="fFUEL/fUSDC", help="O2 pair")
    p.add_argument("--asset", default="200", help="tplus asset")
    p.add_argument("--events", type=int, default=30, help="stop after N depth events")
    p.add_argument("--rate", type=float, default=200.0, help="simulator events per second")
    args = p.parse_args()
    with endpoints(args) as (o2_options, mds_url), O2Client(**o2_options) as o2, \
            MarketDataClient(mds_url) as md:
        market = o2.get_market(args.market)
        asset = AssetIdentifier(args.asset)
        o2_book, tp_book = o2.order_book(market), md.order_book(asset)
        o2_book.wait_ready(10), tp_book.wait_ready(10)
        o2_depth, tp_depth = o2.stream_depth(market), md.stream_depth(asset)
        views: list[BookReader] = [o2_book.scaled(), tp_book.scaled()]
        for n, (sub, _event) in enumerate(merge(o2_depth, tp_depth), 1):
            o2_text, tp_text = (_best_bid(view) for view in views)
            venue = "o2   " if sub is o2_depth else "tplus"
            print(f"{venue} moved | O2 {market.pair} bid {o2_text:>12} | "
                  f"tplus {asset} bid {tp_text:>10}")
            if n >= args.events:
                break
        print(f"done: {n} depth events from two venues in one loop")


if __name__ == "__main__":
    main()
