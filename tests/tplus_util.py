"""Helpers for the tplus simulator tests: raw WebSocket clients, logins, fake clock.

Everything goes over real loopback sockets (``requests``, ``websocket-client``);
the login signs with ``cryptography`` directly, independent of the simulator.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable, Optional

import requests
import websocket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from o2sync.testing import TplusSimulator

ADDRESS = "82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000@00000000000000a4b1"
CONTROL_TYPES = ("ping", "pong", "subscriptions")


class FakeClock:
    """A ``time.time_ns`` stand-in tests advance by hand."""

    def __init__(self, start_ns: int = 1_767_225_600_000_000_000) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        self.now += 1_000  # every reading moves on a little, as a real clock does
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://", 1) + path


def is_control(frame: Any) -> bool:
    return isinstance(frame, dict) and frame.get("type") in CONTROL_TYPES


class TWs:
    """A blocking websocket-client connection to one tplus stream path."""

    def __init__(self, base: str, path: str, headers: Optional[dict[str, str]] = None,
                 timeout: float = 5.0) -> None:
        header = [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.ws = websocket.create_connection(ws_url(base, path), timeout=timeout, header=header)
        self.controls: list[dict[str, Any]] = []

    def recv_text(self, timeout: float = 5.0) -> str:
        self.ws.settimeout(timeout)
        text = self.ws.recv()
        assert isinstance(text, str)
        return text

    def data(self, timeout: float = 5.0) -> Any:
        """The next data frame (control frames are kept in ``controls``)."""
        for _ in range(10_000):
            frame = json.loads(self.recv_text(timeout))
            if is_control(frame):
                self.controls.append(frame)
                continue
            return frame
        raise AssertionError("only control frames")

    def take(self, n: int, timeout: float = 5.0) -> list[Any]:
        return [self.data(timeout) for _ in range(n)]

    def until(self, predicate: Callable[[Any], bool], limit: int = 100_000,
              timeout: float = 5.0) -> list[Any]:
        """Data frames up to and including the first one ``predicate`` accepts."""
        frames = []
        for _ in range(limit):
            frame = self.data(timeout)
            frames.append(frame)
            if predicate(frame):
                return frames
        raise AssertionError(f"no matching frame in {limit}")

    def close(self) -> None:
        self.ws.close(timeout=1)


class Login:
    """An Ed25519 identity that logs in over REST like tpluspy does (§4.2)."""

    def __init__(self, seed_hex: Optional[str] = None) -> None:
        self.key = (Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex)) if seed_hex
                    else Ed25519PrivateKey.generate())
        self.user_id = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, nonce: str) -> list[int]:
        stripped = nonce.replace(" ", "").replace("\r", "").replace("\n", "")
        return list(self.key.sign(stripped.encode()))

    def nonce(self, base: str) -> str:
        answer = requests.get(f"{base}/nonce/{self.user_id}", timeout=5)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["value"])

    def auth_body(self, base: str) -> dict[str, Any]:
        nonce = self.nonce(base)
        return {"user_id": self.user_id, "nonce": nonce, "signature": self.sign(nonce),
                "additional_signers": []}

    def login(self, base: str) -> str:
        answer = requests.post(f"{base}/auth", json=self.auth_body(base), timeout=5)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert isinstance(body["expiry_ns"], int)
        return str(body["token"])

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "User-Id": self.user_id}


def sim_login(sim: TplusSimulator, service: str = "oms") -> tuple[Login, dict[str, str]]:
    """Log in as the simulated user on ``service``; (identity, auth headers)."""
    me = Login(sim.user_seed)
    base = sim.oms_url if service == "oms" else sim.mds_url
    return me, me.headers(me.login(base))


def levels(rows: list[list[Any]]) -> dict[Decimal, Decimal]:
    return {Decimal(str(p)): Decimal(str(q)) for p, q in rows}


def apply_diff(book: dict[str, dict[Decimal, Decimal]], diff: dict[str, Any]) -> None:
    """Absolute levels: quantity 0 removes the level, otherwise replaces it."""
    for side in ("bids", "asks"):
        for price, qty in diff[side]:
            p, q = Decimal(str(price)), Decimal(str(qty))
            if q == 0:
                book[side].pop(p, None)
            else:
                book[side][p] = q


def error_of(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details", "retryable"}, body
    return dict(body["error"])
