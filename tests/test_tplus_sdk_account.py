"""tpluspy 0.6.0 is the oracle for the ticker, account and intent surface.

1. Frames (tpluspy's own test data, the shared fixtures): decoded by tpluspy in its
   virtualenv and by o2sync; every value is equal, field by field, and both
   refuse the same bad frames. The model attribute names are tpluspy's.
2. Live: tpluspy reads every new REST call and streams every new stream from the
   simulator while o2sync does the same; the results are equal.

The virtualenv is the one ``test_tplus_sdk_faithful.py`` builds (never skipped).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
from clientutil import wait_until
from test_tplus_sdk_faithful import tpluspy_python  # noqa: F401 - the shared fixture
from tpluspy_account_frames import ACCEPTED, REFUSED

from o2sync.errors import DecodeError, StreamFailedError
from o2sync.testing import TplusSimulator
from o2sync.tplus import MarketDataClient, OrderBookClient, User
from o2sync.tplus import _account_decode as dec
from o2sync.tplus import _account_models as models
from o2sync.tplus.asset import AssetIdentifier
from o2sync.tplus.decode import parse_frame

pytestmark = pytest.mark.tpluspy

DRIVER = Path(__file__).resolve().parent / "tplus_sdk_account_driver.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"  # copies of shared/fixtures
ASSETS = ("200", "82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000"
                 "@00000000000000a4b1")
DECODERS: dict[str, Callable[[Any], Any]] = {
    "ticker": dec.decode_ticker,
    "tickers": dec.decode_tickers,
    "position_update": dec.decode_position_update,
    "positions_page": dec.decode_positions_page,
    "user_event": dec.decode_user_event,
    "intent": dec.decode_intent,
    "open_interest": dec.decode_open_interest,
    "open_interests": dec.decode_open_interests,
    "margin": dec.decode_user_margin,
    "solvency": dec.decode_user_solvency,
    "basis": dec.decode_position_basis,
    "sub_account_names": dec.decode_sub_account_names,
}
#: o2sync model -> tpluspy ``module:Class`` (PARITY.md section 2).
MODELS = {
    "Ticker": "ticker", "BookLevel": "ticker", "TickerOpenInterest": "ticker",
    "OpenInterest": "open_interest", "PositionUpdate": "position",
    "PositionResponse": "position", "UserPositionsPage": "position",
    "DepositLanded": "user_event", "WithdrawalCompleted": "user_event",
    "PositionCleared": "user_event", "SubAccountAssetTransferred": "user_event",
    "MarginCallUpdated": "user_event", "CalledVenue": "user_event",
    "IntentAggregateUpdate": "intent", "UserMarginInfo": "user_margin",
    "AccountMarginInfo": "user_margin", "MarginCallInfo": "user_margin",
    "MarginWarning": "user_margin", "PositionMarginInfo": "user_margin",
    "AssetNettingInfo": "user_margin", "UserSolvency": "user_solvency",
    "AccountSolvency": "user_solvency", "PositionBasisResponse": "position_basis",
    "SubAccountNamesResponse": "sub_account", "SubAccountNameEntry": "sub_account",
}


def plain(value: Any) -> Any:
    """o2sync's value as tpluspy's JSON mode writes it (decimals as their text)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (Decimal, AssetIdentifier)):
        return str(value)
    return value


def _run(python: Path, args: list[str], stdin: str = "", timeout: float = 60) -> Any:
    done = subprocess.run([str(python), str(DRIVER), *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ours(parser: str, frame: Any) -> Any:
    try:
        return plain(DECODERS[parser](parse_frame(json.dumps(frame))))
    except DecodeError as exc:
        return {"error": type(exc).__name__}


def test_both_decode_tpluspys_frames_alike(tpluspy_python: Path) -> None:  # noqa: F811
    fixtures = [("ticker", "tplus_ticker.json"), ("tickers", "tplus_tickers.json"),
                ("position_update", "tplus_position_update.json"),
                ("user_event", "tplus_account_event.json")]
    accepted = ACCEPTED + [(p, json.loads((FIXTURES / f).read_text())) for p, f in fixtures]
    frames = accepted + REFUSED
    theirs = _run(tpluspy_python, ["frames"], json.dumps(frames))
    assert len(theirs) == len(frames)
    for (parser, frame), tp in zip(accepted, theirs):
        assert "error" not in tp, (parser, frame, tp)
        assert _ours(parser, frame) == tp, (parser, frame)
    for (parser, frame), tp in zip(REFUSED, theirs[len(accepted):]):
        assert "error" in tp, (parser, frame, tp)
        assert "error" in _ours(parser, frame), (parser, frame)


def test_model_attributes_are_tpluspys(tpluspy_python: Path) -> None:  # noqa: F811
    script = ("import importlib, json, sys\n"
              "out = {}\n"
              "for name, mod in json.loads(sys.stdin.read()).items():\n"
              "    cls = getattr(importlib.import_module('tplus.model.' + mod), name)\n"
              "    out[name] = {k: None if f.is_required() else\n"
              "                 repr(f.get_default(call_default_factory=True))\n"
              "                 for k, f in cls.model_fields.items()}\n"
              "print(json.dumps(out))\n")
    done = subprocess.run([str(tpluspy_python), "-c", script], input=json.dumps(MODELS),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout)
    for name, fields in theirs.items():
        ours = {f.name: f for f in dataclasses.fields(getattr(models, name))}
        assert set(ours) == set(fields), name
        for key, default in fields.items():  # required stays required; defaults match
            f = ours[key]
            has_default = (f.default is not dataclasses.MISSING
                           or f.default_factory is not dataclasses.MISSING)
            assert has_default == (default is not None), (name, key)
            if f.default is not dataclasses.MISSING:
                assert repr(f.default) == default, (name, key)
            elif f.default_factory is not dataclasses.MISSING:
                assert repr(f.default_factory()) == default, (name, key)


N = 3


def _o2sync_reads(md: MarketDataClient, ob: OrderBookClient, me: User,
                  stranger: OrderBookClient) -> dict[str, Any]:
    """The driver's REST reads, made by o2sync."""
    return plain({
        "ticker": md.get_ticker(ASSETS[1]), "tickers": md.get_tickers(),
        "open_interest": md.get_open_interest(ASSETS[0]),
        "all_open_interest": md.get_all_open_interest(),
        "position_basis": md.get_user_position_basis(),
        "position_basis_margin": md.get_user_position_basis(sub_account=1),
        "position_basis_asset": md.get_user_position_basis_for_asset(ASSETS[1]),
        "sub_account_names": md.get_sub_account_names(),
        "positions": ob.get_user_positions(),
        "positions_page": ob.get_user_positions_page(limit=1),
        "positions_page_1": ob.get_user_positions_page(page=1, limit=1),
        "positions_sub0": ob.get_user_positions(sub_account=0),
        "position_for_asset": ob.get_user_position_for_asset(ASSETS[0]),
        "positions_by_key": ob.get_user_positions(user=me.public_key),
        "inventory": ob.get_user_inventory(),
        "margin": ob.get_user_margin_info(include_positions=True),
        "margin_sub1": ob.get_user_margin_info(sub_account=1),
        "solvency": ob.get_user_solvency(),
        "stranger_positions": stranger.get_user_positions(),
        "stranger_inventory": stranger.get_user_inventory(),
        "stranger_solvency": stranger.get_user_solvency(),
    })


def test_tpluspy_and_o2sync_read_and_stream_the_same_account(
        tpluspy_python: Path) -> None:  # noqa: F811
    frozen = time.time_ns()  # one clock value: tickers read twice carry one timestamp
    with TplusSimulator(seed=7, start_flow=False, control_interval=None,
                        clock=lambda: frozen) as sim:
        sim.set_market_maker()
        me = User(sim.user_seed)
        with MarketDataClient(sim.mds_url, default_user=me) as md, \
                OrderBookClient(sim.oms_url, default_user=me) as ob, \
                OrderBookClient(sim.oms_url, default_user=User()) as stranger:
            ours_rest = _o2sync_reads(md, ob, me, stranger)
            subs = {"ticker": md.stream_ticker(ASSETS[0]), "tickers": md.stream_tickers(),
                    "positions": ob.stream_user_positions(),
                    "events": ob.stream_user_events(user=me),
                    "finalized": ob.stream_user_finalized_trades(),
                    "intent": ob.stream_intent()}
            refused = stranger.stream_intent()
            proc = subprocess.Popen(
                [str(tpluspy_python), str(DRIVER), "live", sim.mds_url, sim.oms_url,
                 sim.user, str(N), "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
            u = sim.user_id
            # every socket open (tpluspy's and ours) before the first event
            wanted = {f"/ticker/ws/{ASSETS[0]}": 2, "/tickers/ws": 2, f"/positions/ws/{u}": 2,
                      f"/account/events/{u}": 2, f"/trades/user/{u}": 3, "/intent/ws": 2}
            opened = wait_until(lambda: all(sim.open_connections(p) >= n
                                            for p, n in wanted.items()), 30)
            for _ in range(400):  # bounded: stop once tpluspy has its N of everything
                if not opened or proc.poll() is not None:
                    break
                sim.step(25)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.05)  # wait for tpluspy, not for time
            out, err = proc.communicate(timeout=60)
            assert opened, {p: sim.open_connections(p) for p in wanted}
            assert proc.returncode == 0, err[-4000:]
            theirs = json.loads(out.strip().splitlines()[-1])
            ours_streams = {name: [plain(sub.get(timeout=10)) for _ in range(N)]
                            for name, sub in subs.items()}
            with pytest.raises(StreamFailedError, match="403"):
                refused.get(timeout=10)

    assert theirs["log"] == [], theirs["log"]  # tpluspy parsed every frame
    assert theirs["refusal"].get("error"), theirs["refusal"]  # its non-MM intent: refused
    assert "item" not in theirs["refusal"]
    assert set(ours_rest) == set(theirs["rest"])
    for key, value in theirs["rest"].items():
        assert ours_rest[key] == value, key
    streams = theirs["streams"]
    assert streams["finalized_alias"] == streams["finalized"]
    for name, items in ours_streams.items():
        assert len(streams[name]) == N, (name, streams[name])
        assert items == streams[name], name
    # the read covered something: positions, margin calls, every event kind in time
    assert theirs["rest"]["positions"] and theirs["rest"]["margin"]["accounts"]
