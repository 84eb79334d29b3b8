"""Bearer auth of the tplus clients against the simulator: a token on the first
authenticated handshake, a fresh one on reconnect, 401-then-success, a login that
keeps failing ends the stream (no hot loop), and tokens never leak."""

from __future__ import annotations

import logging
import queue
from typing import Any

import pytest
from clientutil import wait_until
from tplus_clientutil import TplusClients, connected, drain, settle

from o2sync.engine.lifecycle import ConnectionState
from o2sync.errors import AuthError, StreamFailedError
from o2sync.testing import TplusSimulator
from o2sync.tplus import User


def user_trades_path(sim: TplusSimulator) -> str:
    return f"/trades/user/events/{sim.user_id}"


def test_first_authenticated_handshake_carries_a_fresh_token(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob()
    orders = ob.stream_orders()
    fills = ob.stream_user_trade_events()
    connected(ob)
    for path in ("/orders", user_trades_path(tsim)):
        (shake,) = tsim.handshakes(path)
        assert shake.accepted and shake.user_id == tsim.user_id
        assert shake.token is not None and tsim.token_record(shake.token) is not None
    # nonce, then auth, then the handshakes; one login serves both sockets
    assert [r.path for r in tsim.requests(service="oms")] == [f"/nonce/{tsim.user_id}", "/auth"]
    assert ob.token_expiry_ns == tsim.tokens[-1].expiry_ns
    tsim.step(300)
    settle(tsim, ob, ["/orders", user_trades_path(tsim)])
    assert drain(orders) and drain(fills)


def test_reconnect_after_expiry_presents_a_fresh_token(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob()
    orders = ob.stream_orders()
    reconnected: list[Any] = []
    ob.on_lifecycle(lambda e: reconnected.append(e)
                    if e.state is ConnectionState.RECONNECTED else None)
    connected(ob)
    first = tsim.handshakes("/orders")[-1].token
    tsim.expire_tokens()
    tsim.drop_connections(path="/orders")
    assert wait_until(lambda: len(reconnected) == 1)
    connected(ob)
    assert tsim.presented_fresh_token("/orders")
    assert tsim.handshakes("/orders")[-1].token != first
    tsim.step(200)
    settle(tsim, ob, ["/orders"])
    assert drain(orders)


@pytest.mark.tplus_options(token_ttl=30.0)
def test_token_within_a_minute_of_expiry_is_renewed_before_the_reconnect(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob()
    orders = ob.stream_orders()
    connected(ob)
    reconnects = ob.stats()["reconnects"]
    tsim.drop_connections(path="/orders")
    assert wait_until(lambda: ob.stats()["reconnects"] == reconnects + 1)
    shakes = tsim.handshakes("/orders")
    assert len(shakes) == 2 and all(h.accepted for h in shakes)  # no 401 needed
    assert tsim.presented_fresh_token("/orders")
    assert not orders.closed


def test_rejected_upgrade_then_success(tsim: TplusSimulator, tplus: TplusClients) -> None:
    tsim.reject_upgrades(1)
    ob = tplus.ob()
    states: list[ConnectionState] = []
    ob.on_lifecycle(lambda e: states.append(e.state))
    orders = ob.stream_orders()
    connected(ob)
    shakes = tsim.handshakes("/orders")
    assert [h.status for h in shakes] == [401, 101]
    assert shakes[1].token != shakes[0].token  # re-authenticated once
    assert len(tsim.requests("/auth")) == 2
    tsim.step(200)
    settle(tsim, ob, ["/orders"])
    assert drain(orders)
    assert wait_until(lambda: ConnectionState.CONNECTED in states)
    assert ConnectionState.FAILED not in states


def test_login_that_keeps_failing_ends_the_stream_without_a_hot_loop(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    tsim.fail_auth(1000)
    ob = tplus.ob()
    errors: list[Exception] = []
    ob.on_error(errors.append)
    events: list[Any] = []
    ob.on_lifecycle(events.append)
    orders = ob.stream_orders()
    with pytest.raises(StreamFailedError) as caught:
        for _ in range(100):
            try:
                orders.get(timeout=5)
            except queue.Empty:
                continue
    assert "login" in str(caught.value)
    assert orders.closed and isinstance(orders.error, StreamFailedError)
    assert wait_until(lambda: any(isinstance(e, StreamFailedError) for e in errors))
    assert wait_until(lambda: any(e.state is ConnectionState.FAILED for e in events))
    failed = [e for e in events if e.state is ConnectionState.FAILED]
    assert failed[0].stream == "/orders"
    assert len(tsim.requests("/auth")) <= 2
    assert tsim.handshakes("/orders") == []  # no handshake without a token
    assert ob.stats()["sockets"] == {}


def test_rejected_handshakes_end_the_stream_after_a_bounded_number(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    tsim.reject_upgrades(1000)
    ob = tplus.ob()
    fills = ob.stream_user_trade_events()
    with pytest.raises(StreamFailedError) as caught:
        for _ in range(100):
            try:
                fills.get(timeout=5)
            except queue.Empty:
                continue
    assert caught.value.status == 401
    assert 2 <= len(tsim.handshakes(user_trades_path(tsim))) <= 6
    assert len(tsim.requests("/auth")) <= 6


def test_market_data_with_a_user_logs_in_and_falls_back_to_anonymous(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md(user=User(tsim.user_seed))
    first = md.stream_finalized_trades()
    connected(md)
    assert tsim.handshakes("/trades")[0].token is not None
    assert not first.closed
    md.close()
    tsim.fail_auth(1000)
    anonymous = tplus.md(user=User(tsim.user_seed))
    trades = anonymous.stream_finalized_trades()
    connected(anonymous)
    assert tsim.handshakes("/trades")[-1].token is None
    tsim.step(200)
    settle(tsim, anonymous, ["/trades"])
    assert drain(trades)


def test_tokens_never_leak_into_reprs_logs_errors_or_lifecycle(
        tsim: TplusSimulator, tplus: TplusClients, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tsim.reject_upgrades(1)
    ob = tplus.ob(history=True)
    md = tplus.md(user=User(tsim.user_seed))
    said: list[str] = []
    for client in (ob, md):
        client.on_lifecycle(lambda e: said.append(f"{e!r} {e} {e.message}"))
        client.on_error(lambda e: said.append(f"{e!r} {e}"))
    keep = [ob.stream_orders(), md.stream_finalized_trades()]
    connected(ob, md)
    tsim.expire_tokens()
    tsim.drop_connections()
    assert wait_until(lambda: ob.stats()["reconnects"] >= 1 and md.stats()["reconnects"] >= 1)
    connected(ob, md)
    ob.get_open_orders_for_book("200")
    ob.market_data.get_user_trades()
    tsim.revoke_tokens()
    try:  # the held token is revoked: the REST error must not show it
        ob.get_open_orders_for_book("200")
    except Exception as exc:  # any error type: only its text matters
        said.append(f"{exc!r} {exc}")
    tsim.fail_auth(1000)
    failing = tplus.ob()
    failing.on_error(lambda e: said.append(f"{e!r} {e}"))
    with pytest.raises((StreamFailedError, AuthError)) as caught:
        for _ in range(100):
            try:
                failing.stream_orders().get(timeout=5)
            except queue.Empty:
                continue
    said.append(f"{caught.value!r} {caught.value}")
    assert not any(sub.closed for sub in keep)
    said += [repr(ob), str(ob), repr(md), repr(failing), repr(ob.default_user),
             repr(ob.stats()), repr(md.stats())]
    tokens = [t.token for t in tsim.tokens]
    assert len(tokens) >= 4
    assert wait_until(lambda: len(said) > 10)
    text = "\n".join(said) + "\n" + caplog.text
    for token in tokens:
        assert token not in text
    assert tsim.user_seed not in text
