"""tplus markets by the symbols the market endpoints give (issue 22 item 7):
``MarketDataClient.get_markets()`` (an o2sync superset), :class:`MarketNames`, and
the command taking and printing symbols, with an unknown asset listing the known."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cliutil import o2sync

from o2sync.endpoints import ENV_TPLUS_OMS_URL
from o2sync.tplus import AssetIdentifier, MarketDataClient
from o2sync.tplus.errors import NotFoundError
from o2sync.tplus.symbols import MarketNames, short_asset

ADDRESS = ("82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000"
           "@00000000000000a4b1")


def test_market_data_client_reads_the_markets_where_they_are(tsim: Any, tplus: Any,
                                                             monkeypatch: Any) -> None:
    oms_page = tplus.ob().get_markets(include_symbol_map=True)
    monkeypatch.delenv(ENV_TPLUS_OMS_URL, raising=False)
    with MarketDataClient(tsim.mds_url, oms_url=tsim.oms_url) as md:
        page = md.get_markets(include_symbol_map=True)
        assert [str(m.asset_id) for m in page] == [str(m.asset_id) for m in oms_page]
        assert page.symbol_map == oms_page.symbol_map and page.symbol_map[200].symbol == "ETH"
        assert md.get_markets().symbol_map is None  # as OrderBookClient: only when asked
    monkeypatch.setenv(ENV_TPLUS_OMS_URL, tsim.oms_url)  # "a configured OMS", too
    with MarketDataClient(tsim.mds_url) as md:
        assert md.oms_url == tsim.oms_url and len(md.get_markets()) == len(oms_page)
    monkeypatch.delenv(ENV_TPLUS_OMS_URL)
    with MarketDataClient(tsim.oms_url) as md:  # one origin serving /markets (a gateway)
        assert len(md.get_markets(True)) == len(oms_page)
    no_list = r"lists no markets .*oms_url=.*" + ENV_TPLUS_OMS_URL
    with MarketDataClient(tsim.mds_url) as md, pytest.raises(NotFoundError, match=no_list):
        md.get_markets()  # an MDS alone does not list markets


def test_market_data_client_checks_oms_url() -> None:
    with pytest.raises(ValueError, match="oms_url"):
        MarketDataClient("http://127.0.0.1:1", oms_url="127.0.0.1:3032")


def test_names_from_the_symbol_map(tsim: Any, tplus: Any) -> None:
    names = MarketNames.of(tplus.ob())
    assert names.known() == ["ETH (200)", "82af49..bab1@a4b1"]
    assert names.label(AssetIdentifier(200)) == "ETH" and names.label(ADDRESS) == \
        "82af49..bab1@a4b1" == short_asset(ADDRESS)
    for typed in ("ETH", "eth", "200", 200, "82af49..bab1@a4b1", ADDRESS, "0x" + ADDRESS):
        assert str(names.resolve(typed)) in ("200", ADDRESS), typed
    assert str(names.resolve("eth")) == "200"
    with pytest.raises(LookupError, match=r"no tplus market 'BTC' on X; known: ETH \(200\), "
                                          r"82af49\.\.bab1@a4b1"):
        names.resolve("BTC", "X")
    with pytest.raises(LookupError, match="no tplus market '201'"):
        names.resolve("201")
    assert names.market("200").book_price_decimals == 2  # type: ignore[union-attr]
    # without a market list, any valid id goes, and a malformed one says why
    assert str(MarketNames().resolve("201")) == "201"
    with pytest.raises(ValueError, match="invalid asset identifier 'BTC'"):
        MarketNames().resolve("BTC")


def test_watch_takes_and_prints_symbols() -> None:
    proc = o2sync("watch", "--venue", "tplus", "klines", "eth", "--events", "1",
                  "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"\S+ kline ETH \S+ open=.*", proc.stdout.strip()), proc.stdout
    proc = o2sync("watch", "--venue", "tplus", "depth", "82af49..bab1@a4b1", "--events", "1",
                  "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    assert " depth 82af49..bab1@a4b1 diff " in proc.stdout, proc.stdout


def test_unknown_asset_lists_the_known_ones() -> None:
    proc = o2sync("watch", "--venue", "tplus", "depth", "BTC", "--sim-rate", "0")
    assert proc.returncode == 2
    assert re.fullmatch(r"o2sync watch: no tplus market 'BTC' on http://127\.0\.0\.1:\d+; "
                        r"known: ETH \(200\), 82af49\.\.bab1@a4b1\n", proc.stderr), proc.stderr
