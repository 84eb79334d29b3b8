"""tplus simulator REST (§5): every endpoint, paging, intervals, error shapes, records."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from tplus_util import ADDRESS, Login, error_of, levels, sim_login

from o2sync.sim.tplus import TplusSimulator


def get(base: str, path: str, **kw: object) -> requests.Response:
    return requests.get(base + path, timeout=5, **kw)  # type: ignore[arg-type]


# -- MDS market data ------------------------------------------------------------------


@pytest.mark.parametrize("asset", ["200", ADDRESS])
def test_marketdepth_snapshot_is_the_true_book(tsim: TplusSimulator, asset: str) -> None:
    tsim.step(200)
    body = get(tsim.mds_url, f"/marketdepth/{asset}").json()
    assert set(body) == {"asks", "bids", "sequence_number"}
    assert body["sequence_number"] > 1000
    truth = tsim.book(asset)
    assert body["sequence_number"] == truth["sequence_number"]
    assert [(Decimal(str(p)), Decimal(str(q))) for p, q in body["bids"]] == truth["bids"]
    assert [(Decimal(str(p)), Decimal(str(q))) for p, q in body["asks"]] == truth["asks"]
    # simulator convention: levels are JSON numbers, bids descending, asks ascending
    assert all(isinstance(x, float) for level in body["bids"] + body["asks"] for x in level)
    prices = [p for p, _ in truth["bids"]]
    assert prices == sorted(prices, reverse=True)
    assert truth["bids"][0][0] < truth["asks"][0][0]


def test_decimals_of_the_markets(tsim: TplusSimulator) -> None:
    book = tsim.book(ADDRESS)
    assert all(p.as_tuple().exponent >= -1 and q.as_tuple().exponent >= -3
               for p, q in book["bids"] + book["asks"])
    assert tsim.book("200")["bids"][0][0].as_tuple().exponent == -2


def test_asset_ids_compare_case_insensitively(tsim: TplusSimulator) -> None:
    upper = ADDRESS.upper().replace("@", "@0x")
    assert get(tsim.mds_url, f"/marketdepth/{upper}").status_code == 200
    assert tsim.book(upper) == tsim.book(ADDRESS)


@pytest.mark.parametrize("path", ["/marketdepth/999", "/klines/999", "/trades/999",
                                  "/ticker/999", "/marketdepth/" + "ab" * 32 + "@00"])
def test_unknown_asset_is_a_structured_404(tsim: TplusSimulator, path: str) -> None:
    answer = get(tsim.mds_url, path)
    assert answer.status_code == 404
    error = error_of(answer)
    assert error["code"] == "MARKET_NOT_FOUND" and error["retryable"] is False


def test_unknown_path_and_method(tsim: TplusSimulator) -> None:
    answer = get(tsim.mds_url, "/nothing/here")
    assert answer.status_code == 404 and error_of(answer)["code"] == "NOT_FOUND"
    posted = requests.post(tsim.mds_url + "/marketdepth/200", timeout=5)
    assert posted.status_code == 405
    assert get(tsim.oms_url, "/marketdepth/200").status_code == 404  # MDS path, not OMS


def test_stream_paths_want_an_upgrade(tsim: TplusSimulator) -> None:
    for path in ("/trades/events", "/marketdepth/diff/200", "/klines/diff/200"):
        answer = get(tsim.mds_url, path)
        assert answer.status_code == 426, path
    assert get(tsim.oms_url, "/orders").status_code == 426


def test_klines_envelope_paging_and_end(tsim: TplusSimulator) -> None:
    body = get(tsim.mds_url, "/klines/200", params={"limit": 50}).json()
    assert set(body) == {"items", "has_next_page", "next_page", "truncated_before_ns"}
    assert len(body["items"]) == 50 and body["has_next_page"] and body["next_page"] == 1
    bars = body["items"]
    assert [b["open_timestamp_ns"] for b in bars] == sorted(
        (b["open_timestamp_ns"] for b in bars), reverse=True)  # newest first
    for bar in bars:
        assert bar["close_timestamp_ns"] - bar["open_timestamp_ns"] == 60 * 10**9 - 1
        assert all(isinstance(bar[k], str) for k in ("open", "high", "low", "close", "volume"))
        assert Decimal(bar["low"]) <= Decimal(bar["open"]) <= Decimal(bar["high"])
    last = get(tsim.mds_url, "/klines/200", params={"limit": 50, "page": 2}).json()
    assert not last["has_next_page"] and last["next_page"] is None and last["items"]
    end = bars[10]["open_timestamp_ns"]
    older = get(tsim.mds_url, "/klines/200", params={"end_timestamp_ns": end}).json()["items"]
    assert older[0]["open_timestamp_ns"] == end


@pytest.mark.parametrize("interval,width_s", [
    ("1", 60), ("5", 300), ("5m", 300), ("240", 14400), ("4h", 14400), ("1D", 86400),
    ("1d", 86400), ("15S", 15), ("1W", 7 * 86400),
])
def test_klines_intervals(tsim: TplusSimulator, interval: str, width_s: int) -> None:
    body = get(tsim.mds_url, f"/klines/{ADDRESS}", params={"interval": interval}).json()
    assert body["items"]
    for bar in body["items"]:
        assert bar["close_timestamp_ns"] - bar["open_timestamp_ns"] == width_s * 10**9 - 1
        assert bar["open_timestamp_ns"] % (60 * 10**9 if width_s >= 60 else 10**9) == 0
    if width_s == 300:  # 2 h of 1-minute history: 24 or 25 five-minute bars
        assert 24 <= len(body["items"]) <= 26


def test_klines_month_and_bad_interval(tsim: TplusSimulator) -> None:
    month = get(tsim.mds_url, "/klines/200", params={"interval": "1M"}).json()["items"]
    assert 1 <= len(month) <= 2
    bad = get(tsim.mds_url, "/klines/200", params={"interval": "7X"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "INVALID_INTERVAL"
    assert get(tsim.mds_url, "/klines/200", params={"limit": "x"}).status_code == 400
    assert get(tsim.mds_url, "/klines/200", params={"limit": 0}).status_code == 400


def test_trades_lists(tsim: TplusSimulator) -> None:
    assert get(tsim.mds_url, "/trades").json() == []
    tsim.step(600)
    everything = get(tsim.mds_url, "/trades", params={"limit": 1000}).json()
    assert everything
    ids = [t["trade_id"] for t in everything]
    assert ids == sorted(ids, reverse=True)
    for trade in everything:
        assert set(trade) == {"asset_id", "trade_id", "order_id", "price", "quantity",
                              "timestamp_ns", "buyer_is_maker", "status"}
        assert trade["status"] == "Confirmed" and isinstance(trade["price"], str)
        assert isinstance(trade["buyer_is_maker"], bool)
    mine = get(tsim.mds_url, f"/trades/{ADDRESS}", params={"limit": 1000}).json()
    assert mine and {t["asset_id"] for t in mine} == {ADDRESS}
    page = get(tsim.mds_url, "/trades", params={"limit": 3, "page": 1}).json()
    assert [t["trade_id"] for t in page] == ids[3:6]


def test_ticker_and_tickers(tsim: TplusSimulator) -> None:
    tsim.step(100)
    ticker = get(tsim.mds_url, "/ticker/200").json()
    assert ticker["asset_id"] == "200" and isinstance(ticker["timestamp_ns"], int)
    assert Decimal(ticker["best_bid"]["price"]) == tsim.book("200")["bids"][0][0]
    assert isinstance(ticker["volume_24h"], str)
    assert [t["asset_id"] for t in get(tsim.mds_url, "/tickers").json()] == ["200", ADDRESS]


def test_user_history(tsim: TplusSimulator) -> None:
    tsim.step(3000)
    me, headers = sim_login(tsim, "mds")
    orders = get(tsim.mds_url, f"/orders/user/{me.user_id}", headers=headers).json()
    assert set(orders) == {"orders", "has_next_page", "next_page"}
    open_ids = {o["order_id"] for o in orders["orders"]}
    assert open_ids == {o["order_id"] for o in tsim.user_orders()} and open_ids
    assert {o["status"] for o in orders["orders"]} <= {"Open", "PartiallyFilled"}
    row = orders["orders"][0]
    assert isinstance(row["limit_price"], str) and row["account_index"] == 1
    filled = get(tsim.mds_url, f"/orders/user/{me.user_id}", headers=headers,
                 params={"status": "Filled"}).json()["orders"]
    assert filled and {o["status"] for o in filled} == {"Filled"}
    per_asset = get(tsim.mds_url, f"/orders/user/{me.user_id}/{ADDRESS}",
                    headers=headers).json()["orders"]
    assert {o["base_asset"] for o in per_asset} <= {ADDRESS}
    trades = get(tsim.mds_url, f"/trades/user/{me.user_id}", headers=headers,
                 params={"limit": 1000}).json()
    assert trades["trades"] and "trade_id" not in trades["trades"][0]  # as §5 says
    assert {t["status"] for t in trades["trades"]} <= {"Confirmed", "Rollbacked"}
    buys = get(tsim.mds_url, f"/trades/user/{me.user_id}", headers=headers,
               params={"side": "buy", "limit": 1000}).json()["trades"]
    assert buys and all(t["is_buyer"] for t in buys)
    stranger = Login()
    token = stranger.login(tsim.mds_url)
    empty = get(tsim.mds_url, f"/orders/user/{stranger.user_id}",
                headers=stranger.headers(token)).json()
    assert empty == {"orders": [], "has_next_page": False, "next_page": None}


# -- OMS ---------------------------------------------------------------------------------------


def test_market_and_markets(tsim: TplusSimulator) -> None:
    assert get(tsim.oms_url, "/market/200").json() == {
        "asset_id": "200", "book_price_decimals": 2, "book_quantity_decimals": 4}
    assert get(tsim.oms_url, f"/market/{ADDRESS}").json()["book_price_decimals"] == 1
    missing = get(tsim.oms_url, "/market/201")
    assert missing.status_code == 404 and error_of(missing)["code"] == "MARKET_NOT_FOUND"
    page = get(tsim.oms_url, "/markets", params={"page": 0, "limit": 1000}).json()
    assert page["total_markets"] == 2 and page["total_pages"] == 1
    assert [m["asset_id"] for m in page["markets"]] == ["200", ADDRESS]
    assert {"page", "limit", "cursor_size", "has_next_page", "next_page"} <= set(page)
    first = get(tsim.oms_url, "/markets", params={"limit": 1}).json()
    assert first["has_next_page"] and first["next_page"] == 1 and first["total_pages"] == 2


def test_nonce_on_both_services(tsim: TplusSimulator) -> None:
    me = Login()
    for base in (tsim.mds_url, tsim.oms_url):
        value = get(base, f"/nonce/{me.user_id}").json()["value"]
        assert isinstance(value, str) and value.isdigit()


# -- error shapes and faults on REST --------------------------------------------------------------


def test_rate_limit_with_and_without_retry_after(tsim: TplusSimulator) -> None:
    tsim.rate_limit(2)
    for base in (tsim.mds_url, tsim.oms_url):
        answer = get(base, "/marketdepth/200" if base == tsim.mds_url else "/markets")
        assert answer.status_code == 429 and "Retry-After" not in answer.headers
        error = error_of(answer)
        assert error["code"] == "RATE_LIMITED" and error["retryable"] is True
    assert get(tsim.mds_url, "/marketdepth/200").status_code == 200
    tsim.rate_limit(1, retry_after=2.5)
    answer = get(tsim.mds_url, "/trades")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert get(tsim.mds_url, "/trades").status_code == 200


def test_refuse_rest_is_503(tsim: TplusSimulator) -> None:
    tsim.refuse(30, rest=True, service="mds")
    answer = get(tsim.mds_url, "/trades")
    assert answer.status_code == 503 and error_of(answer)["code"] == "SERVER_BUSY"
    assert get(tsim.oms_url, "/markets").status_code == 200
    tsim.refuse(0)
    assert get(tsim.mds_url, "/trades").status_code == 200


def test_requests_are_recorded(tsim: TplusSimulator) -> None:
    get(tsim.mds_url, "/klines/200", params={"limit": 2, "interval": "5m"})
    get(tsim.oms_url, "/market/nope")
    mds = tsim.requests(service="mds")[-1]
    assert (mds.method, mds.path, mds.query, mds.status) == (
        "GET", "/klines/200", {"limit": "2", "interval": "5m"}, 200)
    oms = tsim.requests("/market/nope")[-1]
    assert (oms.service, oms.status) == ("oms", 404)


def test_floats_option_sends_json_floats() -> None:
    with TplusSimulator(seed=2, start_flow=False, control_interval=None, floats=True) as sim:
        sim.step(400)
        trade = get(sim.mds_url, "/trades").json()[0]
        assert isinstance(trade["price"], float) and isinstance(trade["quantity"], float)
        bar = get(sim.mds_url, "/klines/200").json()["items"][0]
        assert isinstance(bar["open"], float)
        book = get(sim.mds_url, "/marketdepth/200").json()
        assert levels(book["bids"]) == dict(sim.book("200")["bids"])
