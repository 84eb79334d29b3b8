"""The tpluspy streams guide, every block, as plain blocking code.

Each section is the async guide's code with ``async``/``await`` deleted (and
``asyncio.gather`` replaced by ``merge``); a ``break`` ends each section after a few
events. The guide's ``while True: try: ... except ConnectionClosed`` loop around
every stream is gone: o2sync reconnects, re-authenticates and says so on the
lifecycle stream.

    python examples/tplus_streams.py                          # against a simulator it starts
    python examples/tplus_streams.py --mds-url URL --oms-url URL --user-seed HEX
"""

from __future__ import annotations

from _tplus_endpoints import endpoint, parser

from o2sync import ConnectionState, merge
from o2sync.errors import StreamFailedError
from o2sync.tplus.client import MarketDataClient, OrderBookClient
from o2sync.tplus.model.asset_identifier import AssetIdentifier
from o2sync.tplus.model.orderbook import OrderBookDiff
from o2sync.tplus.model.trades import Trade
from o2sync.tplus.utils.user import User


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    with endpoint(args) as ep:
        user = User(ep.user_seed) if ep.user_seed else User()
        example_asset = AssetIdentifier(args.asset)
        limit = max(ep.events, 1)

        with MarketDataClient(ep.mds_url) as client:
            print("== Stream order book diffs")
            for n, diff_update in enumerate(client.stream_depth(example_asset), 1):
                if isinstance(diff_update, OrderBookDiff):
                    print(f"[Depth] Seq={diff_update.sequence_number}, "
                          f"Asks={len(diff_update.asks)}, Bids={len(diff_update.bids)}")
                if n >= limit:
                    break

            print("== Depth with the snapshot bootstrap")
            # the guide's recipe: snapshot, then diffs newer than it ...
            with client.stream_depth(example_asset) as diffs:
                snapshot = client.get_orderbook_snapshot(example_asset)
                last_seq = snapshot.sequence_number
                print(f"[Snapshot] Seq={last_seq}, {len(snapshot.bids)} bids")
                for n, diff in enumerate(diffs, 1):
                    if diff.sequence_number <= last_seq:
                        continue
                    last_seq = diff.sequence_number
                    if n >= limit:
                        break
            # ... which order_book() does for you, gaps and reconnects included
            with client.order_book(example_asset) as book:
                book.wait_ready(10)
                print(f"[Book] seq={book.sequence_number} best bid={book.best_bid} "
                      f"best ask={book.best_ask} verified={book.verify()}")

            print("== Stream finalized trades")
            for n, trade in enumerate(client.stream_finalized_trades(), 1):
                if isinstance(trade, Trade):
                    print(f"[Trade] ID: {trade.trade_id}, Price: {trade.price}, "
                          f"Qty: {trade.quantity}")
                if n >= limit:
                    break

            print("== Stream klines")
            for n, bar in enumerate(client.stream_klines(example_asset), 1):
                print(f"[Kline] open={bar.open} high={bar.high} low={bar.low} "
                      f"close={bar.close} volume={bar.volume}")
                if n >= max(limit // 4, 1):
                    break

            print("== Stream tickers")
            for n, ticker in enumerate(client.stream_ticker(example_asset), 1):
                print(f"[Ticker] {ticker.asset_id} last={ticker.last_price} "
                      f"mark={ticker.mark_price} vol24h={ticker.volume_24h}")
                if n >= max(limit // 4, 1):
                    break
            for tickers in client.stream_tickers():  # one list per frame: the markets that moved
                print(f"[Tickers] {len(tickers)} changed: "
                      f"{', '.join(str(t.asset_id)[:8] for t in tickers)}")
                break
            for oi in client.get_all_open_interest():
                print(f"[OpenInterest] {str(oi.asset_id)[:8]} total={oi.total_open_interest}")

        with OrderBookClient(ep.oms_url, default_user=user) as client:
            print("== Stream order events")
            for n, event in enumerate(client.stream_orders(), 1):
                print(f"[Order] {type(event).__name__} {event.order_id}")
                if n >= limit:
                    break

            print("== Stream user trade events")
            for n, user_trade in enumerate(client.stream_user_trade_events(), 1):
                print(f"[UserTrade] {user_trade.status} {user_trade.trade_id} "
                      f"{user_trade.quantity} @ {user_trade.price}")
                if n >= max(limit // 4, 1):
                    break

            print("== Stream positions, re-read on RECONNECTED")
            positions = client.stream_user_positions()
            life = client.stream_lifecycle()
            # the stream sends the complete list when it changes, not on connect: read it
            book = {(p.asset_id, p.sub_account_index): p for p in client.get_user_positions()}
            update = positions.get(timeout=10)
            book = {(p.asset_id, p.sub_account_index): p for p in update.positions}
            print(f"[Positions] {len(book)} at {update.timestamp_ns}")
            if ep.simulator is not None:
                ep.simulator.drop_connections(path=f"/positions/ws/{user.public_key}")
                for event in life:
                    if (event.state is ConnectionState.RECONNECTED
                            and event.stream.startswith("/positions/ws/")):
                        # updates sent while the socket was down are lost: re-read them
                        page = client.get_user_positions_page()
                        book = {(p.asset_id, p.sub_account_index): p for p in page.positions}
                        print(f"[Lifecycle] reconnected /positions/ws: re-read "
                              f"{len(book)} positions")
                        break
            for (asset, _), pos in sorted(book.items(), key=lambda kv: str(kv[0][0])):
                print(f"[Position] {str(asset)[:8]} {pos.side} {pos.size} @ {pos.entry_price}")
            positions.close()
            life.close()

            print("== Stream account events")
            for n, account_event in enumerate(client.stream_user_events(), 1):
                print(f"[AccountEvent] {type(account_event).__name__} "
                      f"at {account_event.timestamp_ns}")
                if n >= max(limit // 2, 1):
                    break
            margin = client.get_user_margin_info()
            for index, account in margin.accounts.items():
                print(f"[Margin] sub-account {index} equity={account.account_equity} "
                      f"calls={len(account.margin_calls)}")

            print("== Stream intent (market makers only)")
            if ep.simulator is not None:
                ep.simulator.set_market_maker(user.public_key)
            try:
                intent = client.stream_intent().get(timeout=10)
                print(f"[Intent] {intent.asset_id} watchers={intent.watchers} "
                      f"quantity={intent.quantity}")
            except StreamFailedError as exc:  # a user who is not a market maker: 403
                print(f"[Intent] refused: {exc}")

            print("== Several streams at once (asyncio.gather -> merge)")
            with MarketDataClient(ep.mds_url) as md:
                streams = (md.stream_depth(example_asset), md.stream_finalized_trades(),
                           client.stream_orders())
                for n, (sub, event) in enumerate(merge(*streams), 1):
                    print(f"[{sub.name}] {type(event).__name__}")
                    if n >= limit:
                        break
                for sub in streams:
                    sub.close()

            print("== Error handling: the loop is gone, the lifecycle says what happened")
            events = client.stream_lifecycle()
            orders = client.stream_orders()
            # the /orders socket the merge above closed may still be delivering: wait for
            # this stream's own socket before breaking it (bounded)
            while (event := events.get(timeout=10)).stream != "/orders" or \
                    event.state is not ConnectionState.CONNECTED:
                print(f"[Lifecycle] {event.state.value} {event.stream} {event.message}")
            print(f"[Lifecycle] {event.state.value} {event.stream} {event.message}")
            orders.get(timeout=10)
            if ep.simulator is not None:
                ep.simulator.drop_connections()
            for event in events:
                print(f"[Lifecycle] {event.state.value} {event.stream} {event.message}")
                if event.state is ConnectionState.RECONNECTED and event.stream == "/orders":
                    # resync: open orders from the order service, every page
                    open_orders = client.get_open_orders_for_book(example_asset)
                    print(f"[Resync] {len(open_orders)} open orders on {example_asset}")
                    break
                if ep.simulator is None:
                    break
            print(f"[Order after reconnect] {type(orders.get(timeout=10)).__name__}")


if __name__ == "__main__":
    main()
