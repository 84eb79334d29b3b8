"""Shared fixtures: a running simulator and raw WebSocket clients for it.

``sim`` is a started :class:`~o2sync.testing.Simulator` with background flow
paused (tests drive the market with ``sim.step``; call ``sim.resume()`` for live
flow). Mark a test ``@pytest.mark.sim_options(seed=3, rate=500, start_flow=True)``
to construct it differently.
"""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import websocket

from o2sync import O2Client
from o2sync.testing import Simulator

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim_options(**kwargs): keyword arguments for the `sim` fixture's Simulator"
    )


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """A started simulator (seed 0, background flow paused), stopped afterwards."""
    marker = request.node.get_closest_marker("sim_options")
    options: dict[str, Any] = {"start_flow": False}
    if marker is not None:
        options.update(marker.kwargs)
    with Simulator(**options) as simulator:
        yield simulator


@pytest.fixture
def clients(sim: Simulator) -> Iterator[Callable[..., O2Client]]:
    """Factory of O2Clients on ``sim`` with fast test timings (options override them).

    Every client is closed at teardown, and no client thread may outlive the test.
    """
    from clientutil import client_for, o2sync_threads, wait_until

    made: list[O2Client] = []

    def make(**options: Any) -> O2Client:
        client = client_for(sim, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        assert client.close(timeout=5)
    assert wait_until(lambda: not o2sync_threads(), 5), o2sync_threads()


@pytest.fixture
def client(clients: Callable[..., O2Client]) -> O2Client:
    """One O2Client on ``sim`` (see ``clients``)."""
    return clients()


class WsClient:
    """A blocking websocket-client connection with JSON helpers for tests."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.ws = websocket.create_connection(url, timeout=timeout)

    def send_json(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def send(self, text: str) -> None:
        self.ws.send(text)

    def recv(self, timeout: Optional[float] = None) -> str:
        """Next text frame; raises on timeout, on a close frame or on a dead socket."""
        if timeout is not None:
            self.ws.settimeout(timeout)
        opcode, frame = self.ws.recv_data_frame(control_frame=False)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            # websocket-client has answered the close frame; end the TCP connection
            # too, as a well-behaved client does, so the server need not time out
            self.ws.shutdown()
            raise ConnectionClosedByServer(close_code(frame.data))
        return frame.data.decode()

    def recv_json(self, timeout: Optional[float] = None) -> dict[str, Any]:
        text = self.recv(timeout)
        value = json.loads(text)
        assert isinstance(value, dict), text
        return value

    def recv_action(self, action: str, timeout: float = 5.0) -> dict[str, Any]:
        """Skip frames (JSON or not) until one with this ``action`` arrives."""
        while True:
            text = self.recv(timeout)
            try:
                frame = json.loads(text)
            except ValueError:
                continue
            if isinstance(frame, dict) and frame.get("action") == action:
                return frame

    def recv_until(self, marker: str, timeout: float = 5.0) -> list[str]:
        """Every text frame before ``marker`` (typically a ``sim.inject``-ed one)."""
        frames: list[str] = []
        while True:
            text = self.recv(timeout)
            if text == marker:
                return frames
            frames.append(text)

    def close(self) -> None:
        self.ws.close(timeout=0.2)


class ConnectionClosedByServer(Exception):
    """The server sent a close frame; ``code`` is its status code."""

    def __init__(self, code: Optional[int]) -> None:
        super().__init__(f"server closed the connection with code {code}")
        self.code = code


def close_code(payload: bytes) -> Optional[int]:
    """Status code of a close frame payload (None when it has none)."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


@pytest.fixture
def ws_connect(sim: Simulator) -> Iterator[Callable[..., WsClient]]:
    """Factory of raw WebSocket clients on ``sim`` (closed at teardown)."""
    made: list[WsClient] = []

    def connect(url: Optional[str] = None, timeout: float = 5.0) -> WsClient:
        client = WsClient(url or sim.ws_url, timeout)
        made.append(client)
        return client

    yield connect
    for client in made:
        with contextlib.suppress(Exception):  # already dead: some tests do that to it
            client.close()


@pytest.fixture
def o2_fixture() -> Callable[[str], Any]:
    """Loader of the protocol sample messages: ``o2_fixture("o2_trades")``."""

    def load(name: str) -> Any:
        return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))

    return load


# -- tplus simulator ----------------------------------------------------------------


@pytest.fixture
def tsim(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A started TplusSimulator (seed 1, flow paused, no periodic control frames).

    Mark a test ``@pytest.mark.tplus_options(rate=500, start_flow=True)`` to change it.
    """
    from o2sync.testing import TplusSimulator

    marker = request.node.get_closest_marker("tplus_options")
    options: dict[str, Any] = {"seed": 1, "start_flow": False, "control_interval": None}
    if marker is not None:
        options.update(marker.kwargs)
    with TplusSimulator(**options) as simulator:
        yield simulator


@pytest.fixture
def tplus(tsim: Any) -> Iterator[Any]:
    """Factory of tplus clients on ``tsim`` with fast test timings:
    ``tplus.md(**options)``, ``tplus.ob(user=True, **options)``.

    Every client is closed at teardown, and no client thread may outlive the test.
    """
    from clientutil import wait_until
    from tplus_clientutil import TplusClients, client_thread_names

    factory = TplusClients(tsim)
    yield factory
    for made in factory.made:
        assert made.close(timeout=5)
    assert wait_until(lambda: not client_thread_names(), 5), client_thread_names()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Any]:
    """A started Redis server (no persistence) on a free loopback port; the test
    fails, never skips, when it cannot start (see tests/redis_server.py)."""
    from redis_server import RedisServer

    try:
        server = RedisServer(tmp_path).start()
    except RuntimeError as exc:
        pytest.fail(f"the relay tests need a Redis server: {exc}")
    yield server
    server.kill()
