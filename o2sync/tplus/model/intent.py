"""Twin of ``tplus.model.intent`` (re-exports only)."""

from .._account_models import (
    IntentAggregateUpdate,
)

__all__ = [
    "IntentAggregateUpdate",
]
