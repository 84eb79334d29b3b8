"""tplus REST with tpluspy's call shapes, against the simulator over loopback.

What a user relies on beyond "same data as tpluspy" (that is the faithful test):
arguments checked at the call (``md.get_trades(0, 100)`` is page 0, limit 100, and
``md.get_trades("200")`` is an error, not the old asset-first call); ``user=`` as a
User, a bare public key or the default user; ``MissingClientUserError``;
``set_default_user``; open orders read from the order service across all pages;
pages that behave as sequences; the market cache; tpluspy's error classes with
their attributes; pydantic-style model conveniences; ``TplusApiClient``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from o2sync.errors import ApiError, RateLimitedError
from o2sync.testing import TplusSimulator
from o2sync.tplus import (
    AuthError,
    HistoricalUserTrade,
    Interval,
    KlinesPage,
    MarketDataClient,
    MarketsPage,
    MissingClientUserError,
    NotFoundError,
    OmsError,
    OrderBookClient,
    OrderResponse,
    RateLimitError,
    TplusApiClient,
    User,
    UserOrdersPage,
    UserTradesPage,
)
from o2sync.tplus._pydanticish import ValidationError
from o2sync.tplus.history import decode_order_responses

FAST = {"backoff_initial": 0.05, "rest_backoff": 0.01}


@pytest.fixture(scope="module")
def sim() -> Any:
    with TplusSimulator(seed=11, start_flow=False, control_interval=None,
                        klines_window=30) as simulator:
        simulator.step(2500)
        yield simulator


@pytest.fixture
def md(sim: TplusSimulator) -> Any:
    with MarketDataClient(sim.mds_url, default_user=User(sim.user), **FAST) as client:
        yield client


@pytest.fixture
def ob(sim: TplusSimulator) -> Any:
    with OrderBookClient(sim.oms_url, default_user=User(sim.user), **FAST) as client:
        yield client


def _requests(sim: TplusSimulator, path: str) -> list[Any]:
    return sim.requests(path)


# ---------------------------------------------------------------- call shapes


def test_get_trades_takes_page_then_limit(sim: TplusSimulator, md: MarketDataClient) -> None:
    before = len(_requests(sim, "/trades"))
    trades = md.get_trades(0, 100)
    assert len(trades) == 100
    assert _requests(sim, "/trades")[before].query == {"page": "0", "limit": "100"}
    assert md.get_trades(1, 10) == trades[10:20]  # newest first, paged
    with pytest.raises(TypeError, match="page"):
        md.get_trades("200")  # type: ignore[arg-type]  # the old asset-first call
    assert md.get_trades_for_asset("200", 0, 5) == [t for t in trades if str(t.asset_id) ==
                                                     "200"][:5]


def test_bad_arguments_raise_at_the_call_before_any_request(
        sim: TplusSimulator, md: MarketDataClient, ob: OrderBookClient) -> None:
    before = len(sim.requests())
    with pytest.raises(ValueError, match="limit"):
        md.get_klines("200", limit=0)
    with pytest.raises(TypeError, match="interval"):
        md.get_klines("200", interval=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_pages"):
        md.iter_klines("200", max_pages="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="start_time"):
        md.get_user_trades(start_time=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="open_only"):
        ob.get_user_orders_for_book("200", open_only="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="user"):
        md.get_user_orders(user=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="public key"):
        md.get_user_trades("not-a-key")
    with pytest.raises(ValueError):
        md.get_klines("")
    assert len(sim.requests()) == before


def test_klines_pages_and_the_walk_across_truncation(sim: TplusSimulator,
                                                     md: MarketDataClient) -> None:
    page = md.get_klines("200", limit=10)
    assert isinstance(page, KlinesPage) and len(page) == 10 and page.has_next_page
    assert list(page) == page.items and page[0] == page.items[0] and page == page.items
    wide = md.get_klines("200", interval=Interval.HOUR_4)
    assert wide.items and all(b.close_timestamp_ns - b.open_timestamp_ns == 4 * 3600 * 10**9 - 1
                              for b in wide)
    assert md.get_klines("200", interval="4h") == wide
    end = page.items[0].close_timestamp_ns
    walker = md.iter_klines("200", limit=12, end_timestamp_ns=end)
    seen = len(sim.requests("/klines/200"))
    assert len(sim.requests("/klines/200")) == seen  # lazy: nothing read yet
    bars = list(walker)
    opens = [b.open_timestamp_ns for b in bars]
    assert opens == sorted(set(opens), reverse=True)
    assert opens[0] == page.items[0].open_timestamp_ns
    assert len(bars) > 60  # two 30-bar windows and more: the walk went past truncation
    ends = [int(r.query["end_timestamp_ns"]) for r in sim.requests("/klines/200")[seen:]]
    assert ends[0] == end and len(set(ends)) >= 3  # resumed before each cutoff
    capped = list(md.iter_klines("200", limit=12, end_timestamp_ns=end, max_pages=2))
    assert capped == bars[:24]


# ---------------------------------------------------------------- users


def test_user_argument_forms_and_the_missing_user(sim: TplusSimulator,
                                                  md: MarketDataClient) -> None:
    mine = md.get_user_trades(limit=20)
    assert isinstance(mine, UserTradesPage) and len(mine) == 20
    assert md.get_user_trades(sim.user_id, limit=20) == mine  # a bare public key
    assert md.get_user_trades(User(sim.user), limit=20) == mine  # a User
    assert md.get_user_trades("0x" + sim.user_id.upper(), limit=20) == mine
    stranger = User()
    empty = md.get_user_trades(stranger)  # logs in as the stranger: no history there
    assert isinstance(empty, UserTradesPage) and not empty and len(empty) == 0 and empty == []
    assert any(t.user_id == stranger.user_id and t.service == "mds" for t in sim.tokens)
    with pytest.raises(AuthError) as caught:  # another user's key under our token
        md.get_user_trades(stranger.user_id)
    assert caught.value.status_code == 403 and isinstance(caught.value, OmsError)
    with MarketDataClient(sim.mds_url, **FAST) as anonymous:
        with pytest.raises(MissingClientUserError):
            anonymous.get_user_orders()
        with pytest.raises(MissingClientUserError):
            anonymous.get_user_trades(sim.user_id)  # a key cannot sign: no token to show
        anonymous.set_default_user(User(sim.user))
        assert anonymous.get_user_trades(limit=20) == mine
        anonymous.set_default_user(None)
        with pytest.raises(MissingClientUserError):
            anonymous.get_user_trades()
        with pytest.raises(TypeError):
            anonymous.set_default_user(sim.user)  # type: ignore[arg-type]
    with OrderBookClient(sim.oms_url, market_data_url=sim.mds_url, **FAST) as nobody:
        with pytest.raises(MissingClientUserError):
            nobody.get_open_orders_for_book("200")
        nobody.set_default_user(User(sim.user))  # the history client follows
        assert nobody.market_data.get_user_trades(limit=20) == mine
        assert nobody.get_open_orders_for_book("200") == [
            OrderResponse.model_validate(row) for row in sim.oms_orders("200")]


def test_a_refused_token_is_replaced_once(sim: TplusSimulator, md: MarketDataClient,
                                          ob: OrderBookClient) -> None:
    before = md.get_user_trades(limit=5)
    ob.get_open_orders_for_book("200")
    issued = len(sim.tokens)
    sim.revoke_tokens()  # both held tokens now answer 401
    assert md.get_user_trades(limit=5) == before  # one fresh login, then the answer
    assert ob.get_open_orders_for_book("200") == ob.get_open_orders_for_book("200")
    assert len(sim.tokens) == issued + 2  # one per service, not one per call


def test_history_filters_reach_the_service(sim: TplusSimulator, md: MarketDataClient) -> None:
    all_rows = md.get_user_trades(limit=200)
    since = all_rows[len(all_rows) // 2].timestamp_ns
    recent = md.get_user_trades(start_time=since, limit=200)
    assert recent and all(r.timestamp_ns >= since for r in recent)
    assert all(r.is_buyer for r in md.get_user_trades(side="buy", limit=50))
    rolled = md.get_user_trades(status="Rollbacked", limit=200)
    assert all(r.status == "Rollbacked" for r in rolled)
    assert all(isinstance(r, HistoricalUserTrade) and not hasattr(r, "trade_id") for r in rolled)
    orders = md.get_user_orders(status="Canceled")
    assert isinstance(orders, UserOrdersPage) and orders and all(o.canceled for o in orders)
    query = sim.requests(f"/orders/user/{sim.user_id}")[-1].query
    assert query == {"status": "Canceled"}  # only what was set is sent


# ---------------------------------------------------------------- order service


def test_open_orders_come_from_the_order_service_every_page(sim: TplusSimulator,
                                                            ob: OrderBookClient) -> None:
    truth = sim.oms_orders("200")
    assert len(truth) > 3
    path = f"/orders/user/{sim.user_id}/200"
    before = len(sim.requests(path))
    found = ob.get_open_orders_for_book("200", limit=3)
    assert all(isinstance(o, OrderResponse) for o in found)
    assert [o.model_dump(mode="json") for o in found] == truth
    asked = sim.requests(path)[before:]
    assert [r.query for r in asked] == [{"page": str(i), "limit": "3", "open_only": "true"}
                                        for i in range(len(asked))]
    assert len(asked) == len(truth) // 3 + 1  # until a page held fewer than 3
    assert all(r.service == "oms" for r in asked)
    assert len(ob.get_open_orders_for_book("200", limit=3, max_pages=1)) == 3
    everything = ob.get_user_orders_for_book("200")
    assert {o.order_id for o in found} < {o.order_id for o in everything}  # closed ones too
    rows, raw = ob.get_user_orders(limit=5)
    assert len(rows) == 5 and raw["has_next_page"] and raw["orders"][0]["order_id"] == \
        rows[0].order_id


def test_markets_pages_and_the_market_cache(sim: TplusSimulator, ob: OrderBookClient) -> None:
    page = ob.get_markets()
    assert isinstance(page, MarketsPage) and len(page) == 2 == page.total_markets
    assert page[0] in page and page.symbol_map is None and not page.has_next_page
    assert ob.get_markets(True).symbol_map[200].symbol  # type: ignore[index]
    first, second = ob.get_markets(page=0, limit=1), ob.get_markets(page=1, limit=1)
    assert first.has_next_page and first.next_page == 1 and list(first) + list(second) == \
        list(page)
    before = len(sim.requests("/market/200"))
    market = ob.get_market("200")
    assert ob.get_market(200) is market and len(sim.requests("/market/200")) == before + 1
    assert market.price(387125) == Decimal("3871.25")


# ---------------------------------------------------------------- errors


def test_error_classes_and_attributes(sim: TplusSimulator, md: MarketDataClient,
                                      ob: OrderBookClient) -> None:
    with pytest.raises(NotFoundError) as missing:
        md.get_klines("999")
    error = missing.value
    assert (error.code, error.status_code, error.retryable) == ("MARKET_NOT_FOUND", 404, False)
    assert error.details == {"asset_id": "999"} and error.response.status_code == 404
    assert isinstance(error, OmsError) and isinstance(error, ApiError) and error.status == 404
    with pytest.raises(OmsError) as bad:
        md.get_klines("200", interval="7X")
    assert type(bad.value) is OmsError and bad.value.code == "INVALID_INTERVAL"
    with MarketDataClient(sim.mds_url, rest_retries=0) as impatient:
        sim.rate_limit(1, retry_after=3)
        with pytest.raises(RateLimitError) as limited:
            impatient.get_trades()
    assert limited.value.retryable is True and limited.value.code == "RATE_LIMITED"
    assert isinstance(limited.value, RateLimitedError) and limited.value.retry_after == 3


def test_order_rows_that_fail_validation_are_skipped_and_reported() -> None:
    good = {"order_id": "a", "base_asset": "200", "side": "buy", "limit_price": "1.5",
            "quantity": "2", "amount": None, "max_sellable_amount": None,
            "max_sellable_quantity": None, "confirmed_filled_quantity": "0",
            "pending_filled_quantity": "0", "confirmed_filled_amount": "0",
            "pending_filled_amount": "0", "confirmed_trading_fees_amount": "0",
            "pending_trading_fees_amount": "0", "good_until_timestamp_ns": None,
            "timestamp_ns": 5, "status": "Open", "trigger_above_price": None,
            "trigger_below_price": None, "last_update_timestamp_ns": None}
    reported: list[Exception] = []
    rows = decode_order_responses([good, {**good, "quantity": "lots"}, {"order_id": "c"}],
                                  "/orders", reported.append)
    assert [r.order_id for r in rows] == ["a"] and rows[0].side == "Buy"
    assert len(reported) == 2 and all(isinstance(e, ValidationError) for e in reported)


# ---------------------------------------------------------------- models


def test_pydantic_style_conveniences(md: MarketDataClient) -> None:
    page = md.get_user_trades(limit=3)
    row = page[0]
    dumped = row.model_dump()
    assert isinstance(dumped["price"], Decimal) and dumped["asset_id"] == str(row.asset_id)
    assert HistoricalUserTrade.model_validate(dumped) == row
    assert HistoricalUserTrade.model_validate_json(row.model_dump_json()) == row
    assert HistoricalUserTrade.model_validate(row) is row
    assert UserTradesPage.model_validate(page.model_dump(mode="json")) == page
    assert row.model_copy(update={"price": Decimal(1)}).price == 1
    assert set(HistoricalUserTrade.model_fields) >= {"asset_id", "trading_fee"}
    with pytest.raises(ValidationError) as caught:
        HistoricalUserTrade.model_validate({**dumped, "price": 0.5})  # a binary float
    assert isinstance(caught.value, ValueError) and "price" in str(caught.value)
    with pytest.raises(ValidationError, match="status"):
        HistoricalUserTrade.model_validate({**dumped, "status": "Done"})


def test_tplus_api_client_reads_both_services(sim: TplusSimulator) -> None:
    with TplusApiClient(sim.oms_url, default_user=User(sim.user),
                        market_data_url=sim.mds_url, **FAST) as api:
        assert api.get_open_orders_for_book("200") == api.oms.get_open_orders_for_book("200")
        assert isinstance(api.get_klines("200", limit=2), KlinesPage)  # falls to .mds
        assert isinstance(api.get_user_orders()[0], list)  # the OMS one comes first
        assert isinstance(api.mds.get_user_orders(), UserOrdersPage)
