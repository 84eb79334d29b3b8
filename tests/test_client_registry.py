"""Subscription registry rules, as the server sees them."""

from __future__ import annotations

import threading

import pytest
from clientutil import o2sync_threads, wait_until

from o2sync import DepthBook, O2Client
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=11)


def test_two_consumers_share_one_wire_subscription(sim: Simulator, client: O2Client) -> None:
    a = client.stream_trades(PAIR)
    b = client.stream_trades(PAIR)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    for _ in range(3000):
        sim.step(1)
        if a.pending >= 3:
            break
    assert wait_until(lambda: b.pending >= 3)
    assert [a.get(timeout=1) for _ in range(3)] == [b.get(timeout=1) for _ in range(3)]
    assert len(sim.client_frames("subscribe_trades")) == 1
    a.close()
    b.get(timeout=0) if b.pending else None
    assert client.stats()["wire_subscriptions"] == 1
    assert sim.client_frames("unsubscribe_trades") == []
    b.close()
    assert sim.wait_for(lambda s: len(s.client_frames("unsubscribe_trades")) == 1, 5)
    b.close()  # idempotent: no second unsubscribe
    assert client.stats()["wire_subscriptions"] == 0


def test_second_depth_precision_for_a_market_is_refused(client: O2Client) -> None:
    first = client.stream_depth(PAIR, precision=1)
    with pytest.raises(ValueError, match="precision"):
        client.stream_depth(PAIR, precision=3)
    second = client.stream_depth(PAIR, precision=1)  # same precision: shared
    assert client.stats()["wire_subscriptions"] == 1 and not first.closed
    second.close()
    first.close()
    third = client.stream_depth(PAIR, precision=3)  # the market is free again
    assert not third.closed


def test_unreferenced_queue_subscription_is_closed_and_unsubscribed(
        sim: Simulator, client: O2Client) -> None:
    sub = client.stream_trades(PAIR)
    assert sim.wait_for(lambda s: len(s.client_frames("subscribe_trades")) == 1, 5)
    del sub  # as after `for ev in client.stream_trades(m): break`: nobody can read it now
    assert wait_until(lambda: client.stats()["wire_subscriptions"] == 0)
    assert sim.wait_for(lambda s: len(s.client_frames("unsubscribe_trades")) == 1, 5)


def test_late_depth_subscriber_gets_its_own_snapshot(sim: Simulator, client: O2Client) -> None:
    early = client.stream_depth(PAIR)
    book = DepthBook()
    book.apply(early.get(timeout=5))
    assert book.bids
    sim.step(30)
    truth = sim.book(PAIR)
    as_truth = {"buys": lambda: sorted(book.bids.items(), reverse=True),
                "sells": lambda: sorted(book.asks.items())}
    while any(as_truth[side]() != truth[side] for side in as_truth):  # the early one caught up
        book.apply(early.get(timeout=5))
    late = client.stream_depth(PAIR)
    first = late.get(timeout=5)
    assert first.is_snapshot  # never a delta it has no book for
    # made from the engine's own copy of the book, which follows every depth topic
    # (the signed deltas need it for best_bid/best_ask): no wire resync, and the
    # early consumer sees no second snapshot
    assert [(lv.price, lv.quantity) for lv in first.changes.bids] == truth["buys"]
    assert [(lv.price, lv.quantity) for lv in first.changes.asks] == truth["sells"]
    assert len(sim.client_frames("subscribe_depth")) == 1
    assert early.pending == 0
    assert early.closed is False


def test_orders_unsubscribe_keeps_other_accounts(sim: Simulator, client: O2Client) -> None:
    other = "0x" + "ab" * 32
    mine = client.stream_orders(sim.account)
    theirs = client.stream_orders(other)
    assert sim.wait_for(lambda s: len(s.client_frames("subscribe_orders")) == 2, 5)
    theirs.close()
    # unsubscribe_orders is connection-global, so the remaining account is re-sent
    assert sim.wait_for(lambda s: len(s.client_frames("unsubscribe_orders")) == 1
                        and len(s.client_frames("subscribe_orders")) == 3, 5)
    last = sim.client_frames("subscribe_orders")[-1]
    assert last["identities"] == [{"ContractId": sim.account}]
    assert not mine.closed


def test_subscriber_registered_before_the_frame_gets_the_first_snapshot(
        sim: Simulator, client: O2Client) -> None:
    client.connect(5)
    for _ in range(20):
        sub = client.stream_depth(PAIR)
        assert sub.get(timeout=5).is_snapshot
        sub.close()
        assert sim.wait_for(lambda s, n=_ + 1: len(s.client_frames("unsubscribe_depth")) == n, 5)


def test_200_subscribe_close_cycles_do_not_grow(sim: Simulator, client: O2Client) -> None:
    client.connect(5)
    baseline_threads = threading.active_count()
    for _ in range(200):
        with client.stream_trades(PAIR):
            pass
        client.on_nonce(sim.account, lambda u: None).close()
    assert threading.active_count() == baseline_threads
    stats = client.stats()
    assert stats["subscriptions"] == 0 and stats["wire_subscriptions"] == 0
    assert client._engine.topics == {}
    assert sim.wait_for(lambda s: len(s.client_frames("unsubscribe_nonce")) == 200, 10)
    assert len(sim.client_frames("subscribe_trades")) == 200
    assert len(sim.client_frames("unsubscribe_trades")) == 200


def test_thread_count_does_not_grow_with_subscriptions(sim: Simulator, client: O2Client) -> None:
    client.connect(5)
    before = len(o2sync_threads())
    subs = [client.stream_trades(PAIR) for _ in range(50)]
    subs += [client.on_nonce(sim.account, lambda u: None) for _ in range(50)]
    subs.append(client.stream_depth(PAIR))
    assert len(o2sync_threads()) == before == 3
    for s in subs:
        s.close()
