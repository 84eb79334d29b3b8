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
    """The driver's ``rest_calls``, call for call, with o2sync's blocking clients."""
    from o2sync.tplus import Interval, MarketDataClient, OmsError, OrderBookClient, User

    me = User(sim.user)
    address = ADDRESS_ASSET
    with MarketDataClient(sim.mds_url, default_user=me) as mds, \
            OrderBookClient(sim.oms_url, default_user=me) as oms:
        calls: dict[str, Any] = {
            "klines": lambda: mds.get_klines("200", limit=10, end_timestamp_ns=end_ns),
            "klines_page1": lambda: mds.get_klines("200", 1, 15, end_ns),
            "klines_5m": lambda: mds.get_klines(address, interval=Interval.MIN_5, limit=5,
                                                end_timestamp_ns=end_ns),
            "klines_4h_str": lambda: mds.get_klines("200", end_timestamp_ns=end_ns,
                                                    interval="4h"),
            "iter_klines_all": lambda: list(mds.iter_klines("200", limit=25,
                                                            end_timestamp_ns=end_ns,
                                                            max_pages=None)),
            "iter_klines_3": lambda: list(mds.iter_klines("200", 25, end_ns, None, 3)),
            "trades_0_100": lambda: mds.get_trades(0, 100),
            "trades_p1": lambda: mds.get_trades(page=1, limit=5),
            "trades": lambda: mds.get_trades(),
            "trades_asset": lambda: mds.get_trades_for_asset("200", 0, 10),
            "trades_address": lambda: mds.get_trades_for_asset(address),
            "user_trades": lambda: mds.get_user_trades(),
            "user_trades_page": lambda: mds.get_user_trades(page=1, limit=5),
            "user_trades_str": lambda: mds.get_user_trades(me.public_key, limit=4),
            "user_trades_buy": lambda: mds.get_user_trades(side="buy"),
            "user_trades_status": lambda: mds.get_user_trades(status="Rollbacked"),
            "user_trades_since": lambda: mds.get_user_trades(start_time=start_ns),
            "user_trades_asset": lambda: mds.get_user_trades_for_asset("200", limit=3, page=1),
            "user_orders": lambda: mds.get_user_orders(),
            "user_orders_page": lambda: mds.get_user_orders(limit=2),
            "user_orders_canceled": lambda: mds.get_user_orders(status="Canceled"),
            "user_orders_asset": lambda: mds.get_user_orders_for_asset(address, me),
            "market": lambda: oms.get_market("200"),
            "market_address": lambda: oms.get_market(address),
            "markets": lambda: oms.get_markets(),
            "markets_symbols": lambda: oms.get_markets(True),
            "markets_p0": lambda: oms.get_markets(page=0, limit=1),
            "markets_p1": lambda: oms.get_markets(page=1, limit=1),
            "open_orders": lambda: oms.get_open_orders_for_book("200"),
            "open_orders_paged": lambda: oms.get_open_orders_for_book("200", limit=3),
            "open_orders_capped": lambda: oms.get_open_orders_for_book(address, limit=2,
                                                                       max_pages=2),
            "book_orders": lambda: oms.get_user_orders_for_book("200"),
            "book_orders_open": lambda: oms.get_user_orders_for_book("200", open_only=True),
            "book_orders_page": lambda: oms.get_user_orders_for_book("200", page=1, limit=3,
                                                                     open_only=False),
            "book_orders_str": lambda: oms.get_user_orders_for_book(address,
                                                                    user=me.public_key),
            "oms_user_orders": lambda: oms.get_user_orders(),
            "oms_user_orders_page": lambda: oms.get_user_orders(page=1, limit=5),
            "error_klines": lambda: mds.get_klines("999"),
            "error_market": lambda: oms.get_market("999"),
            "error_interval": lambda: mds.get_klines("200", interval="7X"),
        }
        out: dict[str, Any] = {}
        for name, call in calls.items():
            try:
                out[name] = _dump(call())
            except OmsError as exc:
                out[name] = {"error": type(exc).__name__, "code": exc.code,
                             "status_code": exc.status_code, "retryable": exc.retryable,
                             "details": exc.details}
    return out


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    return value


ADDRESS_ASSET = (
    "82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000@00000000000000a4b1"
)


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
