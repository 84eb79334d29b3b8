"""Snapshot + diffs (§7.4 simulator convention) and determinism of the engine.

Every diff applied to the REST snapshot, in number order, gives the next fresh
snapshot exactly, over thousands of events at several rates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from tplus_util import ADDRESS, FakeClock, TWs, apply_diff, levels

from o2sync.sim.tplus import TplusSimulator


def snapshot(sim: TplusSimulator, asset: str) -> dict[str, Any]:
    answer = requests.get(f"{sim.mds_url}/marketdepth/{asset}", timeout=5)
    assert answer.status_code == 200
    return dict(answer.json())


def as_book(snap: dict[str, Any]) -> dict[str, dict[Decimal, Decimal]]:
    return {"bids": levels(snap["bids"]), "asks": levels(snap["asks"])}


def splice_and_compare(sim: TplusSimulator, asset: str, run: Any) -> int:
    """Open the diff stream, take a snapshot, let ``run()`` move the market, then
    check snapshot + diffs == a fresh snapshot == the true book. Diffs applied."""
    ws = TWs(sim.mds_url, f"/marketdepth/diff/{asset}")
    assert sim.wait_for(lambda s: s.open_connections() >= 1)
    first = snapshot(sim, asset)
    book, last = as_book(first), first["sequence_number"]
    run()
    sim.pause()
    final = snapshot(sim, asset)
    applied = 0
    while last < final["sequence_number"]:
        diff = ws.data()
        seq = diff["sequence_number"]
        if seq <= first["sequence_number"]:
            continue  # already folded into the first snapshot
        assert seq == last + 1, f"gap: {last} -> {seq}"
        apply_diff(book, diff)
        last = seq
        applied += 1
        bids, asks = book["bids"], book["asks"]
        if bids and asks:
            assert max(bids) < min(asks), "crossed book"
    assert book == as_book(final)
    truth = sim.book(asset)
    assert truth["sequence_number"] == final["sequence_number"]
    assert book == {"bids": dict(truth["bids"]), "asks": dict(truth["asks"])}
    ws.close()
    return applied


@pytest.mark.parametrize("rate,events", [(1000, 1500), (10000, 5000), (50000, 20000)])
def test_diffs_splice_onto_the_snapshot_at_rate(rate: int, events: int) -> None:
    with TplusSimulator(seed=rate, rate=rate, start_flow=False, control_interval=None) as sim:
        start = sim.events

        def run() -> None:
            sim.resume()
            assert sim.wait_for(lambda s: s.events - start >= events, timeout=20)

        applied = splice_and_compare(sim, "200", run)
        assert applied > events // 2


def test_diffs_splice_with_steps_on_both_assets(tsim: TplusSimulator) -> None:
    for asset in ("200", ADDRESS):
        applied = splice_and_compare(tsim, asset, lambda: tsim.step(4000))
        assert applied > 500


def test_skip_sequence_makes_one_gap(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, "/marketdepth/diff/200")
    before = tsim.book("200")["sequence_number"]
    tsim.skip_sequence("200")
    assert tsim.book("200")["sequence_number"] == before  # nothing sent yet
    tsim.step(300)
    seqs = [ws.data()["sequence_number"] for _ in range(20)]
    assert seqs[0] == before + 2  # before + 1 never exists
    assert seqs[1:] == list(range(before + 3, before + 3 + 19))
    assert snapshot(tsim, "200")["sequence_number"] == tsim.book("200")["sequence_number"]
    ws.close()


def frames_of(seed: int, events: int) -> tuple[list[str], dict[str, Any]]:
    """Raw frames of several streams for ``events`` stepped events, and the final book."""
    with TplusSimulator(seed=seed, start_flow=False, control_interval=None,
                        clock=FakeClock(), user_seed="11" * 32) as sim:
        socks = [TWs(sim.mds_url, p) for p in ("/marketdepth/diff/200", "/trades/events",
                                              f"/klines/diff/{ADDRESS}")]
        assert sim.wait_for(lambda s: s.open_connections() == 3)
        sim.step(events)
        sim.inject(None, "END")
        texts: list[str] = []
        for ws in socks:
            for _ in range(100_000):
                text = ws.recv_text()
                if text == "END":
                    break
                texts.append(text)
            ws.close()
        return texts, sim.book("200")


def test_same_seed_same_market() -> None:
    a, book_a = frames_of(7, 1500)
    b, book_b = frames_of(7, 1500)
    assert len(a) > 1500 and a == b and book_a == book_b
    c, book_c = frames_of(8, 1500)
    assert c != a and book_c != book_a


def test_same_seed_same_book_with_wall_clock() -> None:
    books = []
    for _ in range(2):
        with TplusSimulator(seed=9, start_flow=False, control_interval=None) as sim:
            sim.step(2000)
            books.append((sim.book("200"), sim.book(ADDRESS),
                          [o["order_id"] for o in sim.user_orders()]))
    assert books[0] == books[1]
