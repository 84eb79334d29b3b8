"""Fault switches that tests flip from any thread while the server runs.

Only plain state lives here (when to refuse handshakes, how many REST requests to
rate-limit); the actions on live connections (drop, stall, inject, closing the
listening socket) are carried out by :class:`o2sync.sim.server.SimServer`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class RestOverride:
    """A canned REST answer for one path (see :meth:`Simulator.rest_override`)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: Optional[float] = None  # seconds between body bytes, None: all at once


class Faults:
    """Refusal window and rate-limit budget, safe to change from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refuse_until = 0.0
        self._rate_limited = 0
        self._overrides: dict[str, RestOverride] = {}

    def refuse_for(self, seconds: float) -> None:
        """Reject WebSocket handshakes (HTTP 503) for ``seconds`` from now."""
        with self._lock:
            self._refuse_until = time.monotonic() + max(0.0, seconds)

    def refusing(self) -> bool:
        with self._lock:
            return time.monotonic() < self._refuse_until

    def rate_limit(self, requests: int) -> None:
        """Answer the next ``requests`` REST requests with HTTP 429."""
        if requests < 0:
            raise ValueError("requests must be >= 0")
        with self._lock:
            self._rate_limited = requests

    def take_rate_limit(self) -> bool:
        """Consume one unit of the rate-limit budget; True if this request is limited."""
        with self._lock:
            if self._rate_limited > 0:
                self._rate_limited -= 1
                return True
            return False

    def set_override(self, path: str, override: Optional[RestOverride]) -> None:
        with self._lock:
            if override is None:
                self._overrides.pop(path, None)
            else:
                self._overrides[path] = override

    def clear_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()

    def override_for(self, path: str) -> Optional[RestOverride]:
        with self._lock:
            return self._overrides.get(path)
