"""Consumer groups over the relay, against a real Redis server: workers split a trade
stream, at least once; a dead worker's unacknowledged entries are reclaimed."""

from __future__ import annotations

from typing import Any

import pytest
from clientutil import client_for, o2sync_threads, wait_until

from o2sync import O2Client
from o2sync.relay import Relay
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=11)


@pytest.fixture
def relayed(sim: Simulator, redis_server: Any) -> Any:
    upstream = client_for(sim)
    relay = Relay(upstream, [f"trades:{PAIR}"], redis_server.url).start()
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    direct = upstream.stream_trades(PAIR)
    yield direct, relay
    assert relay.close()
    assert upstream.close()
    assert wait_until(lambda: not o2sync_threads(), 5), o2sync_threads()


def _group_exists(server: Any) -> bool:
    """The group "workers" exists on the trades stream (a member joined it)."""
    import redis

    r = server.client()
    try:
        return any(g["name"] == b"workers"
                   for g in r.xinfo_groups("o2sync:o2:trades:fFUEL/fUSDC"))
    except redis.ResponseError:  # no stream yet
        return False
    finally:
        r.close()


def _joined(*clients: O2Client) -> bool:
    return all(c.stats()["source"]["positions"] for c in clients)


def _ids(update: Any) -> tuple[str, ...]:
    return tuple(t.trade_id for t in update.trades)


def _drain(sub: Any, until: Any, timeout: float = 10) -> list[Any]:
    got: list[Any] = []
    assert wait_until(lambda: (got.extend(_take_all(sub)), until(got))[1], timeout)
    return got


def _take_all(sub: Any) -> list[Any]:
    out = []
    while sub.pending:
        out.append(sub.get(timeout=1))
    return out


def test_workers_split_a_stream_each_update_once(sim: Simulator, redis_server: Any,
                                                 relayed: Any) -> None:
    direct, _ = relayed
    with O2Client.from_relay(redis_server.url) as a, O2Client.from_relay(redis_server.url) as b:
        wa = a.stream_trades(PAIR, group="workers", consumer="a")
        wb = b.stream_trades(PAIR, group="workers", consumer="b")
        assert wait_until(lambda: _joined(a, b) and _group_exists(redis_server), 5)
        sim.step(300)
        want = _drain(direct, lambda got: len(got) > 0 and direct.pending == 0)
        total = len(want)
        got_a: list[Any] = []
        got_b: list[Any] = []
        assert wait_until(lambda: (got_a.extend(_take_all(wa)), got_b.extend(_take_all(wb)),
                                   len(got_a) + len(got_b) >= total)[2], 10)
        seen = [_ids(u) for u in got_a + got_b]
        assert sorted(seen) == sorted(_ids(u) for u in want)  # each once, none lost
        # which member gets which entry is the engine's choice; none gets one twice
        assert len(got_a) + len(got_b) == total
        with pytest.raises(ValueError, match="depth refuses group mode"):
            a.stream_depth(PAIR, group="workers")


def test_a_dead_workers_entries_are_reclaimed(sim: Simulator, redis_server: Any,
                                             relayed: Any) -> None:
    direct, _ = relayed
    dead = O2Client.from_relay(redis_server.url)
    w = dead.stream_trades(PAIR, group="workers", consumer="dead")
    assert wait_until(lambda: _joined(dead) and _group_exists(redis_server), 5)
    sim.step(200)
    want = _drain(direct, lambda got: len(got) > 0 and direct.pending == 0)
    assert wait_until(lambda: w.pending == len(want), 10)
    taken = w.get(timeout=5)  # taken, never acknowledged: the worker dies with it
    assert dead.close()
    with O2Client.from_relay(redis_server.url) as live:
        w2 = live.stream_trades(PAIR, group="workers", consumer="live", claim_after=0.5)
        got = _drain(w2, lambda got: len(got) >= len(want))
        assert sorted(_ids(u) for u in got) == sorted(_ids(u) for u in want)
        assert _ids(taken) in {_ids(u) for u in got}  # delivered again: at least once
        assert live.stats()["source"]["reclaimed"] == len(want)
        w2.ack(got[-1])  # the last one taken, acknowledged without taking another
        assert wait_until(lambda: redis_server.client().xpending(
            "o2sync:o2:trades:fFUEL/fUSDC", "workers")["pending"] == 0, 5)


def test_group_needs_a_relay_client(client: O2Client) -> None:
    with pytest.raises(ValueError, match="from_relay"):
        client.stream_trades(PAIR, group="workers")
