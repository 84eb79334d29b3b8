"""Where a client connects (issue 22, items 3 and 5): URLs are checked when a client
is built, with one line naming what is wrong; the environment variables of both
venues point the clients and the ``o2sync`` command at a deployment; an unreachable
REST port fails at once."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest
from cliutil import o2sync

from o2sync import ConnectError, Network, O2Client
from o2sync.endpoints import o2_from_env, tplus_mds_from_env, tplus_oms_from_env
from o2sync.testing import Simulator
from o2sync.tplus import MarketDataClient, OrderBookClient

ENV_NAMES = ("O2SYNC_O2_NETWORK", "O2SYNC_O2_WS_URL", "O2SYNC_O2_API_URL",
             "O2SYNC_TPLUS_MDS_URL", "O2SYNC_TPLUS_OMS_URL", "TPLUS_API_BASE_URL",
             "TPLUS_MARKET_DATA_BASE_URL", "TPLUS_ORDERBOOK_BASE_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def refused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(extra)
    return env


# -- item 5: malformed URLs fail at construction, one line naming the fault ----------

BAD_WS = [
    ("127.0.0.1:8765", "ws_url '127.0.0.1:8765' has no scheme; write ws://127.0.0.1:8765/..."),
    ("http://127.0.0.1:8765/v1/ws", "has scheme http://; a WebSocket URL starts with ws:// or "
                                    "wss:// (did you mean ws://127.0.0.1:8765/v1/ws?)"),
    ("ws://127.0.0.1:99999/v1/ws", "has an invalid port '99999'"),
    ("ws:///v1/ws", "has no host"),
    ("", "ws_url is empty"),
]


@pytest.mark.parametrize(("url", "says"), BAD_WS)
def test_o2client_refuses_a_malformed_ws_url(url: str, says: str) -> None:
    with pytest.raises(ValueError) as info:
        O2Client(ws_url=url)
    assert says in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("url", "says"), [
    ("127.0.0.1:8765", "api_url '127.0.0.1:8765' has no scheme; write http://"),
    ("ws://127.0.0.1:8765", "did you mean http://127.0.0.1:8765?"),
])
def test_o2client_refuses_a_malformed_api_url(url: str, says: str) -> None:
    with pytest.raises(ValueError, match="api_url") as info:
        O2Client(api_url=url)
    assert says in str(info.value)


def test_url_errors_never_show_a_password() -> None:
    with pytest.raises(ValueError) as info:
        O2Client(ws_url="http://user:s3cr3t@127.0.0.1:1/v1/ws")
    assert "s3cr3t" not in str(info.value) and "did you mean ws://" in str(info.value)


@pytest.mark.parametrize("cls", [MarketDataClient, OrderBookClient])
@pytest.mark.parametrize(("url", "says"), [
    ("127.0.0.1:8011", "base_url '127.0.0.1:8011' has no scheme; write http://127.0.0.1:8011"),
    ("ws://127.0.0.1:8011", "did you mean http://127.0.0.1:8011?"),
    ("http://127.0.0.1:0x1f", "has an invalid port"),
])
def test_tplus_clients_refuse_a_malformed_base_url(cls: Any, url: str, says: str) -> None:
    with pytest.raises(ValueError) as info:
        cls(url)
    assert says in str(info.value)


def test_a_good_url_is_kept_as_given() -> None:
    with O2Client(ws_url="wss://example.invalid/v1/ws") as c:
        assert (c.ws_url, c.api_url) == ("wss://example.invalid/v1/ws", "https://example.invalid")
    with O2Client(Network.MAINNET) as c:
        assert c.ws_url == "wss://api.o2.app/v1/ws" and c.network is Network.MAINNET


def test_get_market_on_a_refused_port_fails_at_once() -> None:
    port = refused_port()
    with O2Client(ws_url=f"ws://127.0.0.1:{port}/v1/ws") as c:
        started = time.monotonic()
        with pytest.raises(ConnectError) as info:
            c.get_market("fFUEL/fUSDC")
        took = time.monotonic() - started
    assert info.value.cause == "connection refused"
    assert took < 1.0, f"{took:.2f}s to report a refused port (was 6 s: 3 retries)"


@pytest.mark.parametrize(("argv", "says"), [
    (["watch", "trades", "fFUEL/fUSDC", "--ws-url", "127.0.0.1:8765"],
     "argument --ws-url: URL '127.0.0.1:8765' has no scheme"),
    (["watch", "trades", "fFUEL/fUSDC", "--ws-url", "http://127.0.0.1:8765/v1/ws"],
     "did you mean ws://127.0.0.1:8765/v1/ws?"),
    (["watch", "trades", "fFUEL/fUSDC", "--api-url", "127.0.0.1:8765"],
     "argument --api-url: URL '127.0.0.1:8765' has no scheme"),
    (["watch", "--venue", "tplus", "trades", "--mds-url", "127.0.0.1:8011"],
     "argument --mds-url: URL '127.0.0.1:8011' has no scheme"),
    (["record", "trades", "--venue", "tplus", "--out", "x.jsonl", "--oms-url", "ws://h:1"],
     "did you mean http://h:1?"),
])
def test_cli_bad_url_exits_2_with_one_line(argv: list[str], says: str) -> None:
    proc = o2sync(*argv, timeout=30, env=cli_env())
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_cli_bad_url_in_the_environment_names_the_variable() -> None:
    proc = o2sync("watch", "trades", "fFUEL/fUSDC", timeout=30,
                  env=cli_env(O2SYNC_O2_WS_URL="localhost:1"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("o2sync watch: O2SYNC_O2_WS_URL 'localhost:1' has no "
                                   "scheme; write ws://localhost:1/... (or wss:// for TLS)")
    proc = o2sync("watch", "--venue", "tplus", "trades", timeout=30,
                  env=cli_env(O2SYNC_TPLUS_MDS_URL="ws://127.0.0.1:1"))
    assert proc.returncode == 2 and "O2SYNC_TPLUS_MDS_URL 'ws://127.0.0.1:1'" in proc.stderr
    proc = o2sync("watch", "trades", "fFUEL/fUSDC", timeout=30,
                  env=cli_env(O2SYNC_O2_NETWORK="moon"))
    assert proc.returncode == 2 and "O2SYNC_O2_NETWORK='moon'" in proc.stderr


def test_a_wrong_tplus_base_path_is_named_not_only_the_market(tsim: Any) -> None:
    proc = o2sync("watch", "--venue", "tplus", "depth", "200", "--events", "1",
                  "--mds-url", tsim.mds_url + "/api", timeout=30, env=cli_env())
    assert proc.returncode == 2
    assert f"the URL's path /api is wrong: tplus services answer at their root, e.g. " \
           f"--mds-url {tsim.mds_url}" in proc.stderr, proc.stderr


# -- item 3: URLs from the environment, both venues ----------------------------------


def test_o2client_reads_its_urls_from_the_environment(sim: Simulator,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2SYNC_O2_WS_URL", sim.ws_url)
    with O2Client(rest_retries=0) as c:
        assert (c.ws_url, c.api_url) == (sim.ws_url, sim.api_url)
        assert c.get_market("fFUEL/fUSDC").pair == "fFUEL/fUSDC"  # really the simulator
    with O2Client(Network.DEVNET) as c:  # an argument wins over the environment
        assert c.ws_url == Network.DEVNET.ws_url
    monkeypatch.delenv("O2SYNC_O2_WS_URL")
    monkeypatch.setenv("O2SYNC_O2_NETWORK", "MAINNET")
    with O2Client() as c:
        assert c.network is Network.MAINNET and c.api_url == "https://api.o2.app"


def test_tplus_clients_read_their_urls_from_the_environment(
        tsim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2SYNC_TPLUS_MDS_URL", tsim.mds_url)
    monkeypatch.setenv("O2SYNC_TPLUS_OMS_URL", tsim.oms_url)
    with MarketDataClient() as md, OrderBookClient() as ob:
        assert (md.base_url, ob.base_url) == (tsim.mds_url, tsim.oms_url)
        assert md.get_orderbook_snapshot("200").sequence_number >= 0  # really the simulator
    with MarketDataClient("http://127.0.0.1:1") as md:  # an argument wins
        assert md.base_url == "http://127.0.0.1:1"


def test_tpluspy_cli_variables_are_honoured_after_ours() -> None:
    env = {"TPLUS_API_BASE_URL": "https://oms.tplus.example"}
    assert tplus_oms_from_env(env) == "https://oms.tplus.example"
    assert tplus_mds_from_env(env) == "https://mds.tplus.example"  # tpluspy: oms -> mds
    env["TPLUS_MARKET_DATA_BASE_URL"] = "https://md.example"
    assert tplus_mds_from_env(env) == "https://md.example"
    env["O2SYNC_TPLUS_MDS_URL"] = "https://ours.example"
    assert tplus_mds_from_env(env) == "https://ours.example"
    assert tplus_mds_from_env({"TPLUS_API_BASE_URL": "http://localhost:3032"}) \
        == "http://localhost:3032"
    assert o2_from_env({"O2SYNC_O2_WS_URL": " "}) == (None, None, None)


def test_cli_connects_where_the_environment_says() -> None:
    from o2sync.testing import TplusSimulator

    with Simulator(rate=300) as sim:
        proc = o2sync("watch", "trades", "fFUEL/fUSDC", "--events", "1", timeout=60,
                      env=cli_env(O2SYNC_O2_WS_URL=sim.ws_url))
    assert proc.returncode == 0, proc.stderr
    assert f"connected to {sim.ws_url}" in proc.stderr  # not a simulator of its own
    with TplusSimulator(rate=300, mds_port=0, oms_port=0) as tsim:
        proc = o2sync("watch", "--venue", "tplus", "trades", "--events", "1", timeout=60,
                      env=cli_env(O2SYNC_TPLUS_MDS_URL=tsim.mds_url))
        port = tsim.mds_url.rsplit(":", 1)[1]
    assert proc.returncode == 0, proc.stderr
    assert f"connected to ws://127.0.0.1:{port}/trades" in proc.stderr
