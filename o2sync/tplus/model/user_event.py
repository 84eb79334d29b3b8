"""Twin of ``tplus.model.user_event`` (re-exports only)."""

from .._account_models import (
    CalledVenue,
    DepositLanded,
    MarginCallUpdated,
    PositionCleared,
    SubAccountAssetTransferred,
    UserActivityEvent,
    WithdrawalCompleted,
)

__all__ = [
    "CalledVenue",
    "DepositLanded",
    "MarginCallUpdated",
    "PositionCleared",
    "SubAccountAssetTransferred",
    "UserActivityEvent",
    "WithdrawalCompleted",
]
