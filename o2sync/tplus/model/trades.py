"""Twin of ``tplus.model.trades``: ``from o2sync.tplus.model.trades import Trade``."""

from ..models import (
    Trade,
    TradeConfirmedEvent,
    TradeEvent,
    TradePendingEvent,
    TradeRollbackedEvent,
    UserTrade,
)

__all__ = [
    "Trade",
    "TradeConfirmedEvent",
    "TradeEvent",
    "TradePendingEvent",
    "TradeRollbackedEvent",
    "UserTrade",
]
