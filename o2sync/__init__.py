"""o2sync: a synchronous, threaded client for the O2 Exchange real-time streams.

Blocking iteration, callbacks and thread-safe queues over the same streams the
official async SDK offers, with the same method and attribute names::

    from o2sync import O2Client
    with O2Client(ws_url=..., api_url=...) as client:
        for update in client.stream_depth("fFUEL/fUSDC"):
            print(update.changes.best_bid)
"""

from .engine.lifecycle import ConnectionEvent, ConnectionState
from .engine.merge import merge
from .engine.options import Overflow
from .engine.subscription import Subscription
from .errors import (
    ApiError,
    AuthError,
    CallbackError,
    ClientClosedError,
    ConnectError,
    DecodeError,
    MalformedResponseError,
    MarketNotFoundError,
    O2SyncError,
    RateLimitedError,
    ServerError,
    StreamFailedError,
    StreamOverflow,
    SubscriptionClosed,
)
from .o2.book import LiveOrderBook
from .o2.client import O2Client
from .o2.models import (
    Balance,
    BalanceUpdate,
    DepthBook,
    DepthChange,
    DepthChanges,
    DepthLevel,
    DepthSnapshot,
    DepthUpdate,
    Market,
    MarketAsset,
    NonceUpdate,
    Order,
    OrderUpdate,
    Side,
    Trade,
    TradeUpdate,
)
from .o2.network import Network

__version__ = "0.1.0"

__all__ = [
    "ApiError", "AuthError", "Balance", "BalanceUpdate", "CallbackError", "ClientClosedError",
    "ConnectError", "ConnectionEvent", "ConnectionState", "DecodeError", "DepthChanges",
    "DepthLevel", "DepthUpdate", "LiveOrderBook", "MalformedResponseError", "Market", "MarketAsset",
    "MarketNotFoundError", "Network", "NonceUpdate", "O2Client", "O2SyncError", "Order",
    "OrderUpdate", "Overflow", "RateLimitedError", "ServerError", "Side", "StreamFailedError",
    "StreamOverflow",
    "Subscription", "SubscriptionClosed", "Trade", "TradeUpdate", "merge",
]
# the depth models of o2-sdk 0.5.0
__all__ += ["DepthBook", "DepthChange", "DepthSnapshot"]
