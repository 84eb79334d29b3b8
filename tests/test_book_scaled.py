"""The O2 live book's view in market units (issue 22 item 6): the reads cross-venue
code prints, exact Decimals from the market's own scaling, the tplus book's type."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clientutil import wait_until

from o2sync import O2Client
from o2sync.books import BookReader, Level, ScaledBook
from o2sync.testing import Simulator
from o2sync.tplus import Level as TplusLevel

PAIR = "fFUEL/fUSDC"


def _exact(raw: int, decimals: int) -> Decimal:
    return Decimal(raw) / Decimal(10) ** decimals


def test_scaled_view_reads_the_book_in_market_units(sim: Simulator, client: O2Client) -> None:
    market = client.get_market(PAIR)
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    view = book.scaled()
    assert isinstance(view, ScaledBook) and book.scaled() is view
    qd, pd = market.base.decimals, market.quote.decimals
    raw = book.snapshot()  # the flow is paused: the book holds still
    scaled = view.snapshot()
    assert scaled == {side: [(_exact(p, pd), _exact(q, qd)) for p, q in levels]
                      for side, levels in raw.items()}
    bid, ask = view.best_bid, view.best_ask
    assert bid is not None and ask is not None
    assert isinstance(bid, Level) and isinstance(bid.price, Decimal)
    assert bid == Level(_exact(book.best_bid.price, pd), _exact(book.best_bid.quantity, qd))
    assert ask.price == _exact(book.best_ask.price, pd)
    assert view.bids(3) == [Level(p, q) for p, q in scaled["buys"][:3]]
    assert view.asks(2) == [Level(p, q) for p, q in scaled["sells"][:2]]
    assert view.spread == _exact(book.spread, pd) == ask.price - bid.price
    assert view.mid == (bid.price + ask.price) / 2
    assert "." in str(view.spread) and "." in str(bid.price)  # prices people read
    assert view.is_ready and view.version == book.version
    assert book.levels_decimal("bids", 3) == [tuple(lv) for lv in view.bids(3)]


def test_scaled_view_follows_the_live_book(sim: Simulator, client: O2Client) -> None:
    market = client.get_market(PAIR)
    book = client.order_book(PAIR)
    view = book.scaled()
    assert view.wait_ready(5)
    before = view.version
    sim.step(200)
    assert wait_until(lambda: view.version > before, 5)
    assert wait_until(lambda: view.snapshot() == {
        side: [(market.format_price(p), market.format_quantity(q)) for p, q in levels]
        for side, levels in book.snapshot().items()}, 5)
    book.close()
    assert not view.is_ready and not view.wait_ready(0.1)


def test_both_venues_books_answer_the_same_reads(tsim: Any, tplus: Any, sim: Simulator
                                                 ) -> None:
    """Cross-venue code calls ``scaled()`` on either book and reads the same types."""
    with O2Client(ws_url=sim.ws_url, api_url=sim.api_url) as o2, \
            o2.order_book(PAIR) as o2_book, tplus.md().order_book("200") as tp_book:
        assert o2_book.wait_ready(5) and tp_book.wait_ready(5)
        assert tp_book.scaled() is tp_book
        assert TplusLevel is Level
        readers: list[BookReader] = [o2_book.scaled(), tp_book.scaled()]
        for reader in readers:
            best = reader.best_bid
            assert isinstance(best, Level)
            assert isinstance(best.price, Decimal) and isinstance(best.quantity, Decimal)
            assert isinstance(reader.spread, Decimal) and reader.spread > 0
            assert all(isinstance(lv, Level) for lv in reader.asks(3))
