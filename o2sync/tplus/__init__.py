"""tplus for blocking code: MarketDataClient, OrderBookClient, a self-healing book.

Same names as the tpluspy streams guide (``stream_finalized_trades``,
``stream_depth``, ``stream_orders``...), without ``async``::

    from o2sync.tplus import MarketDataClient, AssetIdentifier
    with MarketDataClient("http://127.0.0.1:8011") as md:
        for diff in md.stream_depth(AssetIdentifier(200)):
            print(diff.sequence_number, diff.bids[:1])
"""

from .asset import AssetIdentifier
from .auth import Credentials, TokenStore, User, load_user
from .book import Level, SequencedBook, SequenceGap
from .client import MarketDataClient, OrderBookClient
from .errors import AuthError, KeyFileError, UnknownEventKind, UserNotFoundError, WrongPasswordError
from .models import (
    KlinesPage,
    KlineUpdate,
    MarketInfo,
    Order,
    OrderAmendedEvent,
    OrderAmendFailedEvent,
    OrderBook,
    OrderBookDiff,
    OrderCanceledEvent,
    OrderCancelFailedEvent,
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderCreateFailedEvent,
    OrderEvent,
    OrderFailedEvent,
    OrderRemovedEvent,
    OrderReplacedEvent,
    OrderReplaceFailedEvent,
    OrderTriggeredEvent,
    OrderUpdatedEvent,
    Side,
    Timebar,
    Trade,
    TradeConfirmedEvent,
    TradeEvent,
    TradePendingEvent,
    TradeRollbackedEvent,
    UserTrade,
)

__all__ = [
    "AssetIdentifier",
    "AuthError",
    "Credentials",
    "KeyFileError",
    "KlineUpdate",
    "KlinesPage",
    "Level",
    "MarketDataClient",
    "MarketInfo",
    "Order",
    "OrderAmendFailedEvent",
    "OrderAmendedEvent",
    "OrderBook",
    "OrderBookClient",
    "OrderBookDiff",
    "OrderCancelFailedEvent",
    "OrderCanceledEvent",
    "OrderCancelledEvent",
    "OrderCreateFailedEvent",
    "OrderCreatedEvent",
    "OrderEvent",
    "OrderFailedEvent",
    "OrderRemovedEvent",
    "OrderReplaceFailedEvent",
    "OrderReplacedEvent",
    "OrderTriggeredEvent",
    "OrderUpdatedEvent",
    "SequenceGap",
    "SequencedBook",
    "Side",
    "Timebar",
    "TokenStore",
    "Trade",
    "TradeConfirmedEvent",
    "TradeEvent",
    "TradePendingEvent",
    "TradeRollbackedEvent",
    "UnknownEventKind",
    "User",
    "UserNotFoundError",
    "UserTrade",
    "WrongPasswordError",
    "load_user",
]

# tickers, open interest, positions, account events, intent, margin, solvency (issue 17)
from ._account_models import (
    AccountMarginInfo,
    AccountSolvency,
    BookLevel,
    CalledVenue,
    DepositLanded,
    IntentAggregateUpdate,
    MarginCallInfo,
    MarginCallUpdated,
    MarginWarning,
    OpenInterest,
    PositionBasisResponse,
    PositionCleared,
    PositionMarginInfo,
    PositionResponse,
    PositionUpdate,
    SubAccountAssetTransferred,
    SubAccountNamesResponse,
    Ticker,
    TickerOpenInterest,
    UserActivityEvent,
    UserMarginInfo,
    UserPositionsPage,
    UserSolvency,
    WithdrawalCompleted,
)
from .errors import MissingClientUserError

__all__ += [
    "AccountMarginInfo", "AccountSolvency", "BookLevel", "CalledVenue", "DepositLanded",
    "IntentAggregateUpdate", "MarginCallInfo", "MarginCallUpdated", "MarginWarning",
    "MissingClientUserError", "OpenInterest", "PositionBasisResponse", "PositionCleared",
    "PositionMarginInfo", "PositionResponse", "PositionUpdate", "SubAccountAssetTransferred",
    "SubAccountNamesResponse", "Ticker", "TickerOpenInterest", "UserActivityEvent",
    "UserMarginInfo", "UserPositionsPage", "UserSolvency", "WithdrawalCompleted",
]
