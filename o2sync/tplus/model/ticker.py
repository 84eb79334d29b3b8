"""Twin of ``tplus.model.ticker`` (re-exports only)."""

from .._account_models import (
    BookLevel,
    Ticker,
    TickerOpenInterest,
)

__all__ = [
    "BookLevel",
    "Ticker",
    "TickerOpenInterest",
]
