"""Twin of ``tplus.model.order``: the order event classes."""

from ..history import HistoricalUserOrder, OrderResponse, UserOrdersPage
from ..models import (
    Order,
    OrderAmendedEvent,
    OrderAmendFailedEvent,
    OrderCancelFailedEvent,
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderCreateFailedEvent,
    OrderEvent,
    OrderRemovedEvent,
    OrderReplacedEvent,
    OrderReplaceFailedEvent,
    OrderTriggeredEvent,
    OrderUpdatedEvent,
    Side,
    TradeTarget,
)

BaseOrderEvent = OrderEvent

__all__ = [
    "BaseOrderEvent",
    "HistoricalUserOrder",
    "Order",
    "OrderAmendFailedEvent",
    "OrderAmendedEvent",
    "OrderCancelFailedEvent",
    "OrderCancelledEvent",
    "OrderCreateFailedEvent",
    "OrderCreatedEvent",
    "OrderEvent",
    "OrderRemovedEvent",
    "OrderReplaceFailedEvent",
    "OrderReplacedEvent",
    "OrderResponse",
    "OrderTriggeredEvent",
    "OrderUpdatedEvent",
    "Side",
    "TradeTarget",
    "UserOrdersPage",
]
