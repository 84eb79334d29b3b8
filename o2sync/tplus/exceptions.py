"""Twin of ``tplus.exceptions``: ``from o2sync.tplus.exceptions import OmsError``."""

from .errors import (
    AuthError,
    BaseTplusException,
    MissingClientUserError,
    NotFoundError,
    OmsError,
    OrderRejected,
    RateLimitError,
    ServerError,
    SignerRegistryUnavailable,
)

__all__ = [
    "AuthError",
    "BaseTplusException",
    "MissingClientUserError",
    "NotFoundError",
    "OmsError",
    "OrderRejected",
    "RateLimitError",
    "ServerError",
    "SignerRegistryUnavailable",
]
