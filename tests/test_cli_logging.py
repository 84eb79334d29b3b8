"""What ``-v`` / ``-vv`` show (issue 22, item 9): the client's logs, the built-in
simulator's only with ``-vvv``; at DEBUG the subscriptions sent, the frames received
and the heartbeats; no "connected connected to"."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from clientutil import wait_until
from cliutil import o2sync

from o2sync import O2Client
from o2sync.testing import Simulator

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) (\S+): "
                      r"(.*)")
SIM_SOURCES = ("o2sync.sim", "websockets", "aiohttp", "asyncio")


def log_lines(stderr: str) -> list[tuple[str, str, str]]:
    """(level, logger, message) of each log line of a command's stderr."""
    return [m.groups() for m in map(LOG_LINE.fullmatch, stderr.splitlines()) if m]  # type: ignore[misc]


def from_simulator(name: str) -> bool:
    return any(name == s or name.startswith(s + ".") for s in SIM_SOURCES)


def test_v_shows_the_client_connecting_once_and_no_simulator() -> None:
    proc = o2sync("watch", "trades", "fFUEL/fUSDC", "--events", "2", "--sim-rate", "300", "-v")
    assert proc.returncode == 0, proc.stderr
    lines = log_lines(proc.stderr)
    assert not [n for _, n, _ in lines if from_simulator(n)], proc.stderr
    connected = [m for lvl, n, m in lines if n == "o2sync.engine.sockets" and lvl == "INFO"]
    assert any(re.fullmatch(r"o2sync-\d+ /v1/ws: connected to ws://127\.0\.0\.1:\d+/v1/ws", m)
               for m in connected), proc.stderr
    assert "connected connected" not in proc.stderr


@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_vv_shows_subscriptions_and_frames_of_the_client(venue: str) -> None:
    argv = (["trades", "fFUEL/fUSDC"] if venue == "o2" else ["--venue", "tplus", "depth", "200"])
    proc = o2sync("watch", *argv, "--events", "3", "--sim-rate", "300", "-vv")
    assert proc.returncode == 0, proc.stderr
    lines = log_lines(proc.stderr)
    names = [n for _, n, _ in lines]
    assert not [n for n in names if from_simulator(n)], proc.stderr
    frames = [m for lvl, n, m in lines if n == "o2sync.frames" and lvl == "DEBUG"]
    path = "/v1/ws" if venue == "o2" else "/marketdepth/diff/200"
    assert len(frames) >= 3 and all(m.startswith(f"{path} <- ") for m in frames), proc.stderr
    if venue == "o2":  # O2 subscribes with a frame; a tplus path is its subscription
        sent = [m for _, n, m in lines if n == "o2sync.engine.connection"]
        assert any(re.fullmatch(r'ws://127\.0\.0\.1:\d+/v1/ws -> \{"action":'
                                r'"subscribe_trades","market_id":"0x[0-9a-f]{64}"\}', m)
                   for m in sent), proc.stderr
    assert names and names[0].startswith(("o2sync", "urllib3")), names[:3]


def test_vvv_adds_the_simulators_own_logs() -> None:
    proc = o2sync("watch", "trades", "fFUEL/fUSDC", "--events", "1", "--sim-rate", "300",
                  "-vvv")
    assert proc.returncode == 0, proc.stderr
    assert any(n.startswith("o2sync.sim") for _, n, _ in log_lines(proc.stderr)), proc.stderr


def test_heartbeats_are_logged_at_debug_on_both_venues(sim: Simulator, tplus: Any,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="o2sync.engine.connection")
    with O2Client(ws_url=sim.ws_url, ping_interval=0.1, pong_timeout=5) as client:
        client.connect(5)
        assert wait_until(lambda: any(r.getMessage().endswith("/v1/ws -> PING")
                                      for r in caplog.records), 5), caplog.text
    md = tplus.md(ping_interval=0.1, pong_timeout=5)
    trades = md.stream_finalized_trades()
    assert wait_until(lambda: any(r.getMessage().endswith("/trades -> WebSocket ping")
                                  for r in caplog.records), 5), caplog.text
    trades.close()
