"""Twin of ``tplus.model.market``."""

from ..models import MarketInfo

Market = MarketInfo

__all__ = ["Market", "MarketInfo"]
