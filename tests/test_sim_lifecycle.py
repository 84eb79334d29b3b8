"""Starting, stopping and describing the simulator; the `o2sync sim` command."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from o2sync.testing import Simulator


def sim_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("o2sync-sim")]


def test_start_is_fast_and_stop_leaves_no_thread() -> None:
    assert sim_threads() == []
    sim = Simulator()
    started = time.perf_counter()
    sim.start()
    assert time.perf_counter() - started < 0.5
    assert sim_threads() == ["o2sync-sim"]
    assert requests.get(sim.api_url + "/v1/markets", timeout=5).status_code == 200
    sim.stop()
    assert sim_threads() == []
    assert not sim.running
    sim.stop()  # idempotent


def test_every_thread_is_named_and_gone_after_stop_with_clients() -> None:
    before = set(threading.enumerate())
    with Simulator(host="localhost", rate=1000) as sim:  # a name: resolved in an executor
        import websocket

        client = websocket.create_connection(sim.ws_url, timeout=5)
        client.send("PING")
        assert client.recv() == "PONG"
        new = set(threading.enumerate()) - before
        assert new and all(t.name.startswith("o2sync-sim") for t in new)
    client.close()
    assert sim_threads() == []


def test_urls_ports_and_repr() -> None:
    sim = Simulator(seed=9, rate=5)
    with pytest.raises(RuntimeError):
        sim.ws_url  # noqa: B018 - no port before start
    assert "stopped" in repr(sim)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with Simulator(port=free, start_flow=False) as fixed:
        assert fixed.port == free
        assert fixed.ws_url == f"ws://127.0.0.1:{free}/v1/ws"
        assert fixed.api_url == f"http://127.0.0.1:{free}"
    with sim:
        assert sim.port > 0 and sim.start() is sim  # a second start is a no-op
        text = repr(sim)
        assert "running" in text and f":{sim.port}" in text and "seed=9" in text
        assert "5 ev/s" in text
    assert "stopped" in repr(sim)


def test_stop_and_start_again(sim: Simulator) -> None:
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.api_url + "/v1/markets", timeout=2)
    sim.start()
    assert requests.get(sim.api_url + "/v1/markets", timeout=5).status_code == 200


def test_a_port_in_use_is_an_error() -> None:
    with Simulator(start_flow=False) as first, pytest.raises(OSError):
        Simulator(port=first.port).start()
    assert sim_threads() == []


def test_cli_serves_until_sigint() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "o2sync", "sim", "--port", "0", "--rate", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        urls: dict[str, str] = {}
        for line in process.stdout:  # blocking reads: the lines arrive once it listens
            found = re.search(r"(ws|http)://\S+", line)
            if found:
                urls[found.group(1)] = found.group(0)
            if len(urls) == 2:
                break
        assert urls["ws"].endswith("/v1/ws")
        markets = requests.get(urls["http"] + "/v1/markets", timeout=5).json()["markets"]
        assert len(markets) == 2
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_cli_help_and_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    from o2sync.cli import main

    assert main([]) == 2
    assert "sim" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["sim", "--help"])
    assert done.value.code == 0
    assert "--rate" in capsys.readouterr().out
