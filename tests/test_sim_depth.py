"""Depth: precision aggregation and snapshot/delta consistency.

Applying every ``subscribe_depth_update`` (signed relative changes, added to each
level; a level whose sum reaches 0 is gone) to the first snapshot must give exactly
what a fresh snapshot, REST depth and ``sim.book`` show, at the finest precision and
at coarse ones. The stream must hold every kind of change the exchange sends.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

import pytest
import requests
from conftest import WsClient

from o2sync.testing import Simulator

MARK = "--mark--"
FUEL, ETH = "fFUEL/fUSDC", "fETH/fUSDC"
Book = dict[str, dict[int, int]]
Levels = dict[str, list[tuple[int, int]]]


def market_id(sim: Simulator, pair: str) -> str:
    for market in sim.markets:
        if f"{market['base']['symbol']}/{market['quote']['symbol']}" == pair:
            return str(market["market_id"])
    raise KeyError(pair)


def levels_of(container: dict[str, Any]) -> Levels:
    """``{"buys": [...], "sells": [...]}`` of wire levels as int pairs."""
    return {
        side: [(int(lv["price"]), int(lv["quantity"])) for lv in container[side]]
        for side in ("buys", "sells")
    }


def sorted_levels(book: Book) -> Levels:
    return {
        "buys": sorted(book["buys"].items(), reverse=True),
        "sells": sorted(book["sells"].items()),
    }


KINDS = ("new level", "added", "partly removed", "removed")


def apply_delta(book: Book, changes: dict[str, Any], kinds: dict[str, int]) -> None:
    """Signed semantics (o2-websocket.md 6.3), checked as a healthy market keeps them:
    never a 0, never more removed than a level holds, never a removal from nothing.
    ``kinds`` counts each kind of change seen."""
    for side in ("buys", "sells"):
        for level in changes.get(side, []):
            price, change = int(level["price"]), int(level["quantity"])
            assert change != 0, "a 0 change carries nothing"
            old = book[side].get(price, 0)
            total = old + change
            assert total >= 0, "more removed than the level held"
            assert old or change > 0, "removal from a level the client never had"
            if total:
                book[side][price] = total
            else:
                del book[side][price]
            kind = ("new level" if not old else "added" if change > 0
                    else "partly removed" if total else "removed")
            kinds[kind] = kinds.get(kind, 0) + 1


def snapshot(client: WsClient, mid: str, precision: int) -> Levels:
    client.send_json(
        {"action": "subscribe_depth", "market_id": mid, "precision": str(10**precision)}
    )
    return levels_of(client.recv_action("subscribe_depth")["orders"])


def rest_depth(sim: Simulator, mid: str, precision: int) -> Levels:
    response = requests.get(
        sim.api_url + "/v1/depth", params={"market_id": mid, "precision": 10**precision}, timeout=5
    )
    return levels_of(response.json()["orders"])


def follow(client: WsClient, book: Book, kinds: Optional[dict[str, int]] = None) -> int:
    """Apply every delta up to the next MARK frame; return how many there were."""
    count = 0
    for text in client.recv_until(MARK):
        frame = json.loads(text)
        assert frame["action"] == "subscribe_depth_update"
        assert frame["changes"]["buys"] or frame["changes"]["sells"]
        apply_delta(book, frame["changes"], {} if kinds is None else kinds)
        count += 1
    return count


def assert_uncrossed(levels: Levels) -> None:
    assert levels["buys"] and levels["sells"]
    assert levels["buys"][0][0] < levels["sells"][0][0]


@pytest.mark.parametrize("pair", [FUEL, ETH])
def test_precision_aggregation_is_the_same_everywhere(
    sim: Simulator, ws_connect: Callable[..., WsClient], pair: str
) -> None:
    sim.step(500)
    mid = market_id(sim, pair)
    client = ws_connect()
    raw = sim.book(pair, 1)  # width 10 is finer than both markets' ticks: the raw book
    for precision in (1, 2, 4, 5, 6, 8, 9, 11, 18):
        truth = sim.book(mid, precision)
        assert snapshot(client, mid, precision) == truth
        assert rest_depth(sim, mid, precision) == truth
        assert truth == aggregate_by_hand(raw, 10**precision)
        assert sum(q for _, q in truth["buys"]) == sum(q for _, q in raw["buys"])
        assert_uncrossed(truth)  # floor(bid) <= bid < ask <= ceil(ask)


def aggregate_by_hand(raw: Levels, width: int) -> Levels:
    """Bids floored to the bucket, asks ceiled, quantities summed."""
    book: Book = {"buys": {}, "sells": {}}
    for price, quantity in raw["buys"]:
        key = price // width * width
        book["buys"][key] = book["buys"].get(key, 0) + quantity
    for price, quantity in raw["sells"]:
        key = -(-price // width) * width
        book["sells"][key] = book["sells"].get(key, 0) + quantity
    return sorted_levels(book)


@pytest.mark.parametrize(("pair", "precision"), [(FUEL, 1), (FUEL, 4), (ETH, 1), (ETH, 9)])
def test_deltas_rebuild_the_snapshot_over_thousands_of_events(
    sim: Simulator, ws_connect: Callable[..., WsClient], pair: str, precision: int
) -> None:
    mid = market_id(sim, pair)
    client, checker = ws_connect(), ws_connect()
    first = snapshot(client, mid, precision)
    book: Book = {side: dict(levels) for side, levels in first.items()}
    deltas = 0
    kinds: dict[str, int] = {}
    for _ in range(6):  # 6 x 1000 events, about half of them on this market
        sim.step(1000)
        sim.inject(MARK)
        deltas += follow(client, book, kinds)
        truth = sim.book(pair, precision)
        assert sorted_levels(book) == truth
        assert snapshot(checker, mid, precision) == truth
        assert rest_depth(sim, mid, precision) == truth
        assert_uncrossed(truth)
    assert deltas > 1000
    assert set(kinds) == set(KINDS), kinds  # signed changes of every kind, not new totals


@pytest.mark.sim_options(seed=5, rate=20_000, start_flow=True)
def test_deltas_stay_consistent_under_background_flow(
    sim: Simulator, ws_connect: Callable[..., WsClient]
) -> None:
    mid = market_id(sim, FUEL)
    client = ws_connect()
    assert sim.wait_for(lambda s: s.events > 500)  # subscribe while the market moves
    book: Book = {side: dict(levels) for side, levels in snapshot(client, mid, 3).items()}
    start = sim.events
    assert sim.wait_for(lambda s: s.events > start + 3000, timeout=10)
    sim.pause()
    sim.inject(MARK)
    assert follow(client, book) > 500
    assert sorted_levels(book) == sim.book(FUEL, 3) == rest_depth(sim, mid, 3)


def test_two_precisions_of_one_market_on_two_sockets(
    sim: Simulator, ws_connect: Callable[..., WsClient]
) -> None:
    mid = market_id(sim, FUEL)
    fine, coarse = ws_connect(), ws_connect()
    books = {
        1: {side: dict(levels) for side, levels in snapshot(fine, mid, 1).items()},
        5: {side: dict(levels) for side, levels in snapshot(coarse, mid, 5).items()},
    }
    sim.step(2000)
    sim.inject(MARK)
    follow(fine, books[1])
    follow(coarse, books[5])
    for precision, book in books.items():
        assert sorted_levels(book) == sim.book(FUEL, precision)


def test_book_rejects_bad_arguments(sim: Simulator) -> None:
    with pytest.raises(KeyError):
        sim.book("NOPE/USDC")
    for bad in (0, 19, "1", True):
        with pytest.raises(ValueError):
            sim.book(FUEL, bad)  # type: ignore[arg-type]


def test_hand_made_changes_reach_every_depth_subscriber_of_the_market(
    sim: Simulator, ws_connect: Callable[..., WsClient]
) -> None:
    mid = market_id(sim, FUEL)
    fine, coarse, other = ws_connect(), ws_connect(), ws_connect()
    snapshot(fine, mid, 1)
    snapshot(coarse, mid, 5)
    snapshot(other, market_id(sim, ETH), 1)
    before = sim.book(FUEL, 1)
    assert sim.inject_depth_changes(FUEL, buys=[(7, -5), (8, 0)], sells=[(9, 3)]) == 2
    for client in (fine, coarse):
        frame = client.recv_action("subscribe_depth_update")
        assert frame["market_id"] == mid
        assert levels_of(frame["changes"]) == {"buys": [(7, -5), (8, 0)], "sells": [(9, 3)]}
    assert sim.book(FUEL, 1) == before  # the market itself did not move
    with pytest.raises(KeyError):
        sim.inject_depth_changes("NOPE/USDC", buys=[(1, 1)])
    with pytest.raises(ValueError):
        sim.inject_depth_changes(FUEL, buys=[(-1, 1)])
