"""How the tplus simulator writes values and errors on the wire (§5.1, §9).

Simulator convention (§9): decimal fields are decimal strings in human units,
depth levels are short JSON numbers; ``floats=True`` sends decimal fields as JSON
floats instead, so a client can test exact decoding. Integer fields are JSON ints.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Optional, Union

Number = Union[str, float]


def human(units: int, decimals: int) -> Decimal:
    """Book units to a human-unit Decimal: ``human(387125, 2) == Decimal("3871.25")``."""
    return Decimal(units).scaleb(-decimals)


class Encoder:
    """Number formatting chosen once per simulator (strings or floats)."""

    def __init__(self, floats: bool = False) -> None:
        self.floats = floats

    def dec(self, value: Decimal) -> Number:
        """A decimal field: a string, or a JSON float with ``floats=True``."""
        return float(value) if self.floats else _plain(value)

    @staticmethod
    def level(price: Decimal, quantity: Decimal) -> list[float]:
        """A depth level ``[price, quantity]`` as short JSON numbers."""
        return [float(price), float(quantity)]


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text


def dumps(payload: Any) -> str:
    """Compact JSON text of a frame or a REST body."""
    return json.dumps(payload, separators=(",", ":"))


def error_body(
    code: str, message: str, *, retryable: bool = False, details: Optional[Any] = None
) -> dict[str, Any]:
    """The structured error envelope of §5.1."""
    return {
        "error": {"code": code, "message": message, "details": details, "retryable": retryable}
    }
