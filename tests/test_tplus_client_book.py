"""order_book(asset): equal to the simulator's true book over thousands of events,
through forced gaps, dropped sockets, a stall and token expiries; exactly one REST
snapshot at start and one per gap or reconnect."""

from __future__ import annotations

from typing import Any

from clientutil import wait_until
from tplus_clientutil import TplusClients, connected, drain, settle

from o2sync.testing import TplusSimulator
from o2sync.tplus import SequencedBook

ASSET = "200"
DEPTH = f"/marketdepth/diff/{ASSET}"
SNAPSHOT = f"/marketdepth/{ASSET}"


def snapshots(sim: TplusSimulator) -> int:
    return len(sim.requests(SNAPSHOT))


def assert_true_book(sim: TplusSimulator, md: Any, book: SequencedBook) -> None:
    """Once everything sent is routed and the book is ready, it is the true book."""
    settle(sim, md, [DEPTH])
    truth = sim.book(ASSET)
    assert wait_until(lambda: book.is_ready
                      and book.sequence_number == truth["sequence_number"]), \
        (book, truth["sequence_number"])
    assert [tuple(lv) for lv in book.bids()] == [tuple(lv) for lv in truth["bids"]]
    assert [tuple(lv) for lv in book.asks()] == [tuple(lv) for lv in truth["asks"]]
    assert book.snapshot() == {"buys": [tuple(lv) for lv in truth["bids"]],
                               "sells": [tuple(lv) for lv in truth["asks"]]}
    assert book.best_bid is not None and book.best_ask is not None
    assert book.best_bid[0] < book.best_ask[0]
    assert book.spread == book.best_ask[0] - book.best_bid[0]
    assert book.bids(3) == book.bids()[:3]


def test_book_starts_from_exactly_one_snapshot(tsim: TplusSimulator, tplus: TplusClients
                                               ) -> None:
    md = tplus.md()
    book = md.order_book(ASSET)
    assert book.wait_ready(5)
    tsim.step(500)
    assert_true_book(tsim, md, book)
    assert snapshots(tsim) == 1
    before = snapshots(tsim)
    assert book.verify()  # verify() reads the REST snapshot itself
    assert snapshots(tsim) == before + 1


def test_book_equals_the_true_book_through_gaps_drops_stall_and_expiries(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    # a pong may be late on a busy machine: a timeout well above the scheduling noise,
    # so the only reconnects are the ones the faults cause (the stall waits 5 s)
    md = tplus.md(ping_interval=0.2, pong_timeout=1.0)
    ob = tplus.ob(ping_interval=0.2, pong_timeout=1.0)
    book = md.order_book(ASSET)
    orders = ob.stream_orders()
    errors: list[Exception] = []
    md.on_error(errors.append)
    changes: list[Any] = []
    book.on_change(lambda *a: changes.append(a))
    connected(md, ob)
    assert book.wait_ready(5)
    expected = 1
    events = 0
    for round_no in range(12):
        tsim.step(400)
        events += 400
        assert_true_book(tsim, md, book)
        assert snapshots(tsim) == expected, (round_no, snapshots(tsim), expected)
        fault = round_no % 4
        if fault == 0:  # a forced gap: one new snapshot
            gaps = book.gaps
            tsim.skip_sequence(ASSET, 3)
            tsim.step(50)
            assert wait_until(lambda g=gaps: book.gaps == g + 1)
            expected += 1
        elif fault == 1:  # an abrupt drop: reconnect, one new snapshot
            reconnects = md.stats()["reconnects"]
            tsim.drop_connections(path=DEPTH)
            assert wait_until(lambda r=reconnects: md.stats()["reconnects"] == r + 1)
            expected += 1
        elif fault == 2:  # half-open sockets everywhere: replaced by the heartbeat
            reconnects = md.stats()["reconnects"], ob.stats()["reconnects"]
            tsim.stall()
            tsim.step(50)
            assert wait_until(lambda r=reconnects: (md.stats()["reconnects"],
                                                  ob.stats()["reconnects"])
                              == (r[0] + 1, r[1] + 1), 5)
            tsim.unstall()
            expected += 1
        else:  # tokens expire, the OMS socket drops: a fresh login on reconnect
            reconnects = ob.stats()["reconnects"]
            tsim.expire_tokens()
            tsim.drop_connections(service="oms")
            assert wait_until(lambda r=reconnects: ob.stats()["reconnects"] == r + 1)
            assert tsim.presented_fresh_token("/orders")
        connected(md, ob)
        events += 50
    tsim.step(400)
    assert_true_book(tsim, md, book)
    assert snapshots(tsim) == expected
    assert book.verify()
    assert events >= 5000
    assert book.gaps == 3
    assert changes
    # the order stream kept flowing through every fault
    settle(tsim, ob, ["/orders"])
    assert len(drain(orders)) > 100
    assert ob.stats()["decode_errors"] == md.stats()["decode_errors"] == 0


def test_book_heals_from_a_malformed_depth_frame(tsim: TplusSimulator, tplus: TplusClients
                                                 ) -> None:
    md = tplus.md()
    book = md.order_book(ASSET)
    assert book.wait_ready(5)
    tsim.step(100)
    assert_true_book(tsim, md, book)
    tsim.inject(DEPTH, '{"sequence_number": "x", "asks": [], "bids": []}')
    tsim.step(100)
    assert_true_book(tsim, md, book)
    assert md.stats()["decode_errors"] == 1
    assert snapshots(tsim) == 2


def test_books_of_two_clients_agree(tsim: TplusSimulator, tplus: TplusClients) -> None:
    a, b = tplus.md(), tplus.md()
    books = [a.order_book(ASSET), b.order_book(ASSET)]
    assert all(bk.wait_ready(5) for bk in books)
    tsim.step(1000)
    assert_true_book(tsim, a, books[0])
    assert_true_book(tsim, b, books[1])
    assert books[0].snapshot() == books[1].snapshot()
