"""Fault switches of the tplus simulator that tests flip from any thread.

Plain state only (refusal window, budgets of requests to fail); the actions on
live connections (drop, stall, inject, closing the listeners) are carried out by
:class:`o2sync.sim.tplus.server.TplusServer`.
"""

from __future__ import annotations

import threading
import time
from typing import Optional


class Budget:
    """A count of upcoming requests to fail, with the status and extra to use."""

    def __init__(self) -> None:
        self.count = 0
        self.status = 0
        self.extra: Optional[float] = None

    def set(self, count: int, status: int, extra: Optional[float] = None) -> None:
        if count < 0:
            raise ValueError("count must be >= 0")
        self.count, self.status, self.extra = count, status, extra


class TplusFaults:
    """Refusal windows and failure budgets, safe to change from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refuse_until = 0.0
        self._refuse_rest = False
        self._refuse_service: Optional[str] = None
        self.rate = Budget()  # REST → 429 (extra: Retry-After seconds or None)
        self.auth = Budget()  # POST /auth → status
        self.upgrades = Budget()  # authenticated upgrades → status

    def refuse_for(self, seconds: float, rest: bool, service: Optional[str]) -> None:
        with self._lock:
            self._refuse_until = time.monotonic() + max(0.0, seconds)
            self._refuse_rest = rest
            self._refuse_service = service

    def refusing(self, service: str, upgrade: bool) -> bool:
        with self._lock:
            if time.monotonic() >= self._refuse_until:
                return False
            if self._refuse_service not in (None, service):
                return False
            return upgrade or self._refuse_rest

    def set(self, budget: Budget, count: int, status: int, extra: Optional[float] = None) -> None:
        with self._lock:
            budget.set(count, status, extra)

    def take(self, budget: Budget) -> Optional[tuple[int, Optional[float]]]:
        """Consume one unit of ``budget``: (status, extra) if this request fails, else None."""
        with self._lock:
            if budget.count > 0:
                budget.count -= 1
                return budget.status, budget.extra
            return None
