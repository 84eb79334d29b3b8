"""Twin of ``tplus.model.user_solvency`` (re-exports only)."""

from .._account_models import (
    AccountSolvency,
    UserSolvency,
)

__all__ = [
    "AccountSolvency",
    "UserSolvency",
]
