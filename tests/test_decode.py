"""Wire -> event decoding on the protocol fixtures, and the models' JSON round trip."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from o2sync import (
    BalanceUpdate,
    DecodeError,
    DepthUpdate,
    NonceUpdate,
    OrderUpdate,
    Side,
    TradeUpdate,
)
from o2sync.o2 import decode
from o2sync.o2.rest import _market_from_wire

FIXTURES = Path(__file__).parent / "fixtures"
MARKET = "0x43c8c52e49590d26ca6f72777a49c852ac83ab7b57a0950976ea4f21eff6586a"
ACCOUNT = "0x79bfe0c3410f7cc73bf245f2371632e89eaef45e846dade03a72c5b1eab9fe43"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.mark.parametrize("name", ["o2_depth_snapshot", "o2_depth_snapshot_view"])
def test_depth_snapshot_under_orders_or_view(name: str) -> None:
    update = decode.decode(fixture(name))
    assert isinstance(update, DepthUpdate)
    assert update.is_snapshot
    assert update.market_id == MARKET
    assert [(lv.price, lv.quantity) for lv in update.changes.bids] == [
        (12490000, 820000000000), (12480000, 2500000000000), (12470000, 5000000000000)]
    assert update.changes.best_bid.price == 12490000
    assert update.changes.best_ask.price == 12510000


def test_depth_snapshot_at_top_level() -> None:
    msg = fixture("o2_depth_snapshot")
    book = msg.pop("orders")
    msg.update(book)
    assert decode.decode(msg).changes.best_ask.quantity == 640000000000


def test_depth_delta_carries_signed_relative_changes() -> None:
    # the fixture's story: a taker fills the 640 ask (-640), 200 is added to the bid,
    # a new 300 ask appears; changes are signed, not new totals (o2-websocket.md 6.2)
    update = decode.decode(fixture("o2_depth_update"))
    assert not update.is_snapshot
    assert [(lv.price, lv.quantity) for lv in update.changes.asks] == [
        (12510000, -640000000000), (12505000, 300000000000)]
    assert [(lv.price, lv.quantity) for lv in update.changes.bids] == [(12490000, 200000000000)]
    assert update.seen_timestamp == "1767225602"


def test_a_sign_is_allowed_on_delta_changes_only() -> None:
    snapshot = fixture("o2_depth_snapshot")
    snapshot["orders"]["buys"][0]["quantity"] = "-5"
    with pytest.raises(DecodeError, match="negative"):
        decode.decode(snapshot)
    delta = fixture("o2_depth_update")
    delta["changes"]["buys"][0]["price"] = "-12490000"
    with pytest.raises(DecodeError, match="negative"):
        decode.decode(delta)
    for bad in ("+5", "--5", "5-", "-", " -5", "-5.0", "-0x5", "\u0665"):
        delta = fixture("o2_depth_update")
        delta["changes"]["buys"][0]["quantity"] = bad
        with pytest.raises(DecodeError):
            decode.decode(delta)
    delta = fixture("o2_depth_update")
    delta["changes"]["buys"][0]["quantity"] = -7  # a JSON number is fine too
    assert decode.decode(delta).changes.bids[0].quantity == -7


@pytest.mark.parametrize("field, value, ok", [
    ("price", str(2**64 - 1), True),
    ("price", str(2**64), False),
    ("price", "1" * 80, False),
    ("price", 2**64, False),
    ("quantity", str(2**127 - 1), True),
    ("quantity", str(-(2**127)), True),
    ("quantity", str(2**127), False),
    ("quantity", str(-(2**127) - 1), False),
    ("quantity", "-" + "9" * 80, False),
])
def test_depth_numbers_keep_to_the_protocol_range(field: str, value: object, ok: bool) -> None:
    # prices fit u64, delta changes i128 (o2-websocket.md 3.3); outside is malformed
    delta = fixture("o2_depth_update")
    delta["changes"]["sells"][0][field] = value
    if ok:
        assert getattr(decode.decode(delta).changes.asks[0], field) == int(value)  # type: ignore[call-overload]
    else:
        with pytest.raises(DecodeError, match="out of range"):
            decode.decode(delta)


def test_snapshot_quantities_and_other_o2_numbers_fit_64_bits() -> None:
    snapshot = fixture("o2_depth_snapshot")
    snapshot["orders"]["sells"][0]["quantity"] = str(2**64)
    with pytest.raises(DecodeError, match="out of range"):
        decode.decode(snapshot)
    trades = fixture("o2_trades")
    trades["trades"][0]["price"] = "1" * 80
    with pytest.raises(DecodeError, match="out of range"):
        decode.decode(trades)
    balances = fixture("o2_balance_update")
    balances["balance"][0]["total_locked"] = str(2**64)
    with pytest.raises(DecodeError, match="out of range"):
        decode.decode(balances)
    nonce = fixture("o2_nonce_update")
    nonce["nonce"] = "0x1" + "0" * 16  # 2**64 in hex
    with pytest.raises(DecodeError, match="out of range"):
        decode.decode(nonce)
    nonce["nonce"] = str(2**64 - 1)
    assert decode.decode(nonce).nonce == 2**64 - 1


def test_delta_sides_under_bids_and_asks_are_read_too() -> None:
    delta = fixture("o2_depth_update")
    changes = delta.pop("changes")
    delta["changes"] = {"bids": changes["buys"], "asks": changes["sells"]}
    update = decode.decode(delta)
    assert [lv.quantity for lv in update.changes.asks] == [-640000000000, 300000000000]


def test_trades() -> None:
    update = decode.decode(fixture("o2_trades"))
    assert isinstance(update, TradeUpdate)
    trade = update.trades[0]
    # as sent, as in o2-sdk: a plain str (Side members still compare equal to it)
    assert trade.side == "Sell" and type(trade.side) is str and trade.side == Side.SELL
    assert (trade.price, trade.quantity, trade.total) == (12510000, 640000000000, 8006400000)
    assert trade.timestamp == 1767225601234


def test_trades_alias_and_lowercase_side_kept_as_sent() -> None:
    msg = fixture("o2_trades")
    msg["action"] = "trades"
    msg["trades"][0]["side"] = "sell"
    assert decode.decode(msg).trades[0].side == "sell"  # o2-sdk: not re-cased


def test_a_trade_without_side_or_total_is_delivered_with_sdk_defaults() -> None:
    msg = fixture("o2_trades")
    del msg["trades"][0]["side"], msg["trades"][0]["total"]
    trade = decode.decode(msg).trades[0]
    assert (trade.side, trade.total, trade.price) == ("", 0, 12510000)


def test_orders() -> None:
    update = decode.decode(fixture("o2_orders_update"))
    assert isinstance(update, OrderUpdate)
    buy, sell = update.orders
    assert buy.is_open and buy.status == "open" and buy.side == "Buy" == Side.BUY
    assert not sell.is_open and sell.status == "filled"
    assert sell.quantity_fill == 640000000000
    assert buy.owner == {"ContractId": ACCOUNT}


def test_balances() -> None:
    update = decode.decode(fixture("o2_balance_update"))
    assert isinstance(update, BalanceUpdate)
    usdc = update.balance[0]
    # the wire entry as a dict, as in o2-sdk; it also reads as the exact Balance
    assert isinstance(usdc, dict) and usdc["total_locked"] == "2498000000"
    assert usdc["asset_id"] == fixture("o2_balance_update")["balance"][0]["asset_id"]
    assert usdc.total_locked == 2498000000 and usdc.locked == 2498000000
    assert usdc.available == 58006400000
    assert usdc.total == 58006400000 + 2498000000
    book = "0xf95183169121b6c892eec103d09d86eec19a8791a5bc577adbce35a5403ce470"
    assert usdc.order_books[book].locked == 2498000000


@pytest.mark.parametrize("nonce", ["43", 43, "0x2b"])
def test_nonce_in_every_encoding(nonce: object) -> None:
    msg = fixture("o2_nonce_update")
    msg["nonce"] = nonce
    update = decode.decode(msg)
    assert isinstance(update, NonceUpdate)
    assert update.nonce == 43 and update.contract_id == ACCOUNT


@pytest.mark.parametrize("mutate", [
    lambda m: m.pop("market_id"),
    lambda m: m["changes"]["buys"][0].pop("price"),
    lambda m: m["changes"]["buys"][0].__setitem__("quantity", "1.5"),
    lambda m: m["changes"]["buys"][0].__setitem__("quantity", 1.5),
    lambda m: m.__setitem__("changes", {"buys": 7}),
])
def test_malformed_depth_raises_decode_error(mutate) -> None:
    msg = fixture("o2_depth_update")
    mutate(msg)
    with pytest.raises(DecodeError):
        decode.decode(msg)


def test_unknown_action_raises() -> None:
    with pytest.raises(DecodeError, match="unknown action"):
        decode.decode({"action": "subscribe_weather"})


@pytest.mark.parametrize("name", ["o2_depth_snapshot", "o2_depth_update", "o2_trades",
                                  "o2_orders_update", "o2_balance_update", "o2_nonce_update"])
def test_events_round_trip_through_dataclasses_json(name: str) -> None:
    event = decode.decode(fixture(name))
    again = type(event).from_json(event.to_json())
    assert again == event


def test_market_scaling_is_exact() -> None:
    market = _market_from_wire(fixture("o2_markets")["markets"][0])
    assert market.pair == "fFUEL/fUSDC"
    assert market.format_price(12500000) == Decimal("0.0125")
    assert market.format_quantity("1500000000000") == Decimal("1500")
    # 0.01234567 -> 12345670 -> truncated to the quote's 6 significant places
    assert market.scale_price("0.01234567") == 12345000


def test_decoded_levels_behave_like_plain_depth_changes() -> None:
    from o2sync import DepthChange, DepthChanges, DepthLevel, DepthSnapshot

    update = decode.decode(fixture("o2_depth_update"))
    plain = DepthChanges(bids=[DepthChange(12490000, 200000000000)],
                         asks=[DepthChange(12510000, -640000000000),
                               DepthChange(12505000, 300000000000)])
    assert isinstance(update.changes, DepthChanges)
    assert list(update.changes.pairs("asks")) == [(12510000, -640000000000),
                                                  (12505000, 300000000000)]
    assert update.changes == plain and plain == update.changes
    assert update.changes.to_dict() == plain.to_dict()
    update.changes.asks = update.changes.asks[:1]  # assignable, like a plain field
    assert update.changes.asks == [DepthChange(12510000, -640000000000)]
    assert list(update.changes.pairs("asks")) == [(12510000, -640000000000)]

    snapshot = decode.decode(fixture("o2_depth_snapshot"))
    assert isinstance(snapshot.changes, DepthSnapshot)
    assert snapshot.changes.best_ask == DepthLevel(12510000, 640000000000)  # before the lists
    assert snapshot.changes.market_id == MARKET
    assert snapshot.changes.bids[0] == DepthLevel(12490000, 820000000000)


def test_a_decoded_delta_alone_knows_no_book() -> None:
    # best_bid/best_ask of a delta are the BOOK's (PARITY exception 3); the engine sets
    # them as it applies the delta. Decoded without an engine there is no book: None.
    update = decode.decode(fixture("o2_depth_update"))
    assert update.changes.best_bid is None and update.changes.best_ask is None


def test_memoised_ids_stay_exact_past_the_memo_bound() -> None:
    """Ids and identities are memoised (bounded): past the bound every one still
    decodes to its own normalised value, and a bad one is still refused."""
    from o2sync.o2 import decode as dec

    owner = {"ContractId": "0x" + "AB" * 32}
    for n in range(dec._MEMO_MAX + 50):
        order = dec.decode_order({"order_id": f"0x{n:064X}", "owner": owner})
        assert order.order_id == f"0x{n:064x}" and str(order.order_id) == f"0x{n:064x}"
        assert order.owner is not None and order.owner.value == owner["ContractId"]
    assert len(dec._IDS) <= dec._MEMO_MAX
    with pytest.raises(DecodeError):
        dec.decode_order({"order_id": "0xzz"})
    with pytest.raises(DecodeError):
        dec.decode_order({"order_id": "0x01", "owner": {"Neither": "0x01"}})
