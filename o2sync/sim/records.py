"""What tests observe: one record per accepted WebSocket connection.

Records are written on the simulator's loop thread and read from test threads;
every change bumps a version under a condition so :meth:`Changes.wait_for` wakes
up promptly instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class ConnectionRecord:
    """One WebSocket connection the simulator accepted.

    ``frames`` holds every text frame the client sent, in order, exactly as sent
    (including ``"PING"``); ``open`` turns False once the connection is gone.
    """

    id: int
    remote: str = ""
    frames: list[str] = field(default_factory=list)
    open: bool = True
    close_code: Optional[int] = None  # once closed: the client's code, 1006 if none came

    def __repr__(self) -> str:
        state = "open" if self.open else f"closed({self.close_code})"
        return f"<ConnectionRecord #{self.id} {self.remote} {state} frames={len(self.frames)}>"


class Changes:
    """A condition that wakes waiters on every change of what a simulator records
    (both simulators' observers are one)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0

    def changed(self) -> None:
        """Something observable changed (called on the loop thread)."""
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
        """True as soon as ``predicate()`` holds, False after ``timeout`` seconds.

        The predicate runs outside the lock (it may call back into the simulator,
        which needs the loop thread, which may be waiting for this lock).
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                seen = self._version
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._cond:
                if self._version == seen:
                    # poll too: a predicate may depend on things that do not notify
                    self._cond.wait(min(remaining, poll))


class Observer(Changes):
    """The record list, and the wake-ups of :class:`Changes`."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[ConnectionRecord] = []

    def new_record(self, remote: str) -> ConnectionRecord:
        record = ConnectionRecord(id=len(self.records) + 1, remote=remote)
        self.records.append(record)
        self.changed()
        return record

