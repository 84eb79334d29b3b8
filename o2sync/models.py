"""O2 event and market types, importable from here as before.

They live in :mod:`o2sync.o2.models` (the lifecycle types in
:mod:`o2sync.engine.lifecycle`); this module only re-exports them.
"""

from .engine.lifecycle import ConnectionEvent, ConnectionState
from .o2.models import (
    Balance,
    BalanceUpdate,
    DepthBook,
    DepthChange,
    DepthChanges,
    DepthLevel,
    DepthSnapshot,
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
    PackedDepthSnapshot,
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
# the depth models of o2-sdk 0.5.0
__all__ += ["DepthBook", "DepthChange", "DepthSnapshot", "PackedDepthSnapshot"]
