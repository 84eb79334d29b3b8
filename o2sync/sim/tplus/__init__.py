"""A local tplus simulator: market-data (MDS) and order (OMS) services on loopback.

``TplusSimulator`` (also ``o2sync.testing.TplusSimulator``) serves the tplus REST
and WebSocket protocols of ``tplus-streams.md`` (tpluspy 0.6.0), each service one
origin on its own port, driven by a seeded market engine, with login (Ed25519),
fault controls and records for tests. Needs ``aiohttp`` and ``cryptography``
(``o2sync[sim]``).

Modules: ``markets`` (assets, default user), ``engine`` (the market), ``klines``
(bars), ``auth`` (nonces, signatures, tokens), ``wire`` (numbers, errors),
``faults`` and ``records`` (switches, observations), ``server`` (listeners and
fan-out), ``routes`` (REST/WS paths, listed there), ``simulator`` (the front).
"""

from __future__ import annotations

from .auth import TokenRecord, UserKey, signed_bytes, verify_signature
from .markets import ASSET_ADDRESS, ASSET_INDEX, DEFAULT_MARKETS, DEFAULT_USER_SEED, MarketSpec
from .records import HandshakeRecord, RequestRecord
from .simulator import TplusSimulator

__all__ = [
    "ASSET_ADDRESS", "ASSET_INDEX", "DEFAULT_MARKETS", "DEFAULT_USER_SEED", "HandshakeRecord",
    "MarketSpec", "RequestRecord", "TokenRecord", "TplusSimulator", "UserKey", "signed_bytes",
    "verify_signature",
]
