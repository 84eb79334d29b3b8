"""TLS both ways: one ``ca_bundle`` verifies REST and the WebSocket against a private
CA, and a certificate failure reaches the user with its cause (issue 10, item 5).

The simulators serve real TLS on loopback with a CA and a server certificate made
for 127.0.0.1 in a temporary directory.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clientutil import client_for, o2sync_threads, wait_until
from tlsutil import PrivateCA, make_ca

from o2sync import ConnectError, ConnectionState
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
VERIFY_FAILED = "certificate verify failed"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    return make_ca(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_sim(ca: PrivateCA) -> Iterator[Simulator]:
    with Simulator(seed=2, start_flow=False, ssl_context=ca.server_context()) as simulator:
        yield simulator


def test_simulator_serves_tls_on_both_urls(tls_sim: Simulator) -> None:
    assert tls_sim.ws_url.startswith("wss://127.0.0.1:")
    assert tls_sim.api_url.startswith("https://127.0.0.1:")
    with pytest.raises(TypeError):
        Simulator(ssl_context="cert.pem")  # type: ignore[arg-type]


def test_ca_bundle_verifies_rest_and_stream(tls_sim: Simulator, ca: PrivateCA) -> None:
    client = client_for(tls_sim, ca_bundle=str(ca.ca_file))
    try:
        assert PAIR in {m.pair for m in client.get_markets()}  # REST over https
        book = client.order_book(PAIR)  # a stream over wss, and REST depth to check it
        trades = client.stream_trades(PAIR)
        client.connect(5)
        assert book.wait_ready(5)
        for _ in range(3000):
            tls_sim.step(1)
            if trades.pending:
                break
        assert trades.get(timeout=5).trades
        assert wait_until(lambda: book.snapshot() == book_truth(tls_sim), 5)
        assert book.verify()
        assert client.stats()["reconnects"] == 0
    finally:
        assert client.close(timeout=5)
    assert wait_until(lambda: not client_threads(), 5), client_threads()


def test_without_the_ca_rest_fails_naming_the_certificate(tls_sim: Simulator) -> None:
    client = client_for(tls_sim, rest_retries=0)
    try:
        with pytest.raises(ConnectError) as caught:
            client.get_markets()
        assert VERIFY_FAILED in str(caught.value)
        assert caught.value.cause is not None and "certificate" in caught.value.cause
    finally:
        assert client.close(timeout=5)


def test_without_the_ca_the_stream_fails_naming_the_certificate(tls_sim: Simulator) -> None:
    plain = client_for(tls_sim)
    try:
        lifecycle = plain.stream_lifecycle()
        with pytest.raises(ConnectError) as caught:
            plain.connect(timeout=1.5)
        assert VERIFY_FAILED in str(caught.value), caught.value
        assert caught.value.cause is not None and VERIFY_FAILED in caught.value.cause
        events = []
        assert wait_until(lambda: (events.extend(drain(lifecycle)) or True)
                          and any(e.state is ConnectionState.RECONNECTING for e in events), 5)
        retrying = [e for e in events if e.state is ConnectionState.RECONNECTING]
        assert retrying and all(VERIFY_FAILED in e.message for e in retrying), retrying
        assert not tls_sim.connections  # no WebSocket was ever accepted
    finally:
        assert plain.close(timeout=5)
    assert wait_until(lambda: not client_threads(), 5), client_threads()


def drain(sub: object) -> list:
    out = []
    while sub.pending:  # type: ignore[attr-defined]
        out.append(sub.get(timeout=0))  # type: ignore[attr-defined]
    return out


def book_truth(sim: Simulator) -> dict:
    truth = sim.book(PAIR)
    return {side: [tuple(level) for level in truth[side]] for side in ("buys", "sells")}


def test_ca_bundle_wins_over_the_environment(tls_sim: Simulator, ca: PrivateCA,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override Session.verify; the
    # option must still be the one that counts
    system = ssl.get_default_verify_paths().cafile or str(ca.cert_file)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", system)
    monkeypatch.setenv("CURL_CA_BUNDLE", system)
    client = client_for(tls_sim, ca_bundle=str(ca.ca_file))
    try:
        assert client.get_markets()
    finally:
        assert client.close(timeout=5)
    # and with no ca_bundle, the environment still has its usual say
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.ca_file))
    client = client_for(tls_sim)
    try:
        assert client.get_markets()
    finally:
        assert client.close(timeout=5)


def test_a_certificate_fixed_while_retrying_connects(ca: PrivateCA, tmp_path: Path) -> None:
    # a certificate from another CA: the handshake is retried (not ended as a bad URL)
    # and connects once the server on that port serves the right certificate
    other = make_ca(tmp_path)
    wrong = Simulator(seed=2, start_flow=False, ssl_context=other.server_context()).start()
    port = wrong.port
    client = client_for(wrong, ca_bundle=str(ca.ca_file))
    try:
        lifecycle = client.stream_lifecycle()
        nonce = client.stream_nonce(wrong.account)  # needs no REST
        events: list = []

        def retried(n: int) -> bool:
            events.extend(drain(lifecycle))
            return sum(e.state is ConnectionState.RECONNECTING for e in events) >= n

        assert wait_until(lambda: retried(2), 5), events
        assert all(VERIFY_FAILED in e.message for e in events
                   if e.state is ConnectionState.RECONNECTING)
        wrong.stop()
        with Simulator(port=port, seed=2, start_flow=False,
                       ssl_context=ca.server_context()) as right:
            assert right.wait_for(lambda s: bool(s.client_frames("subscribe_nonce")), 10)
            assert wait_until(lambda: retried(0) and any(
                e.state is ConnectionState.CONNECTED for e in events), 5), events
            assert not nonce.closed
            assert client.close(timeout=5)
    finally:
        wrong.stop()
        client.close(timeout=5)
    assert wait_until(lambda: not client_threads(), 5), client_threads()


# ------------------------------------------------------------------------ tplus


@pytest.fixture
def tls_tsim(ca: PrivateCA) -> Iterator[Any]:
    from o2sync.testing import TplusSimulator

    with TplusSimulator(seed=1, start_flow=False, control_interval=None,
                        ssl_context=ca.server_context()) as simulator:
        yield simulator


def test_tplus_ca_bundle_verifies_rest_and_stream(tls_tsim: Any, ca: PrivateCA) -> None:
    from o2sync.tplus import MarketDataClient

    assert tls_tsim.mds_url.startswith("https://")
    with MarketDataClient(tls_tsim.mds_url, ca_bundle=str(ca.ca_file),
                          backoff_initial=0.05, backoff_max=0.2) as client:
        assert client.get_orderbook_snapshot("200").sequence_number >= 0
        with client.order_book("200") as book:
            assert book.wait_ready(5)
            tls_tsim.step(50)
            truth = tls_tsim.book("200")
            assert wait_until(lambda: book.sequence_number == truth["sequence_number"], 5)
            assert book.verify()
    assert wait_until(lambda: not client_threads(), 5), client_threads()


def test_tplus_without_the_ca_fails_naming_the_certificate(tls_tsim: Any) -> None:
    from o2sync.tplus import MarketDataClient

    with MarketDataClient(tls_tsim.mds_url, rest_retries=0,
                          backoff_initial=0.05, backoff_max=0.2) as client:
        with pytest.raises(ConnectError) as caught:
            client.get_orderbook_snapshot("200")
        assert VERIFY_FAILED in str(caught.value)
        lifecycle = client.stream_lifecycle()
        depth = client.stream_depth("200")  # kept: an unreferenced one closes
        events: list = []
        assert wait_until(lambda: (events.extend(drain(lifecycle)) or True) and any(
            e.state is ConnectionState.RECONNECTING for e in events), 5), events
        assert all(VERIFY_FAILED in e.message for e in events
                   if e.state is ConnectionState.RECONNECTING), events
        assert not depth.closed
    assert wait_until(lambda: not client_threads(), 5), client_threads()


def client_threads() -> list[str]:
    return [name for name in o2sync_threads() if "-sim" not in name]
