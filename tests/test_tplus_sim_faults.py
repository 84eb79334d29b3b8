"""tplus simulator faults and lifecycle: drops, refusals, half-open links, injection,
restart, threads, records."""

from __future__ import annotations

import contextlib
import json
import struct
import threading
import time

import pytest
import requests
import websocket
from tplus_util import TWs, sim_login

from o2sync.sim.tplus import TplusSimulator


def close_or_abort(ws: TWs, timeout: float = 5.0) -> object:
    """Read until the connection ends: the close code sent, or "abort" if none came."""
    ws.ws.settimeout(timeout)
    for _ in range(100_000):
        try:
            opcode, frame = ws.ws.recv_data_frame(True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return "abort"
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else None
    raise AssertionError("connection never ended")


def can_upgrade(sim: TplusSimulator, path: str = "/trades") -> object:
    try:
        TWs(sim.mds_url, path, timeout=2).close()
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    except OSError:
        return "refused"
    return 101


# -- drops -----------------------------------------------------------------------------


def test_drop_without_code_aborts_tcp(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, "/trades")
    assert tsim.wait_for(lambda s: s.open_connections() == 1)
    assert tsim.drop_connections() == 1
    assert close_or_abort(ws) == "abort"
    assert tsim.wait_for(lambda s: s.open_connections() == 0)
    assert tsim.handshakes("/trades")[0].close_code == 1006


@pytest.mark.parametrize("code", [1011, 1012, 4000])
def test_drop_with_code_sends_a_close_frame(tsim: TplusSimulator, code: int) -> None:
    ws = TWs(tsim.mds_url, "/trades")
    assert tsim.wait_for(lambda s: s.open_connections() == 1)
    ws.recv_text()  # subscriptions
    dropper = threading.Thread(target=tsim.drop_connections, args=(code,))
    dropper.start()
    assert close_or_abort(ws) == code
    with contextlib.suppress(OSError, websocket.WebSocketException):
        ws.ws.send_close()  # answer it, as a client does (the server may be gone already)
    dropper.join(5)
    assert tsim.wait_for(lambda s: s.open_connections() == 0)


def test_drop_filters_by_path_and_service(tsim: TplusSimulator) -> None:
    _, headers = sim_login(tsim)
    trades = TWs(tsim.mds_url, "/trades")
    depth = TWs(tsim.mds_url, "/marketdepth/diff/200")
    orders = TWs(tsim.oms_url, "/orders", headers)
    assert tsim.wait_for(lambda s: s.open_connections() == 3)
    assert tsim.drop_connections(path="/trades") == 1
    assert close_or_abort(trades) == "abort"
    assert tsim.drop_connections(service="oms") == 1
    assert close_or_abort(orders) == "abort"
    assert tsim.open_connections() == 1 or tsim.wait_for(lambda s: s.open_connections() == 1)
    depth.close()
    with pytest.raises(ValueError):
        tsim.drop_connections(code=1006)
    with pytest.raises(ValueError):
        tsim.drop_connections(service="nope")


# -- refusals ----------------------------------------------------------------------------


def test_refuse_answers_upgrades_with_503(tsim: TplusSimulator) -> None:
    open_ws = TWs(tsim.mds_url, "/trades")
    tsim.refuse(30)
    assert can_upgrade(tsim) == 503
    assert requests.get(tsim.mds_url + "/trades", timeout=5).status_code == 200  # REST works
    assert tsim.open_connections() == 1
    tsim.refuse(0)
    assert can_upgrade(tsim) == 101
    assert [h.status for h in tsim.handshakes("/trades")] == [101, 503, 101]
    open_ws.close()


def test_refuse_one_service(tsim: TplusSimulator) -> None:
    _, headers = sim_login(tsim)
    tsim.refuse(30, service="oms")
    assert can_upgrade(tsim) == 101
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        TWs(tsim.oms_url, "/orders", headers)
    assert caught.value.status_code == 503
    tsim.refuse(0)


def test_refuse_tcp_closes_and_reopens_the_listeners(tsim: TplusSimulator) -> None:
    open_ws = TWs(tsim.mds_url, "/trades")
    ports = tsim.ports
    tsim.refuse(1.0, tcp=True)
    assert can_upgrade(tsim) == "refused"
    with pytest.raises(requests.ConnectionError):
        requests.get(tsim.oms_url + "/markets", timeout=2)
    assert tsim.open_connections() == 1  # open sockets stay up
    assert tsim.wait_for(lambda s: can_upgrade(s) == 101, timeout=5)
    assert tsim.ports == ports
    assert requests.get(tsim.oms_url + "/markets", timeout=2).status_code == 200
    open_ws.close()


# -- half-open links ------------------------------------------------------------------------


def test_stall_stops_sending_and_ponging(tsim: TplusSimulator) -> None:
    ws = TWs(tsim.mds_url, "/marketdepth/diff/200")
    ws.recv_text()  # subscriptions
    tsim.stall()
    tsim.step(50)
    ws.ws.ping("hello")
    ws.ws.settimeout(0.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.ws.recv_data_frame(True)  # neither data nor pong
    assert tsim.open_connections() == 1  # TCP still up
    fresh = TWs(tsim.mds_url, "/marketdepth/diff/200")  # later connections are served
    assert json.loads(fresh.recv_text())["type"] == "subscriptions"
    tsim.unstall()
    seqs, pongs = [], 0
    ws.ws.settimeout(5)
    for _ in range(10_000):  # everything held back arrives, in order, and the pong
        opcode, frame = ws.ws.recv_data_frame(True)
        if opcode == websocket.ABNF.OPCODE_PONG:
            pongs += 1
        elif opcode == websocket.ABNF.OPCODE_TEXT:
            seqs.append(json.loads(frame.data)["sequence_number"])
        if pongs and seqs and seqs[-1] == tsim.book("200")["sequence_number"]:
            break
    assert pongs == 1 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    ws.close()
    fresh.close()


def test_stop_while_stalled_is_quick() -> None:
    sim = TplusSimulator(start_flow=False, control_interval=None).start()
    ws = TWs(sim.mds_url, "/trades")
    assert sim.wait_for(lambda s: s.open_connections() == 1)
    sim.stall()
    began = time.monotonic()
    sim.stop()
    assert time.monotonic() - began < 2.0
    assert close_or_abort(ws) in ("abort", 1001)


# -- injection -----------------------------------------------------------------------------


def test_inject_raw_text_by_path(tsim: TplusSimulator) -> None:
    trades = TWs(tsim.mds_url, "/trades")
    depth = TWs(tsim.mds_url, "/marketdepth/diff/200")
    assert tsim.wait_for(lambda s: s.open_connections() == 2)
    assert tsim.inject("/trades", "not json {") == 1
    trades.recv_text()  # subscriptions
    assert trades.recv_text() == "not json {"
    depth.recv_text()
    depth.ws.settimeout(0.2)
    with pytest.raises(websocket.WebSocketTimeoutException):
        depth.ws.recv()
    assert tsim.inject("/nothing", "x") == 0
    trades.close()
    depth.close()


# -- lifecycle -------------------------------------------------------------------------------


def sim_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("o2sync-tplus-sim")]


def test_start_is_fast_and_stop_leaves_no_thread() -> None:
    began = time.monotonic()
    sim = TplusSimulator().start()
    assert time.monotonic() - began < 1.0
    assert sim_threads() == ["o2sync-tplus-sim"]
    assert sim.mds_url.startswith("http://127.0.0.1:") and sim.oms_url != sim.mds_url
    TWs(sim.mds_url, "/trades")
    sim.stop()
    assert sim_threads() == []
    sim.stop()  # idempotent
    assert not sim.running


def test_urls_need_a_start() -> None:
    sim = TplusSimulator()
    with pytest.raises(RuntimeError):
        _ = sim.mds_url
    sim.step(10)  # works without serving
    assert sim.events == 10


def test_restart_keeps_ports_market_and_tokens(tsim: TplusSimulator) -> None:
    _me, headers = sim_login(tsim)
    ws = TWs(tsim.mds_url, "/trades")
    assert tsim.wait_for(lambda s: s.open_connections() == 1)
    tsim.step(100)
    ports, seq = tsim.ports, tsim.book("200")["sequence_number"]
    tsim.restart()
    assert close_or_abort(ws) in ("abort", 1001)
    assert tsim.ports == ports and tsim.book("200")["sequence_number"] == seq
    tsim.step(10)
    assert tsim.book("200")["sequence_number"] > seq
    TWs(tsim.oms_url, "/orders", headers).close()  # the token survived
    assert len(tsim.handshakes()) == 2  # records survive too


def test_rate_and_pause_controls(tsim: TplusSimulator) -> None:
    assert tsim.paused
    tsim.set_rate(2000)
    tsim.resume()
    start = tsim.events
    assert tsim.wait_for(lambda s: s.events > start + 100, timeout=5)
    tsim.pause()
    stopped = tsim.events
    tsim.step(0)
    assert tsim.events == stopped
    with pytest.raises(ValueError):
        tsim.set_rate(-1)
    with pytest.raises(ValueError):
        tsim.step(-1)


def test_identity_properties() -> None:
    seed = "22" * 32
    sim = TplusSimulator(user_seed=seed)
    assert sim.user == sim.user_seed == seed
    assert len(sim.user_id) == 64 and sim.user_id == sim.user_id.lower()
    assert sim.assets[0] == "200" and "@" in sim.assets[1]
    assert sim.markets[0] == {"asset_id": "200", "book_price_decimals": 2,
                              "book_quantity_decimals": 4}
    with pytest.raises(ValueError):
        TplusSimulator(user_seed="00")
    with pytest.raises(KeyError):
        sim.book("nope")
