"""Twin of ``tplus.model.orderbook``."""

from ..models import OrderBook, OrderBookDiff

__all__ = ["OrderBook", "OrderBookDiff"]
