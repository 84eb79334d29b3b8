"""Strict numbers (issue 10, item 1): every integer field of every O2 frame.

Each bad value, in each integer field of each stream, must be a counted decode
error reported through the errors stream, never an event. The Unicode cases are
generated: every non-ASCII character with a decimal value (unit tests), one per
script block over real sockets.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from pathlib import Path
from typing import Any, Callable

import pytest
from clientutil import Clients, wait_until

from o2sync import DecodeError
from o2sync.o2 import decode
from o2sync.testing import Simulator

FIXTURES = Path(__file__).parent / "fixtures"
PAIR = "fFUEL/fUSDC"

#: Every character that Python's int() reads as a digit but is not ASCII.
UNICODE_DIGITS = [chr(c) for c in range(0x80, 0x110000)
                  if unicodedata.decimal(chr(c), None) is not None]
#: Digits that are not decimals (superscripts, circled digits): isdigit() is True for them.
OTHER_DIGITS = [chr(c) for c in range(0x80, 0x110000)
                if chr(c).isdigit() and unicodedata.decimal(chr(c), None) is None]


def _one_per_block(chars: list[str]) -> list[str]:
    seen: dict[int, str] = {}
    for ch in chars:
        seen.setdefault(ord(ch) >> 7, ch)
    return list(seen.values())


#: ASCII text int() accepts but no exchange sends, or that is not a decimal at all.
BAD_TEXT = ["+7", "-7", "-0", " 7", "7 ", "\t7", "7\n", "\u00a07", "7\u2003", "1_000", "1__0",
            "0x10", "0X10", "0b1", "0o7", "", " ", "1.5", "1e3", "1E3", ".5", "5.", "NaN",
            "inf", "-inf", "7-", "--7", "1,000", "1 000", "0x", "true", "null"]
#: JSON values of the wrong type where an integer is meant.
BAD_JSON = [1.5, 1e3, 1.0, -1, -7, True, False, None, [], [7], {}, {"n": 7}]
#: Decimal strings made of non-ASCII digits, a sample from every Unicode block (sockets).
UNICODE_SAMPLES = ["1" + ch + "0" for ch in _one_per_block(UNICODE_DIGITS)] + \
    [ch * 3 for ch in _one_per_block(UNICODE_DIGITS)] + _one_per_block(OTHER_DIGITS) + \
    ["\u0661\u0662\u0663", "\uff15", "\uff11\uff12", "\U0001d7d5", "\u0663"]
BAD_VALUES: list[Any] = BAD_TEXT + BAD_JSON


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


# ----------------------------------------------------------- the parsers themselves


def test_every_non_ascii_decimal_digit_is_refused() -> None:
    assert len(UNICODE_DIGITS) > 600  # every script's digits, math digits, fullwidth ...
    for ch in UNICODE_DIGITS + OTHER_DIGITS:
        for text in (ch, "1" + ch, ch + "0", ch * 3):
            with pytest.raises(DecodeError):
                decode._uint(text, "price")
            with pytest.raises(DecodeError):
                decode.to_int(text, "nonce")
            with pytest.raises(DecodeError):
                decode._book_columns([{"price": text, "quantity": "1"}], [])
            with pytest.raises(DecodeError):
                decode._book_columns([], [{"price": "1", "quantity": text}])


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_bad_ascii_and_wrong_types_are_refused(value: Any) -> None:
    with pytest.raises(DecodeError):
        decode._uint(value, "price")
    with pytest.raises(DecodeError):
        decode._book_columns([{"price": "10", "quantity": value}], [])


@pytest.mark.parametrize("text", ["0", "7", "007", "12500000", "18446744073709551615"])
def test_plain_decimals_are_exact(text: str) -> None:
    assert decode._uint(text, "x") == int(text)
    assert decode._book_columns([{"price": text, "quantity": text}], []) == ((int(text),) * 2, 1, 0)
    assert decode._uint(int(text), "x") == int(text)  # JSON numbers too


@pytest.mark.parametrize("text", ["18446744073709551616", "9" * 60, "1" * 80])
def test_past_64_bits_is_a_decode_error(text: str) -> None:
    # o2-websocket.md 3.3: prices, quantities and amounts fit an unsigned 64-bit int
    with pytest.raises(DecodeError, match="out of range"):
        decode._uint(text, "x")
    with pytest.raises(DecodeError, match="out of range"):
        decode._uint(int(text), "x")
    with pytest.raises(DecodeError, match="out of range"):
        decode._book_columns([{"price": text, "quantity": "1"}], [])
    with pytest.raises(DecodeError, match="out of range"):
        decode._book_columns([{"price": text, "quantity": "1"}], [], True)  # a price, always
    if int(text) < 2**127:  # a delta's change is signed 128-bit
        assert decode._book_columns([], [{"price": "1", "quantity": text}], True)[0][1] == int(text)


#: What a signed delta change takes that an unsigned field refuses.
SIGNED_OK = {"-7": -7, "-0": 0, -1: -1, -7: -7}


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_a_delta_change_takes_a_minus_and_nothing_else(value: Any) -> None:
    level = [{"price": "10", "quantity": value}]
    if type(value) in (str, int) and value in SIGNED_OK:
        assert decode._book_columns(level, [], True) == ((10, SIGNED_OK[value]), 1, 0)
    else:
        with pytest.raises(DecodeError):
            decode._book_columns(level, [], True)
    with pytest.raises(DecodeError):  # a price never has a sign, in a delta neither
        decode._book_columns([{"price": value, "quantity": "-1"}], [], True)


def test_signed_changes_keep_to_128_bits() -> None:
    for good in (str(2**127 - 1), str(-(2**127)), 2**127 - 1, -(2**127)):
        assert decode._book_columns([{"price": "1", "quantity": good}], [], True)[0][1] == int(good)
    for bad in (str(2**127), str(-(2**127) - 1), 2**127, "-" + "9" * 80, "9" * 100_000):
        with pytest.raises(DecodeError, match="out of range"):
            decode._book_columns([{"price": "1", "quantity": bad}], [], True)
    for ch in UNICODE_DIGITS[::37]:
        with pytest.raises(DecodeError):
            decode._book_columns([{"price": "1", "quantity": "-1" + ch}], [], True)


def test_hex_only_where_the_protocol_has_hex() -> None:
    assert decode.to_int("0x1f", "nonce") == 31 and decode.to_int("0X1F", "nonce") == 31
    for bad in ["0x", "0x-1", "0x+1", "0x_1", "0x 1", " 0x1", "0x1 ", "0xg", "0x\uff11", "0x\u0661",
                "-0x1"]:
        with pytest.raises(DecodeError):
            decode.to_int(bad, "nonce")
    with pytest.raises(DecodeError):
        decode._uint("0x10", "price")


def test_negative_is_named_as_such() -> None:
    with pytest.raises(DecodeError, match="negative"):
        decode._uint("-5", "quantity")
    with pytest.raises(DecodeError, match="negative"):
        decode._uint(-5, "quantity")


def test_too_many_digits_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode._uint("9" * 100_000, "price")  # past int()'s digit limit: no ValueError


@pytest.mark.parametrize("value", ["false", "true", "False", "", 0, 1, None, [], {}, "0"],
                         ids=repr)
@pytest.mark.parametrize("field", ["close", "partially_filled", "cancel"])
def test_order_flags_must_be_json_booleans(field: str, value: Any) -> None:
    msg = fixture("o2_orders_update")
    msg["orders"][0][field] = value
    with pytest.raises(DecodeError, match=field):
        decode.decode(msg)


# ----------------------------------------------------------- over real sockets


def _cases(msg: dict[str, Any], setters: dict[str, Callable[[dict[str, Any], Any], None]],
           values: list[Any]) -> list[str]:
    frames = []
    for setter in setters.values():
        for value in values:
            bad = copy.deepcopy(msg)
            setter(bad, value)
            frames.append(json.dumps(bad))
    return frames


def _serve_bad_then_good(sim: Simulator, client: Any, sub: Any, bad: list[str], good: str,
                         is_good: Callable[[Any], bool]) -> None:
    errors = client.stream_errors()
    before = client.stats()["decode_errors"]
    for frame in bad:
        sim.inject(frame)
    sim.inject(good)
    event = sub.get(timeout=10)  # the good frame is the first event: no bad one got through
    assert is_good(event), event
    assert wait_until(lambda: client.stats()["decode_errors"] - before == len(bad), 5), (
        client.stats(), len(bad))
    reports = [errors.get(timeout=5) for _ in bad]
    assert all(isinstance(r, DecodeError) for r in reports)
    assert sub.pending == 0


ALL_BAD = BAD_VALUES + UNICODE_SAMPLES


def test_trades_fields(sim: Simulator, clients: Clients) -> None:
    client = clients()
    market_id = client.get_market(PAIR).market_id
    sub = client.stream_trades(PAIR)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    msg = fixture("o2_trades")
    msg["market_id"] = market_id

    def setter(field: str) -> Callable[[dict[str, Any], Any], None]:
        return lambda m, v: m["trades"][0].__setitem__(field, v)

    bad = _cases(msg, {f: setter(f) for f in ("price", "quantity", "total", "timestamp")},
                 ALL_BAD)
    good = copy.deepcopy(msg)
    good["trades"][0]["trade_id"] = "good"
    _serve_bad_then_good(sim, client, sub, bad, json.dumps(good),
                         lambda e: e.trades[0].trade_id == "good")


def test_orders_fields_and_flags(sim: Simulator, clients: Clients) -> None:
    client = clients()
    account = sim.account
    sub = client.stream_orders(account)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_orders")), 5)
    msg = fixture("o2_orders_update")
    msg["orders"] = msg["orders"][:1]
    msg["orders"][0]["owner"] = {"ContractId": account}

    def setter(field: str) -> Callable[[dict[str, Any], Any], None]:
        return lambda m, v: m["orders"][0].__setitem__(field, v)

    ints = ("price", "quantity", "quantity_fill", "price_fill", "timestamp", "base_decimals")
    bad = _cases(msg, {f: setter(f) for f in ints}, [v for v in ALL_BAD if v is not None])
    bad += _cases(msg, {f: setter(f) for f in ("close", "partially_filled", "cancel")},
                  ["false", "true", 0, 1, "", None, []])
    good = copy.deepcopy(msg)
    good["orders"][0]["price"] = "4242"
    _serve_bad_then_good(sim, client, sub, bad, json.dumps(good),
                         lambda e: e.orders[0].price == 4242)


def test_balances_fields(sim: Simulator, clients: Clients) -> None:
    client = clients()
    account = sim.account
    sub = client.stream_balances(account)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_balances")), 5)
    msg = fixture("o2_balance_update")
    msg["balance"] = msg["balance"][:1]
    msg["balance"][0]["identity"] = {"ContractId": account}
    book = next(iter(msg["balance"][0]["order_books"]))

    def top(field: str) -> Callable[[dict[str, Any], Any], None]:
        return lambda m, v: m["balance"][0].__setitem__(field, v)

    def inner(field: str) -> Callable[[dict[str, Any], Any], None]:
        return lambda m, v: m["balance"][0]["order_books"][book].__setitem__(field, v)

    setters = {f: top(f) for f in ("total_locked", "total_unlocked", "trading_account_balance")}
    setters.update({"ob." + f: inner(f) for f in ("locked", "unlocked", "fee")})
    bad = _cases(msg, setters, ALL_BAD)
    good = copy.deepcopy(msg)
    good["balance"][0]["total_locked"] = "4242"
    _serve_bad_then_good(sim, client, sub, bad, json.dumps(good),
                         lambda e: e.balance[0].total_locked == 4242)


def test_nonce_field(sim: Simulator, clients: Clients) -> None:
    client = clients()
    account = sim.account
    sub = client.stream_nonce(account)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_nonce")), 5)
    msg = fixture("o2_nonce_update")
    msg["contract_id"] = account
    hex_bad = ["0x", "0x-1", "0x_1", "0xg", "0x\uff11", " 0x1"]
    not_hex = [v for v in ALL_BAD if v not in ("0x10", "0X10")]  # nonce may be 0x hex
    bad = _cases(msg, {"nonce": lambda m, v: m.__setitem__("nonce", v)}, not_hex + hex_bad)
    good = dict(msg, nonce="0x2a")
    _serve_bad_then_good(sim, client, sub, bad, json.dumps(good), lambda e: e.nonce == 42)


def test_depth_levels_keep_the_book_right(sim: Simulator, clients: Clients) -> None:
    client = clients()
    book = client.order_book(PAIR)
    assert book.wait_ready(5)
    market_id = book.market.market_id
    best = book.best_bid
    assert best is not None
    frames = []
    for value in ALL_BAD:
        for field in ("price", "quantity"):
            if field == "quantity" and type(value) in (str, int) and value in SIGNED_OK:
                continue  # a valid signed change (applied, see test_book.py)
            level = {"price": str(best.price), "quantity": "1", field: value}
            frames.append(json.dumps({"action": "subscribe_depth_update", "market_id": market_id,
                                      "changes": {"buys": [level], "sells": []}}))
    for frame in frames:
        sim.inject(frame)
    # each one is reported; deltas after the first are skipped until the resync snapshot
    assert wait_until(lambda: client.stats()["decode_errors"] >= 1, 5)
    sim.step(30)
    truth = sim.book(PAIR)

    def right() -> bool:
        snap = book.snapshot()
        return (book.is_ready and snap["buys"] == [tuple(x) for x in truth["buys"]]
                and snap["sells"] == [tuple(x) for x in truth["sells"]])

    assert wait_until(right, 10), (book.snapshot(), truth)
    assert client.stats()["decode_errors"] + client.stats()["resync_skipped"] >= len(frames)


def test_the_range_holds_with_the_stdlib_json_parser_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # without orjson (o2sync[fast] not installed) big integers parse as ints: the
    # fast path then checks the range itself
    monkeypatch.setattr(decode, "_json_loads", json.loads)
    monkeypatch.setattr(decode, "_JSON_BACKEND", "json")
    big, huge = str(2**64), str(2**127)
    assert decode._book_columns([{"price": "5", "quantity": "-3"}], [], True) == ((5, -3), 1, 0)
    assert decode._book_columns([{"price": "5", "quantity": big}], [], True) == ((5, 2**64), 1, 0)
    for buys, signed in (([{"price": big, "quantity": "1"}], False),
                         ([{"price": "5", "quantity": big}], False),
                         ([{"price": big, "quantity": "-1"}], True),
                         ([{"price": "5", "quantity": huge}], True),
                         ([{"price": "5", "quantity": "-" + huge + "1"}], True)):
        with pytest.raises(DecodeError, match="out of range"):
            decode._book_columns(buys, [], signed)
