"""API shapes a user meets (issue 11, item 8): Market scaling, depth reprs, identities."""

from __future__ import annotations

import json
from decimal import Decimal

from o2sync import (
    DepthChange,
    DepthChanges,
    DepthLevel,
    DepthSnapshot,
    Market,
    MarketAsset,
    Trade,
)
from o2sync.o2.decode import decode_depth, decode_trades
from o2sync.o2.models import (
    AddressIdentity,
    ContractIdentity,
    Identity,
    PackedDepthChanges,
    PackedDepthSnapshot,
)

MARKET = Market(contract_id="0x" + "2" * 64, market_id="0x" + "1" * 64, maker_fee="0",
                taker_fee="0", min_order="0", dust="0", price_window=0,
                base=MarketAsset("fFUEL", "0x" + "3" * 64, 9, 3),
                quote=MarketAsset("fUSDC", "0x" + "4" * 64, 9, 6))


def test_format_is_the_exact_decimal_and_display_the_rounded_string() -> None:
    raw = 12_505_123
    assert MARKET.format_price(raw) == Decimal("0.012505123")
    assert isinstance(MARKET.format_price(raw), Decimal)
    assert MARKET.display_price(raw) == "0.012505"
    assert MARKET.display_price(str(raw)) == "0.012505"
    assert MARKET.format_quantity(1_500_000_000_123) == Decimal("1500.000000123")
    assert MARKET.display_quantity(1_500_000_000_123) == "1500.000"
    assert MARKET.scale_price(MARKET.format_price(raw)) == 12_505_000


def test_a_depth_update_repr_shows_depth_changes_not_the_packing() -> None:
    packed = PackedDepthChanges.from_ints((10, 1, 9, -2), (11, 3))
    text = repr(packed)
    assert "Packed" not in text
    plain = DepthChanges([DepthChange(10, 1), DepthChange(9, -2)], [DepthChange(11, 3)])
    assert text == repr(plain)
    assert packed == plain
    snap = PackedDepthSnapshot.from_ints((10, 1), (11, 3), "0xab")
    assert "Packed" not in repr(snap)
    assert repr(snap) == repr(DepthSnapshot([DepthLevel(10, 1)], [DepthLevel(11, 3)], "0xab"))
    assert snap == DepthSnapshot([DepthLevel(10, 1)], [DepthLevel(11, 3)], "0xab")


def test_decoded_depth_update_repr(o2_fixture) -> None:  # type: ignore[no-untyped-def]
    update = decode_depth(o2_fixture("o2_depth_update"))
    assert "Packed" not in repr(update)
    assert "changes=DepthChanges(bids=[DepthChange(price=" in repr(update)
    snapshot = decode_depth(o2_fixture("o2_depth_snapshot"))
    assert "changes=DepthSnapshot(bids=[DepthLevel(price=" in repr(snapshot)


def test_trade_maker_and_taker_are_identities() -> None:
    trade = Trade("t1", "Buy", 3, 2, 1, 4, maker={"ContractId": "0xab"},
                  taker={"Address": "0xcd"})
    assert isinstance(trade.maker, Identity) and isinstance(trade.taker, Identity)
    # o2-sdk's kinds: the concrete class, `value`, the wire dict from to_dict()
    assert isinstance(trade.maker, ContractIdentity) and isinstance(trade.taker, AddressIdentity)
    assert trade.maker.to_dict() == {"ContractId": "0xab"} and trade.taker.discriminant == 0
    assert Identity.from_dict({"Address": "0xcd"}) == trade.taker
    assert trade.maker.contract_id == "0xab" and trade.maker.address is None
    assert trade.taker.address == "0xcd" and trade.taker.contract_id is None
    assert trade.maker.value == "0xab" and trade.taker.kind == "Address"
    # code written against the raw dict keeps working
    assert trade.maker["ContractId"] == "0xab" and trade.maker == {"ContractId": "0xab"}
    assert trade.taker.get("ContractId") is None
    # JSON keeps the wire shape, and reads back
    as_dict = trade.to_dict(encode_json=True)
    assert as_dict["maker"] == {"ContractId": "0xab"} and as_dict["taker"] == {"Address": "0xcd"}
    assert Trade.from_dict(as_dict) == trade
    assert Trade.from_json(trade.to_json()) == trade
    assert "Identity(ContractId='0xab')" in repr(trade)
    assert Trade("t2", "Sell", 1, 2, 3, 4).maker is None


def test_decoded_trades_carry_identities(o2_fixture) -> None:  # type: ignore[no-untyped-def]
    update = decode_trades(o2_fixture("o2_trades"))
    assert update.trades
    for trade in update.trades:
        for who in (trade.maker, trade.taker):
            assert who is None or (isinstance(who, Identity) and who.value.startswith("0x"))
    assert json.loads(update.to_json())["trades"][0].get("maker") in (
        None, update.trades[0].maker.to_wire() if update.trades[0].maker else None)
