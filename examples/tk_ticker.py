"""A Tkinter window with best bid/ask and the last trades, updated from o2sync callbacks.

Tk may only be touched from its main thread, so the client is given a
``dispatcher=`` hook: o2sync hands each callback to the hook instead of running it
on its own dispatcher thread, and the hook queues it for the Tk main loop, which
runs the queue every few milliseconds. (With a thread-enabled Tcl,
``dispatcher=lambda fn: root.after(0, fn)`` also works.)

    python examples/tk_ticker.py                    # runs until the window is closed
    python examples/tk_ticker.py --events 40        # closes itself after 40 updates
    python examples/tk_ticker.py --screenshot-after 40   # print "ready" for a screenshot
"""

from __future__ import annotations

import queue
import tkinter as tk
from typing import Any, Callable

from _endpoints import endpoint, enough, parser

from o2sync import TradeUpdate
from o2sync.book import LiveOrderBook

PUMP_MS = 15


class Ticker:
    """The window: a quote line, a spread line and a list of recent trades."""

    def __init__(self, root: tk.Tk, title: str) -> None:
        root.title(f"o2sync ticker - {title}")
        root.configure(padx=12, pady=12)
        font = ("DejaVu Sans Mono", 12)
        self.quote = tk.Label(root, text="waiting for the book...", font=(font[0], 16, "bold"))
        self.quote.pack(anchor="w")
        self.spread = tk.Label(root, text="", font=font, fg="#555555")
        self.spread.pack(anchor="w")
        tk.Label(root, text="last trades", font=font).pack(anchor="w", pady=(10, 0))
        self.trades = tk.Listbox(root, width=48, height=10, font=font)
        self.trades.pack(fill="both", expand=True)
        self.updates = 0

    def show_book(self, book: LiveOrderBook) -> None:
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None:
            return
        m = book.market
        bid_text, ask_text = m.display_price(bid.price), m.display_price(ask.price)
        self.quote.config(text=f"bid {bid_text}   ask {ask_text}")
        self.spread.config(text=f"spread {m.display_price(ask.price - bid.price)}  "
                                f"(book v{book.version})")
        self.updates += 1

    def show_trades(self, update: TradeUpdate, market: Any) -> None:
        for trade in update.trades:
            line = (f"{trade.side.value:<4} {market.display_quantity(trade.quantity):>14} @ "
                    f"{market.display_price(trade.price)}")
            self.trades.insert(0, line)
        self.trades.delete(10, tk.END)
        self.updates += 1


def pump(root: tk.Tk, pending: queue.Queue[Callable[[], None]], stop: Callable[[], bool]
         ) -> None:
    """Run the callbacks o2sync queued for the GUI thread, then come back."""
    while True:
        try:
            pending.get_nowait()()
        except queue.Empty:
            break
    if stop():
        root.destroy()
        return
    root.after(PUMP_MS, pump, root, pending, stop)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.set_defaults(events=0, rate=30.0)
    p.add_argument("--screenshot-after", type=int, default=0,
                   help='print "ready" once this many updates are shown (for tests)')
    args = p.parse_args()
    pending: queue.Queue[Callable[[], None]] = queue.Queue()
    root = tk.Tk()
    announced: list[bool] = []
    with endpoint(args) as ep, ep.client(dispatcher=pending.put) as client:
        market = client.get_market(ep.market)
        view = Ticker(root, market.pair)
        book = client.order_book(market)
        book.on_change(view.show_book)
        client.on_trades(market, lambda u: view.show_trades(u, market))

        def should_stop() -> bool:
            if args.screenshot_after and view.updates >= args.screenshot_after and not announced:
                announced.append(True)
                print("ready", flush=True)
            return enough(view.updates, ep.events)

        root.after(PUMP_MS, pump, root, pending, should_stop)
        root.mainloop()
        book.close()
    print(f"shown {view.updates} updates")


if __name__ == "__main__":
    main()
