"""LiveOrderBook against the simulator's true book, through random flow and reconnects."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import pytest
from clientutil import wait_until

from o2sync import O2Client, O2SyncError
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=5)


def truth(sim: Simulator, precision: int) -> dict:
    book = sim.book(PAIR, precision)
    return {"buys": [tuple(x) for x in book["buys"]], "sells": [tuple(x) for x in book["sells"]]}


@pytest.mark.parametrize("precision", [1, 4])
def test_book_equals_true_book_over_events_and_reconnects(sim: Simulator, client: O2Client,
                                                          precision: int) -> None:
    book = client.order_book(PAIR, precision=precision)
    assert book.wait_ready(5)
    assert book.snapshot() == truth(sim, precision)
    for round_ in range(4):
        for _ in range(10):
            sim.step(100)  # 4,000 engine events in all
            assert wait_until(lambda: book.snapshot() == truth(sim, precision), 5), round_
        resets = book.resets
        sim.drop_connections()
        assert wait_until(lambda b=resets: book.resets == b + 1 and book.is_ready, 10)
        sim.step(50)  # the book moved while it was rebuilding, too
        assert wait_until(lambda: book.snapshot() == truth(sim, precision), 5)
    assert book.verify()
    assert client.stats()["reconnects"] == 4


def test_book_is_not_ready_while_disconnected(sim: Simulator, client: O2Client) -> None:
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    sim.refuse(1.0, tcp=True)
    sim.drop_connections()
    assert wait_until(lambda: not book.is_ready, 2)
    assert book.wait_ready(10)
    assert book.snapshot() == truth(sim, 1)


def test_readers_and_helpers(sim: Simulator, client: O2Client) -> None:
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    bids, asks = book.bids(3), book.asks(3)
    assert [b.price for b in bids] == sorted((b.price for b in bids), reverse=True)
    assert [a.price for a in asks] == sorted(a.price for a in asks)
    assert book.best_bid == bids[0] and book.best_ask == asks[0]
    assert book.spread == asks[0].price - bids[0].price > 0
    assert book.mid == (bids[0].price + asks[0].price) / 2
    price, qty = book.levels_decimal("bids", 1)[0]
    assert price == book.market.format_price(bids[0].price)
    assert qty == book.market.format_quantity(bids[0].quantity)
    assert "LiveOrderBook fFUEL/fUSDC@1 ready" in repr(book)


def test_wait_update_and_on_change(sim: Simulator, client: O2Client) -> None:
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    versions: list[int] = []
    changed = threading.Event()

    def seen(b: Any) -> None:
        versions.append(b.version)
        changed.set()

    book.on_change(seen)
    assert not book.wait_update(0.05)  # nothing moves without steps
    before = book.version
    waiter = threading.Thread(target=lambda: sim.step(20), name="test-stepper")
    waiter.start()
    assert book.wait_update(5)
    waiter.join(5)
    assert book.version > before
    assert changed.wait(5) and versions == sorted(versions)


def test_signed_deltas_add_to_levels_and_never_resync(sim: Simulator, client: O2Client,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    # A negative change is a fill or a cancel, added to its level (it used to be
    # refused as a decode error and cost a resubscribe): o2-websocket.md 6.3.
    errors = client.stream_errors()
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    bid = book.best_bid
    ask = book.best_ask
    unknown = bid.price - 7  # no level there (prices step by far more than 7)
    assert all(lv.price != unknown for lv in book.bids())

    def inject(**sides: Any) -> None:
        version = book.version
        assert sim.inject_depth_changes(PAIR, **sides) == 1
        assert wait_until(lambda: book.version != version, 5)

    inject(buys=[(bid.price, -1)])  # a partial fill: the level survives, one less
    assert book.best_bid.quantity == bid.quantity - 1
    inject(buys=[(bid.price, 1), (bid.price, 0)], sells=[(ask.price, 0)])  # back; 0 is a no-op
    assert book.snapshot() == truth(sim, 1)
    inject(buys=[(unknown, 0)])  # a 0 change on an unknown level creates nothing
    assert book.snapshot() == truth(sim, 1)
    assert client.stats()["depth_inconsistencies"] == 0 and book.inconsistencies == 0
    inject(buys=[(unknown, -5)])  # removing from nothing: ignored, but counted
    assert book.snapshot() == truth(sim, 1)
    assert client.stats()["depth_inconsistencies"] == 1 and book.inconsistencies == 1
    inject(sells=[(ask.price, -(ask.quantity + 1))])  # more than the level holds: removed
    assert book.best_ask is None or book.best_ask.price > ask.price
    stats = client.stats()
    assert stats["depth_inconsistencies"] == 2 and book.inconsistencies == 2
    warned = [r for r in caplog.records if "below zero" in r.getMessage()]
    assert len(warned) == 2 and all(r.levelname == "WARNING" for r in warned)  # never silent
    assert stats["decode_errors"] == 0
    with pytest.raises(queue.Empty):
        errors.get(timeout=0)
    assert len(sim.client_frames("subscribe_depth")) == 1  # never a resubscribe
    # the next snapshot (a reconnect) heals the book
    resets = book.resets
    sim.drop_connections()
    assert wait_until(lambda: book.resets == resets + 1 and book.is_ready, 10)
    assert book.snapshot() == truth(sim, 1)


def test_a_malformed_change_is_flagged_and_resynced(sim: Simulator, client: O2Client) -> None:
    errors = client.stream_errors()
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    best = book.best_bid
    market_id = book.market.market_id
    bad = {"action": "subscribe_depth_update", "market_id": market_id,
           "changes": {"buys": [{"price": str(best.price), "quantity": "-1.5"}], "sells": []}}
    sim.inject(json.dumps(bad))
    report = errors.get(timeout=5)
    assert isinstance(report, O2SyncError) and "quantity" in str(report)
    assert sim.wait_for(lambda s: len(s.client_frames("subscribe_depth")) == 2, 5)
    assert wait_until(lambda: book.is_ready and book.resets == 2, 5)
    assert book.snapshot() == truth(sim, 1)


def test_close_stops_following(sim: Simulator, client: O2Client) -> None:
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    book.close()
    assert not book.is_ready
    assert sim.wait_for(lambda s: bool(s.client_frames("unsubscribe_depth")), 5)


def test_on_change_coalesces_for_a_slow_consumer(sim: Simulator, client: O2Client) -> None:
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    release = threading.Event()
    seen: list[int] = []

    def slow_gui(b: Any) -> None:
        seen.append(b.version)
        release.wait(5)

    changes = book.on_change(slow_gui)
    while not seen:  # one change, and the GUI is now busy with it
        sim.step(1)
        wait_until(lambda: bool(seen), 0.05)
    busy_at = book.version
    sim.step(300)  # many changes while the GUI is busy: one call queued, not hundreds
    assert wait_until(lambda: book.snapshot() == truth(sim, 1))  # all of them arrived
    assert book.version > busy_at + 20
    assert changes.pending == 1
    release.set()
    assert wait_until(lambda: len(seen) == 2 and changes.pending == 0), (seen, changes)
    assert seen[-1] == book.version  # the second call saw the latest book, nothing queued
    assert changes.dropped == 0 and client.stats()["dropped"] == 0
