"""How the tplus simulator writes values and errors on the wire (§5.1, §9).

Simulator convention (§9): decimal fields are decimal strings in human units,
depth levels are short JSON numbers; ``floats=True`` sends decimal fields as JSON
floats instead, so a client can test exact decoding. Integer fields are JSON ints.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Optional, Union

from ...numbers import exact_scaleb

Number = Union[str, float]


def human(units: int, decimals: int) -> Decimal:
    """Book units to a human-unit Decimal: ``human(387125, 2) == Decimal("3871.25")``."""
    return exact_scaleb(units, -decimals)


class Encoder:
    """Number formatting chosen once per simulator (strings or floats)."""

    def __init__(self, floats: bool = False) -> None:
        self.floats = floats

    def dec(self, value: Decimal) -> Number:
        """A decimal field: a string, or a JSON float with ``floats=True``."""
        return float(value) if self.floats else _plain(value)

    @staticmethod
    def level(price: Decimal, quantity: Decimal) -> list[Number]:
        """A depth level ``[price, quantity]`` as short JSON numbers; a value a float
        cannot hold exactly (more digits than a double keeps) goes out as a decimal
        string instead, which the protocol also allows, so the wire stays exact."""
        return [_short(price), _short(quantity)]


def _short(value: Decimal) -> Number:
    number = float(value)
    return number if Decimal(repr(number)) == value else _plain(value)


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
