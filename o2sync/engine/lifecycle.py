"""Connection lifecycle: the states a socket goes through and the events that say so."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dataclasses_json import DataClassJsonMixin


class ConnectionState(enum.Enum):
    """WebSocket lifecycle states, as in the O2 SDK (plus ``FAILED``)."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    #: One socket can never connect (HTTP 404/400 on the handshake, a bad URL, a
    #: login that is refused): its streams ended with the error. Others go on.
    FAILED = "failed"
    CLOSED = "closed"  # terminal: max attempts reached or close() called


@dataclass(frozen=True)
class ConnectionEvent(DataClassJsonMixin):
    """A lifecycle transition.

    ``attempt`` counts reconnect attempts (0 otherwise). ``stream`` names the socket
    the event concerns (its URL path, e.g. ``/v1/ws`` or ``/orders``); it is empty
    for events of the whole client (``CLOSED`` by ``close()``).
    """

    state: ConnectionState
    attempt: int = 0
    message: str = ""
    stream: str = ""
