"""React to RECONNECTED by re-reading balances and open orders over REST.

Events published while the socket was down are lost (the protocol replays nothing
but depth snapshots), so a client that tracks balances and orders re-syncs from
REST on every RECONNECTED. With the built-in simulator this example forces a few
drops itself so you can watch it happen.

    python examples/reconnect_resync.py --events 3
"""

from __future__ import annotations

import threading

from _endpoints import endpoint, parser

from o2sync import ConnectionEvent, ConnectionState


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.set_defaults(events=3)
    args = p.parse_args()
    with endpoint(args) as ep:
        if ep.account is None:
            raise SystemExit("--account is needed to re-sync balances and orders")
        with ep.client(backoff_initial=0.1) as client:
            resyncs = 0
            synced = threading.Event()

            @client.on_lifecycle
            def on_connection(event: ConnectionEvent) -> None:
                nonlocal resyncs
                print(f"lifecycle: {event.state.value} {event.message}")
                if event.state is ConnectionState.RECONNECTED:
                    balances = client.get_balances(ep.account)
                    orders = client.get_open_orders(ep.market, ep.account)
                    print(f"re-synced: {len(balances)} balances, {len(orders)} open orders")
                    resyncs += 1
                    synced.set()

            client.on_balances(ep.account, lambda u: print(f"balance: {len(u.balance)} asset(s)"))
            client.connect(timeout=10)
            while resyncs < ep.events or ep.events == 0:
                synced.clear()
                if ep.simulator is not None:
                    ep.simulator.drop_connections()  # pretend the network blipped
                while not synced.wait(timeout=0.5):  # slices: Ctrl-C stays responsive
                    pass
            print(f"done after {resyncs} reconnect(s)")


if __name__ == "__main__":
    main()
