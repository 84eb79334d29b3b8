"""A pool of worker threads consuming one subscription's queue.

``Subscription.get()`` is thread-safe: several workers can pull from one stream,
each event going to exactly one of them. Closing the subscription (or the client)
ends every worker's loop.

    python examples/worker_queue.py --events 100 --workers 4
"""

from __future__ import annotations

import collections
import queue
import threading

from _endpoints import endpoint, parser

from o2sync import Subscription, SubscriptionClosed, TradeUpdate


def worker(sub: Subscription[TradeUpdate], done: collections.Counter, lock: threading.Lock,
           budget: threading.Semaphore) -> None:
    name = threading.current_thread().name
    while True:
        try:
            update = sub.get(timeout=1.0)
        except queue.Empty:
            continue
        except SubscriptionClosed:
            return
        volume = sum(t.quantity for t in update.trades)
        with lock:
            done[name] += 1
        print(f"{name}: {len(update.trades)} trade(s), volume {volume}")
        if not budget.acquire(blocking=False):
            sub.close()  # enough: every worker's next get() ends its loop


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=4)
    args = p.parse_args()
    with endpoint(args) as ep, ep.client() as client:
        sub = client.stream_trades(ep.market)
        done: collections.Counter = collections.Counter()
        lock = threading.Lock()
        # every worker takes one permit per update; the one that finds none closes the stream
        budget = threading.Semaphore(max(ep.events - 1, 0) if ep.events else 10**9)
        pool = [threading.Thread(target=worker, args=(sub, done, lock, budget), name=f"worker-{i}")
                for i in range(args.workers)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        print(f"handled {sum(done.values())} updates: {dict(done)}")


if __name__ == "__main__":
    main()
