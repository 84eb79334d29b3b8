"""Strict scalar parsers (o2sync.numbers) and their use in the tplus decoders."""

from __future__ import annotations

import sys
import unicodedata
from decimal import Decimal

import pytest

from o2sync.errors import DecodeError
from o2sync.numbers import strict_bool, strict_decimal, strict_int, strict_str
from o2sync.tplus.decode import decode_depth_diff, decode_trade, decode_user_trade, parse_frame


def non_ascii_digits() -> list[str]:
    """One of every non-ASCII character Unicode calls a decimal digit (Nd), plus
    other numerics Python's int()/Decimal() or str.isnumeric() accept."""
    nd = [chr(c) for c in range(0x80, sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Nd"]
    others = [
        chr(c)
        for c in range(0x80, 0x30000)
        if chr(c).isnumeric() and unicodedata.category(chr(c)) != "Nd"
    ]
    assert len(nd) > 600  # every script's digits, fullwidth included
    return nd + others[:200]


NON_ASCII = non_ascii_digits()


@pytest.mark.parametrize("digit", [*NON_ASCII[::7], "\uff15", "\u0661"])
def test_non_ascii_digits_rejected_everywhere(digit: str) -> None:
    for text in (digit, "1" + digit, digit + "0", "1." + digit):
        with pytest.raises(DecodeError):
            strict_decimal(text, "price")
        with pytest.raises(DecodeError):
            strict_int(text, "trade_id")


def test_all_non_ascii_digits_rejected() -> None:
    for digit in NON_ASCII:
        with pytest.raises(DecodeError):
            strict_int("1" + digit, "x")
        with pytest.raises(DecodeError):
            strict_decimal("1" + digit, "x")


def test_arabic_indic_and_fullwidth_explicit() -> None:
    for text in ("١٢٣", "５", "１２３.５"):
        assert Decimal(text)  # Python itself accepts these
        with pytest.raises(DecodeError):
            strict_int(text, "n")
        with pytest.raises(DecodeError):
            strict_decimal(text, "n")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        " 7",
        "7 ",
        " 7 ",
        "\t7",
        "7\n",
        "+7",
        "1_000",
        "0x10",
        "0X10",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "sNaN",
        "1.",
        ".5",
        "1..2",
        "1,5",
        "--1",
        "1e",
        "e5",
        "١٢٣",
        "５",
    ],
)
def test_bad_decimal_strings(text: str) -> None:
    with pytest.raises(DecodeError) as info:
        strict_decimal(text, "Trade.price", signed=True)
    assert "Trade.price" in str(info.value)


@pytest.mark.parametrize(
    "text", ["", " 7", "7 ", "+7", "1_000", "0x10", "7.0", "5.5", "1e3", "NaN", "١٢٣", "５"]
)
def test_bad_int_strings(text: str) -> None:
    with pytest.raises(DecodeError) as info:
        strict_int(text, "Trade.trade_id", signed=True)
    assert "Trade.trade_id" in str(info.value)


def test_good_decimals_exact() -> None:
    assert strict_decimal("3871.25000000", "p") == Decimal("3871.25")
    assert str(strict_decimal("0.10000000", "p")) == "0.10000000"
    assert strict_decimal(Decimal("0.1"), "p") == Decimal("0.1")
    assert strict_decimal(7, "p") == Decimal(7)
    assert strict_decimal("1e-8", "p") == Decimal("0.00000001")
    assert strict_decimal("-0.0194", "fee", signed=True) == Decimal("-0.0194")


def test_signs() -> None:
    for value in ("-1", "-0", "-0.5", Decimal("-1"), -1):
        with pytest.raises(DecodeError, match="negative"):
            strict_decimal(value, "q")
    assert strict_decimal("-1", "q", signed=True) == -1
    with pytest.raises(DecodeError, match="negative"):
        strict_int(-1, "n")
    with pytest.raises(DecodeError, match="negative"):
        strict_int("-0", "n")
    assert strict_int("-5", "n", signed=True) == -5


def test_floats_bools_and_types() -> None:
    for bad in (0.1, True, False, None, [], {}, Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(DecodeError):
            strict_decimal(bad, "p", signed=True)
    for bad in (5.0, Decimal("5.0"), Decimal("5"), True, False, None, [], 1.5):
        with pytest.raises(DecodeError):
            strict_int(bad, "n", signed=True)
    with pytest.raises(DecodeError):
        strict_int("5", "n", allow_str=False)
    assert strict_int("0012", "n") == 12
    assert strict_int(10**30, "n") == 10**30


def test_magnitude_and_length_bounds() -> None:
    with pytest.raises(DecodeError):
        strict_decimal("1e999999999", "p")
    with pytest.raises(DecodeError):
        strict_decimal("1" * 200, "p")
    with pytest.raises(DecodeError):
        strict_int("1" * 200, "n")


def test_bools_and_strings() -> None:
    assert strict_bool(True, "b") is True
    assert strict_bool(False, "b") is False
    for bad in ("false", "true", 0, 1, None, "0"):
        with pytest.raises(DecodeError):
            strict_bool(bad, "b")
    assert strict_str("x", "s") == "x"
    with pytest.raises(DecodeError):
        strict_str(5, "s")


TRADE = (
    '{"asset_id":"200","trade_id":%s,"price":%s,"quantity":"0.1","timestamp_ns":1,'
    '"buyer_is_maker":%s}'
)


def test_trade_decimal_from_json_float_is_exact() -> None:
    trade = decode_trade(parse_frame(TRADE % ("1", "0.1", "true")))
    assert trade.price == Decimal("0.1") and str(trade.price) == "0.1"
    trade = decode_trade(parse_frame(TRADE % ("1", "3871.25000000000000000001", "true")))
    assert trade.price == Decimal("3871.25000000000000000001")


@pytest.mark.parametrize(
    ("trade_id", "price", "maker"),
    [
        ("5.0", '"1"', "true"),
        ("true", '"1"', "true"),
        ('"5"', '"1"', '"false"'),
        ("1", '"NaN"', "true"),
        ("1", "-1", "true"),
        ("1", '"+1"', "true"),
        ("1", '" 1"', "true"),
        ("1", '"1_0"', "true"),
        ("1", '"١"', "true"),
        ("1", '"0x1"', "true"),
        ("1", '""', "true"),
        ("1", "1", "1"),
    ],
)
def test_trade_strict_violations(trade_id: str, price: str, maker: str) -> None:
    with pytest.raises(DecodeError):
        decode_trade(parse_frame(TRADE % (trade_id, price, maker)))


def test_int_from_numeric_string_accepted() -> None:
    trade = decode_trade(parse_frame(TRADE % ('"204871"', '"1"', "true")))
    assert trade.trade_id == 204871


def test_trading_fee_may_be_negative_price_may_not() -> None:
    base = {
        "asset_id": "200",
        "trade_id": 1,
        "order_id": "o",
        "price": "1",
        "quantity": "1",
        "timestamp_ns": 1,
        "is_maker": True,
        "is_buyer": False,
        "status": "Pending",
        "trading_fee": "-0.5",
    }
    assert decode_user_trade(base).trading_fee == Decimal("-0.5")
    with pytest.raises(DecodeError, match="price"):
        decode_user_trade({**base, "price": "-1"})
    with pytest.raises(DecodeError, match="is_maker"):
        decode_user_trade({**base, "is_maker": "false"})


def test_depth_level_violations() -> None:
    for frame in (
        '{"sequence_number":1,"asks":[[1,-2]],"bids":[]}',
        '{"sequence_number":1,"asks":[[1]],"bids":[]}',
        '{"sequence_number":1,"asks":[[1,2,3]],"bids":[]}',
        '{"sequence_number":1,"asks":[{"price":1,"quantity":2}],"bids":[]}',
        '{"sequence_number":1.0,"asks":[],"bids":[]}',
        '{"sequence_number":1,"asks":[["NaN","1"]],"bids":[]}',
        '{"sequence_number":1,"asks":[],"bids":[[true,1]]}',
        '{"sequence_number":1,"asks":[]}',
    ):
        with pytest.raises(DecodeError):
            decode_depth_diff(parse_frame(frame))
    diff = decode_depth_diff(parse_frame('{"sequence_number":1,"asks":[["1.5","0"]],"bids":[]}'))
    assert diff.asks == [(Decimal("1.5"), Decimal(0))]
