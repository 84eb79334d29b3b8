"""``o2sync relay`` in its own process, read by O2Client.from_relay in this one, and
``o2sync relay status``: against a real Redis server and the simulator."""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any

import pytest
from clientutil import wait_until
from cliutil import o2sync, popen

from o2sync import O2Client
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=3)


def truth(sim: Simulator) -> dict[str, list[tuple[int, int]]]:
    book = sim.book(PAIR)
    return {"buys": [tuple(x) for x in book["buys"]], "sells": [tuple(x) for x in book["sells"]]}


def _has_markets(url: str) -> bool:
    import redis

    r = redis.Redis.from_url(url)
    try:
        return bool(r.exists("o2sync:o2:markets"))
    finally:
        r.close()


def test_relay_command_feeds_a_book_in_another_process(sim: Simulator,
                                                       redis_server: Any) -> None:
    proc = popen("relay", f"depth:{PAIR}", f"trades:{PAIR}", "--to", redis_server.url,
                 "--ws-url", sim.ws_url, "--snapshot-every", "10")
    try:
        assert wait_until(lambda: _has_markets(redis_server.url) or proc.poll() is not None, 20)
        assert proc.poll() is None, proc.communicate()
        with O2Client.from_relay(redis_server.url) as remote:
            book = remote.order_book(PAIR)
            trades = remote.stream_trades(PAIR)
            assert book.wait_ready(15)
            for _ in range(3):
                sim.step(40)
                assert wait_until(lambda: book.snapshot() == truth(sim), 10)
            assert trades.get(timeout=5).trades
        rows = json.loads(o2sync("relay", "status", "--to", redis_server.url, "--json").stdout)
        assert {r["stream"] for r in rows} == {"o2sync:o2:depth:fFUEL/fUSDC:p1",
                                               "o2sync:o2:trades:fFUEL/fUSDC"}
        assert all(r["writer"] and r["length"] > 0 for r in rows)
        depth = next(r for r in rows if ":depth:" in r["stream"])
        assert depth["snapshot_age"] is not None and depth["snapshot_age"] < 60
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 130, err
        assert "relayed" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    rows = json.loads(o2sync("relay", "status", "--to", redis_server.url, "--json").stdout)
    assert all(r["writer"] is None for r in rows)  # the leases were released on exit


def test_relay_command_refuses_bad_streams_at_once(redis_server: Any) -> None:
    done = o2sync("relay", "depth", "--to", redis_server.url, timeout=30)
    assert done.returncode == 2 and "KIND:TARGET" in done.stderr


def test_record_from_the_relay_writes_todays_format(sim: Simulator, redis_server: Any,
                                                    tmp_path: Any) -> None:
    from clientutil import client_for

    from o2sync.cli.recording import load
    from o2sync.relay import Relay

    upstream = client_for(sim)
    relay = Relay(upstream, [f"depth:{PAIR}", f"trades:{PAIR}"], redis_server.url,
                  snapshot_every=10).start()
    out = tmp_path / "from-relay.jsonl"
    proc = popen("record", f"depth:{PAIR}", f"trades:{PAIR}", "--from", redis_server.url,
                 "--out", str(out), "--frames", "30")
    try:
        for _ in range(100):  # bounded: the recorder stops itself after 30 frames
            sim.step(10)
            try:
                proc.wait(0.2)
                break
            except subprocess.TimeoutExpired:  # still recording
                pass
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        assert relay.close()
        assert upstream.close()
    recording = load(str(out))
    assert len(recording.frames) == 30
    assert any(m["market_id"] for m in recording.markets)
    first = json.loads(recording.frames[0][1])
    assert first["action"] == "subscribe_depth"  # a reader starts at a snapshot


@pytest.mark.sim_options(seed=1, rate=50, start_flow=True)
def test_demo_from_the_relay_shows_a_live_book(sim: Simulator, redis_server: Any) -> None:
    from clientutil import client_for

    from o2sync.relay import Relay

    upstream = client_for(sim)
    relay = Relay(upstream, [f"depth:{PAIR}", f"trades:{PAIR}"], redis_server.url,
                  snapshot_every=10).start()
    try:
        done = o2sync("demo", "--from", redis_server.url, "--seconds", "3", timeout=60)
    finally:
        assert relay.close()
        assert upstream.close()
    assert done.returncode == 0, done.stderr
    assert "connected to relay" in done.stderr
    assert "spread" in done.stdout and "drops 0" in done.stdout
