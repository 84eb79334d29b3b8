"""The O2 WebSocket streams guide, every snippet, as plain blocking code.

Each section is the async guide's snippet with ``async``/``await`` deleted; the only
additions are the ``break`` that ends each section after a few events, and the
``with`` that closes a stream when its section is done.

    python examples/legacy_script.py                 # against a simulator it starts
    python examples/legacy_script.py --network testnet --account 0x...
"""

from __future__ import annotations

from _endpoints import endpoint, enough, parser


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    with endpoint(args) as ep, ep.client() as client:
        market, account, limit = ep.market, ep.account, max(ep.events // 5, 1)

        print("== Order book depth")
        with client.stream_depth(market, precision=1) as depth:
            for n, update in enumerate(depth, 1):
                if update.is_snapshot:
                    # First message is a full snapshot
                    print(f"Snapshot: {len(update.changes.bids)} bids, "
                          f"{len(update.changes.asks)} asks")
                else:
                    # Subsequent messages are incremental updates
                    if update.changes.best_bid:
                        print(f"Best bid: {update.changes.best_bid.price}")
                    if update.changes.best_ask:
                        print(f"Best ask: {update.changes.best_ask.price}")
                if enough(n, limit):
                    break

        print("== Trade feed")
        with client.stream_trades(market) as trades:
            for n, update in enumerate(trades, 1):
                for trade in update.trades:
                    print(f"{trade.side} {trade.quantity} @ {trade.price}")
                if enough(n, limit):
                    break

        if account is None:
            print("(no --account: skipping the account streams)")
            return

        print("== Order updates")
        with client.stream_orders(account) as orders:
            for n, update in enumerate(orders, 1):
                for order in update.orders:
                    status = "OPEN" if order.is_open else "CLOSED"
                    filled = f"{order.quantity_fill}/{order.quantity}"
                    print(f"[{status}] {order.side} {order.order_id}: {filled}")
                    if order.cancel:
                        print("  Canceled")
                if enough(n, limit):
                    break

        print("== Balance updates")
        with client.stream_balances(account) as balances:
            for n, update in enumerate(balances, 1):
                for entry in update.balance:
                    print(f"Balance change: {entry}")
                if enough(n, limit):
                    break

        print("== Nonce monitoring")
        with client.stream_nonce(account) as nonces:
            for n, update in enumerate(nonces, 1):
                print(f"Nonce changed: {update.nonce} (account={update.contract_id})")
                if enough(n, limit):
                    break
    # Graceful shutdown: leaving the `with` closed the client (or call client.close()).


if __name__ == "__main__":
    main()
