"""Twin of ``tplus.model.market``."""

from ..history import Asset, FeeTierConfig, MarketFeeSchedule, MarketResponse, MarketsPage
from ..models import MarketInfo

Market = MarketInfo

__all__ = ["Asset", "FeeTierConfig", "Market", "MarketFeeSchedule", "MarketInfo",
           "MarketResponse", "MarketsPage"]
