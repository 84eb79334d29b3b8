"""O2 event and market types, importable from here as before.

They live in :mod:`o2sync.o2.models` (the lifecycle types in
:mod:`o2sync.engine.lifecycle`); this module only re-exports them.
"""

from .engine.lifecycle import ConnectionEvent, ConnectionState
from .o2.models import (
    Balance,
    BalanceUpdate,
    DepthChanges,
    DepthLevel,
    DepthUpdate,
    Event,
    Market,
    MarketAsset,
    NonceUpdate,
    Number,
    Order,
    OrderBookBalance,
    OrderUpdate,
    PackedDepthChanges,
    Side,
    Trade,
    TradeUpdate,
)

__all__ = [
    "Balance", "BalanceUpdate", "ConnectionEvent", "ConnectionState", "DepthChanges",
    "DepthLevel", "DepthUpdate", "Event", "Market", "MarketAsset", "NonceUpdate", "Number",
    "Order", "OrderBookBalance", "OrderUpdate", "PackedDepthChanges", "Side", "Trade",
    "TradeUpdate",
]
