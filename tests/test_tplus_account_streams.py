"""The tplus ticker, positions, account-event, intent and finalized-user-trade streams,
their per-call ``user=``, their reconnects and the REST reads that re-sync them,
against the tplus simulator over loopback."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from clientutil import wait_until
from tplus_clientutil import TplusClients, drain, settle
from tplus_clientutil import connected as _sockets_up

from o2sync.engine.lifecycle import ConnectionState
from o2sync.errors import StreamFailedError
from o2sync.testing import TplusSimulator
from o2sync.tplus import (
    DepositLanded,
    IntentAggregateUpdate,
    MarginCallUpdated,
    PositionCleared,
    PositionUpdate,
    SubAccountAssetTransferred,
    Ticker,
    User,
    UserTrade,
    WithdrawalCompleted,
)
from o2sync.tplus.errors import AuthError, MissingClientUserError

ASSETS = ("200", "82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000"
                 "@00000000000000a4b1")


def connected(*clients: Any) -> None:
    """Every socket open **and** its ``subscriptions`` frame counted, so a later
    :func:`settle` waits for its own pings, not for these."""
    _sockets_up(*clients)
    for c in clients:
        assert wait_until(lambda c=c: c.stats()["control_frames"] >= len(c.stats()["sockets"])
                          ), c.stats()


def _paths(sim: TplusSimulator) -> dict[str, str]:
    u = sim.user_id
    return {"positions": f"/positions/ws/{u}", "events": f"/account/events/{u}",
            "finalized": f"/trades/user/{u}", "fills": f"/trades/user/events/{u}"}


def test_user_streams_deliver_every_kind(tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob()
    positions = ob.stream_user_positions()
    events = ob.stream_user_events()
    finalized = ob.stream_user_finalized_trades()
    fills = ob.stream_user_trade_events()
    connected(ob)
    tsim.step(600)
    paths = _paths(tsim)
    settle(tsim, ob, paths.values())
    updates, got, confirmed, all_fills = (drain(positions), drain(events), drain(finalized),
                                          drain(fills))
    assert updates and all(isinstance(u, PositionUpdate) for u in updates)
    assert all(u.user_id == tsim.user_id for u in updates)
    # each frame is the complete list: the last one holds what REST says now (marks move)
    rest = ob.get_user_positions_page()
    assert [(p.asset_id, p.side, p.size, p.entry_price) for p in updates[-1].positions] == [
        (p.asset_id, p.side, p.size, p.entry_price) for p in rest.positions]
    assert [p.size for p in rest.positions] == [Decimal(r["size"]) for r in tsim.positions()]
    kinds = {type(e) for e in got}
    assert kinds == {DepositLanded, MarginCallUpdated, WithdrawalCompleted,
                     SubAccountAssetTransferred, PositionCleared}
    calls = [e for e in got if isinstance(e, MarginCallUpdated)]
    assert any(c.called_venues for c in calls) and any(not c.called_venues for c in calls)
    assert all(isinstance(e.amount, str) for e in got if isinstance(e, DepositLanded))
    # /trades/user/{u} carries the Confirmed fills of the events path, and nothing else
    assert confirmed and all(isinstance(t, UserTrade) and t.status == "Confirmed"
                             for t in confirmed)
    assert [t.trade_id for t in confirmed] == [
        t.trade_id for t in all_fills if t.status == "Confirmed"]
    assert ob.stats()["decode_errors"] == 0


def test_ticker_streams(tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    one = md.stream_ticker(ASSETS[0])
    many = md.stream_tickers()
    connected(md)
    tsim.step(100)
    settle(tsim, md, [f"/ticker/ws/{ASSETS[0]}", "/tickers/ws"])
    singles, lists = drain(one), drain(many)
    assert singles and all(isinstance(t, Ticker) and str(t.asset_id) == "200" for t in singles)
    assert lists and all(isinstance(batch, list) and batch for batch in lists)
    assert {str(t.asset_id) for batch in lists for t in batch} == set(ASSETS)
    assert all(isinstance(t.volume_24h, Decimal) for batch in lists for t in batch)
    # the REST re-read has every market, the stream only the ones that moved
    assert {str(t.asset_id) for t in md.get_tickers()} == set(ASSETS)
    assert md.get_ticker(ASSETS[1]).asset_id == ASSETS[1]


def test_intent_is_for_market_makers(tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob()
    refused = ob.stream_intent()
    with pytest.raises(StreamFailedError, match="403"):
        refused.get(timeout=10)
    assert all(h.status == 403 for h in tsim.handshakes("/intent/ws"))

    tsim.set_market_maker()
    maker = tplus.ob()
    feed = maker.stream_intent()
    connected(maker)
    tsim.step(60)
    settle(tsim, maker, ["/intent/ws"])
    updates = drain(feed)
    assert updates and all(isinstance(u, IntentAggregateUpdate) for u in updates)
    watchers = 0
    for u in updates:  # running totals follow the deltas
        if str(u.asset_id) == "200":
            watchers += u.watchers_delta
            assert u.watchers == watchers
    assert any(u.watchers_delta < 0 for u in updates)


def test_user_argument_forms(tsim: TplusSimulator, tplus: TplusClients) -> None:
    me = User(tsim.user_seed)
    # another default user; user=User(...) logs in as that user on its own token
    ob = tplus.ob(user=User())
    positions = ob.stream_user_positions(user=me)
    connected(ob)
    (shake,) = tsim.handshakes(f"/positions/ws/{tsim.user_id}")
    assert shake.accepted and shake.user_id == tsim.user_id
    assert tsim.token_record(shake.token).user_id == tsim.user_id  # type: ignore[union-attr]
    mine = tplus.ob()  # a bare public key: the path names it, the default user's token
    assert mine.get_user_positions(user=me.public_key.upper()) == mine.get_user_positions()
    assert [p.size for p in ob.get_user_positions(user=me)] == [
        Decimal(r["size"]) for r in tsim.positions()]
    tsim.step(300)
    settle(tsim, ob, [f"/positions/ws/{tsim.user_id}"])
    assert drain(positions)
    # /orders has no user in its path: one user per client
    held = ob.stream_orders(user=me)
    with pytest.raises(ValueError, match="already open"):
        ob.stream_orders()
    assert not held.closed
    # the client's own user, unknown to the service: empty answers, not errors
    assert ob.get_user_positions() == [] and ob.get_user_inventory() == {}
    assert ob.get_user_solvency().accounts == {}
    assert ob.get_user_position_for_asset(ASSETS[0]) == []

    anonymous = tplus.ob(user=None)
    for call in (anonymous.stream_user_positions, anonymous.stream_user_events,
                 anonymous.stream_intent, anonymous.stream_user_finalized_trades,
                 anonymous.stream_user_trades, anonymous.get_user_positions,
                 anonymous.get_user_inventory, anonymous.get_user_solvency,
                 anonymous.on_user_positions, anonymous.on_user_events):
        with pytest.raises(MissingClientUserError):
            call()
    with pytest.raises(MissingClientUserError, match="bare public key"):
        anonymous.stream_user_positions(user=tsim.user_id)  # nobody to log in with
    with pytest.raises(ValueError, match="64-hex"):
        ob.stream_user_events(user="not-a-key")
    with pytest.raises(TypeError, match="User"):
        ob.stream_user_events(user=5)  # type: ignore[arg-type]
    assert anonymous.stats()["sockets"] == {}


@pytest.mark.parametrize("stream", ["positions", "events", "finalized"])
def test_reconnect_names_the_stream_and_presents_a_fresh_token(
        tsim: TplusSimulator, tplus: TplusClients, stream: str) -> None:
    ob = tplus.ob()
    make = {"positions": ob.stream_user_positions, "events": ob.stream_user_events,
            "finalized": ob.stream_user_finalized_trades}[stream]
    sub: Any = make()
    path = _paths(tsim)[stream]
    life: list[Any] = []
    ob.on_lifecycle(life.append)
    connected(ob)
    tsim.expire_tokens()
    frames = ob.stats()["control_frames"]
    tsim.drop_connections(path=path)
    assert wait_until(lambda: any(e.state is ConnectionState.RECONNECTED for e in life))
    (event,) = [e for e in life if e.state is ConnectionState.RECONNECTED]
    assert event.stream == path
    # the new socket's subscriptions frame is in: settle() then waits for its own ping
    assert wait_until(lambda: ob.stats()["control_frames"] > frames)
    assert tsim.presented_fresh_token(path)
    tsim.step(600)
    settle(tsim, ob, [path])
    assert drain(sub) and not sub.closed


@pytest.mark.parametrize("stream", ["ticker", "tickers", "intent"])
def test_ticker_and_intent_streams_reconnect(
        tsim: TplusSimulator, tplus: TplusClients, stream: str) -> None:
    tsim.set_market_maker()
    client: Any = tplus.ob() if stream == "intent" else tplus.md()
    path = {"ticker": f"/ticker/ws/{ASSETS[0]}", "tickers": "/tickers/ws",
            "intent": "/intent/ws"}[stream]
    sub: Any = {"ticker": lambda: client.stream_ticker(ASSETS[0]),
                "tickers": lambda: client.stream_tickers(),
                "intent": lambda: client.stream_intent()}[stream]()
    life: list[Any] = []
    client.on_lifecycle(life.append)
    connected(client)
    if stream == "intent":
        tsim.expire_tokens()  # the reconnect must log in again
    frames = client.stats()["control_frames"]
    tsim.drop_connections(path=path)
    assert wait_until(lambda: any(e.state is ConnectionState.RECONNECTED for e in life))
    assert [e.stream for e in life if e.state is ConnectionState.RECONNECTED] == [path]
    assert wait_until(lambda: client.stats()["control_frames"] > frames)
    if stream == "intent":
        assert tsim.presented_fresh_token(path)
    tsim.step(90)
    settle(tsim, client, [path])
    assert drain(sub) and not sub.closed


def test_resync_after_reconnect_matches_the_service(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob()
    positions = ob.stream_user_positions()
    life = ob.stream_lifecycle()
    connected(ob)
    path = _paths(tsim)["positions"]
    tsim.drop_connections(path=path)
    tsim.step(400)  # fills land while the socket is down: their updates are lost
    for _ in range(100):  # bounded: each get waits at most 10 s
        if life.get(timeout=10).state is ConnectionState.RECONNECTED:
            break
    else:
        raise AssertionError("no RECONNECTED")
    state = ob.get_user_positions_page()
    truth = tsim.positions()
    assert [(str(p.asset_id), p.side, p.size) for p in state.positions] == [
        (r["asset_id"], r["side"], Decimal(r["size"])) for r in truth]
    drain(positions)  # whatever arrives next replaces the re-read state whole


def test_malformed_and_unknown_frames_are_counted(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob, md = tplus.ob(), tplus.md()
    events = ob.stream_user_events()
    positions = ob.stream_user_positions()
    tickers = md.stream_tickers()
    errors: list[Exception] = []
    ob.on_error(errors.append)
    connected(ob, md)
    paths = _paths(tsim)
    tsim.inject(paths["events"], '{"BalanceExploded": {"user": "x"}}')
    tsim.inject(paths["events"], '{"DepositLanded": {"user": "x"}, "PositionCleared": {}}')
    tsim.inject(paths["events"], '{"DepositLanded": {"user": "x", "asset": "a", "amount": 5,'
                                 ' "chain_id": "c", "deposit_nonce": 1, "timestamp_ns": 1}}')
    tsim.inject(paths["positions"], '{"user_id": "x", "positions": [{"side": "up"}], '
                                    '"timestamp_ns": 1}')
    tsim.inject(paths["positions"], "not json")
    tsim.inject("/tickers/ws", '{"asset_id": "200"}')  # an object where a list belongs
    tsim.step(50)
    settle(tsim, ob, [paths["events"], paths["positions"]])
    settle(tsim, md, ["/tickers/ws"])
    stats = ob.stats()
    assert stats["unknown_kinds"] == 1 and stats["decode_errors"] == 4
    assert md.stats()["decode_errors"] == 1
    assert wait_until(lambda: any("amount" in str(e) for e in errors))  # reported too
    assert drain(events) and drain(positions) and drain(tickers)  # and the streams go on
    assert not events.closed and not positions.closed


def test_position_pages_and_account_reads(tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob, md = tplus.ob(), tplus.md(user=User(tsim.user_seed))
    first = ob.get_user_positions_page(limit=1)
    assert len(first.positions) == 1 and first.has_next_page and first.next_page == 1
    assert first.total_positions == 2 and first.total_pages == 2
    second = ob.get_user_positions_page(page=first.next_page, limit=1)
    assert not second.has_next_page and second.next_page is None
    assert [str(p.asset_id) for p in (*first.positions, *second.positions)] == list(ASSETS)
    assert ob.get_user_positions(sub_account=0) == []
    (only,) = ob.get_user_position_for_asset(ASSETS[1])
    assert only.side == "short" and only.sub_account_index == 1
    inventory = ob.get_user_inventory()
    assert set(inventory["accounts"]) == {"0", "1"} and inventory["is_mm"] is False

    margin = ob.get_user_margin_info(include_positions=True)
    account = margin.accounts[1]
    assert account.positions is not None and {p.side for p in account.positions} == {
        "Long", "Short"}
    assert ob.get_user_margin_info(sub_account=0).accounts == {}
    assert ob.get_user_margin_info(sub_accounts=[1]).accounts[1].positions is None
    with pytest.raises(ValueError, match="at most one"):
        ob.get_user_margin_info(sub_accounts=[0, 1])
    with pytest.raises(ValueError, match="either"):
        ob.get_user_margin_info(sub_account=1, sub_accounts=[1])
    margin_requests = [r for r in tsim.requests(service="oms") if r.path.startswith("/margin")]
    assert margin_requests[0].query == {"include_positions": "true"}
    solvency = ob.get_user_solvency()
    assert solvency.accounts[1].distance_from_liquidation == (
        account.maintenance_margin_surplus)

    assert [str(o.asset_id) for o in md.get_all_open_interest()] == list(ASSETS)
    assert md.get_open_interest(ASSETS[1]).total_open_interest is None  # never reported
    oi = md.get_open_interest(ASSETS[0])
    assert oi.total_open_interest == max(oi.long, oi.short)  # type: ignore[type-var]
    basis = md.get_user_position_basis()
    assert {b.domain for b in basis} == {"spot", "margin"}
    assert [b.sub_account for b in md.get_user_position_basis(sub_account=1)] == [1, 1]
    assert [b.side for b in md.get_user_position_basis_for_asset(ASSETS[1])] == ["short"]
    assert [n.name for n in md.get_sub_account_names().names] == ["Spot", "Default margin"]
    assert tplus.md(user=User()).get_user_position_basis() == []  # unknown user: 404 -> []


@pytest.mark.tplus_options(floats=True)
def test_json_float_decimals_stay_exact(tsim: TplusSimulator, tplus: TplusClients) -> None:
    """A server sending decimals as JSON numbers: o2sync reads each from its text."""
    ob, md = tplus.ob(), tplus.md()
    positions = ob.stream_user_positions()
    connected(ob)
    rows = ob.get_user_positions()
    assert rows and all(type(p.size) is Decimal for p in rows)
    assert [p.entry_price for p in rows] == [Decimal(repr(r["entry_price"]))
                                             for r in tsim.positions()]
    inventory = ob.get_user_inventory()  # the raw dict: exact numbers too
    spot = next(iter(inventory["accounts"]["0"]["spot"].values()))
    assert type(spot) is Decimal or type(spot) is int
    ticker = md.get_ticker(ASSETS[0])
    assert type(ticker.last_price) is Decimal
    tsim.step(400)
    settle(tsim, ob, [f"/positions/ws/{tsim.user_id}"])
    updates = drain(positions)
    assert updates and all(type(p.size) is Decimal for u in updates for p in u.positions)


def test_a_rejected_token_is_replaced_once(tsim: TplusSimulator, tplus: TplusClients) -> None:
    ob = tplus.ob()
    assert ob.get_user_solvency().accounts  # logs in
    logins = len(tsim.tokens)
    tsim.revoke_tokens()  # the server forgets it; the client still thinks it good
    assert ob.get_user_positions()  # 401, one new login, one retry
    assert len(tsim.tokens) == logins + 1
    statuses = [r.status for r in tsim.requests(service="oms")
                if r.path == f"/positions/{tsim.user_id}"]
    assert statuses == [401, 200]
    tsim.fail_auth(1)  # and when the new login fails too, the caller hears of it
    tsim.revoke_tokens()
    with pytest.raises(AuthError, match="login"):
        ob.get_user_inventory()


def test_callback_forms_and_per_call_user(tsim: TplusSimulator, tplus: TplusClients) -> None:
    me = User(tsim.user_seed)
    ob, md = tplus.ob(user=User()), tplus.md()
    got: dict[str, list[Any]] = {"positions": [], "events": [], "fills": [], "orders": [],
                                 "finalized": []}
    ob.on_user_positions(got["positions"].append, user=me)
    ob.on_user_trade_events(got["fills"].append, user=me)
    ob.on_orders(got["orders"].append, user=me)
    ob.on_user_trades(got["finalized"].append, user=me.public_key)  # a key: not signable ...

    @ob.on_user_events(user=me)
    def events(event: Any) -> None:
        got["events"].append(event)

    tickers: list[Any] = []
    md.on_tickers(tickers.append)
    md.on_ticker(ASSETS[0], tickers.append)
    connected(ob, md)
    tsim.step(600)
    paths = _paths(tsim)
    settle(tsim, ob, [paths["positions"], paths["events"], paths["fills"], "/orders"])
    settle(tsim, md, ["/tickers/ws", f"/ticker/ws/{ASSETS[0]}"])
    assert wait_until(lambda: all(got[k] for k in ("positions", "events", "fills", "orders")))
    assert wait_until(lambda: any(isinstance(t, list) for t in tickers)
                      and any(isinstance(t, Ticker) for t in tickers))
    # ... so with another default user, the finalized stream presents that user's token
    # and the service refuses it (403), as it would refuse tpluspy
    (shake, *_) = tsim.handshakes(paths["finalized"])
    assert shake.status == 403 and got["finalized"] == []
    accepted = [h for h in tsim.handshakes("/orders") if h.accepted]
    assert accepted and all(h.user_id == tsim.user_id for h in accepted)
