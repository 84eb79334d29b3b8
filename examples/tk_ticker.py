"""A Tkinter market window: depth ladder, depth chart, trade tape, connection state.

How callbacks reach Tk (the one rule of GUI code with o2sync): Tk may only be
touched from its main thread. The client is built with
``dispatcher=pending.put``, so o2sync does not run callbacks on its own dispatcher
thread but puts each one on a ``queue.Queue``; the Tk main loop drains that queue
every 15 ms (``root.after``) and runs the callbacks there. This works with every
Tcl build; do not call ``root.after`` from o2sync's threads instead.

What to copy:

* ``Venue`` is all the window knows of an exchange: market names, "follow this
  market" (book changes, trades) and connection events. ``O2Venue`` adapts an
  ``O2Client``; ``TplusVenue`` adapts a tplus ``MarketDataClient`` (same book
  reading API: ``best_bid``/``best_ask``/``bids(n)``/``asks(n)``/``on_change``/
  ``wait_ready``, with Decimal prices already). A third venue is one more small
  adapter.
* ``MarketWindow`` draws Decimal ``Level`` lists; it never sees chain integers.
* The book's ``on_change`` coalesces: a slow redraw gets the latest book, not a
  backlog.

    python examples/tk_ticker.py                    # runs until the window is closed
    python examples/tk_ticker.py --events 40        # closes itself after 40 updates
    python examples/tk_ticker.py --screenshot-after 40   # print "ready" for a screenshot
    python examples/tk_ticker.py --venue tplus      # a tplus book (simulator started here)
    python examples/tk_ticker.py --venue tplus --mds-url http://127.0.0.1:8011 \
        --oms-url http://127.0.0.1:3032 --market 200   # e.g. `o2sync sim --venue tplus`
"""

from __future__ import annotations

import contextlib
import queue
import signal
import sys
import time
import tkinter as tk
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from tkinter import ttk
from typing import Any, Callable, Literal, NamedTuple, Optional, Protocol

from _endpoints import DEFAULT_MARKET, endpoint, enough, parser

from o2sync import ConnectionEvent, O2Client, TradeUpdate
from o2sync.book import LiveOrderBook
from o2sync.tplus import MarketDataClient, OrderBookClient, SequencedBook
from o2sync.tplus import Trade as TplusTrade
from o2sync.tplus.symbols import MarketNames

PUMP_MS = 15
LADDER_LEVELS = 12
CHART_LEVELS = 40
TAPE_ROWS = 200

BID, ASK = "#1a9850", "#d73027"           # green / red
BID_FILL, ASK_FILL = "#c7e9c0", "#fcbba1"  # their light tints
STATE_COLOURS = {"connected": BID, "reconnected": BID, "reconnecting": "#f39c12",
                 "disconnected": ASK, "failed": ASK, "closed": "#777777"}


# -- what the window needs from a venue ------------------------------------------------


class Level(NamedTuple):
    """A price level in human units."""

    price: Decimal
    quantity: Decimal


@dataclass
class BookView:
    """A book as the window draws it: best first on each side."""

    bids: list[Level]
    asks: list[Level]
    version: int = 0


@dataclass
class TapeTrade:
    """A trade as the tape shows it."""

    side: str  # the taker's (aggressor's) side: "buy" or "sell"
    price: Decimal
    quantity: Decimal
    seen: float  # time.time() when received


class Venue(Protocol):
    """All the window knows of an exchange. Callbacks arrive on the Tk thread."""

    name: str

    def markets(self) -> list[str]: ...

    def follow(self, market: str, on_book: Callable[[BookView], None],
               on_trades: Callable[[list[TapeTrade]], None]) -> Callable[[], None]:
        """Start following ``market``; returns the function that stops it."""
        ...

    def on_state(self, callback: Callable[[str, str], None]) -> None:
        """``callback(state, message)`` on every connection event."""
        ...

    def stats(self) -> dict[str, Any]: ...


class O2Venue:
    """``Venue`` over an ``O2Client``: reads the book through ``book.scaled()`` (market
    units) and scales trades with the Market."""

    name = "O2"

    def __init__(self, client: O2Client) -> None:
        self.client = client

    def markets(self) -> list[str]:
        return [m.pair for m in self.client.get_markets()]

    def follow(self, market: str, on_book: Callable[[BookView], None],
               on_trades: Callable[[list[TapeTrade]], None]) -> Callable[[], None]:
        m = self.client.get_market(market)
        book = self.client.order_book(m)

        def book_changed(b: LiveOrderBook) -> None:
            view = b.scaled()  # the book in market units: exact Decimal levels
            on_book(BookView([Level(*lv) for lv in view.bids(CHART_LEVELS)],
                             [Level(*lv) for lv in view.asks(CHART_LEVELS)], b.version))

        def traded(update: TradeUpdate) -> None:
            now = time.time()
            # O2 sends the maker's side; the tape shows the taker's, as tplus's does
            on_trades([TapeTrade((t.taker_side or "?").lower(), m.format_price(t.price),
                                 m.format_quantity(t.quantity), now)
                       for t in update.trades])

        changes = book.on_change(book_changed)
        trades = self.client.on_trades(m, traded)

        def stop() -> None:
            changes.close()
            trades.close()
            book.close()

        return stop

    def on_state(self, callback: Callable[[str, str], None]) -> None:
        self.client.on_lifecycle(lambda e: callback(e.state.value, _event_text(e)))

    def stats(self) -> dict[str, Any]:
        return self.client.stats()


class TplusVenue:
    """``Venue`` over a tplus ``MarketDataClient``: its book already speaks Decimal.

    Markets are named by the symbols the order service's market list gives
    (``MarketNames``: ``"ETH"`` for asset 200, a short id for an ``address@chain``
    asset) when an ``OrderBookClient`` is given, else by the assets named. ``/trades``
    carries every market, so trades are filtered by asset; a trade's side is the
    taker's (``Trade.taker_side``; ``buyer_is_maker`` means a seller took the bid).
    """

    name = "tplus"

    def __init__(self, md: MarketDataClient, oms: Optional[OrderBookClient] = None,
                 assets: Sequence[str] = ()) -> None:
        self.md, self.oms, self.assets = md, oms, list(assets)
        self.names = MarketNames.of(oms) if oms is not None else MarketNames()

    def label(self, asset: str) -> str:
        """The name the picker shows for ``asset`` (an id, a symbol or a short id)."""
        return self.names.label(self.names.resolve(asset))

    def markets(self) -> list[str]:
        if len(self.names):
            return [self.names.label(key) for key in self.names]
        return self.assets

    def follow(self, market: str, on_book: Callable[[BookView], None],
               on_trades: Callable[[list[TapeTrade]], None]) -> Callable[[], None]:
        asset = self.names.resolve(market)
        book = self.md.order_book(asset)

        def book_changed(b: SequencedBook) -> None:
            on_book(BookView([Level(lv.price, lv.quantity) for lv in b.bids(CHART_LEVELS)],
                             [Level(lv.price, lv.quantity) for lv in b.asks(CHART_LEVELS)],
                             b.version))

        def traded(t: TplusTrade) -> None:
            if t.asset_id == asset:
                on_trades([TapeTrade(t.taker_side.lower(), t.price, t.quantity, time.time())])

        changes = book.on_change(book_changed)
        trades = self.md.on_finalized_trades(traded)

        def stop() -> None:
            changes.close()
            trades.close()
            book.close()

        return stop

    def on_state(self, callback: Callable[[str, str], None]) -> None:
        self.md.on_lifecycle(lambda e: callback(e.state.value, _event_text(e)))

    def stats(self) -> dict[str, Any]:
        return self.md.stats()


def _event_text(event: ConnectionEvent) -> str:
    return event.message or event.state.value


# -- the window -------------------------------------------------------------------------


def _fmt(value: Decimal, places: int = 6) -> str:
    return f"{value:.{places}f}"


def _places(levels: Sequence[Level]) -> int:
    """Decimal places that tell the prices of a book apart (2..8)."""
    if len(levels) < 2:
        return 6
    step = min(abs(a.price - b.price) for a, b in zip(levels, levels[1:])) or Decimal(1)
    return max(2, min(8, -step.normalize().as_tuple().exponent))  # type: ignore[operator]


class MarketWindow:
    """Market picker and state on top; ladder, depth chart and tape; a status bar."""

    def __init__(self, root: tk.Tk, venue: Venue, market: str) -> None:
        self.root, self.venue = root, venue
        self.updates = 0
        self.interrupted = False  # set by Ctrl-C (SIGINT); the pump then closes the window
        self.book_updates = 0
        self.generation = 0  # callbacks of a market we left are ignored
        self._stop: Optional[Callable[[], None]] = None
        self.market = tk.StringVar(value=market)
        root.title(f"o2sync - {venue.name}")
        root.geometry("960x600")
        root.minsize(720, 420)
        style = ttk.Style(root)
        style.theme_use("clam")
        self.font = ("DejaVu Sans Mono", 10)
        self.bold = ("DejaVu Sans Mono", 10, "bold")

        top = ttk.Frame(root, padding=(8, 6))
        top.pack(side="top", fill="x")
        ttk.Label(top, text=f"{venue.name} market").pack(side="left")
        self.picker = ttk.Combobox(top, textvariable=self.market, values=venue.markets(),
                                   state="readonly", width=16)
        self.picker.pack(side="left", padx=(6, 16))
        self.picker.bind("<<ComboboxSelected>>", lambda _e: self.switch(self.market.get()))
        self.quote = ttk.Label(top, text="waiting for the book...", font=self.bold)
        self.quote.pack(side="left")
        self.state_text = ttk.Label(top, text="connecting", font=self.font)
        self.state_text.pack(side="right")
        self.state_dot = tk.Canvas(top, width=14, height=14, highlightthickness=0)
        self.state_dot.pack(side="right", padx=4)
        self._dot = self.state_dot.create_oval(2, 2, 12, 12, fill="#f39c12", outline="")

        self.status = ttk.Label(root, text="", font=self.font, padding=(8, 2),
                                relief="sunken", anchor="w")
        self.status.pack(side="bottom", fill="x")

        body = ttk.Frame(root, padding=(8, 0, 8, 6))
        body.pack(side="top", fill="both", expand=True)
        body.columnconfigure(1, weight=1)
        body.rowconfigure(0, weight=1)
        ladder_box = ttk.LabelFrame(body, text="order book", padding=4)
        ladder_box.grid(row=0, column=0, sticky="ns", padx=(0, 8))
        self.ladder = tk.Canvas(ladder_box, width=260, background="white",
                                highlightthickness=0)
        self.ladder.pack(fill="both", expand=True)
        right = ttk.Frame(body)
        right.grid(row=0, column=1, sticky="nsew")
        right.rowconfigure(0, weight=3)
        right.rowconfigure(1, weight=2)
        right.columnconfigure(0, weight=1)
        chart_box = ttk.LabelFrame(right, text="depth (cumulative quantity by price)",
                                   padding=4)
        chart_box.grid(row=0, column=0, sticky="nsew")
        self.chart = tk.Canvas(chart_box, background="white", highlightthickness=0)
        self.chart.pack(fill="both", expand=True)
        tape_box = ttk.LabelFrame(right, text="last trades (side: the taker's)", padding=4)
        tape_box.grid(row=1, column=0, sticky="nsew", pady=(6, 0))
        self.tape = tk.Listbox(tape_box, font=self.font, activestyle="none",
                               highlightthickness=0, borderwidth=0)
        self.tape.pack(fill="both", expand=True)
        self.last_book: Optional[BookView] = None
        self.last_event = ""
        for canvas in (self.ladder, self.chart):
            canvas.bind("<Configure>", lambda _e: self.redraw())
        venue.on_state(self.show_state)
        self.switch(market)

    # -- following a market

    def switch(self, market: str) -> None:
        """Follow ``market`` instead of the current one (the picker calls this)."""
        if self._stop is not None:
            self._stop()
        self.generation += 1
        generation = self.generation
        self.market.set(market)
        self.last_book = None
        self.tape.delete(0, tk.END)
        self.quote.config(text="waiting for the book...")
        self.redraw()

        def on_book(view: BookView) -> None:
            if generation == self.generation:
                self.show_book(view)

        def on_trades(trades: list[TapeTrade]) -> None:
            if generation == self.generation:
                self.show_trades(trades)

        self._stop = self.venue.follow(market, on_book, on_trades)
        print(f"market {market}", flush=True)

    def close(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    # -- drawing

    def show_state(self, state: str, message: str) -> None:
        self.state_dot.itemconfig(self._dot, fill=STATE_COLOURS.get(state, "#777777"))
        self.state_text.config(text=state)
        self.last_event = message
        self.redraw()

    def show_book(self, view: BookView) -> None:
        self.last_book = view
        self.book_updates += 1
        self.updates += 1
        if view.bids and view.asks:
            bid, ask = view.bids[0].price, view.asks[0].price
            places = _places(view.bids + view.asks)
            self.quote.config(text=f"bid {_fmt(bid, places)}   ask {_fmt(ask, places)}   "
                                   f"spread {_fmt(ask - bid, places)}")
        self.redraw()

    def show_trades(self, trades: list[TapeTrade]) -> None:
        places = _places(self.last_book.bids + self.last_book.asks) if self.last_book else 6
        for t in trades:
            stamp = time.strftime("%H:%M:%S", time.localtime(t.seen))
            self.tape.insert(0, f"{stamp}  {t.side:<4}  {_fmt(t.price, places):>12}  "
                                f"{t.quantity:>14,.3f}")
            self.tape.itemconfig(0, foreground=BID if t.side == "buy" else ASK)
        self.tape.delete(TAPE_ROWS, tk.END)
        self.updates += 1

    def redraw(self) -> None:
        self.draw_ladder()
        self.draw_chart()
        s = self.venue.stats()
        self.status.config(text=f"{self.market.get()}   messages {s.get('messages', 0)}   "
                                f"book updates {self.book_updates}   dropped "
                                f"{s.get('dropped', 0)}   reconnects {s.get('reconnects', 0)}"
                                f"   {self.last_event}")

    def draw_ladder(self) -> None:
        c = self.ladder
        c.delete("all")
        view = self.last_book
        width, height = max(c.winfo_width(), 200), max(c.winfo_height(), 200)
        if view is None:
            c.create_text(width // 2, height // 2, text="waiting for the book...",
                          font=self.font, fill="#777777")
            return
        row = 18
        levels = max(min(LADDER_LEVELS, (height - 2 * row) // (2 * row)), 1)
        asks, bids = view.asks[:levels], view.bids[:levels]
        biggest = max([lv.quantity for lv in asks + bids] or [Decimal(1)]) or Decimal(1)
        places = _places(view.bids + view.asks)
        c.create_text(8, row // 2, text="price", anchor="w", font=self.bold, fill="#555555")
        c.create_text(width - 8, row // 2, text="quantity", anchor="e", font=self.bold,
                      fill="#555555")
        y = row
        for lv in reversed(asks):  # highest ask on top, best ask next to the spread
            self._ladder_row(c, y, row, width, lv, biggest, ASK, ASK_FILL, places)
            y += row
        if asks and bids:
            spread = asks[0].price - bids[0].price
            c.create_line(0, y + 1, width, y + 1, fill="#bbbbbb")
            c.create_text(width // 2, y + row // 2, text=f"spread {_fmt(spread, places)}",
                          font=self.bold, fill="#333333")
            c.create_line(0, y + row - 1, width, y + row - 1, fill="#bbbbbb")
        y += row
        for lv in bids:
            self._ladder_row(c, y, row, width, lv, biggest, BID, BID_FILL, places)
            y += row

    def _ladder_row(self, c: tk.Canvas, y: int, row: int, width: int, lv: Level,
                    biggest: Decimal, colour: str, fill: str, places: int) -> None:
        bar = int((width - 4) * float(lv.quantity / biggest))
        c.create_rectangle(width - 2 - bar, y + 2, width - 2, y + row - 2, fill=fill, outline="")
        c.create_text(8, y + row // 2, text=_fmt(lv.price, places), anchor="w",
                      font=self.font, fill=colour)
        c.create_text(width - 8, y + row // 2, text=f"{lv.quantity:,.3f}", anchor="e",
                      font=self.font, fill="#222222")

    def draw_chart(self) -> None:
        c = self.chart
        c.delete("all")
        view = self.last_book
        width, height = max(c.winfo_width(), 200), max(c.winfo_height(), 120)
        if view is None or not view.bids or not view.asks:
            return
        left, right, top, bottom = 60, width - 12, 10, height - 24
        bids, asks = view.bids, view.asks
        low, high = bids[-1].price, asks[-1].price
        mid = (bids[0].price + asks[0].price) / 2
        half = max(mid - low, high - mid) or Decimal(1)  # centred on the mid price
        low, high = mid - half, mid + half
        cum_bids, cum_asks = _cumulative(bids), _cumulative(asks)
        peak = max(cum_bids[-1][1], cum_asks[-1][1]) or Decimal(1)

        def x(price: Decimal) -> float:
            return left + float((price - low) / (high - low)) * (right - left)

        def y(qty: Decimal) -> float:
            return bottom - float(qty / peak) * (bottom - top)

        for cum, colour, fill, edge in ((cum_bids, BID, BID_FILL, low),
                                        (cum_asks, ASK, ASK_FILL, high)):
            points = [x(cum[0][0]), bottom]
            previous = Decimal(0)
            for price, total in cum:  # a step: the total holds until the next level
                points += [x(price), y(previous), x(price), y(total)]
                previous = total
            points += [x(edge), y(previous), x(edge), bottom]
            c.create_polygon(*points, fill=fill, outline=colour, width=2)
        c.create_line(left, bottom, right, bottom, fill="#555555")
        c.create_line(left, top, left, bottom, fill="#555555")
        c.create_line(x(mid), top, x(mid), bottom, fill="#999999", dash=(3, 3))
        places = _places(bids + asks)
        labels: tuple[tuple[Decimal, Literal["nw", "n", "ne"]], ...] = (
            (low, "nw"), (mid, "n"), (high, "ne"))
        for price, anchor in labels:
            c.create_text(x(price), bottom + 4, text=_fmt(price, places), anchor=anchor,
                          font=self.font, fill="#555555")
        c.create_text(left - 4, top, text=_short(peak), anchor="ne", font=self.font,
                      fill="#555555")
        c.create_text(left - 4, bottom, text="0", anchor="e", font=self.font, fill="#555555")


def _cumulative(levels: Sequence[Level]) -> list[tuple[Decimal, Decimal]]:
    out, total = [], Decimal(0)
    for lv in levels:
        total += lv.quantity
        out.append((lv.price, total))
    return out


def _short(value: Decimal) -> str:
    v = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= limit:
            return f"{v / limit:.1f}{suffix}"
    return f"{v:.1f}"


# -- the Tk side of the callbacks ----------------------------------------------------


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
    p.add_argument("--switch-after", type=int, default=0,
                   help="pick the next market once this many updates are shown (for tests)")
    p.add_argument("--venue", choices=("o2", "tplus"), default="o2",
                   help="the exchange to show (default: %(default)s)")
    p.add_argument("--mds-url", help="tplus market-data service, e.g. http://127.0.0.1:8011 "
                                     "(default: a tplus simulator started here)")
    p.add_argument("--oms-url", help="tplus order service, for the market picker's list")
    args = p.parse_args()
    pending: queue.Queue[Callable[[], None]] = queue.Queue()
    root = tk.Tk()
    with contextlib.ExitStack() as stack:
        if args.venue == "tplus":
            venue, market, limit = _tplus(args, stack, pending.put)
        else:
            ep = stack.enter_context(endpoint(args))
            client = stack.enter_context(ep.client(dispatcher=pending.put))
            venue, market, limit = O2Venue(client), client.get_market(ep.market).pair, ep.events
        window = run(root, venue, market, pending, args, limit)
    if window.interrupted:
        print(f"interrupted after {window.updates} updates")
        sys.exit(130)  # 128 + SIGINT, as a command line tool ends on Ctrl-C
    print(f"shown {window.updates} updates")


def _tplus(args: Any, stack: contextlib.ExitStack, dispatcher: Callable[..., None]
           ) -> tuple[TplusVenue, str, int]:
    """The tplus venue of ``--venue tplus``: the URLs given, or a simulator of its own."""
    asset = "200" if args.market == DEFAULT_MARKET else args.market
    mds_url, oms_url = args.mds_url, args.oms_url
    if not mds_url:
        from o2sync.testing import TplusSimulator

        sim = stack.enter_context(TplusSimulator(rate=args.rate, mds_port=0, oms_port=0))
        print(f"# tplus simulator: MDS {sim.mds_url}, OMS {sim.oms_url}")
        mds_url, oms_url = sim.mds_url, sim.oms_url
    md = stack.enter_context(MarketDataClient(mds_url, dispatcher=dispatcher))
    oms = stack.enter_context(OrderBookClient(oms_url)) if oms_url else None
    venue = TplusVenue(md, oms, [asset])
    return venue, venue.label(asset), args.events


def run(root: tk.Tk, venue: Venue, market: str, pending: queue.Queue[Callable[[], None]],
        args: Any, limit: int) -> MarketWindow:
    """Show ``venue`` in ``root`` until the window closes (or ``limit`` updates)."""
    announced: list[str] = []
    window = MarketWindow(root, venue, market)
    # Ctrl-C in the terminal: a KeyboardInterrupt raised inside a Tk callback would be
    # printed and ignored by tkinter, so the handler only asks the pump to close
    signal.signal(signal.SIGINT, lambda signum, frame: setattr(window, "interrupted", True))

    def should_stop() -> bool:
        if window.interrupted:
            return True
        if args.switch_after and window.updates >= args.switch_after \
                and "switched" not in announced:
            announced.append("switched")
            names = list(window.picker["values"])
            following = names[(names.index(window.market.get()) + 1) % len(names)]
            window.switch(following)  # what picking it in the combobox does
        if args.screenshot_after and window.updates >= args.screenshot_after \
                and "ready" not in announced:
            announced.append("ready")
            print("ready", flush=True)
        return enough(window.updates, limit)

    root.after(PUMP_MS, pump, root, pending, should_stop)
    root.mainloop()
    window.close()
    return window


if __name__ == "__main__":
    main()
