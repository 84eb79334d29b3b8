"""Two book bugs, each against the simulator over real sockets.

1. A market that never traded answers ``GET /marketdepth`` with an empty book and
   ``sequence_number: 0`` (tpluspy's own default). That snapshot is a book no diff
   has touched yet: the live book must become ready on it, not retry forever.
2. A ``Decimal`` price longer than the decimal context's 28 digits must stay exact:
   the bid side used to negate prices to sort them, which rounds, so ``bids()``
   could no longer find its own levels (``KeyError``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from o2sync.books import SortedLevels
from o2sync.sim.tplus.markets import DEFAULT_MARKETS, MarketSpec
from o2sync.testing import TplusSimulator
from o2sync.tplus import MarketDataClient

FRESH = "777"
#: 30 price decimals around 10: prices of 32 significant digits
LONG = "301"
MARKETS = (*DEFAULT_MARKETS, MarketSpec(FRESH, 2, 4, 1000, 0.0, seeded=False),
           MarketSpec(LONG, 30, 4, 10 ** 31 + 12_345, 0.2))


@pytest.fixture
def sim() -> TplusSimulator:
    with TplusSimulator(seed=3, start_flow=False, control_interval=None,
                        markets=MARKETS) as simulator:
        yield simulator


def test_an_empty_book_with_sequence_number_0_becomes_ready(sim: TplusSimulator) -> None:
    with MarketDataClient(sim.mds_url, backoff_initial=0.05) as md:
        snap = md.get_orderbook_snapshot(FRESH)
        assert (snap.sequence_number, snap.bids, snap.asks) == (0, [], [])
        book = md.order_book(FRESH)
        assert book.wait_ready(5), book
        assert book.sequence_number == 0
        assert book.bids() == [] and book.asks() == []
        assert book.best_bid is None and book.spread is None
        book.close()


def test_prices_longer_than_28_digits_stay_exact(sim: TplusSimulator) -> None:
    sim.step(300)
    truth = sim.book(LONG)
    assert max(len(p.as_tuple().digits) for p, _ in truth["bids"]) > 28  # the premise
    with MarketDataClient(sim.mds_url, backoff_initial=0.05) as md:
        book = md.order_book(LONG)
        assert book.wait_ready(5), book
        sim.step(300)
        assert book.verify(), book
        bids = [tuple(level) for level in book.bids()]  # raised KeyError before the fix
        asks = [tuple(level) for level in book.asks()]
        now = sim.book(LONG)
        assert bids == [tuple(x) for x in now["bids"]]
        assert asks == [tuple(x) for x in now["asks"]]
        best_bid, best_ask = now["bids"][0][0], now["asks"][0][0]
        assert book.best_bid.price == best_bid
        assert book.spread == best_ask - best_bid  # exact, not rounded to 28 digits
        assert book.spread.as_tuple().exponent == -30
        assert book.mid * 2 == best_bid + best_ask
        book.close()


def test_sorted_levels_keep_long_decimal_prices_apart() -> None:
    a = Decimal("10.000000000000000000000000000001")  # 32 digits: -a rounds to -10
    b = Decimal("10.000000000000000000000000000002")
    bids = SortedLevels(descending=True)
    bids.load([(a, Decimal(1))])
    bids.set(b, Decimal(2))
    assert bids.top() == [(b, Decimal(2)), (a, Decimal(1))]
    assert bids.best() == (b, Decimal(2)) and bids.top(1) == [(b, Decimal(2))]
    bids.set(b, Decimal(0))
    assert bids.top() == [(a, Decimal(1))] and len(bids) == 1
    assert bids.top(0) == [] and bids.top(5) == [(a, Decimal(1))]
