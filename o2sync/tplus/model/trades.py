"""Twin of ``tplus.model.trades``: ``from o2sync.tplus.model.trades import Trade``."""

from ..history import HistoricalUserTrade, UserTradesPage
from ..models import (
    Trade,
    TradeConfirmedEvent,
    TradeEvent,
    TradePendingEvent,
    TradeRollbackedEvent,
    UserTrade,
)

__all__ = [
    "HistoricalUserTrade",
    "Trade",
    "TradeConfirmedEvent",
    "TradeEvent",
    "TradePendingEvent",
    "TradeRollbackedEvent",
    "UserTrade",
    "UserTradesPage",
]
