"""Twin of ``tplus.model.sub_account`` (re-exports only)."""

from .._account_models import (
    SubAccountNameEntry,
    SubAccountNamesResponse,
)

__all__ = [
    "SubAccountNameEntry",
    "SubAccountNamesResponse",
]
