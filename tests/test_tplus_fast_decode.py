"""The C-speed tplus decoding (issue 21) against the strict path it stands in for.

The fast paths (msgspec frame parsing, the byte-checked depth diff, the one-pass
trade) may only ever decline: whatever they return must be exactly what the
strict path (stdlib scanner, field-by-field checks) returns for the same frame,
and every frame the strict path refuses must be declined, so that it still fails
at decode with the strict path's error.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import random
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import pytest

from o2sync.errors import DecodeError
from o2sync.tplus import OrderBookDiff, Trade
from o2sync.tplus import decode as D
from o2sync.tplus.models import PackedOrderBookDiff

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.skipif(D._DIFF_DECODER is None, reason="msgspec is a dependency")


def strict_parse(data: bytes) -> Any:
    """parse_frame as it was: the stdlib scanner only."""
    return D._DECODER.decode(data.decode("utf-8"))


def strict_diff(data: bytes) -> Optional[OrderBookDiff]:
    """The strict path's diff, or None where it raises."""
    try:
        return D.decode_depth_diff(strict_parse(data))
    except (DecodeError, ValueError, RecursionError):
        return None


def diff_frame(asks: str, bids: str, seq: str = "1000000001", extra: str = "") -> bytes:
    return f'{{"sequence_number":{seq},"asks":{asks},"bids":{bids}{extra}}}'.encode()


GOOD = "[[2500.25,1.5],[2501,0],[2502.0,0.0],[0.000001,123456789.123456789]]"

# (asks text, why the strict path does or does not take it)
SIDES = [
    GOOD,
    "[]",
    "[[1,2]]",
    '[["2500.25","1.5"]]',           # strings: accepted by the strict path (the fast one declines)
    "[[-1,2]]",                      # negative price
    "[[1,-0.0]]",                    # negative zero
    "[[1e3,2]]",                     # exponent: accepted, exact
    "[[1E+3,2]]",
    "[[1e2000,2]]",                  # out of range
    "[[1,2,3]]",                     # not a pair
    "[[1]]",
    "[1,2]",
    "[[[1,2],3]]",
    "[[1,2],[3,4],5]",
    "[[1],[2,3,4]]",
    "[[1,2] , [3,4]]",               # whitespace: valid JSON, the fast path declines
    "[[true,1]]",
    "[[null,1]]",
    '[["1_000","1"]]',
    '[["+1","1"]]',
    '[[" 1","1"]]',
    '[["NaN","1"]]',
    '[["1","\\u0031"]]',             # an escape: "1"
    "[[NaN,1]]",
    "[[Infinity,1]]",
    "[[01,1]]",
    "[[1.,1]]",
    "[[.5,1]]",
    "{}",
    '"[[1,2]]"',
    "null",
    "[[1,2]",
    "[[" + "9" * 998 + ",1]]",       # long but in range
    "[[1," + "9" * 1500 + "]]",      # out of range (exponent > 1000)
    "[[0." + "0" * 1200 + "1,1]]",   # out of range (exponent < -1000)
    "[[" + "1" * 5000 + ",1]]",      # over the stdlib's int-digit limit
]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("where", ["asks", "bids"])
def test_depth_fast_path_agrees_with_the_strict_path(side: str, where: str) -> None:
    frame = diff_frame(side, GOOD) if where == "asks" else diff_frame(GOOD, side)
    expected = strict_diff(frame)
    fast = D.decode_depth_diff_frame(frame)
    if fast is None:
        return  # declined: the strict path decides (it is what the venue runs next)
    assert expected is not None, "the fast path took a frame the strict path refuses"
    assert fast == expected and expected == fast
    for got, want in ((fast.asks, expected.asks), (fast.bids, expected.bids)):
        assert [(str(p), str(q)) for p, q in got] == [(str(p), str(q)) for p, q in want]
        assert all(type(p) is Decimal and type(q) is Decimal for p, q in got)


@pytest.mark.parametrize("seq", ["-1", "1.0", "1e3", '"5"', "true", "null", "9" * 30,
                                 "9" * 5000, "[1]"])
def test_depth_fast_path_declines_odd_sequence_numbers(seq: str) -> None:
    frame = diff_frame(GOOD, GOOD, seq=seq)
    fast = D.decode_depth_diff_frame(frame)
    expected = strict_diff(frame)
    assert fast is None or (expected is not None and fast == expected)


@pytest.mark.parametrize("extra", [
    ',"type":"ping"',                     # a control frame's key: the strict path decides
    ',"type":null',
    ',"sent_ns":1765150000123456789',
    ',"note":"\\ud800"',                  # lone surrogate escape: stdlib takes it
    ',"note":"café"',                     # valid UTF-8, not ASCII
    ',"note":"\\q"',                      # invalid escape
    ',"x":' + "[" * 700 + "]" * 700,      # deep nesting
    ',"x":' + "9" * 4500,                 # over the int-digit limit in a skipped field
    ',"asks":[[-1,1]]',                   # a duplicate key: the last one counts
    ',"asks":[[1,1]]',
])
def test_depth_fast_path_and_the_rest_of_the_frame(extra: str) -> None:
    frame = diff_frame("[[-5,1]]" if "asks" in extra else GOOD, GOOD, extra=extra)
    fast = D.decode_depth_diff_frame(frame)
    try:
        obj = strict_parse(frame)
        expected: Optional[OrderBookDiff] = (
            None if D.control_type(obj) is not None else D.decode_depth_diff(obj))
    except (DecodeError, ValueError, RecursionError):
        expected = None
    assert fast is None or (expected is not None and fast == expected)
    if '"ping"' in extra:
        assert fast is None  # a control frame is never a diff


def test_depth_fast_path_randomized_against_the_strict_path() -> None:
    rng = random.Random(2109)
    alphabet = "0123456789.,[]-eE+\" ntrul"
    took = 0
    for _ in range(3000):
        levels = [[f"{rng.randrange(10**6)}.{rng.randrange(10**3)}", str(rng.randrange(100))]
                  for _ in range(rng.randrange(0, 6))]
        text = json.dumps(levels).replace('"', "").replace(" ", "")
        chars = list(text)
        for _ in range(rng.randrange(0, 3)):  # a few random edits
            pos = rng.randrange(len(chars) + 1)
            if rng.random() < 0.5 and chars:
                del chars[min(pos, len(chars) - 1)]
            else:
                chars.insert(pos, rng.choice(alphabet))
        frame = diff_frame("".join(chars), GOOD)
        fast, expected = D.decode_depth_diff_frame(frame), strict_diff(frame)
        if fast is not None:
            took += 1
            assert expected is not None and fast == expected, frame
            assert [tuple(map(str, lv)) for lv in fast.asks] == \
                [tuple(map(str, lv)) for lv in expected.asks]
    assert took > 300  # the unedited and harmlessly edited frames go fast


def test_a_packed_diff_is_an_order_book_diff() -> None:
    frame = diff_frame(GOOD, "[[2499.5,0.001]]")
    fast = D.decode_depth_diff_frame(frame)
    eager = D.decode_depth_diff(strict_parse(frame))
    assert isinstance(fast, PackedOrderBookDiff) and isinstance(fast, OrderBookDiff)
    assert type(fast).__name__ == "OrderBookDiff" and repr(fast) == repr(eager)
    (price, qty), *_ = fast.asks  # a level unpacks as (price, quantity) of Decimal
    assert (price, qty) == (Decimal("2500.25"), Decimal("1.5"))
    assert fast.asks is fast.asks  # built once, then cached
    assert fast == eager and eager == fast and fast != D.decode_depth_diff_frame(
        diff_frame(GOOD, "[[2499.5,0.002]]"))
    for clone in (pickle.loads(pickle.dumps(fast)), copy.deepcopy(fast)):
        assert clone == eager and type(clone) is OrderBookDiff
    moved = dataclasses.replace(fast, sequence_number=7)
    assert moved.sequence_number == 7 and moved.asks == eager.asks
    assert fast.model_dump() == eager.model_dump()
    assert fast.model_dump_json() == eager.model_dump_json()
    assert fast.to_dict() == eager.to_dict()
    assert OrderBookDiff.from_dict(fast.to_dict()) == fast
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.sequence_number = 2  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("tplus_*.json")))
def test_parse_frame_agrees_with_the_stdlib_on_every_fixture(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    try:
        expected: Any = strict_parse(data)
    except ValueError:
        with pytest.raises(DecodeError):
            D.parse_frame(data)
        return
    got = D.parse_frame(data)
    assert got == expected and repr(got) == repr(expected)


@pytest.mark.parametrize("raw", [
    b'{"a":1.50,"b":-0.0,"c":1E5,"d":-0,"e":18446744073709551616,"f":[true,false,null]}',
    b'{"a":1,"a":2}', b'{"s":"\\u00e9\\n\\ud800"}', b'[' + b'9' * 400 + b']',
    b' [1] ', b'"x"', b'[1' + b'0' * 3000 + b'.5]',
])
def test_parse_frame_values_are_the_stdlib_ones(raw: bytes) -> None:
    got, expected = D.parse_frame(raw), strict_parse(raw)
    assert got == expected and repr(got) == repr(expected)


@pytest.mark.parametrize("raw", [
    b'[NaN]', b'[Infinity]', b'[1,]', b'{"a":"\\q"}', b'{"a":"a\x01b"}', b'[01]',
    b'["\xed\xa0\x80"]', b'[' + b'9' * 5000 + b']', b'[' * 3000 + b']' * 3000, b'\xff',
])
def test_parse_frame_refuses_what_the_stdlib_refuses(raw: bytes) -> None:
    with pytest.raises((ValueError, RecursionError)):
        strict_parse(raw)
    with pytest.raises(DecodeError):
        D.parse_frame(raw)


TRADE = {"asset_id": "200", "trade_id": 1111111111, "order_id": "", "price": "2500.25",
         "quantity": "1.234", "buyer_is_maker": True, "status": "Confirmed",
         "timestamp_ns": 1765150000123456789}


@pytest.mark.parametrize("change", [
    {}, {"order_id": None}, {"status": None}, {"status": "Pending"}, {"status": "Bogus"},
    {"price": "2500"}, {"price": "0.0"}, {"price": "-1"}, {"price": "1e3"}, {"price": "1."},
    {"price": ".5"}, {"price": "1.2.3"}, {"price": "١٢"}, {"price": "1_0"}, {"price": " 1"},
    {"price": "9" * 101}, {"price": ""}, {"price": Decimal("2.5")}, {"price": 2},
    {"quantity": None}, {"trade_id": -1}, {"trade_id": "7"}, {"trade_id": True},
    {"timestamp_ns": 1.5}, {"buyer_is_maker": 1}, {"asset_id": "not an asset"},
    {"asset_id": 200}, {"order_id": 5},
])
def test_trade_fast_path_agrees_with_the_checked_path(change: dict[str, Any]) -> None:
    raw = {**TRADE, **change}
    try:
        expected: Optional[Trade] = D._checked_trade(dict(raw), "Trade")
    except DecodeError as exc:
        with pytest.raises(DecodeError, match=str(exc.args[0]).split(":")[0]):
            D.decode_trade(dict(raw))
        return
    fast = D._plain_trade(dict(raw), "Trade")
    if fast is not None:
        assert fast == expected and repr(fast) == repr(expected)
        assert fast.to_dict() == expected.to_dict()
    assert D.decode_trade(dict(raw)) == expected
    missing = {k: v for k, v in raw.items() if k != "price"}
    with pytest.raises(DecodeError, match=r"Trade\.price: missing field"):
        D.decode_trade(missing)
