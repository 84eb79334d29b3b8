"""``o2sync demo``: a live terminal view of a market's book and trades.

It starts the simulator in-process (or uses the URLs given), keeps a
LiveOrderBook and a trade callback, and redraws a rich layout in place.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Optional

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..o2.book import LiveOrderBook
from ..o2.client import O2Client
from ..o2.models import Market, Trade, TradeUpdate

LEVELS = 8
TRADES = 10


def render(book: LiveOrderBook, trades: collections.deque[Trade], client: O2Client) -> Group:
    """The whole screen: asks over bids, spread, recent trades, a status line."""
    m = book.market
    table = Table(title=f"{m.pair}  order book (precision {book.precision})", expand=False)
    table.add_column("side")
    table.add_column("price", justify="right")
    table.add_column(f"quantity ({m.base.symbol})", justify="right")
    for level in reversed(book.asks(LEVELS)):
        table.add_row(Text("ask", style="red"), str(m.display_price(level.price)),
                      str(m.display_quantity(level.quantity)))
    spread = book.spread
    table.add_row("", Text(f"spread {m.display_price(spread) if spread is not None else '-'}",
                           style="bold"), "")
    for level in book.bids(LEVELS):
        table.add_row(Text("bid", style="green"), str(m.display_price(level.price)),
                      str(m.display_quantity(level.quantity)))
    tape = Table(title="last trades", expand=False)
    tape.add_column("side")
    tape.add_column("price", justify="right")
    tape.add_column("quantity", justify="right")
    for t in list(trades):
        tape.add_row(Text(t.side.value, style="green" if t.side.value == "Buy" else "red"),
                     str(m.display_price(t.price)), str(m.display_quantity(t.quantity)))
    s = client.stats()
    status = Text(f"{s['state']}  messages {s['messages']}  book v{book.version}  "
                  f"dropped {s['dropped']}  reconnects {s['reconnects']}  (Ctrl-C to quit)",
                  style="dim")
    return Group(Panel(table, expand=False), Panel(tape, expand=False), status)


def run_demo(client: O2Client, market: str, *, seconds: float = 0.0,
             console: Optional[Console] = None, refresh: float = 8.0) -> int:
    """Show the view until ``seconds`` pass (0 = until Ctrl-C). Returns the redraw count."""
    resolved: Market = client.get_market(market)
    trades: collections.deque[Trade] = collections.deque(maxlen=TRADES)
    lock = threading.Lock()

    def on_trades(update: TradeUpdate) -> None:
        with lock:
            trades.extendleft(update.trades)

    client.on_trades(resolved, on_trades)
    print(f"o2sync demo: {resolved.pair} from {client.ws_url} (Ctrl-C to quit)", flush=True)
    redraws = 0
    with client.order_book(resolved) as book:
        book.wait_ready(10.0)
        deadline = time.monotonic() + seconds if seconds else None
        with Live(console=console, refresh_per_second=refresh, transient=False) as live:
            try:
                while deadline is None or time.monotonic() < deadline:
                    book.wait_update(1.0 / refresh)
                    with lock:
                        live.update(render(book, trades, client))
                    redraws += 1
            except KeyboardInterrupt:
                pass
    return redraws

