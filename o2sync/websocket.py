"""``from o2sync.websocket import O2WebSocket``: the twin of ``o2_sdk.websocket``
(see :mod:`o2sync.o2.websocket`)."""

from .engine.lifecycle import ConnectionEvent, ConnectionState
from .o2.websocket import O2WebSocket

__all__ = ["ConnectionEvent", "ConnectionState", "O2WebSocket"]
