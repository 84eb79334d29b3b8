"""Depth, orders and trades at once: first with merge(), then with callbacks.

merge() is the blocking counterpart of the guide's ``asyncio.gather`` over three
``async for`` loops; callbacks plus ``run_forever()`` are the event-driven form.

    python examples/multiple_streams.py --events 30
"""

from __future__ import annotations

import threading
from typing import Any

from _endpoints import endpoint, enough, parser

from o2sync import DepthUpdate, O2Client, OrderUpdate, TradeUpdate, merge


def show(event: Any) -> None:
    if isinstance(event, DepthUpdate):
        if event.changes.best_bid:
            print(f"Best bid: {event.changes.best_bid.price}")
    elif isinstance(event, OrderUpdate):
        for order in event.orders:
            print(f"Order {order.order_id}: {'open' if order.is_open else 'closed'}")
    elif isinstance(event, TradeUpdate):
        for trade in event.trades:
            print(f"Trade: {trade.quantity} @ {trade.price}")


def with_merge(client: O2Client, market: str, account: str, limit: int) -> int:
    depth = client.stream_depth(market)
    orders = client.stream_orders(account)
    trades = client.stream_trades(market)
    seen = 0
    for _sub, event in merge(depth, orders, trades):
        show(event)
        seen += 1
        if enough(seen, limit):
            break
    for sub in (depth, orders, trades):
        sub.close()
    return seen


def with_callbacks(client: O2Client, market: str, account: str, limit: int) -> int:
    seen = 0
    lock = threading.Lock()

    def handle(event: Any) -> None:
        nonlocal seen
        show(event)
        with lock:
            seen += 1
            if enough(seen, limit):
                client.close()  # run_forever() returns

    client.on_depth(market, handle)
    client.on_orders(account, handle)
    client.on_trades(market, handle)
    client.run_forever()  # until close() or Ctrl-C
    return seen


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    with endpoint(args) as ep:
        if ep.account is None:
            raise SystemExit("--account is needed for the orders stream")
        with ep.client() as client:
            print("== merge()")
            n = with_merge(client, ep.market, ep.account, ep.events)
            print(f"merge() handled {n} events")
        with ep.client() as client:
            print("== callbacks + run_forever()")
            n = with_callbacks(client, ep.market, ep.account, ep.events)
            print(f"callbacks handled {n} events")


if __name__ == "__main__":
    main()
