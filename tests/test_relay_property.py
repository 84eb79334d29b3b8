"""Property: a book read from the relay, joined at any point of its stream, equals the
relay's own book at the same relay sequence (and the exchange's true book)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from clientutil import client_for, o2sync_threads, wait_until

from o2sync import O2Client
from o2sync.relay import Relay
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
DEPTH = "o2sync:o2:depth:fFUEL/fUSDC:p1"


def _levels(book: Any) -> dict[str, list[tuple[int, int]]]:
    levels = book.levels()
    return {"buys": [tuple(x) for x in levels["bids"]],
            "sells": [tuple(x) for x in levels["asks"]]}


def _truth(sim: Simulator) -> dict[str, list[tuple[int, int]]]:
    book = sim.book(PAIR)
    return {"buys": [tuple(x) for x in book["buys"]], "sells": [tuple(x) for x in book["sells"]]}


def _quiet(relay: Relay, sim: Simulator) -> int:
    """Wait until the relay's book is the market's (every frame of the steps reached
    it) and its entries are written; its last relay sequence."""
    truth = _truth(sim)
    assert wait_until(lambda: _levels(relay.book(DEPTH)) == truth, 10)
    assert wait_until(lambda: relay.stats()["queued"] == 0 and
                      relay.stats()["streams"][DEPTH]["seq"] == _written_seq(relay), 10)
    return int(relay.stats()["streams"][DEPTH]["seq"])


def _written_seq(relay: Relay) -> int:
    last = relay.redis.xrevrange(DEPTH, "+", "-", count=1)
    return int(last[0][1][b"seq"]) if last else 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_remote_books_joined_at_random_points_equal_the_relays(
        seed: int, redis_server: Any) -> None:
    rng = random.Random(seed)
    with Simulator(start_flow=False, seed=seed) as sim:
        upstream = client_for(sim)
        relay = Relay(upstream, [f"depth:{PAIR}"], redis_server.url,
                      snapshot_every=rng.randint(3, 15), snapshot_interval=600,
                      maxlen=2000).start()
        try:
            remotes: list[Any] = []
            for _ in range(6):
                sim.step(rng.randint(1, 40))
                seq = _quiet(relay, sim)
                remote = O2Client.from_relay(redis_server.url)
                remotes.append(remote)
                book = remote.order_book(PAIR)
                assert book.wait_ready(10)
                want = _levels(relay.book(DEPTH))
                pos = lambda r=remote: r.stats()["source"]["positions"].get(DEPTH)  # noqa: E731
                assert wait_until(lambda b=book, p=pos, s=seq, w=want: (p() or ("", 0))[1] == s
                                  and b.snapshot() == w, 10), (pos(), seq)
                assert want == _truth(sim)
            # and every earlier joiner kept following: all equal the relay's book now
            sim.step(50)
            _quiet(relay, sim)
            want = _levels(relay.book(DEPTH))
            for remote in remotes:
                book = remote.order_book(PAIR)
                assert wait_until(lambda b=book: b.is_ready and b.snapshot() == want, 10)
                assert remote.stats()["source"]["jumps"] == 0
            for remote in remotes:
                assert remote.close()
        finally:
            assert relay.close()
            assert upstream.close()
    assert wait_until(lambda: not o2sync_threads(), 5), o2sync_threads()
