"""What the tplus simulator saw: handshakes, REST requests (and, in ``auth.py``,
tokens issued), plus a condition tests wait on instead of sleeping.

Records are appended on the loop thread and read from any thread; lists only grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..records import Changes


@dataclass
class HandshakeRecord:
    """One WebSocket upgrade request and what became of it."""

    id: int
    service: str  # "mds" or "oms"
    path: str
    headers: dict[str, str]
    token: Optional[str]  # the Bearer token presented, if any
    user_id: Optional[str]  # the User-Id header, if any
    status: int = 0  # 101 accepted, else the HTTP status answered
    remote: str = ""
    open: bool = False
    close_code: Optional[int] = None
    frames_sent: int = 0
    frames_received: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status == 101

    def __repr__(self) -> str:
        state = "open" if self.open else f"closed({self.close_code})"
        return (f"<HandshakeRecord #{self.id} {self.service} {self.path} {self.status} "
                f"{state if self.accepted else ''}>")


@dataclass
class RequestRecord:
    """One REST request."""

    service: str
    method: str
    path: str
    query: dict[str, str]
    status: int
    token: Optional[str] = None
    body: Any = None


class Observer(Changes):
    """Record lists, and the wake-ups of :class:`~o2sync.sim.records.Changes`."""

    def __init__(self) -> None:
        super().__init__()
        self.handshakes: list[HandshakeRecord] = []
        self.requests: list[RequestRecord] = []

    def handshake(self, service: str, path: str, headers: dict[str, str], token: Optional[str],
                  user_id: Optional[str], remote: str) -> HandshakeRecord:
        record = HandshakeRecord(len(self.handshakes) + 1, service, path, headers, token,
                                 user_id, remote=remote)
        self.handshakes.append(record)
        self.changed()
        return record

    def request(self, record: RequestRecord) -> None:
        self.requests.append(record)
        self.changed()

