"""``o2sync demo``: a live terminal view of a market's book and trades.

It starts the simulator in-process (or uses the URLs given), keeps a
LiveOrderBook and a trade callback, and redraws a rich layout in place.

The layout is computed for the terminal's size at every redraw, so it follows a
resize: side by side (bids | asks | trades, with cumulative depth bars) on a wide
terminal, book (asks over bids) next to trades on a normal one, stacked on a
narrow one. The status line (connection state, messages, drops, reconnects) is a
region of its own at the bottom and is always drawn.

The view reads a book through the API both venues' live books offer (``best_bid``,
``best_ask``, ``bids(n)``, ``asks(n)``; levels with ``.price``/``.quantity``) and
turns numbers into text with :class:`Units`: ``Units.of_o2(market)`` scales O2's
chain integers; ``Units.plain(...)`` shows Decimals as they are (tplus).
"""

from __future__ import annotations

import collections
import io
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Optional

from rich.console import Console, RenderableType
from rich.layout import Layout
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..o2.client import O2Client
from ..o2.models import Market, TradeUpdate

#: Terminal widths at which the layout changes.
WIDE = 120
NARROW = 64
TRADES_KEPT = 200

_STATE_STYLE = {"connected": "bold green", "reconnected": "bold green",
                "reconnecting": "bold yellow", "disconnected": "bold red",
                "failed": "bold red", "closed": "bold red"}


@dataclass(frozen=True)
class Units:
    """How the view writes a venue's numbers: price and quantity text, quantity value."""

    pair: str
    base: str
    price: Callable[[Any], str]
    quantity: Callable[[Any], str]
    quantity_value: Callable[[Any], Decimal]

    @classmethod
    def of_o2(cls, market: Market) -> Units:
        """O2: chain integers, scaled by the market."""
        return cls(market.pair, market.base.symbol, market.display_price,
                   market.display_quantity, market.format_quantity)

    @classmethod
    def plain(cls, pair: str, base: str, price_places: Optional[int] = None,
              quantity_places: Optional[int] = None) -> Units:
        """A venue whose book already holds Decimal prices and quantities (tplus);
        with ``*_places`` (the market's book decimals), shown to that many places."""
        return cls(pair, base, _decimal_text(price_places), _decimal_text(quantity_places),
                   Decimal)


def _decimal_text(places: Optional[int]) -> Callable[[Any], str]:
    if places is None or places < 0:
        return lambda v: f"{Decimal(v):f}"
    step = Decimal(1).scaleb(-places)
    return lambda v: f"{Decimal(v).quantize(step):f}"


@dataclass(frozen=True)
class TapeEntry:
    """A trade on the tape: when it was seen, the taker's side (``"Buy"``/``"Sell"``,
    ``"?"`` if unknown), raw price, quantity."""

    seen: float
    side: str
    price: Any
    quantity: Any


@dataclass
class View:
    """What one redraw reads: the book, recent trades (newest first), the counters."""

    book: Any  # LiveOrderBook, or any book with best_bid/best_ask/bids(n)/asks(n)
    units: Units
    trades: collections.deque[TapeEntry]
    stats: Callable[[], dict[str, Any]]
    lock: threading.Lock
    where: str = ""
    last_event: str = ""


def _ladder(m: Units, levels: list[Any], side: str, rows: int, bars: bool,
            title: str) -> Panel:
    """One side of the book as a panel: price, quantity, cumulative total (+ bar)."""
    colour = "green" if side == "bid" else "red"
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column("price", justify="right", style=colour, no_wrap=True)
    table.add_column(f"qty ({m.base})", justify="right", no_wrap=True)
    table.add_column("total", justify="right", style="dim", no_wrap=True)
    if bars:
        table.add_column("depth", ratio=1, no_wrap=True)
    shown = levels[:max(rows, 0)]
    totals, running = [], 0
    for level in shown:
        running += level.quantity
        totals.append(running)
    biggest = totals[-1] if totals and totals[-1] else 1
    for level, total in zip(shown, totals):
        cells: list[RenderableType] = [m.price(level.price), m.quantity(level.quantity),
                                       _compact(m.quantity_value(total))]
        if bars:
            cells.append(_Bar(total / biggest, colour))
        table.add_row(*cells)
    return Panel(table, title=title, border_style=colour, padding=(0, 0))


class _Bar:
    """A horizontal bar as wide as its cell times ``fraction``."""

    def __init__(self, fraction: float, colour: str) -> None:
        self.fraction, self.colour = fraction, colour

    def __rich_console__(self, console: Console, options: Any) -> Any:
        width = max(int(options.max_width * self.fraction), 1)
        yield Text("█" * width, style=self.colour, no_wrap=True, overflow="crop")

    def __rich_measure__(self, console: Console, options: Any) -> Any:
        from rich.measure import Measurement

        return Measurement(1, options.max_width)


def _compact(value: Any) -> str:
    """A cumulative quantity in few characters: 1234567.5 -> 1.23M."""
    v = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:.2f}{suffix}"
    return f"{v:.2f}"


def _book(view: View, rows: int) -> Panel:
    """Asks over bids in one panel (compact layouts)."""
    book, m = view.book, view.units
    per_side = max((rows - 1) // 2, 1)
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column("price", justify="right", no_wrap=True)
    table.add_column(f"qty ({m.base})", justify="right", no_wrap=True)
    for level in reversed(book.asks(per_side)):
        table.add_row(Text(m.price(level.price), style="red"), m.quantity(level.quantity))
    table.add_row(Text(_spread_text(view), style="bold"), "")
    for level in book.bids(per_side):
        table.add_row(Text(m.price(level.price), style="green"), m.quantity(level.quantity))
    return Panel(table, title=f"{m.pair} order book", padding=(0, 0))


def _spread_text(view: View) -> str:
    bid, ask = view.book.best_bid, view.book.best_ask
    if bid is None or ask is None:
        return "spread -"
    return f"spread {view.units.price(ask.price - bid.price)}"


def _tape(view: View, rows: int, with_time: bool) -> Panel:
    m = view.units
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    if with_time:
        table.add_column("time", style="dim", no_wrap=True)
    table.add_column("taker", no_wrap=True)  # the aggressor's side, on both venues
    table.add_column("price", justify="right", no_wrap=True)
    table.add_column("qty", justify="right", no_wrap=True)
    with view.lock:
        recent = list(view.trades)[:max(rows, 0)]
    for t in recent:
        colour = "green" if t.side == "Buy" else "red"
        cells: list[RenderableType] = []
        if with_time:
            cells.append(time.strftime("%H:%M:%S", time.localtime(t.seen)))
        cells += [Text(t.side, style=colour), Text(m.price(t.price), style=colour),
                  m.quantity(t.quantity)]
        table.add_row(*cells)
    return Panel(table, title="last trades", padding=(0, 0))


def _status(view: View, width: int) -> Text:
    s = view.stats()
    state = str(s["state"])
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" {state} ", style=_STATE_STYLE.get(state, "bold"))
    text.append(f" messages {s['messages']}  drops {s['dropped']}  "
                f"reconnects {s['reconnects']}")
    version = getattr(view.book, "version", None)
    if width >= 100 and version is not None:
        text.append(f"  book v{version}", style="dim")
    if view.last_event and width >= WIDE:
        text.append(f"  last: {view.last_event}", style="dim")
    text.append("  Ctrl-C quits", style="dim")
    return text


def _header(view: View, width: int) -> Text:
    book, m = view.book, view.units
    bid, ask = book.best_bid, book.best_ask
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" {m.pair} ", style="bold reverse")
    text.append("  bid ")
    text.append(m.price(bid.price) if bid else "-", style="bold green")
    text.append("  ask ")
    text.append(m.price(ask.price) if ask else "-", style="bold red")
    text.append(f"  {_spread_text(view)}")
    precision = getattr(book, "precision", None)
    if width >= 100:
        extra = f"precision {precision}  " if precision is not None else ""
        text.append(f"  {extra}{view.where}", style="dim")
    return text


def render(view: View, width: int, height: int) -> Layout:
    """The whole screen for a ``width`` x ``height`` terminal."""
    root = Layout()
    body = Layout(name="body")
    root.split_column(Layout(_header(view, width), name="header", size=1), body,
                      Layout(_status(view, width), name="status", size=1))
    body_rows = max(height - 2, 3)
    inner = body_rows - 3  # panel borders and the column headings
    m = view.units
    if width >= WIDE:
        body.split_row(
            Layout(_ladder(m, view.book.bids(inner), "bid", inner, True,
                           f"{m.pair} order book: bids"), ratio=3),
            Layout(_ladder(m, view.book.asks(inner), "ask", inner, True, "asks"), ratio=3),
            Layout(_tape(view, inner, True), ratio=3))
    elif width >= NARROW:
        body.split_row(Layout(_book(view, inner), ratio=1),
                       Layout(_tape(view, inner, width >= 90), ratio=1))
    else:
        book_rows = max(body_rows * 3 // 5, 5)
        trade_rows = max(body_rows - book_rows, 3)
        body.split_column(Layout(_book(view, book_rows - 3), size=book_rows),
                          Layout(_tape(view, trade_rows - 3, False), size=trade_rows))
    return root


def run_demo(client: O2Client, market: str, *, seconds: float = 0.0,
             console: Optional[Console] = None, refresh: float = 8.0,
             connect_timeout: Optional[float] = 10.0, reporter: Any = None) -> int:
    """Show the view until ``seconds`` pass (0 = until Ctrl-C) or the client closes.

    Returns the redraw count. ``reporter`` (a LifecycleReporter) is kept quiet while
    the screen is up; its lines go to stderr when the view ends, and the latest one
    shows in the status line meanwhile.
    """
    resolved: Market = client.get_market(market)
    trades: collections.deque[TapeEntry] = collections.deque(maxlen=TRADES_KEPT)
    lock = threading.Lock()

    def on_trades(update: TradeUpdate) -> None:
        now = time.time()
        with lock:
            trades.extendleft(TapeEntry(now, t.taker_side or "?", t.price, t.quantity)
                              for t in update.trades)  # O2 sends the maker's side

    client.on_trades(resolved, on_trades)
    print(f"o2sync demo: {resolved.pair} from {client.ws_url} (Ctrl-C to quit)", flush=True)
    with client.order_book(resolved) as book:
        if connect_timeout:
            client.connect(timeout=connect_timeout)
        book.wait_ready(10.0)
        view = View(book, Units.of_o2(resolved), trades, client.stats, lock, client.ws_url)
        return show(view, console=console, refresh=refresh, seconds=seconds,
                    reporter=reporter)


def run_tplus_demo(session: Any, asset: Any, *, seconds: float = 0.0,
                   console: Optional[Console] = None, refresh: float = 8.0,
                   connect_timeout: Optional[float] = 10.0, reporter: Any = None) -> int:
    """:func:`run_demo` for tplus: ``session`` is a :class:`~o2sync.cli.tplus.TplusSession`
    (its market-data client feeds the view), ``asset`` an asset id. Same layout, same
    status line; the book is the self-healing ``order_book(asset)`` (Decimals)."""
    from ..tplus.asset import AssetIdentifier

    md = session.md
    a = session.check("depth", str(asset))
    assert isinstance(a, AssetIdentifier)
    trades: collections.deque[TapeEntry] = collections.deque(maxlen=TRADES_KEPT)
    lock = threading.Lock()

    def on_trade(trade: Any) -> None:
        if trade.asset_id != a:
            return  # /trades carries every market
        with lock:
            trades.appendleft(TapeEntry(time.time(), trade.taker_side, trade.price,
                                        trade.quantity))

    md.on_finalized_trades(on_trade)
    url = session.stream_url("depth", a)
    name = session.label(a)  # the asset table's symbol, else a short id
    print(f"o2sync demo: tplus {session.names.describe(a)} from {url} (Ctrl-C to quit)",
          flush=True)
    with md.order_book(a) as book:
        if connect_timeout:
            session.connect("depth", a, connect_timeout)
        book.wait_ready(10.0)
        market = session.market(a)  # the book's decimals, from the order service
        units = Units.plain(f"tplus {name}", name,
                            market.book_price_decimals if market else None,
                            market.book_quantity_decimals if market else None)
        view = View(book, units, trades, md.stats, lock, url)
        return show(view, console=console, refresh=refresh, seconds=seconds,
                    reporter=reporter)


def show(view: View, *, console: Optional[Console] = None, refresh: float = 8.0,
         seconds: float = 0.0, reporter: Any = None) -> int:
    """Redraw ``view`` in place until ``seconds`` pass (0 = until Ctrl-C) or its
    client closes; returns the redraw count."""
    console = console or Console()
    held = io.StringIO()
    redraws = 0

    def draw() -> Layout:
        nonlocal redraws
        redraws += 1
        if reporter is not None and reporter.events:
            from .status import describe

            view.last_event = describe(reporter.events[-1])
        width, height = console.size
        return render(view, width, height)

    if reporter is not None:
        reporter.err = held
    deadline = time.monotonic() + seconds if seconds else None
    idle = threading.Event()  # never set: a timed wait that Ctrl-C interrupts
    try:
        with Live(console=console, refresh_per_second=refresh, get_renderable=draw,
                  screen=console.is_terminal, redirect_stderr=False):
            while deadline is None or time.monotonic() < deadline:
                if view.stats()["state"] == "closed":
                    break
                idle.wait(0.1)
    finally:
        if reporter is not None:
            reporter.err = None
            sys.stderr.write(held.getvalue())
            sys.stderr.flush()
    return redraws
