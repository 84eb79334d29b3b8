"""`o2sync demo`, `watch`, `record` and `replay`, run as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import o2_sdk
from clientutil import client_for, wait_until
from cliutil import o2sync

from o2sync import DepthBook, DepthUpdate, TradeUpdate
from o2sync.cli.recording import load
from o2sync.testing import Simulator


def test_demo_draws_the_book_and_trades_then_exits() -> None:
    proc = o2sync("demo", "--seconds", "1.5", "--sim-rate", "50")
    assert proc.returncode == 0, proc.stderr
    assert "order book" in proc.stdout and "last trades" in proc.stdout
    assert "spread" in proc.stdout


def test_demo_exits_cleanly_on_ctrl_c() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "o2sync", "demo", "--sim-rate", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the demo is up and about to draw
        assert first.startswith("o2sync demo: fFUEL/fUSDC")
        os.kill(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err  # 128 + SIGINT
    assert "Traceback" not in err


def test_watch_prints_json_lines() -> None:
    proc = o2sync("watch", "depth", "fFUEL/fUSDC", "--json", "--events", "3",
                  "--sim-rate", "100")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["stream"] == "depth" and lines[0]["event"]["is_snapshot"] is True
    assert DepthUpdate.from_dict(lines[1]["event"]).market_id.startswith("0x")


def test_watch_account_stream_human_lines() -> None:
    proc = o2sync("watch", "nonce", "sim", "--events", "2", "--sim-rate", "200")
    assert proc.returncode == 0, proc.stderr
    # each human line starts with the local time (issue 11, item 5), then the stream
    assert [line.split()[1] for line in proc.stdout.splitlines()] == ["nonce", "nonce"]


def test_watch_rejects_bad_arguments() -> None:
    proc = o2sync("watch", "orders", "not-an-account")
    assert proc.returncode == 2 and "trade account id" in proc.stderr


def test_record_then_replay_delivers_the_same_frames(tmp_path: Path) -> None:
    out = tmp_path / "session.jsonl"
    proc = o2sync("record", "depth:fFUEL/fUSDC", "trades:fFUEL/fUSDC", "--frames", "40",
                  "--out", str(out), "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    recording = load(str(out))
    assert len(recording.frames) == 40
    assert recording.header["streams"] == ["depth:fFUEL/fUSDC", "trades:fFUEL/fUSDC"]
    recorded_depth = [f for _, f in recording.frames if '"subscribe_depth' in f]
    recorded_trades = [f for _, f in recording.frames if '"subscribe_trades"' in f]
    assert recorded_depth and recorded_trades

    with Simulator(port=0) as probe:  # borrow a free port for the replay
        port = probe.port
    replay = subprocess.Popen([sys.executable, "-m", "o2sync", "replay", str(out), "--port",
                               str(port), "--speed", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert replay.stdout is not None
        assert replay.stdout.readline().startswith("replaying 40 frames")
        ws_url = replay.stdout.readline().split()[-1]
        replay.stdout.readline()

        class Endpoint:  # what client_for needs
            api_url = ws_url.replace("ws://", "http://").removesuffix("/v1/ws")

        Endpoint.ws_url = ws_url  # type: ignore[attr-defined]
        client = client_for(Endpoint)
        try:
            depth = client.stream_depth("fFUEL/fUSDC")
            trades = client.stream_trades("fFUEL/fUSDC")
            want_depth = len(recorded_depth)
            assert wait_until(lambda: depth.pending == want_depth
                              and trades.pending == len(recorded_trades), 15)
            got = [depth.get(timeout=1) for _ in range(want_depth)]
            assert got[0].is_snapshot
            # the replayed signed deltas build the book o2-sdk builds from the recording
            ours, theirs = DepthBook(), o2_sdk.DepthBook()
            for update, frame in zip(got, recorded_depth):
                ours.apply(update)
                theirs.apply(o2_sdk.DepthUpdate.from_dict(json.loads(frame)))
                assert (ours.bids, ours.asks) == (theirs.bids, theirs.asks)
                if not update.is_snapshot:  # the delta's best levels are the book's
                    assert getattr(update.changes.best_bid, "price", None) == theirs.best_bid
                    assert getattr(update.changes.best_ask, "price", None) == theirs.best_ask
            assert all(isinstance(t, TradeUpdate) for t in
                       [trades.get(timeout=1) for _ in range(len(recorded_trades))])
        finally:
            client.close()
        assert replay.wait(20) == 0
        assert "sent 40 frames" in replay.stdout.read()
    finally:
        if replay.poll() is None:
            replay.kill()
