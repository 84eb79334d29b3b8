"""A local O2 Exchange simulator: the embedded default and the test bed.

``Simulator`` (also exported as ``o2sync.testing.Simulator``) serves the O2 REST
and WebSocket protocols on one loopback port, driven by a seeded market engine,
with fault controls for tests. Needs the ``websockets`` package (``o2sync[sim]``).
"""

from __future__ import annotations

from .markets import ACCOUNT_ID, DEFAULT_MARKETS
from .records import ConnectionRecord
from .simulator import Simulator

__all__ = ["ACCOUNT_ID", "DEFAULT_MARKETS", "ConnectionRecord", "Simulator"]
