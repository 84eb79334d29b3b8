"""Twin of ``tplus.model.position`` (re-exports only)."""

from .._account_models import (
    PositionResponse,
    PositionUpdate,
    UserPositionsPage,
)

PositionSide = str
"""tpluspy's ``Literal["long", "short", "closed"]``: the wire text, kept as sent."""

__all__ = [
    "PositionResponse",
    "PositionSide",
    "PositionUpdate",
    "UserPositionsPage",
]
