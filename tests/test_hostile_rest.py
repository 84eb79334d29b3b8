"""REST that fails cleanly (issue 10, item 4), over real sockets against the simulator.

Every malformed shape raises the library's own error naming the endpoint (and the
field), a huge Retry-After does not block, a trickling body does not pass the total
deadline, and failures below HTTP say why.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

import pytest
from clientutil import Clients

from o2sync import ApiError, ConnectError, MalformedResponseError, O2Client, RateLimitedError
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"


def _markets_with(sim: Simulator, mutate: Any) -> bytes:
    body = {"markets": sim.markets}
    mutate(body)
    return json.dumps(body).encode()


def _set(path: list[Any], value: Any) -> Any:
    def mutate(body: Any) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _drop(path: list[Any]) -> Any:
    def mutate(body: Any) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


BAD_BODIES = [b"", b"{", b"not json", b"[]", b"[1, 2]", b"null", b"42", b'"markets"',
              b'{"markets": {}}', b'{"markets": "x"}', b'{"markets": [1]}', b'{"markets": [[]]}',
              b'{"markets": null}', b"\xff\xfe", b'{"markets": [{}]}']
MUTATIONS = [
    _drop(["markets", 0, "contract_id"]), _drop(["markets", 0, "market_id"]),
    _drop(["markets", 0, "base"]), _drop(["markets", 0, "quote", "decimals"]),
    _set(["markets", 0, "base"], "fFUEL"), _set(["markets", 0, "base"], None),
    _set(["markets", 0, "market_id"], 12), _set(["markets", 0, "market_id"], "0x12"),
    _set(["markets", 0, "base", "decimals"], "9.0"), _set(["markets", 0, "base", "decimals"], -9),
    _set(["markets", 0, "base", "decimals"], True),
    _set(["markets", 0, "base", "decimals"], "\u0669"),
    _set(["markets", 0, "base", "symbol"], 5), _set(["markets", 0, "taker_fee"], "1_00"),
    _set(["markets", 0, "min_order"], -1), _set(["markets", 0, "price_window"], 0.5),
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=repr)
def test_malformed_markets_bodies(sim: Simulator, clients: Clients, body: bytes) -> None:
    sim.rest_override("/v1/markets", body=body)
    with pytest.raises(MalformedResponseError, match="markets") as info:
        clients().get_markets()
    assert isinstance(info.value, ApiError)


@pytest.mark.parametrize("index", range(len(MUTATIONS)))
def test_markets_with_missing_or_mistyped_fields(sim: Simulator, clients: Clients,
                                                 index: int) -> None:
    sim.rest_override("/v1/markets", body=_markets_with(sim, MUTATIONS[index]))
    with pytest.raises(MalformedResponseError, match="markets"):
        clients().get_markets()


@pytest.mark.parametrize("endpoint,call", [
    ("/v1/depth", lambda c, s: c.get_depth(PAIR)),
    ("/v1/trades", lambda c, s: c.get_trades(PAIR)),
    ("/v1/orders", lambda c, s: c.get_open_orders(PAIR, s.account)),
    ("/v1/balance", lambda c, s: c.api.get_balance(c.get_markets()[0].base.asset,
                                                   contract=s.account)),
    ("/v1/accounts", lambda c, s: c.get_nonce(s.account)),
])
@pytest.mark.parametrize("body", [b"nope", b"[]", b'{"orders": {"buys": [{"price": "-1"}]}}',
                                  b'{"trades": [{"price": "1"}], "orders": 5,'
                                  b' "trade_account": {"nonce": "+1"}, "total_locked": "1_0"}',
                                  b'{"trade_account": [], "orders": [1], "trades": "x",'
                                  b' "total_locked": "1", "total_unlocked": []}'], ids=repr)
def test_every_read_endpoint_fails_cleanly(sim: Simulator, clients: Clients, endpoint: str,
                                           call: Any, body: bytes) -> None:
    client = clients()
    client.get_markets()  # cached before the override
    sim.rest_override(endpoint, body=body)
    if endpoint == "/v1/trades" and (body == b"[]" or (b'"trades"' not in body and b"{" in body)):
        assert call(client, sim) == []  # a bare array, or no trades: documented shapes
        return
    if endpoint == "/v1/trades" and b'"trades": [{"price": "1"}]' in body:
        # a trade with a price only: o2-sdk's defaults for the rest, as the SDKs accept it
        [trade] = call(client, sim)
        assert (trade.price, trade.side, trade.total, trade.trade_id) == (1, "", 0, "")
        return
    if endpoint == "/v1/balance" and b"total_locked" not in body and b"{" in body:
        # an object without balance fields: o2-sdk's defaults, a zero balance
        assert call(client, sim).total == 0
        return
    with pytest.raises(MalformedResponseError, match=endpoint.rsplit("/", 1)[1]):
        call(client, sim)


def test_error_status_with_garbage_body(sim: Simulator, clients: Clients) -> None:
    sim.rest_override("/v1/markets", status=500, body=b"<html>oops</html>")
    with pytest.raises(ApiError) as info:
        clients(rest_retries=0).get_markets()
    assert info.value.status == 500 and not isinstance(info.value, MalformedResponseError)


@pytest.mark.parametrize("retry_after", ["3600", "86400", "Wed, 21 Oct 2065 07:28:00 GMT"])
def test_huge_retry_after_raises_at_once(sim: Simulator, clients: Clients,
                                         retry_after: str) -> None:
    sim.rest_override("/v1/markets", status=429, body=b'{"code": 1003, "message": "slow down"}',
                      headers={"Retry-After": retry_after})
    client = clients(rest_retry_after_max=2)
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as info:
        client.get_markets()
    assert time.monotonic() - started < 2
    assert info.value.retry_after is not None and info.value.retry_after > 1000


def test_small_retry_after_is_honoured_then_succeeds(sim: Simulator, clients: Clients) -> None:
    sim.rate_limit(1)
    assert clients().get_markets()


def test_rate_limit_code_in_a_200_body(sim: Simulator, clients: Clients) -> None:
    sim.rest_override("/v1/markets", body=b'{"code": 1003, "message": "Too many requests"}')
    with pytest.raises(RateLimitedError):
        clients().get_markets()


def test_trickled_body_stops_at_the_deadline(sim: Simulator, clients: Clients) -> None:
    sim.rest_override("/v1/markets", body=_markets_with(sim, lambda b: None), trickle=0.5)
    client = clients(rest_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(ConnectError, match="timed out"):
        client.get_markets()
    assert time.monotonic() - started < 2.5


def test_connection_refused_names_the_cause() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with O2Client(ws_url=f"ws://127.0.0.1:{port}/v1/ws", rest_retries=0) as client, \
            pytest.raises(ConnectError) as info:
        client.get_markets()
    assert info.value.cause == "connection refused"


def test_dns_failure_names_the_cause() -> None:
    with O2Client(api_url="http://no-such-host.invalid", rest_retries=0) as client, \
            pytest.raises(ConnectError) as info:
        client.get_markets()
    assert info.value.cause == "DNS lookup failed", info.value


def test_no_secret_in_errors_or_logs(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for name in ("o2sync._http", "o2sync.o2", "o2sync.engine"):
        caplog.set_level(logging.DEBUG, logger=name)
    url = f"http://user:secret@127.0.0.1:{sim.port}/?token=abc"
    sim.rest_override("/v1/markets", status=500, body=b'{"message": "boom ?token=abc"}')
    with O2Client(api_url=url, rest_retries=0) as client:
        assert "secret" not in repr(client) and "abc" not in repr(client)
        assert "secret" not in repr(client.rest) and "abc" not in repr(client.rest)
        with pytest.raises(ApiError) as info:
            client.get_markets()
    sim.stop()
    with O2Client(api_url=url, rest_retries=0) as client, \
            pytest.raises(ConnectError) as refused:
        client.get_markets()
    ours = "\n".join(r.getMessage() for r in caplog.records
                     if not r.name.startswith("o2sync.sim"))  # not the server's own log
    for text in (str(info.value), repr(info.value), str(refused.value), ours):
        assert "secret" not in text and "abc" not in text, text


def test_get_balances_is_keyed_by_symbol_and_leaves_out_what_fails(sim: Simulator,
                                                                   clients: Clients) -> None:
    """o2-sdk's get_balances: one call per asset, keyed by SYMBOL; an asset whose call
    fails is left out (o2sync logs it), the others are still there."""
    client = clients()
    markets = client.get_markets()
    symbols = {a.symbol for m in markets for a in (m.base, m.quote)}
    full = client.get_balances(sim.account)
    assert set(full) == symbols
    for symbol, balance in full.items():
        asset = next(a.asset for m in markets for a in (m.base, m.quote) if a.symbol == symbol)
        assert balance.asset_id == asset
    sim.rest_override("/v1/balance", body=b"nope")
    assert client.get_balances(sim.account) == {}
