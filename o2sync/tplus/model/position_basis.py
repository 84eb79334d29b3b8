"""Twin of ``tplus.model.position_basis`` (re-exports only)."""

from .._account_models import (
    PositionBasisResponse,
)

__all__ = [
    "PositionBasisResponse",
]
