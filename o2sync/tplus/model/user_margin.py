"""Twin of ``tplus.model.user_margin`` (re-exports only)."""

from .._account_models import (
    AccountMarginInfo,
    AssetNettingInfo,
    MarginCallInfo,
    MarginPositionSide,
    MarginWarning,
    PositionMarginInfo,
    UserMarginInfo,
)

PositionSide = MarginPositionSide
"""tpluspy's margin ``PositionSide`` enum (``"Long"``/``"Short"``)."""

__all__ = [
    "AccountMarginInfo",
    "AssetNettingInfo",
    "MarginCallInfo",
    "MarginWarning",
    "PositionMarginInfo",
    "PositionSide",
    "UserMarginInfo",
]
