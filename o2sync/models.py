"""O2 event and market types, importable from here as before (and o2-sdk's
``o2_sdk.models`` names, ``TradeAccount`` among them).

They live in :mod:`o2sync.o2.models` (the lifecycle types in
:mod:`o2sync.engine.lifecycle`); this module only re-exports them.
"""

from .engine.lifecycle import ConnectionEvent, ConnectionState
from .o2.ids import Id
from .o2.models import (
    AddressIdentity,
    Balance,
    BalanceEntry,
    BalanceUpdate,
    ContractIdentity,
    DepthBook,
    DepthChange,
    DepthChanges,
    DepthLevel,
    DepthSnapshot,
    DepthUpdate,
    Event,
    Identity,
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
from .o2.resources import (
    AccountInfo,
    Bar,
    MarketsResponse,
    MarketTicker,
    OrdersResponse,
    TradeAccount,
)

__all__ = [
    "AccountInfo", "AddressIdentity", "Balance", "BalanceEntry", "BalanceUpdate", "Bar",
    "ConnectionEvent", "ConnectionState", "ContractIdentity", "DepthChanges", "DepthLevel",
    "DepthUpdate", "Event", "Id", "Identity", "Market", "MarketAsset", "MarketTicker",
    "MarketsResponse", "NonceUpdate", "Number", "Order", "OrderBookBalance", "OrderUpdate",
    "OrdersResponse", "PackedDepthChanges", "Side", "Trade", "TradeAccount", "TradeUpdate",
]
# the depth models of o2-sdk 0.5.0
__all__ += ["DepthBook", "DepthChange", "DepthSnapshot", "PackedDepthSnapshot"]
