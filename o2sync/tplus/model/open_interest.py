"""Twin of ``tplus.model.open_interest`` (re-exports only)."""

from .._account_models import (
    OpenInterest,
)

__all__ = [
    "OpenInterest",
]
