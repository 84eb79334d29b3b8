"""`o2sync watch|record|replay|demo --venue tplus`, run as a user runs them (issue 9,
issue 11 items 1-6 for the second venue): real subprocesses against tplus
simulators on loopback, the demo in a real terminal (tmux)."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from clientutil import wait_until
from cliutil import o2sync, popen, stop
from test_cli_ux import CLOCK, terminal  # noqa: F401 - the tmux fixture

from o2sync.cli.recording import load
from o2sync.testing import TplusSimulator
from o2sync.tplus import MarketDataClient, OrderBookDiff, Trade
from o2sync.tplus import decode as tplus_decode

DEC = r"-?\d+(\.\d+)?"
ASSET = r"ETH"  # asset 200, by the symbol of the simulator's market list

# one line of each stream (after the local time), exact decimals, the asset named
HUMAN = {
    "trades": rf"trade {ASSET} #\d+ taker (Buy|Sell) {DEC} @ {DEC} Confirmed",
    "trade-events": rf"trade-event (Pending|Confirmed|Rollbacked)\s+{ASSET} #\d+ taker (Buy|Sell) "
                    rf"{DEC} @ {DEC} \w+",
    "depth": rf"depth {ASSET} diff\s+seq=\d+ bids=\d+\s+asks=\d+\s+first bid=(-|{DEC}@{DEC}) "
             rf"first ask=(-|{DEC}@{DEC})",
    "klines": rf"kline {ASSET} \d\d:\d\d:\d\d-\d\d:\d\d:\d\d open={DEC} high={DEC} low={DEC} "
              rf"close={DEC} volume={DEC}",
    "orders": rf"order {ASSET} \S+ (Created (Buy|Sell) {DEC} @ {DEC}|\w+.*)",
    "user-trades": rf"user-trade {ASSET} #\d+ (Pending|Confirmed|Rollbacked) (buy|sell) "
                   rf"(maker|taker) {DEC} @ {DEC} fee={DEC}.*",
}


@pytest.mark.parametrize("kind", list(HUMAN))
def test_watch_every_tplus_stream_in_human_lines(kind: str) -> None:
    argv = [kind, "200"] if kind in ("depth", "klines") else [kind]
    proc = o2sync("watch", "--venue", "tplus", *argv, "--events", "3", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3, proc.stdout
    for line in lines:
        assert re.fullmatch(CLOCK + " " + HUMAN[kind], line), line
    assert "connected to ws://127.0.0.1:" in proc.stderr  # the lifecycle lines, as for O2
    assert all(line.startswith("o2sync watch: ") for line in proc.stderr.splitlines())


def test_watch_tplus_json_is_exact_and_machine_readable() -> None:
    proc = o2sync("watch", "--venue", "tplus", "depth", "200", "--json", "--events", "3",
                  "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        item = json.loads(line)
        assert item["stream"] == "depth" and item["type"] == "OrderBookDiff"
        assert item["market"] == {"id": "200", "name": "ETH"}
        event = item["event"]
        for price, qty in event["asks"] + event["bids"]:
            assert isinstance(price, str) and isinstance(qty, str)  # Decimals as strings
            assert Decimal(price) > 0 and Decimal(qty) >= 0
        diff = OrderBookDiff.from_dict(event)
        assert diff.sequence_number == event["sequence_number"]
    proc = o2sync("watch", "--venue", "tplus", "trades", "--json", "--events", "2",
                  "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        event = json.loads(line)["event"]
        assert re.fullmatch(r"\d+(\.\d+)?", event["price"]) and event["asset_id"] == "200"
        assert isinstance(event["trade_id"], int)


def test_watch_tplus_user_streams_against_given_urls() -> None:
    with TplusSimulator(rate=300, mds_port=0, oms_port=0) as sim:
        base = ["--venue", "tplus", "--mds-url", sim.mds_url, "--oms-url", sim.oms_url]
        proc = o2sync("watch", "orders", *base, "--user-seed", sim.user_seed, "--events", "2")
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        # the user trades both simulated assets: each line names one of them, by the
        # symbol of the market list (200: ETH) or, for an address@chain asset the
        # list has no symbol for, by its short id
        assert len(lines) == 2, lines
        for line in lines:
            _time, word, shown = line.split()[:3]
            assert word == "order" and shown in ("ETH", "82af49..bab1@a4b1"), line
        assert "/orders" in proc.stderr and "connected to" in proc.stderr
        # without a user: one line, exit 2
        proc = o2sync("watch", "user-trades", *base)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("o2sync watch: the user streams (orders, user-trades) need "
                                   "--user-seed HEX (the user's 32-byte Ed25519 seed)")


@pytest.mark.parametrize("argv, message", [
    (("depth",), "the depth stream needs an ASSET (e.g. depth ETH); known: ETH (200), "
                 "82af49..bab1@a4b1"),
    (("klines", "999"), "no tplus market '999'"),
    (("klines", "BTC"), "no tplus market 'BTC' on http://127.0.0.1:"),
    (("klines", "BTC"), "; known: ETH (200), 82af49..bab1@a4b1"),
    (("depth", "not-an-asset"), "not-an-asset"),
    (("balances",), "'balances' is not a tplus stream"),
])
def test_watch_tplus_bad_arguments_are_one_line(argv: tuple[str, ...], message: str) -> None:
    proc = o2sync("watch", "--venue", "tplus", *argv, "--sim-rate", "0")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_watch_tplus_says_when_it_loses_and_regains_the_connection() -> None:
    with TplusSimulator(rate=100, mds_port=0, oms_port=0) as sim:
        proc = popen("watch", "--venue", "tplus", "trades", "--mds-url", sim.mds_url)
        try:
            assert proc.stdout is not None and proc.stderr is not None
            # no --oms-url: no market list, so assets by (short) id; /trades carries both
            line = proc.stdout.readline()
            assert re.search(r" trade (200|82af49\.\.bab1@a4b1) #\d+ taker ", line), line
            assert "connected to" in proc.stderr.readline()
            sim.refuse(1.0)
            sim.drop_connections()
            lines: list[str] = []
            while not lines or "connection back" not in lines[-1]:
                lines.append(proc.stderr.readline())
                assert lines[-1], lines
            assert any("lost the connection" in line for line in lines), lines
            assert any(re.search(r"reconnecting: attempt \d+, next try in \d+\.\d\ds", line)
                       for line in lines), lines
            assert all(line.startswith("o2sync watch: ") and line.rstrip().endswith(
                "[/trades]") for line in lines), lines
            os.kill(proc.pid, signal.SIGINT)
            _out, err = proc.communicate(timeout=20)
            assert proc.returncode == 130, err  # 128 + SIGINT
        finally:
            stop(proc)


def test_watch_tplus_unreachable_service_is_one_line() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = o2sync("watch", "--venue", "tplus", "depth", "200", "--mds-url",
                  f"http://127.0.0.1:{port}", timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"o2sync watch: cannot reach 127.0.0.1:{port}: Connection refused"], proc.stderr


def _events_of(recording_frames: list[tuple[str, str]], path: str, decoder) -> list:  # type: ignore[no-untyped-def]
    out = []
    for p, frame in recording_frames:
        obj = tplus_decode.parse_frame(frame)
        if p == path and tplus_decode.control_type(obj) is None:
            out.append(decoder(obj))
    return out


def test_record_then_replay_tplus_delivers_the_same_events(tmp_path: Path) -> None:
    out = tmp_path / "tplus.jsonl"
    proc = o2sync("record", "--venue", "tplus", "depth:200", "trades", "--frames", "40",
                  "--out", str(out), "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    assert "recorded 40 frames" in proc.stdout
    recording = load(str(out))
    assert recording.venue == "tplus" and recording.header["o2sync_recording"] == 2
    assert recording.header["streams"] == ["depth:200", "trades"]
    assert recording.paths is not None and len(recording.paths) == 40
    assert set(recording.paths) == {"/marketdepth/diff/200", "/trades"}
    framed = list(zip(recording.paths, (f for _, f in recording.frames)))
    want_depth = _events_of(framed, "/marketdepth/diff/200", tplus_decode.decode_depth_diff)
    want_trades = _events_of(framed, "/trades", tplus_decode.decode_trade)
    assert want_depth and want_trades

    replay = popen("replay", str(out), "--mds-port", "0", "--oms-port", "0", "--speed", "0")
    try:
        assert replay.stdout is not None
        assert replay.stdout.readline().startswith("replaying 40 tplus frames")
        mds_url = replay.stdout.readline().split()[-1]
        replay.stdout.readline()  # OMS
        assert "/marketdepth/diff/200" in replay.stdout.readline()  # the paths
        with MarketDataClient(mds_url) as md:
            depth = md.stream_depth(200)
            trades = md.stream_finalized_trades()
            assert wait_until(lambda: depth.pending == len(want_depth)
                              and trades.pending == len(want_trades), 15)
            got_depth = [depth.get(timeout=1) for _ in range(len(want_depth))]
            got_trades = [trades.get(timeout=1) for _ in range(len(want_trades))]
        assert [d.to_dict() for d in got_depth] == [d.to_dict() for d in want_depth]
        assert all(isinstance(t, Trade) for t in got_trades)
        assert [t.to_dict() for t in got_trades] == [t.to_dict() for t in want_trades]
        assert replay.wait(20) == 0
        assert "sent 40 frames" in replay.stdout.read()
    finally:
        stop(replay)


def test_record_then_replay_tplus_user_streams(tmp_path: Path) -> None:
    """The user's streams too: the replay's order service logs in the recorded user."""
    from o2sync.sim.tplus.markets import DEFAULT_USER_SEED
    from o2sync.tplus import OrderBookClient, OrderEvent, User, UserTrade

    out = tmp_path / "user.jsonl"
    proc = o2sync("record", "--venue", "tplus", "orders", "user-trades", "--frames", "30",
                  "--out", str(out), "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    recording = load(str(out))
    user = User(DEFAULT_USER_SEED)
    assert recording.header["user_id"] == user.user_id
    framed = list(zip(recording.paths or [], (f for _, f in recording.frames)))
    user_path = f"/trades/user/events/{user.user_id}"
    want_orders = _events_of(framed, "/orders", tplus_decode.decode_order_event)
    want_fills = _events_of(framed, user_path, tplus_decode.decode_user_trade)
    assert want_orders
    replay = popen("replay", str(out), "--mds-port", "0", "--oms-port", "0", "--speed", "0")
    try:
        assert replay.stdout is not None
        assert replay.stdout.readline().startswith("replaying 30 tplus frames")
        replay.stdout.readline()  # MDS
        oms_url = replay.stdout.readline().split()[-1]
        replay.stdout.readline()  # paths
        with OrderBookClient(oms_url, default_user=user) as ob:
            orders = ob.stream_orders()
            fills = ob.stream_user_trade_events()
            assert wait_until(lambda: orders.pending == len(want_orders)
                              and fills.pending == len(want_fills), 15)
            got_orders = [orders.get(timeout=1) for _ in range(len(want_orders))]
            got_fills = [fills.get(timeout=1) for _ in range(len(want_fills))]
        assert all(isinstance(o, OrderEvent) for o in got_orders)
        assert all(isinstance(f, UserTrade) for f in got_fills)
        assert got_orders == want_orders and got_fills == want_fills
        assert replay.wait(20) == 0
    finally:
        stop(replay)


def test_o2_recordings_still_load_as_o2(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    old.write_text('{"o2sync_recording": 1, "markets": [], "streams": ["trades:x"]}\n'
                   '{"t": 0.5, "frame": "{\\"action\\": \\"x\\"}"}\n')
    recording = load(str(old))
    assert recording.venue == "o2" and recording.paths is None
    assert recording.frames == [(0.5, '{"action": "x"}')]


def test_record_tplus_rejects_bad_specs_before_touching_the_file(tmp_path: Path) -> None:
    keep = tmp_path / "keep.jsonl"
    keep.write_text("precious\n")
    for spec, message in (("depth", "depth needs an asset"),
                          ("nonce:0x12", "unknown tplus stream kind 'nonce'"),
                          ("depth:999", "no tplus market '999'"),
                          ("depth:BTC", "known: ETH (200), 82af49..bab1@a4b1")):
        proc = o2sync("record", "--venue", "tplus", spec, "--out", str(keep), "--force",
                      "--sim-rate", "0")
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and keep.read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["keep.jsonl"]


PRICE = re.compile(r"\b38\d\d\.\d\d\b")


def tplus_demo_is_complete(screen: str) -> bool:
    lines = screen.rstrip("\n").split("\n")
    status = lines[-1]
    return ("messages" in status and "drops" in status and "reconnects" in status
            and "connected" in status
            and "tplus ETH order book" in screen and "last trades" in screen
            and "taker" in screen and ("Buy" in screen or "Sell" in screen)
            and "spread" in screen
            and len(PRICE.findall(screen)) >= 8)


def test_tplus_demo_fits_80x24(terminal) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    t = terminal([sys.executable, "-m", "o2sync", "demo", "--venue", "tplus", "--sim-rate",
                  "80"], 80, 24)
    screen = t.wait_for(tplus_demo_is_complete)
    lines = screen.rstrip("\n").split("\n")
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
    # book sides: asks (above the spread) and bids (below) both hold levels
    spread_row = next(i for i, line in enumerate(lines) if "spread" in line and "│" in line)
    assert any(PRICE.search(line) for line in lines[:spread_row])
    assert any(PRICE.search(line) for line in lines[spread_row + 1:])
    captures = Path(os.environ.get("O2SYNC_CAPTURES", "/tmp/o2sync-captures"))
    captures.mkdir(exist_ok=True)
    (captures / "demo_tplus_80x24.txt").write_text(screen)
    t.keys("C-c")
    t.wait_for(lambda s: "EXITED 130" in s)  # Ctrl-C: 128 + SIGINT


def test_tplus_demo_draws_then_exits() -> None:
    proc = o2sync("demo", "--venue", "tplus", "--seconds", "1.5", "--sim-rate", "50")
    assert proc.returncode == 0, proc.stderr
    assert "tplus ETH order book" in proc.stdout and "last trades" in proc.stdout
    assert proc.stdout.startswith("o2sync demo: tplus ETH (200) from ws://127.0.0.1:")
