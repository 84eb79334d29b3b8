"""Faithfulness: the official tpluspy 0.6.0 streams from the tplus simulator.

tpluspy needs Python >= 3.10 and pins ``websockets<14`` (this suite runs a newer
websockets), so it lives in its own virtualenv, ``<repo>/.venv-tpluspy``, built
here on first use (``python -m venv`` + ``pip install tpluspy==0.6.0``) and reused
while it stays valid. The driver ``tests/tplus_sdk_driver.py`` runs in it as a
subprocess against a simulator started in this process; it decodes every frame
with tpluspy's own models and prints a JSON summary asserted on here.

If the virtualenv cannot be built the test fails: it is never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tplus_rest_calls import (
    CALLS,
    END_NS,
    ME,
    ME_KEY,
    MIN_5,
    START_NS,
    dump,
    error_dump,
    resolve,
)

from o2sync.testing import TplusSimulator

pytestmark = pytest.mark.tpluspy

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-tpluspy"
DRIVER = Path(__file__).resolve().parent / "tplus_sdk_driver.py"
TPLUSPY = "tpluspy==0.6.0"
ORDER_KINDS = ("Created", "Canceled", "Removed", "Replaced", "Amended", "Triggered",
               "CreateFailed", "CancelFailed", "ReplaceFailed", "AmendFailed")


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _base_python() -> str:
    """A Python >= 3.10 to build the virtualenv with."""
    if sys.version_info >= (3, 10):
        return sys.executable
    for name in ("python3.13", "python3.12", "python3.11", "python3.10"):
        found = shutil.which(name)
        # a version manager's shim may exist and still refuse to run: try it
        if found and subprocess.run([found, "-c", "pass"], capture_output=True,
                                    timeout=30).returncode == 0:
            return found
    pytest.fail("tpluspy 0.6.0 needs Python >= 3.10 and none was found on PATH")


def _valid() -> bool:
    python = _venv_python()
    if not python.exists():
        return False
    check = ("import importlib.metadata as m, websockets, tplus.client; "
             "assert m.version('tpluspy') == '0.6.0'")
    return subprocess.run([str(python), "-c", check], capture_output=True,
                          timeout=60).returncode == 0


@pytest.fixture(scope="session")
def tpluspy_python() -> Path:
    """The interpreter of a virtualenv holding tpluspy 0.6.0 (built if needed)."""
    if not _valid():
        shutil.rmtree(VENV, ignore_errors=True)
        steps = [[_base_python(), "-m", "venv", str(VENV)],
                 [str(_venv_python()), "-m", "pip", "install", "-q",
                  "--disable-pip-version-check", TPLUSPY]]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                pytest.fail(f"cannot build {VENV}: {' '.join(step)}\n{done.stderr[-2000:]}")
        if not _valid():
            pytest.fail(f"{VENV} was built but does not import tpluspy 0.6.0")
    return _venv_python()


def _drive(python: Path, sim: TplusSimulator, seconds: float = 20.0) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(DRIVER), sim.mds_url, sim.oms_url, sim.user, str(seconds)],
        capture_output=True, text=True, timeout=seconds + 40,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-4000:]
    return dict(json.loads(lines[-1]))


def test_tpluspy_streams_and_decodes_everything(tpluspy_python: Path) -> None:
    with TplusSimulator(seed=5, rate=500, control_interval=0.2) as sim:
        sim.reject_upgrades(1)  # the first authenticated upgrade: tpluspy re-logs in once
        summary = _drive(tpluspy_python, sim)
        handshakes = sim.handshakes()
        tokens = sim.tokens

    counts, kinds, info = summary["counts"], summary["kinds"], summary["info"]
    assert summary["log"] == [], summary["log"]  # no parse error or skipped frame
    assert summary["complete"], summary
    for key in ("snapshot_levels", "snapshot_levels_address", "klines_rest", "klines_rest_5m",
                "klines_iter", "ticker", "markets", "depth_diffs", "depth_diffs_address",
                "trades_ws", "klines_ws", "kline_bars_ws", "order_events", "user_trade_events",
                "user_orders_rest", "user_trades_rest", "trades_rest", "trades_rest_address",
                "stranger_token"):
        assert counts.get(key, 0) > 0, (key, summary)
    for kind in ORDER_KINDS:
        assert kinds.get(f"order:{kind}", 0) > 0, (kind, kinds)
    for status in ("Pending", "Confirmed", "Rollbacked"):
        assert kinds.get(f"user_trade:{status}", 0) > 0, (status, kinds)
        assert kinds.get(f"trade_event:{status}", 0) > 0, (status, kinds)
    assert set(summary["depth_gaps"].values()) == {0}
    assert info["user_id"] == sim.user_id
    assert info["address_market_decimals"] == [1, 3]

    # the random User() and User(seed) both logged in and streamed /orders
    orders = [h for h in handshakes if h.path == "/orders"]
    assert any(h.status == 401 for h in orders)  # the rejected first try ...
    accepted_users = {h.user_id for h in orders if h.accepted}
    assert {info["stranger_id"], sim.user_id} <= accepted_users  # ... then both in
    assert {(t.service, t.user_id) for t in tokens} >= {
        ("oms", info["stranger_id"]), ("oms", sim.user_id), ("mds", sim.user_id)}
    # MDS streams accepted tpluspy's opportunistic Bearer headers
    assert any(h.path == "/klines/diff/200" and h.token and h.accepted for h in handshakes)


def _o2sync_rest_calls(sim: TplusSimulator, end_ns: int, start_ns: int) -> dict[str, Any]:
    """The driver's ``rest_calls`` (``tplus_rest_calls.CALLS``), call for call, with
    o2sync's blocking clients."""
    from o2sync.tplus import Interval, MarketDataClient, OmsError, OrderBookClient, User

    me = User(sim.user)
    values = {ME: me, ME_KEY: me.public_key, END_NS: end_ns, START_NS: start_ns,
              MIN_5: Interval.MIN_5}
    out: dict[str, Any] = {}
    with MarketDataClient(sim.mds_url, default_user=me) as mds, \
            OrderBookClient(sim.oms_url, default_user=me) as oms:
        clients = {"mds": mds, "oms": oms}
        for row in CALLS:
            name, client, method, _, _, iterate = row
            args, kwargs = resolve(row, values)
            call = getattr(clients[client], method)
            try:
                out[name] = dump(list(call(*args, **kwargs)) if iterate
                                 else call(*args, **kwargs))
            except OmsError as exc:
                out[name] = error_dump(exc)
    return out


def test_tpluspy_and_o2sync_read_the_same_rest(tpluspy_python: Path) -> None:
    """Every REST call of the resync surface, made by tpluspy 0.6.0 and by o2sync
    against one paused simulator, gives the same data (``model_dump(mode="json")``
    of tpluspy's models equals o2sync's), errors included."""
    import time

    from o2sync.tplus import MarketDataClient, User

    with TplusSimulator(seed=7, start_flow=False, control_interval=None,
                        klines_window=40) as sim:
        sim.step(3000)  # orders, fills and history; nothing moves from here on
        end_ns = time.time_ns()
        with MarketDataClient(sim.mds_url, default_user=User(sim.user)) as md:
            mine = md.get_user_trades(limit=100)
        start_ns = mine[len(mine) // 2].timestamp_ns
        done = subprocess.run(
            [str(tpluspy_python), str(DRIVER), sim.mds_url, sim.oms_url, sim.user, "rest",
             str(end_ns), str(start_ns)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-4000:]
        theirs = json.loads(done.stdout.strip().splitlines()[-1])
        ours = _o2sync_rest_calls(sim, end_ns, start_ns)
        truth_open = sim.oms_orders("200")

    assert set(theirs) == set(ours)
    for name in theirs:
        assert ours[name] == theirs[name], name
    # the calls read something worth comparing: pages, truncation, errors
    assert len(ours["open_orders_paged"]) > 3 and ours["open_orders_paged"] == truth_open
    walked = [bar["open_timestamp_ns"] for bar in ours["iter_klines_all"]]
    assert len(walked) > 80 and walked == sorted(set(walked), reverse=True)  # past 2 clamps
    assert len(ours["iter_klines_3"]) == 25 + 15 + 25  # a 40-bar window, then the next
    assert ours["klines"]["has_next_page"] and len(ours["klines"]["items"]) == 10
    assert ours["user_trades"]["trades"] and ours["user_orders"]["orders"]
    assert ours["user_orders_canceled"]["orders"]
    assert ours["markets_p0"]["has_next_page"] and ours["markets_symbols"]["symbol_map"]
    assert ours["trades_0_100"] and len(ours["trades_p1"]) == 5
    assert ours["error_klines"]["error"] == "NotFoundError"
    assert ours["error_market"]["code"] == "MARKET_NOT_FOUND"
    assert ours["error_interval"]["status_code"] == 400
