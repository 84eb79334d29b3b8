"""o2-sdk's own test frames, decoded by both libraries and compared field by field.

``tests/data/o2_sdk_frames.json`` keeps the sample data of o2-sdk 0.5.0's tests (its
sdist, ``tests/test_models.py`` and ``tests/test_api.py``; the file names each source)
for markets, identities, accounts, orders, balances, trades and the ticker, and the
stream envelopes of trades, orders, balances and nonce around those same items. Each
is read by o2-sdk (``from_dict``, the oracle) and by o2sync's own decoders, and every
field of the SDK's object must be there in o2sync's with the same value and type.
The only difference allowed is PARITY deliberate exception 1: an exact ``int`` where
the SDK keeps a numeric string, which must agree with it through ``str``, ``int``,
``float`` and ``Decimal``.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import o2sync
from o2sync.o2 import decode, rest

o2_sdk = pytest.importorskip("o2_sdk", reason="o2-sdk (the reference client) needs Python >= 3.10")
from o2_sdk import models as sdk  # noqa: E402
from test_o2_parity import EXACT_NUMBERS  # noqa: E402

pytestmark = pytest.mark.sdk

FRAMES = json.loads((Path(__file__).parent / "data" / "o2_sdk_frames.json").read_text())


def same(ours: Any, theirs: Any, where: str, exact: bool = False) -> None:
    """``ours`` carries everything ``theirs`` does, with the same values and types."""
    if dataclasses.is_dataclass(theirs) and not isinstance(theirs, type):
        assert type(ours).__name__ == type(theirs).__name__, where
        name = type(theirs).__name__
        for f in dataclasses.fields(theirs):
            same(getattr(ours, f.name), getattr(theirs, f.name), f"{where}.{f.name}",
                 f.name in EXACT_NUMBERS.get(name, set()))
    elif exact:  # deliberate exception 1: the exact int, in chain units
        assert type(ours) is int, f"{where}: {ours!r}"
        assert (str(ours), ours, float(ours), Decimal(ours), f"{ours}") == (
            theirs, int(theirs), float(theirs), Decimal(theirs), f"{theirs}"), where
    elif isinstance(theirs, sdk.Id):
        assert isinstance(ours, o2sync.Id) and str(ours) == str(theirs), f"{where}: {ours!r}"
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: {type(ours).__name__} is not a dict"
        assert sorted(map(str, ours)) == sorted(map(str, theirs)), where
        for key, value in theirs.items():
            same(ours[key], value, f"{where}[{key!r}]")
    else:
        assert ours == theirs and type(ours) is type(theirs), (
            f"{where}: o2sync {ours!r}, o2-sdk {theirs!r}")


def assert_keys_cover(ours: Any, theirs: Any, where: str) -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and set(map(str, theirs)) <= set(map(str, ours)), where
        for key, value in theirs.items():
            assert_keys_cover(ours[key], value, f"{where}[{key!r}]")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for a, b in zip(ours, theirs):
            assert_keys_cover(a, b, where)


def ids(kind: str) -> list[str]:
    return [f"{kind}{i}" for i in range(len(FRAMES[kind]))]


@pytest.mark.parametrize("raw", FRAMES["trade"], ids=ids("trade"))
def test_trade(raw: dict[str, Any]) -> None:
    same(decode.decode_trade(raw), sdk.Trade.from_dict(raw), "Trade")


@pytest.mark.parametrize("raw", FRAMES["order"], ids=ids("order"))
def test_order(raw: dict[str, Any]) -> None:
    ours, theirs = decode.decode_order(raw), sdk.Order.from_dict(raw)
    same(ours, theirs, "Order")
    assert ours.is_open == theirs.is_open


def test_a_null_side_is_kept_as_none_like_the_sdk() -> None:
    """A ``"side": null`` (seen from a server that leaves it unset) is kept as the SDK
    keeps it, not refused; the taker's side of such a trade is unknown."""
    trade = dict(FRAMES["trade"][0], side=None)
    ours = decode.decode_trade(trade)
    same(ours, sdk.Trade.from_dict(trade), "Trade")
    assert ours.side is None and ours.taker_side is None
    order = dict(FRAMES["order"][0], side=None)
    assert decode.decode_order(order).side is None is sdk.Order.from_dict(order).side


@pytest.mark.parametrize("raw", FRAMES["balance"], ids=ids("balance"))
def test_balance(raw: dict[str, Any]) -> None:
    ours, theirs = decode.decode_balance(raw), sdk.Balance.from_dict(raw)
    same(ours, theirs, "Balance")
    assert (ours.available, ours.locked, ours.total) == (
        theirs.available, theirs.locked, theirs.total)


@pytest.mark.parametrize("raw", FRAMES["market"], ids=ids("market"))
def test_market(raw: dict[str, Any]) -> None:
    ours, theirs = rest._market_from_wire(raw), sdk.Market.from_dict(raw)
    same(ours, theirs, "Market")
    assert ours.pair == theirs.pair
    for human in ("0.0125", "1", "3.14159265"):
        assert ours.scale_price(human) == theirs.scale_price(human)
        assert ours.scale_quantity(human) == theirs.scale_quantity(human)
    for chain in (12_500_000, 1, 10**12):  # exception 1: the exact Decimal of the float
        assert float(ours.format_price(chain)) == theirs.format_price(chain)
        assert float(ours.format_quantity(chain)) == theirs.format_quantity(chain)


@pytest.mark.parametrize("raw", FRAMES["markets_response"], ids=ids("markets_response"))
def test_markets_response(raw: dict[str, Any]) -> None:
    markets = [rest._market_from_wire(m) for m in raw["markets"]]
    ours, theirs = rest.markets_response_from(raw, markets), sdk.MarketsResponse.from_dict(raw)
    same(ours, theirs, "MarketsResponse")
    assert ours.chain_id_int == theirs.chain_id_int


@pytest.mark.parametrize("raw", FRAMES["identity"], ids=ids("identity"))
def test_identity(raw: dict[str, str]) -> None:
    ours, theirs = o2sync.Identity.from_dict(raw), sdk.Identity.from_dict(raw)
    same(ours, theirs, "Identity")
    assert (ours.to_dict(), ours.discriminant) == (theirs.to_dict(), theirs.discriminant)
    assert dataclasses.asdict(ours) == dataclasses.asdict(theirs)


@pytest.mark.parametrize("raw", FRAMES["account"], ids=ids("account"))
def test_account(raw: dict[str, Any]) -> None:
    ours, theirs = rest._account_info(raw), sdk.AccountInfo.from_dict(raw)
    same(ours, theirs, "AccountInfo")
    assert (ours.exists, ours.nonce, ours.sync_generation) == (
        theirs.exists, theirs.nonce, theirs.sync_generation)


@pytest.mark.parametrize("case", FRAMES["ticker"], ids=ids("ticker"))
def test_ticker(case: dict[str, Any]) -> None:
    # the live answer is a one-item list: both take its item
    item = case["answer"][0]
    theirs = sdk.MarketTicker.from_dict({"market_id": case["market_id"], **item})
    same(rest.ticker_from(case["market_id"], item), theirs, "MarketTicker")


STREAMS = {"subscribe_trades": sdk.TradeUpdate, "subscribe_orders": sdk.OrderUpdate,
           "subscribe_balances": sdk.BalanceUpdate, "subscribe_nonce": sdk.NonceUpdate}


@pytest.mark.parametrize("msg", FRAMES["stream"], ids=ids("stream"))
def test_stream_frame(msg: dict[str, Any]) -> None:
    ours, theirs = decode.decode(json.loads(json.dumps(msg))), STREAMS[msg["action"]].from_dict(msg)
    same(ours, theirs, type(theirs).__name__)
    # dataclasses.asdict() works and gives the SDK's structure (o2sync may add keys)
    assert_keys_cover(dataclasses.asdict(ours), dataclasses.asdict(theirs), "asdict")
    if isinstance(theirs, sdk.BalanceUpdate):  # the wire dicts, with the exact view beside
        for entry, raw in zip(ours.balance, msg["balance"]):
            assert entry == raw and entry["asset_id"] == raw["asset_id"]
            assert entry.total_locked == int(raw["total_locked"])
