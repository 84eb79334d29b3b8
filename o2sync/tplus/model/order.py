"""Twin of ``tplus.model.order``: the order event classes."""

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
    "OrderTriggeredEvent",
    "OrderUpdatedEvent",
    "Side",
    "TradeTarget",
]
