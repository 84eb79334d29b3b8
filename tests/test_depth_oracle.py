"""Depth with the official o2-sdk 0.5.0 as the oracle (issue 16).

* The SDK's own ``DepthBook`` and o2sync's books consume the same simulated stream
  of signed deltas, through reconnects, and must agree after every message: the
  SDK book is fed each raw frame o2sync's socket receives (a client tap, which runs
  on the reader thread just before o2sync routes that frame), so before frame k is
  routed o2sync's live books must equal the SDK book after frame k - 1.
* The depth frames of the SDK's own tests (``tests/data/o2_sdk_depth_frames.json``,
  taken from its sdist, source named in the file) are decoded by both libraries and
  compared field by field, and built into books by both.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any, Optional

import o2_sdk
import pytest
from clientutil import wait_until

from o2sync import (
    DecodeError,
    DepthBook,
    DepthChange,
    DepthChanges,
    DepthLevel,
    DepthSnapshot,
    DepthUpdate,
    LiveOrderBook,
    O2Client,
)
from o2sync.books import SortedLevels
from o2sync.o2 import decode
from o2sync.testing import Simulator

PAIR, OTHER = "fFUEL/fUSDC", "fETH/fUSDC"
SDK_FRAMES = json.loads((Path(__file__).parent / "data" / "o2_sdk_depth_frames.json").read_text())
Side = list[tuple[int, int]]


def sdk_sides(book: o2_sdk.DepthBook) -> tuple[Side, Side]:
    """The SDK book as o2sync's books show it: (bids best first, asks best first)."""
    return sorted(book.bids.items(), reverse=True), sorted(book.asks.items())


def live_sides(book: LiveOrderBook) -> tuple[Side, Side]:
    snap = book.snapshot()
    return [tuple(x) for x in snap["buys"]], [tuple(x) for x in snap["sells"]]  # type: ignore[misc]


class Oracle:
    """A client tap: feeds every depth frame of one market to o2-sdk's DepthBook and,
    before that, checks o2sync's ready live books against the SDK book so far."""

    def __init__(self, market_id: str, marker: str) -> None:
        self.market_id = market_id
        self.marker = marker.encode()
        self.sdk = o2_sdk.DepthBook()
        self.books: list[LiveOrderBook] = []
        self.lock = threading.Lock()  # books may be added while frames arrive
        self.after: list[tuple[bool, tuple[Side, Side]]] = []  # per frame: snapshot?, SDK book
        self.checks = 0
        self.mismatches: list[str] = []
        self.marked = threading.Event()

    def __call__(self, url: str, data: bytes) -> None:
        if data == self.marker:
            self.marked.set()
            return
        try:
            msg = json.loads(data)
        except ValueError:
            return
        if not isinstance(msg, dict) or msg.get("market_id") != self.market_id or \
                msg.get("action") not in ("subscribe_depth", "subscribe_depth_update"):
            return
        self._check(f"before frame {len(self.after)}")
        update = o2_sdk.DepthUpdate.from_dict(msg)
        self.sdk.apply(update)
        self.after.append((update.is_snapshot, sdk_sides(self.sdk)))

    def _check(self, when: str) -> None:
        expected = sdk_sides(self.sdk)
        with self.lock:
            books = list(self.books)
        for book in books:
            if book.is_ready:
                self.checks += 1
                got = live_sides(book)
                if got != expected and len(self.mismatches) < 5:
                    self.mismatches.append(f"{book!r} {when}: {got} != {expected}")

    def settle(self, sim: Simulator) -> None:
        """Wait until every frame queued so far reached the tap, then check once more."""
        self.marked.clear()
        sim.inject(self.marker.decode())
        assert self.marked.wait(10)
        self._check("at the end of a round")


def drain(sub: Any) -> list[Any]:
    out = []
    while sub.pending:
        out.append(sub.get(timeout=0))
    return out


@pytest.mark.sim_options(seed=16, rate=2000)
def test_sdk_depth_book_and_ours_agree_after_every_message_through_reconnects(
        sim: Simulator, client: O2Client) -> None:
    market = client.get_market(PAIR)
    # the end-of-round marker: a delta of a market nobody streams (routed as "ignored")
    marker = json.dumps({"action": "subscribe_depth_update",
                         "market_id": client.get_market(OTHER).market_id, "changes": {}})
    oracle = Oracle(market.market_id, marker)
    client.add_tap(oracle)
    stream = client.stream_depth(PAIR, queue_size=100_000)  # an SDK-style loop's view
    first = client.order_book(PAIR)
    with oracle.lock:
        oracle.books.append(first)
    assert first.wait_ready(5)
    late: Optional[LiveOrderBook] = None
    odd = 0
    for round_ in range(6):
        if round_ % 2:  # background flow around the reconnect: deltas in flight at the drop
            sim.resume()
            assert sim.wait_for(lambda s, n=sim.events: s.events > n + 400, 10)
        else:
            sim.step(600)
            oracle.settle(sim)  # every delta of the step is in: best_bid below is exact
        # changes a healthy market never sends: a 0, a removal from an unknown level,
        # more removed than a level holds; both libraries must treat them alike
        best = first.best_bid
        if best is not None:
            odd += sim.inject_depth_changes(PAIR, buys=[(best.price - 3, -5), (best.price, 0)])
            if round_ == 4:  # paused flow: the level is exactly what we read
                odd += sim.inject_depth_changes(PAIR, buys=[(best.price, -(best.quantity + 9))])
        if round_ == 2:  # a late joiner starts from the engine's own copy of the book
            late = client.order_book(PAIR)
            with oracle.lock:
                oracle.books.append(late)
            assert late.wait_ready(5)
        resets = first.resets
        sim.drop_connections(None if round_ % 3 else 1012)
        sim.pause()
        assert wait_until(lambda r=resets: first.resets == r + 1 and first.is_ready, 10), round_
        sim.step(100)
        oracle.settle(sim)
    assert odd >= 6
    assert not oracle.mismatches, oracle.mismatches
    snapshots = sum(1 for is_snapshot, _ in oracle.after if is_snapshot)
    assert snapshots >= 7 and len(oracle.after) > 1000  # the subscribe and every reconnect
    assert oracle.checks > 1000
    assert late is not None and live_sides(late) == live_sides(first) == sdk_sides(oracle.sdk)
    stats = client.stats()
    assert stats["reconnects"] == 6 and stats["decode_errors"] == 0
    assert stats["depth_inconsistencies"] == first.inconsistencies >= 7  # -5s and the -(q+9)
    # the iterating consumer got every message; a delta's best levels are the book's
    # (PARITY exception 3): what the SDK's DepthBook says after that same message
    updates = drain(stream)
    assert len(updates) == len(oracle.after)
    ours = DepthBook()
    for update, (is_snapshot, (bids, asks)) in zip(updates, oracle.after):
        assert update.is_snapshot == is_snapshot
        ours.apply(update)
        assert (sorted(ours.bids.items(), reverse=True), sorted(ours.asks.items())) == (bids, asks)
        if not is_snapshot:
            assert isinstance(update.changes, DepthChanges)
            bid, ask = update.changes.best_bid, update.changes.best_ask
            assert (bid.price, bid.quantity) == bids[0] if bids else bid is None
            assert (ask.price, ask.quantity) == asks[0] if asks else ask is None
    assert ours.inconsistencies == stats["depth_inconsistencies"]


# ------------------------------------------------------------------ the SDK's own frames


def field_names(obj: Any) -> list[str]:
    """Dataclass field names, in order (the positional call shape)."""
    return [f.name for f in dataclasses.fields(obj)]


def same_level(ours: Any, theirs: Any) -> None:
    """One level or change, field by field: o2sync's exact int, the SDK's text as sent."""
    assert type(ours).__name__ == type(theirs).__name__  # DepthLevel / DepthChange
    assert field_names(ours) == field_names(theirs)
    assert isinstance(ours.price, int) and str(ours.price) == theirs.price
    assert isinstance(ours.quantity, int) and str(ours.quantity) == theirs.quantity


def same_sides(ours: Any, theirs: Any) -> None:
    for side in ("bids", "asks"):
        mine, sdk = getattr(ours, side), getattr(theirs, side)
        assert len(mine) == len(sdk)
        for a, b in zip(mine, sdk):
            same_level(a, b)


def same_update(ours: DepthUpdate, theirs: o2_sdk.DepthUpdate) -> None:
    assert field_names(ours) == field_names(theirs)
    assert ours.market_id == theirs.market_id  # the SDK's Id compares with any str
    assert ours.onchain_timestamp == theirs.onchain_timestamp
    assert ours.seen_timestamp == theirs.seen_timestamp
    assert ours.is_snapshot is theirs.is_snapshot
    if theirs.is_snapshot:
        assert isinstance(ours.changes, DepthSnapshot)
        assert isinstance(theirs.changes, o2_sdk.DepthSnapshot)
        assert ours.changes.market_id == theirs.changes.market_id
        for best in ("best_bid", "best_ask"):
            mine, sdk = getattr(ours.changes, best), getattr(theirs.changes, best)
            assert (mine is None) == (sdk is None)
            if sdk is not None:
                same_level(mine, sdk)
    else:
        assert isinstance(ours.changes, DepthChanges)
        assert isinstance(theirs.changes, o2_sdk.DepthChanges)
    same_sides(ours.changes, theirs.changes)


@pytest.mark.parametrize("case", SDK_FRAMES["frames"], ids=lambda c: c["test"])
def test_sdk_test_frames_decode_alike(case: dict[str, Any]) -> None:
    theirs = o2_sdk.DepthUpdate.from_dict(case["frame"])
    same_update(decode.decode(json.loads(json.dumps(case["frame"]))), theirs)
    # an SDK user's own DepthUpdate.from_dict(frame) call reads it the same way
    same_update(DepthUpdate.from_dict(json.loads(json.dumps(case["frame"]))), theirs)


def test_sdk_negative_change_frame_keeps_its_sign() -> None:
    case = next(c for c in SDK_FRAMES["frames"] if "negative" in c["test"])
    change = decode.decode(case["frame"]).changes.bids[0]
    assert change == DepthChange(100, -25) and str(change.quantity) == "-25"


@pytest.mark.parametrize("case", SDK_FRAMES["books"], ids=lambda c: c["test"])
def test_sdk_test_books_build_alike(case: dict[str, Any]) -> None:
    sdk, ours = o2_sdk.DepthBook(), DepthBook()
    live = {  # o2sync's live-book core, fed the same updates
"bids": SortedLevels(descending=True), "asks": SortedLevels(descending=False)}
    rejected = None
    for index, frame in enumerate(case["frames"]):
        theirs = o2_sdk.DepthUpdate.from_dict(frame)
        try:
            update = decode.decode(json.loads(json.dumps(frame)))
        except DecodeError:
            with pytest.raises(ValueError):
                sdk.apply(theirs)  # the SDK refuses it too, before touching its book
            rejected = index
            continue
        same_update(update, theirs)
        sdk.apply(theirs)
        ours.apply(update)
        for side, sorted_levels in live.items():
            pairs = update.changes.pairs(side)
            if update.is_snapshot:
                sorted_levels.load(pairs)
            else:
                for price, change in pairs:
                    sorted_levels.add(price, change)
        assert (ours.bids, ours.asks) == (sdk.bids, sdk.asks)
        assert (ours.best_bid, ours.best_ask) == (sdk.best_bid, sdk.best_ask)
        assert live["bids"].top() == sorted(sdk.bids.items(), reverse=True)
        assert live["asks"].top() == sorted(sdk.asks.items())
    expects = case["sdk_expects"]
    assert rejected == expects.get("rejected")
    for side in ("bids", "asks"):
        book = getattr(ours, side)
        for price, quantity in expects.get(side, {}).items():
            assert book.get(int(price)) == quantity
        if f"{side}_exact" in expects:
            assert book == {int(p): q for p, q in expects[f"{side}_exact"].items()}
    for best in ("best_bid", "best_ask"):
        if best in expects:
            assert getattr(ours, best) == expects[best]


@pytest.mark.parametrize("case", SDK_FRAMES["rest_bodies"], ids=lambda c: c["test"])
def test_sdk_test_rest_depth_bodies_read_alike(sim: Simulator, client: O2Client,
                                               case: dict[str, Any]) -> None:
    # get_depth returns a DepthSnapshot, as the SDK's (depth.best_bid works)
    sim.rest_override("/v1/depth", body=json.dumps(case["body"]))
    ours = client.get_depth(PAIR)
    theirs = o2_sdk.DepthSnapshot.from_dict(case["body"])
    assert isinstance(ours, DepthSnapshot)
    assert DepthSnapshot.from_dict(json.loads(json.dumps(case["body"]))) == ours  # as o2-sdk's
    assert ours.market_id == theirs.market_id
    same_sides(ours, theirs)
    for best in ("best_bid", "best_ask"):
        mine, sdk = getattr(ours, best), getattr(theirs, best)
        assert (mine is None) == (sdk is None)
        if sdk is not None:
            same_level(mine, sdk)


def test_get_depth_is_the_books_snapshot(sim: Simulator, client: O2Client) -> None:
    sim.step(200)
    depth = client.get_depth(PAIR, precision=2, limit=3)
    truth = sim.book(PAIR, 2)
    assert isinstance(depth, DepthSnapshot) and depth.market_id == client.get_market(PAIR).market_id
    assert [(lv.price, lv.quantity) for lv in depth.bids] == truth["buys"][:3]
    assert [(lv.price, lv.quantity) for lv in depth.asks] == truth["sells"][:3]
    assert depth.best_bid == DepthLevel(*truth["buys"][0])
    assert float(depth.best_ask.price) < float(depth.asks[-1].price)  # the idioms of strs work
    assert dataclasses.asdict(depth)["bids"][0] == {"price": truth["buys"][0][0],
                                                    "quantity": truth["buys"][0][1]}
    assert client.get_depth(OTHER).market_id == client.get_market(OTHER).market_id
