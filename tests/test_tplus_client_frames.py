"""Control frames, malformed frames and unknown event kinds on the tplus clients;
RECONNECTED naming its stream and the REST re-read after it; bad arguments
raising at the call."""

from __future__ import annotations

from typing import Any

import pytest
from clientutil import wait_until
from tplus_clientutil import TplusClients, client_thread_names, connected, drain, settle

from o2sync.engine.lifecycle import ConnectionState
from o2sync.errors import DecodeError
from o2sync.testing import TplusSimulator
from o2sync.tplus import (
    MarketDataClient,
    OrderBookClient,
    OrderEvent,
    Trade,
    User,
    UserTradesPage,
)
from o2sync.tplus.errors import MissingClientUserError, UnknownEventKind


def test_control_frames_are_counted_and_never_delivered(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    trades = md.stream_finalized_trades()
    called: list[Any] = []
    md.on_finalized_trades(called.append)
    errors: list[Exception] = []
    md.on_error(errors.append)
    connected(md)
    before = md.stats()["control_frames"]  # the server's first "subscriptions" frame
    assert before == 1
    for kind in ("ping", "subscriptions", "pong", "ping"):
        assert tsim.send_control(kind, "/trades") == 1
    assert wait_until(lambda: md.stats()["control_frames"] == before + 4)
    tsim.step(100)
    settle(tsim, md, ["/trades"])
    events = drain(trades)
    assert events and all(isinstance(e, Trade) for e in events)
    assert wait_until(lambda: len(called) == len(events))
    assert all(isinstance(e, Trade) for e in called)
    stats = md.stats()
    assert stats["decode_errors"] == stats["unknown_kinds"] == 0
    assert errors == []


@pytest.mark.parametrize("text, counter", [
    ("garbage", "decode_errors"),
    ('{"Created": {"bad": 1}}', "decode_errors"),
    ('[1, 2, 3]', "decode_errors"),
    ('{"Exploded": {"order_id": "x"}}', "unknown_kinds"),
    ('{"Cancelled": {"order_id": "x"}}', "unknown_kinds"),
])
def test_bad_order_frames_are_counted_reported_and_the_reader_survives(
        tsim: TplusSimulator, tplus: TplusClients, text: str, counter: str) -> None:
    ob = tplus.ob()
    orders = ob.stream_orders()
    called: list[Any] = []
    ob.on_orders(called.append)
    errors: list[Exception] = []
    ob.on_error(errors.append)
    connected(ob)
    tsim.step(100)
    assert tsim.inject("/orders", text) == 1
    tsim.step(100)
    settle(tsim, ob, ["/orders"])
    events = drain(orders)
    assert len(events) > 10 and all(isinstance(e, OrderEvent) for e in events)
    assert wait_until(lambda: len(called) == len(events))
    stats = ob.stats()
    assert stats[counter] == 1
    assert stats["decode_errors"] + stats["unknown_kinds"] == 1
    assert wait_until(lambda: len(errors) == 1)
    expected = UnknownEventKind if counter == "unknown_kinds" else DecodeError
    assert isinstance(errors[0], expected), errors
    assert ob.is_connected and stats["reconnects"] == 0  # the same socket and reader


def test_malformed_frames_on_every_market_data_stream(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    paths = ["/trades", "/trades/events", "/klines/diff/200"]
    subs = [md.stream_finalized_trades(), md.stream_all_trades(), md.stream_klines("200")]
    errors: list[Exception] = []
    md.on_error(errors.append)
    connected(md)
    for path in paths:
        tsim.inject(path, "garbage")
        tsim.inject(path, '{"price": "1.5"}')
        tsim.inject(path, '{"Exploded": {}}')
    tsim.step(300)
    settle(tsim, md, paths)
    for sub in subs:
        assert drain(sub)
    stats = md.stats()
    assert stats["decode_errors"] + stats["unknown_kinds"] == 9
    assert wait_until(lambda: len(errors) == 9)
    assert stats["reconnects"] == 0


def test_reconnected_names_the_stream_and_rest_re_reads_the_gap(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob(history=True)
    events: list[Any] = []
    ob.on_lifecycle(events.append)
    lifecycle = ob.stream_lifecycle()
    orders = ob.stream_orders()
    fills = ob.stream_user_trade_events()
    connected(ob)
    tsim.step(500)
    tsim.drop_connections(path="/orders")
    assert wait_until(lambda: any(e.state is ConnectionState.RECONNECTED for e in events))
    connected(ob)
    reconnected = [e for e in events if e.state is ConnectionState.RECONNECTED]
    assert [e.stream for e in reconnected] == ["/orders"]
    dropped = [e for e in events if e.state is ConnectionState.DISCONNECTED]
    assert [e.stream for e in dropped] == ["/orders"]
    queued = drain(lifecycle)
    assert [e.state for e in queued if e.stream == "/orders"][-1] is \
        ConnectionState.RECONNECTED  # the queue form sees the same events
    # what a user does on RECONNECTED: re-read open orders from the order service
    # (the source of truth, every page) and recent fills from the market-data history
    open_orders = ob.get_open_orders_for_book("200")
    assert [o.model_dump(mode="json") for o in open_orders] == tsim.oms_orders("200")
    assert open_orders and all(o.status in ("Open", "PartiallyFilled") for o in open_orders)
    everywhere = ob.get_open_orders()  # every listed market
    assert {o.order_id for o in everywhere} == {o["order_id"] for o in tsim.oms_orders()}
    recent = ob.market_data.get_user_trades()
    assert isinstance(recent, UserTradesPage) and recent
    assert all(not hasattr(row, "trade_id") for row in recent)
    tsim.step(200)
    settle(tsim, ob, ["/orders", f"/trades/user/events/{tsim.user_id}"])
    assert drain(orders) and drain(fills)


def test_stream_failed_by_a_404_ends_its_iterator(tsim: TplusSimulator, tplus: TplusClients
                                                  ) -> None:
    md = tplus.md()
    errors: list[Exception] = []
    md.on_error(errors.append)
    depth = md.stream_depth("999")  # a valid id the venue does not list
    with pytest.raises(Exception) as caught:
        for _ in depth:
            pass
    assert "404" in str(caught.value)
    assert wait_until(lambda: errors)
    assert md.stats()["sockets"] == {}


BAD_ASSETS = ["", "abc", -1, "12@", 1.5, None, True, "200 ", 2 ** 70]


@pytest.mark.parametrize("asset", BAD_ASSETS)
def test_bad_asset_ids_raise_at_the_call(asset: Any) -> None:
    md = MarketDataClient("http://127.0.0.1:9")
    try:
        for call in (md.stream_depth, md.stream_klines, md.order_book, md.on_depth,
                     md.on_klines, md.get_orderbook_snapshot, md.get_klines):
            with pytest.raises((ValueError, TypeError)):
                call(asset)
        assert md.stats()["subscriptions"] == 0 and client_thread_names() == []
    finally:
        md.close()


def test_bad_arguments_raise_at_the_call() -> None:
    with pytest.raises(TypeError, match="unknown option"):
        MarketDataClient("http://127.0.0.1:9", bogus=1)
    with pytest.raises(TypeError, match="unknown option"):
        OrderBookClient("http://127.0.0.1:9", default_user=User(), heartbeat_every=1)
    for size in (0, -1, "x"):
        with pytest.raises(ValueError, match="queue_size"):
            MarketDataClient("http://127.0.0.1:9", queue_size=size)
    for url in ("ftp://x", "not a url"):
        with pytest.raises(ValueError, match="base_url"):
            MarketDataClient(url)
    with pytest.raises(TypeError, match="default_user"):
        OrderBookClient("http://127.0.0.1:9", default_user="seed")  # type: ignore[arg-type]
    md = MarketDataClient("http://127.0.0.1:9")
    anonymous = OrderBookClient("http://127.0.0.1:9")
    try:
        with pytest.raises(ValueError, match="queue_size"):
            md.stream_finalized_trades(queue_size=0)
        with pytest.raises(ValueError, match="overflow"):
            md.stream_depth("200", overflow="nope")
        with pytest.raises(TypeError, match="callable"):
            md.on_depth("200", 5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="default_user"):
            md.get_user_trades()
        for call in (anonymous.stream_orders, anonymous.stream_user_trade_events,
                     anonymous.on_orders, anonymous.on_user_trade_events):
            with pytest.raises(MissingClientUserError, match="default_user"):
                call()
        with OrderBookClient("http://127.0.0.1:9", default_user=User()) as no_history, \
                pytest.raises(ValueError, match="market_data_url"):
            no_history.market_data.get_user_trades()
        assert client_thread_names() == []  # nothing started
    finally:
        md.close()
        anonymous.close()
