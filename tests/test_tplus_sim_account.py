"""tplus simulator: the account paths (positions, inventory, margin, solvency, open
interest, position basis, sub-account names) and the ticker/positions/events/intent
upgrades, over plain HTTP and WebSocket: auth, refusals, shapes, and the seeded state."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import websocket
from tplus_util import ADDRESS, Login, error_of, sim_login

from o2sync.sim.tplus import TplusSimulator


def get(base: str, path: str, **kw: object) -> requests.Response:
    return requests.get(base + path, timeout=5, **kw)  # type: ignore[arg-type]


def ws_status(url: str, headers: dict[str, str]) -> int:
    """The status of an upgrade to ``url`` (101 when it opened)."""
    try:
        conn = websocket.create_connection(url, timeout=5, header=headers)
    except websocket.WebSocketBadStatusException as exc:
        return int(exc.status_code)
    conn.close()
    return 101


def ws(url: str) -> str:
    return url.replace("http://", "ws://")


@pytest.mark.parametrize("path", ["/positions/{u}", "/positions/{u}/200",
                                  "/inventory/user/{u}", "/margin/user/{u}",
                                  "/solvency/user/{u}"])
def test_oms_account_reads_need_the_users_token(tsim: TplusSimulator, path: str) -> None:
    me, headers = sim_login(tsim)
    url = path.format(u=me.user_id)
    assert get(tsim.oms_url, url).status_code == 401
    assert error_of(get(tsim.oms_url, url))["code"] == "UNAUTHORIZED"
    assert get(tsim.oms_url, url, headers=headers).status_code == 200
    other = path.format(u=Login().user_id)
    assert get(tsim.oms_url, other, headers=headers).status_code == 403  # another user's


def test_seeded_positions_and_paging(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim)
    body = get(tsim.oms_url, f"/positions/{me.user_id}", headers=headers,
               params={"limit": 1}).json()
    assert {k: body[k] for k in ("page", "limit", "total_pages", "cursor_size",
                                 "has_next_page", "next_page", "total_positions")} == {
        "page": 0, "limit": 1, "total_pages": 2, "cursor_size": 1, "has_next_page": True,
        "next_page": 1, "total_positions": 2}
    rows = tsim.positions()
    assert [r["side"] for r in rows] == ["long", "short"]
    assert body["positions"] == rows[:1]
    assert all(isinstance(v, str) for r in rows for k, v in r.items()
               if k in ("size", "base_credits", "quote_liabilities"))  # decimal strings
    (one,) = get(tsim.oms_url, f"/positions/{me.user_id}/{ADDRESS}",
                 headers=headers).json()["positions"]
    assert one["asset_id"] == ADDRESS and one["side"] == "short"
    assert get(tsim.oms_url, f"/positions/{me.user_id}", headers=headers,
               params={"sub_account": 0}).json()["positions"] == []


def test_a_user_the_service_does_not_know(tsim: TplusSimulator) -> None:
    stranger = Login()
    headers = stranger.headers(stranger.login(tsim.oms_url))
    for path in ("/positions/{u}", "/inventory/user/{u}", "/solvency/user/{u}"):
        answer = get(tsim.oms_url, path.format(u=stranger.user_id), headers=headers)
        assert answer.status_code == 404 and error_of(answer)["code"] == "USER_NOT_FOUND"
    margin = get(tsim.oms_url, f"/margin/user/{stranger.user_id}", headers=headers).json()
    assert margin == {"accounts": {}, "warnings": []}


def test_margin_filters_and_events_move_the_state(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim)
    path = f"/margin/user/{me.user_id}"
    plain = get(tsim.oms_url, path, headers=headers).json()
    assert set(plain["accounts"]) == {"1"} and plain["accounts"]["1"]["positions"] is None
    assert [c["venue"] for c in plain["accounts"]["1"]["margin_calls"]] == [2]  # seeded
    assert plain["warnings"] and plain["warnings"][0]["code"] == "STALE_ORACLE"
    full = get(tsim.oms_url, path, headers=headers,
               params={"include_positions": "true"}).json()["accounts"]["1"]
    assert [p["side"] for p in full["positions"]] == ["long", "short"]
    assert get(tsim.oms_url, path, headers=headers,
               params={"sub_account": 0}).json()["accounts"] == {}
    inventory = get(tsim.oms_url, f"/inventory/user/{me.user_id}", headers=headers).json()
    spot_before = Decimal(next(iter(inventory["accounts"]["0"]["spot"].values())))
    assert spot_before == Decimal("270001")  # 250000 seeded + two seeded deposits of 10000.5
    tsim.step(10)  # two account events: a deposit, then a margin call
    called = get(tsim.oms_url, path, headers=headers).json()["accounts"]["1"]
    assert [c["venue"] for c in called["margin_calls"]] == [3]
    inventory = get(tsim.oms_url, f"/inventory/user/{me.user_id}", headers=headers).json()
    assert Decimal(next(iter(inventory["accounts"]["0"]["spot"].values()))) == (
        spot_before + Decimal("10000.5"))


def test_mds_account_reads(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim, "mds")
    rows = get(tsim.mds_url, "/openinterest").json()
    assert [r["asset_id"] for r in rows] == ["200", ADDRESS]
    assert rows[1] == {"asset_id": ADDRESS, "long": None, "short": None, "timestamp_ns": None}
    assert get(tsim.mds_url, "/openinterest/200").json() == rows[0]
    assert get(tsim.mds_url, "/openinterest/999").status_code == 404
    basis = f"/positions/user/{me.user_id}/basis"
    assert get(tsim.mds_url, basis).status_code == 401
    assert {r["domain"] for r in get(tsim.mds_url, basis, headers=headers).json()} == {
        "spot", "margin"}
    assert [r["side"] for r in get(tsim.mds_url, basis + "/200", headers=headers).json()] == [
        "long"]
    names = get(tsim.mds_url, f"/sub-accounts/user/{me.user_id}", headers=headers).json()
    assert names == {"names": [{"account_index": 0, "name": "Spot"},
                               {"account_index": 1, "name": "Default margin"}]}


def test_account_upgrades(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim)
    oms = ws(tsim.oms_url)
    for path in (f"/positions/ws/{me.user_id}", f"/account/events/{me.user_id}",
                 f"/trades/user/{me.user_id}", "/intent/ws"):
        assert ws_status(oms + path, {}) == 401, path
    for path in (f"/positions/ws/{me.user_id}", f"/account/events/{me.user_id}",
                 f"/trades/user/{me.user_id}"):
        assert ws_status(oms + path, headers) == 101, path
        assert ws_status(oms + path.replace(me.user_id, Login().user_id), headers) == 403
    assert ws_status(oms + "/intent/ws", headers) == 403  # not a market maker
    tsim.set_market_maker()
    assert ws_status(oms + "/intent/ws", headers) == 101
    tsim.set_market_maker(enabled=False)
    assert ws_status(oms + "/intent/ws", headers) == 403
    mds = ws(tsim.mds_url)
    assert ws_status(mds + "/tickers/ws", {}) == 101
    assert ws_status(mds + "/ticker/ws/200", {}) == 101
    assert ws_status(mds + "/ticker/ws/999", {}) == 404
    assert get(tsim.mds_url, "/tickers/ws").status_code == 426  # a stream, not REST


def test_ticker_frames(tsim: TplusSimulator) -> None:
    conn = websocket.create_connection(ws(tsim.mds_url) + "/tickers/ws", timeout=5)
    one = websocket.create_connection(ws(tsim.mds_url) + f"/ticker/ws/{ADDRESS}", timeout=5)
    try:
        assert json.loads(conn.recv())["type"] == "subscriptions"
        assert json.loads(one.recv())["type"] == "subscriptions"
        tsim.step(20)
        batch = json.loads(conn.recv())
        assert isinstance(batch, list) and batch and {"asset_id", "volume_24h",
                                                      "timestamp_ns"} <= set(batch[0])
        ticker = json.loads(one.recv())
        assert ticker["asset_id"] == ADDRESS and isinstance(ticker["last_price"], str)
    finally:
        conn.close()
        one.close()
