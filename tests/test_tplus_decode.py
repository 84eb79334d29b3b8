"""tplus decoders over every fixture, both order-event tag styles, klines, control frames."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from o2sync.errors import DecodeError
from o2sync.tplus import (
    AssetIdentifier,
    KlineUpdate,
    OrderBook,
    OrderBookDiff,
    OrderEvent,
    Timebar,
    Trade,
    TradePendingEvent,
    TradeRollbackedEvent,
    UnknownEventKind,
    UserTrade,
)
from o2sync.tplus import decode as D
from o2sync.tplus import models as M

FIXTURES = Path(__file__).parent / "fixtures"
USER = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
OID = "CinVT/ARIa0b0fmj3Z/Grg=="


def frame(name: str) -> Any:
    return D.parse_frame((FIXTURES / f"tplus_{name}.json").read_bytes())


def test_trade_fixture() -> None:
    trade = D.decode_trade(frame("trade"))
    assert isinstance(trade, Trade)
    assert trade.asset_id == AssetIdentifier(200) and trade.asset_id == "200"
    assert trade.trade_id == 204871 and trade.order_id == OID
    assert trade.price == Decimal("3871.25") and type(trade.price) is Decimal
    assert trade.quantity == Decimal("0.1")
    assert trade.timestamp_ns == 1767225601123456789
    assert trade.buyer_is_maker is True and trade.status == "Confirmed"
    assert "204871" in repr(trade)
    assert Trade.from_dict(trade.to_dict()) == trade


def test_trade_defaults_and_status() -> None:
    raw = {
        "asset_id": "200",
        "trade_id": 1,
        "price": "1",
        "quantity": "1",
        "timestamp_ns": 1,
        "buyer_is_maker": False,
    }
    trade = D.decode_trade(raw)
    assert trade.order_id == "" and trade.status == "Confirmed"
    with pytest.raises(DecodeError, match="status"):
        D.decode_trade({**raw, "status": "Settled"})
    with pytest.raises(DecodeError, match="buyer_is_maker"):
        D.decode_trade({k: v for k, v in raw.items() if k != "buyer_is_maker"})
    with pytest.raises(DecodeError, match="asset_id"):
        D.decode_trade({**raw, "asset_id": "ETH"})


def test_trade_events() -> None:
    event = D.decode_trade_event(frame("trade_event"))
    assert isinstance(event, TradePendingEvent) and isinstance(event, M.TradeEvent)
    assert event.status == event.event_type == "Pending" and event.is_pending
    assert event.trade.trade_id == event.trade_id == 204871
    assert event.price == Decimal("3871.25") and event.buyer_is_maker is True
    rolled = D.decode_trade_event(frame("trade_event_rollbacked"))
    assert isinstance(rolled, TradeRollbackedEvent) and rolled.is_rollbacked
    assert rolled.order_id == "" and not rolled.asset_id.is_index
    assert rolled.asset_id.chain_number == 42161


def test_trade_event_errors() -> None:
    payload = json.loads((FIXTURES / "tplus_trade.json").read_text())
    with pytest.raises(UnknownEventKind) as info:
        D.decode_trade_event({"Settled": payload})
    assert info.value.kind == "Settled"
    for bad in ({}, {"Pending": {}}, {"Pending": payload, "Confirmed": payload}, [payload]):
        with pytest.raises(DecodeError):
            D.decode_trade_event(bad)
    with pytest.raises(ValueError):
        M.TradePendingEvent(status="Confirmed", trade=D.decode_trade(payload))


def test_depth_fixtures_exact() -> None:
    diff = D.decode_depth_diff(frame("depth_diff"))
    assert isinstance(diff, OrderBookDiff) and diff.sequence_number == 48214
    assert diff.asks == [(Decimal("3871.5"), Decimal("0.75")), (Decimal("3872.0"), Decimal(0))]
    assert diff.bids == [(Decimal("3871.0"), Decimal("0.4"))]
    for price, qty in diff.asks:
        assert type(price) is Decimal and type(qty) is Decimal
    assert D.decode_depth_diff(frame("depth_diff_next")).sequence_number == 48215
    assert D.decode_depth_diff(frame("depth_diff_gap")).sequence_number == 48217
    book = D.decode_orderbook(frame("orderbook_snapshot"))
    assert isinstance(book, OrderBook) and book.sequence_number == 48213
    assert book.bids[0] == (Decimal("3870.75"), Decimal("1.2"))
    assert str(book.asks[2][1]) == "4.1"  # JSON float 4.1 -> exactly Decimal("4.1")
    assert D.decode_orderbook({}) == OrderBook()
    assert D.decode_orderbook({"sequence_number": None}).sequence_number == 0
    with pytest.raises(DecodeError, match="sequence_number"):
        D.decode_depth_diff({"asks": [], "bids": []})


@pytest.mark.parametrize("level", [[1], [1, 2, 3], {"a": 1, "b": 2}, "ab", None, 7,
                                   [[1, 2], [3, 4]]], ids=repr)
def test_a_level_that_is_not_a_price_quantity_pair_is_named(level: Any) -> None:
    good = [1.5, 2]
    raw = D.parse_frame(json.dumps({"sequence_number": 1, "asks": [], "bids": [good, level]}))
    with pytest.raises(DecodeError, match=r"OrderBookDiff\.bids"):
        D.decode_depth_diff(raw)


def test_depth_levels_exact_on_every_path() -> None:
    # JSON numbers, a JSON 0 quantity (a removed level) and decimal strings agree
    raw = D.parse_frame(b'{"sequence_number": 2, "bids": [[3871.25, 0], ["3871.0", "0.40"]],'
                        b' "asks": [[3872, 1.5E+1]]}')
    diff = D.decode_depth_diff(raw)
    assert diff.bids == [(Decimal("3871.25"), Decimal(0)), (Decimal("3871.0"), Decimal("0.40"))]
    assert diff.asks == [(Decimal(3872), Decimal("15"))]
    assert all(type(x) is Decimal for level in diff.bids + diff.asks for x in level)
    for bad in (b"[[-1.5, 1]]", b"[[1.5, -0.0]]", b"[[1e2000, 1]]", b"[[1.5, 1e-2000]]"):
        with pytest.raises(DecodeError, match=r"OrderBookDiff\.asks"):
            D.decode_depth_diff(D.parse_frame(b'{"sequence_number": 3, "bids": [], "asks": ' + bad
                                              + b"}"))


def test_klines() -> None:
    bars = D.decode_klines(frame("klines"))
    assert len(bars) == 2 and all(isinstance(b, KlineUpdate) for b in bars)
    assert KlineUpdate is Timebar
    assert bars[0].open == Decimal("3861.00") and bars[1].close == Decimal("3871.25")
    assert bars[1].volume == Decimal("12.75")
    assert bars[1].open_timestamp_ns == 1767225600000000000
    assert bars[0].close_datetime.year == 2025
    with pytest.raises(DecodeError, match="array"):
        D.decode_klines(frame("klines")[0])
    page = D.decode_klines_page(frame("klines_page"))
    assert page.has_next_page and page.next_page == 1 and page.truncated_before_ns is None
    assert page.items[0].open_timestamp_ns > page.items[1].open_timestamp_ns
    assert D.decode_klines_page(frame("klines")).items == bars
    assert D.decode_klines([]) == []


def test_market() -> None:
    market = D.decode_market(frame("market"))
    assert market.asset_id == "200"
    assert (market.book_price_decimals, market.book_quantity_decimals) == (2, 4)
    assert market.price(387125) == Decimal("3871.25")
    assert market.quantity(2500) == Decimal("0.25")
    assert market.price_to_book("3871.25") == 387125
    with pytest.raises(ValueError):
        market.price_to_book("3871.255")


def test_user_trades() -> None:
    trade = D.decode_user_trade(frame("user_trade"))
    assert isinstance(trade, UserTrade)
    assert trade.is_maker and trade.is_buyer and trade.buyer_is_maker
    assert trade.status == "Pending" and trade.rollback_reason is None
    assert trade.sub_account == 1 and trade.trading_fee == Decimal("-0.0194")
    assert trade.price == Decimal("3871.25") and trade.key == (AssetIdentifier(200), 204871)
    rolled = D.decode_user_trade(frame("user_trade_rollbacked"))
    assert rolled.status == "Rollbacked" and rolled.rollback_reason == "SettlementFailed"
    assert rolled.trading_fee == 0
    minimal = {
        k: v
        for k, v in frame("user_trade").items()
        if k
        not in (
            "rollback_reason",
            "is_liquidation",
            "is_auto_deleverage",
            "sub_account",
            "trading_fee",
        )
    }
    trade = D.decode_user_trade(minimal)
    assert trade.sub_account == 0 and trade.trading_fee == 0 and not trade.is_liquidation
    with pytest.raises(DecodeError, match="order_id"):
        D.decode_user_trade({k: v for k, v in minimal.items() if k != "order_id"})


KINDS = {
    "": ("Created", M.OrderCreatedEvent),
    "_canceled": ("Canceled", M.OrderCancelledEvent),
    "_removed": ("Removed", M.OrderRemovedEvent),
    "_replaced": ("Replaced", M.OrderReplacedEvent),
    "_amended": ("Amended", M.OrderAmendedEvent),
    "_triggered": ("Triggered", M.OrderTriggeredEvent),
    "_create_failed": ("CreateFailed", M.OrderCreateFailedEvent),
    "_replace_failed": ("ReplaceFailed", M.OrderReplaceFailedEvent),
    "_cancel_failed": ("CancelFailed", M.OrderCancelFailedEvent),
    "_amend_failed": ("AmendFailed", M.OrderAmendFailedEvent),
}


def _snake(kind: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in kind).lstrip("_")


@pytest.mark.parametrize("suffix", list(KINDS))
def test_order_event_both_tag_styles(suffix: str) -> None:
    kind, cls = KINDS[suffix]
    external = frame("order_event" + suffix)
    assert list(external) == [kind]
    event = D.decode_order_event(external)
    assert type(event) is cls and isinstance(event, OrderEvent)
    assert event.kind == kind and event.event_type == kind.upper()
    fields = external[kind]
    for spelling in (kind, kind.lower(), _snake(kind), _snake(kind).upper()):
        internal = {"type": spelling, **fields}
        assert D.decode_order_event(internal) == event
        assert D.decode_order_event({spelling: fields}) == event


def test_created_order_typed() -> None:
    event = D.decode_order_event(frame("order_event"))
    assert isinstance(event, M.OrderCreatedEvent)
    order = event.user_order
    assert event.order_id == order.order_id == OID and order.signer == USER
    assert order.side is M.Side.BUY and order.side == "Buy"
    assert isinstance(order.details, M.LimitOrderDetails)
    assert order.details.limit_price == 387125 and order.details.quantity == 2500
    assert order.details.time_in_force == M.GTC(post_only=False)
    assert order.limit_price == Decimal("3871.25") and order.quantity == Decimal("0.25")
    assert order.target == M.TradeTarget(account=1, is_spot=True)
    assert order.trigger is None and len(event.signature) == 64
    assert event.book_timestamp_ns == 1767225601004211000


def test_created_variants() -> None:
    raw = frame("order_event")["Created"]
    order = raw["user_order"]
    market = {
        "Market": {
            "quantity": {"QuoteAsset": {"quantity": 10, "max_sellable_quantity": None}},
            "fill_or_kill": True,
        }
    }
    trig = {"parent_order_id": None, "condition": {"PriceBelow": {"price": 380000}}}
    event = D.decode_order_event(
        {
            "Created": {
                **raw,
                "user_order": {**order, "details": market, "trigger": trig, "side": "ask"},
                "limit_overrides": {"x": Decimal("0.1")},
            }
        }
    )
    assert isinstance(event, M.OrderCreatedEvent)
    assert event.user_order.side is M.Side.SELL and event.user_order.quantity is None
    assert event.user_order.trigger == M.OrderTrigger(condition="PriceBelow", price=380000)
    assert event.limit_overrides == {"x": Decimal("0.1")}
    gtd = {
        "Limit": {
            "limit_price": 1,
            "quantity": 2,
            "time_in_force": {"GTD": {"post_only": True, "timestamp_ns": 9}},
        }
    }
    event = D.decode_order_event({"Created": {**raw, "user_order": {**order, "details": gtd}}})
    assert event.user_order.details.time_in_force == M.GTD(post_only=True, timestamp_ns=9)
    for bad in (
        {**order, "details": {"Stop": {}}},
        {**order, "side": "long"},
        {**order, "book_price_decimals": 2.0},
    ):
        with pytest.raises(DecodeError):
            D.decode_order_event({"Created": {**raw, "user_order": bad}})
    with pytest.raises(DecodeError, match="signature"):
        D.decode_order_event({"Created": {**raw, "signature": [1, 2]}})


def test_other_order_event_fields() -> None:
    removed = D.decode_order_event(frame("order_event_removed"))
    assert removed.reason == "Canceled" and removed.filled_quantity == 1000
    assert removed.filled_amount == 387125000 and removed.operator_pubkey is None
    amended = D.decode_order_event(frame("order_event_amended"))
    assert (amended.new_quantity, amended.remaining_quantity) == (2000, 1000)
    replaced = D.decode_order_event(frame("order_event_replaced"))
    assert replaced.new_price == 387100 and replaced.authorization_revision == 1
    triggered = D.decode_order_event(frame("order_event_triggered"))
    assert triggered.quantity == 500 and triggered.trigger_touched is True
    failed = D.decode_order_event(frame("order_event_create_failed"))
    assert isinstance(failed, M.OrderFailedEvent) and failed.reason == "InsufficientMargin"


def test_legacy_updated() -> None:
    event = D.decode_order_event(frame("order_event_updated"))
    assert isinstance(event, M.OrderUpdatedEvent) and event.kind == "Updated"
    assert event.status == "PartiallyFilled" and event.remaining_quantity == 1500


def test_cancelled_and_unknown_kinds() -> None:
    fields = frame("order_event_canceled")["Canceled"]
    for name in ("Cancelled", "cancelled", "CANCELLED"):
        with pytest.raises(UnknownEventKind, match="Canceled"):
            D.decode_order_event({name: fields})
        with pytest.raises(UnknownEventKind):
            D.decode_order_event({"type": name, **fields})
    with pytest.raises(UnknownEventKind) as info:
        D.decode_order_event({"Expired": fields})
    assert info.value.kind == "Expired" and isinstance(info.value, DecodeError)
    for bad in ({}, {"Removed": fields, "Canceled": fields}, {"type": 5}, {"Removed": [1]}, []):
        with pytest.raises(DecodeError) as err:
            D.decode_order_event(bad)
        assert not isinstance(err.value, UnknownEventKind)
    with pytest.raises(DecodeError, match=r"Removed\.reason"):
        D.decode_order_event(
            {
                "Removed": {
                    k: v
                    for k, v in frame("order_event_removed")["Removed"].items()
                    if k != "reason"
                }
            }
        )


def test_control_frames() -> None:
    assert D.control_type(frame("control_ping")) == "ping"
    assert D.control_type(frame("control_subscriptions")) == "subscriptions"
    assert D.control_type({"type": "pong", "x": 1}) == "pong"
    assert D.control_type([{"type": "ping"}]) is None
    assert D.control_type(frame("klines")) is None
    assert D.control_type(frame("order_event_updated")) is None
    assert D.control_type({"type": "Ping"}) is None
    assert D.control_type({"type": 1}) is None
    assert D.control_type("ping") is None


def test_parse_frame_exact() -> None:
    value = D.parse_frame(b'{"a": 0.1, "b": 1e-8, "c": 12345678901234567890123, "d": [1.10]}')
    assert value["a"] == Decimal("0.1") and type(value["a"]) is Decimal
    assert value["b"] == Decimal("1e-8")
    assert value["c"] == 12345678901234567890123 and type(value["c"]) is int
    assert str(value["d"][0]) == "1.10"
    assert D.parse_frame('{"x": "y"}') == {"x": "y"}
    assert D.parse_frame(bytearray(b"[1]")) == [1]

    def walk(obj: Any) -> None:
        assert type(obj) is not float
        if isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    for path in FIXTURES.glob("tplus_*.json"):
        walk(D.parse_frame(path.read_bytes()))


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"a": NaN}', b"[Infinity]", b"[-Infinity]", b"\xff\xfe", b"[1] x", b"{'a': 1}"],
)
def test_parse_frame_rejects(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        D.parse_frame(raw)


def test_every_tplus_core_fixture_decodes() -> None:
    decoders = {
        "trade": D.decode_trade,
        "trade_event": D.decode_trade_event,
        "trade_event_rollbacked": D.decode_trade_event,
        "orderbook_snapshot": D.decode_orderbook,
        "depth_diff": D.decode_depth_diff,
        "depth_diff_next": D.decode_depth_diff,
        "depth_diff_gap": D.decode_depth_diff,
        "klines": D.decode_klines,
        "klines_page": D.decode_klines_page,
        "market": D.decode_market,
        "user_trade": D.decode_user_trade,
        "user_trade_rollbacked": D.decode_user_trade,
    }
    for path in FIXTURES.glob("tplus_order_event*.json"):
        decoders[path.stem[len("tplus_") :]] = D.decode_order_event
    for name, decode in decoders.items():
        assert decode(frame(name)) is not None, name


def test_models_serialise() -> None:
    diff = D.decode_depth_diff(frame("depth_diff"))
    assert json.loads(diff.to_json())["asks"][0] == ["3871.5", "0.75"]
    event = D.decode_order_event(frame("order_event_removed"))
    assert event.to_dict()["asset_id"] == "200"
    assert "seq=48214" in repr(diff)
