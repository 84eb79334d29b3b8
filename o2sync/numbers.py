"""Strict scalar parsers for wire values, shared by every venue's decoder.

Python's own conversions are too lenient for a trading wire: ``int("١٢٣")`` is
123, ``int(" +1_000 ")`` is 1000, ``Decimal("NaN")`` is a number and ``bool("false")``
is ``True``. These parsers accept exactly the forms a server sends and raise
:class:`~o2sync.errors.DecodeError` (naming the field) for anything else:

* :func:`strict_decimal`: a ``Decimal`` (what ``json.loads(parse_float=Decimal)``
  makes of a fractional JSON number), a JSON integer, or an ASCII decimal string
  ``-?[0-9]+(.[0-9]+)?([eE][-+]?[0-9]+)?``. Never a binary ``float`` (its text is
  already lost), never NaN/Infinity, never ``bool``. A leading ``-`` only with
  ``signed=True``; a leading ``+``, spaces, ``_``, hex and non-ASCII digits never.
* :func:`strict_int`: a JSON integer, or (``allow_str=True``, the default) a
  string of ASCII digits with an optional ``-`` when ``signed``. Never ``bool``,
  never a float or a ``Decimal``: ``5.0`` on the wire is a decode error, not 5.
* :func:`strict_bool`: JSON ``true``/``false`` only (not ``1``, not ``"false"``).

The fast path (the type the wire normally carries) is one ``type()`` check.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Union

from .errors import DecodeError

__all__ = ["I128_MAX", "I128_MIN", "U64_MAX", "strict_bool", "strict_decimal", "strict_int",
           "strict_str"]

#: The protocol ranges (o2-websocket.md section 3.3): O2 prices, quantities and amounts
#: are unsigned 64-bit; signed depth-delta changes are 128-bit. Outside: malformed.
U64_MAX = 2**64 - 1
I128_MIN = -(2**127)
I128_MAX = 2**127 - 1

# [0-9], not \d: \d matches every Unicode decimal digit in a str pattern.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", re.ASCII)
_INT_TEXT = re.compile(r"-?[0-9]+", re.ASCII)
# Bounds on string length: a wire number is short; a megabyte of digits is an attack.
_MAX_DECIMAL_CHARS = 100
_MAX_INT_CHARS = 80
# Magnitude bound: Decimal("1e999999999") is legal and makes arithmetic crawl.
_MAX_EXPONENT = 1000


def _fail(field: str, reason: str, value: Any) -> DecodeError:
    return DecodeError(f"{field}: {reason}", value)


def strict_decimal(value: Any, field: str = "value", *, signed: bool = False) -> Decimal:
    """An exact ``Decimal`` from a wire value, or :class:`DecodeError` naming ``field``.

    Accepts a finite ``Decimal``, an ``int`` (not ``bool``) or an ASCII decimal
    string. ``signed=False`` (prices, quantities) rejects any leading minus,
    including ``-0``.
    """
    kind = type(value)
    if kind is Decimal:
        result: Decimal = value
        if not result.is_finite():
            raise _fail(field, "not a finite number", value)
    elif kind is str:
        if len(value) > _MAX_DECIMAL_CHARS or _DECIMAL_TEXT.fullmatch(value) is None:
            raise _fail(field, "not a decimal string (ASCII digits, optional '.' part)", value)
        result = Decimal(value)
    elif kind is int:
        result = Decimal(value)
    elif kind is float:
        raise _fail(field, "a binary float reached a decimal field (parse frames exactly)", value)
    else:
        raise _fail(field, f"expected a decimal number or string, got {kind.__name__}", value)
    if not -_MAX_EXPONENT <= result.adjusted() <= _MAX_EXPONENT:
        raise _fail(field, "magnitude out of range", value)
    if not signed and result.is_signed():
        raise _fail(field, "must not be negative", value)
    return result


def strict_int(
    value: Any, field: str = "value", *, signed: bool = False, allow_str: bool = True
) -> int:
    """An exact ``int`` from a wire value, or :class:`DecodeError` naming ``field``.

    Accepts an ``int`` (not ``bool``) and, when ``allow_str``, a string of ASCII
    digits (``-`` first only when ``signed``). Rejects floats and ``Decimal``
    values even when integral (``5.0``): an integer field carries an integer.
    """
    kind = type(value)
    if kind is int:
        result: int = value
    elif kind is str and allow_str:
        if len(value) > _MAX_INT_CHARS or _INT_TEXT.fullmatch(value) is None:
            raise _fail(field, "not an integer string (ASCII digits only)", value)
        result = int(value)
    elif kind is bool:
        raise _fail(field, "expected an integer, got a boolean", value)
    elif kind is float or kind is Decimal:
        raise _fail(field, "expected an integer, got a fractional number", value)
    else:
        raise _fail(field, f"expected an integer, got {kind.__name__}", value)
    if not signed and (result < 0 or (kind is str and value.startswith("-"))):
        raise _fail(field, "must not be negative", value)
    return result


def strict_bool(value: Any, field: str = "value") -> bool:
    """A JSON boolean, or :class:`DecodeError`: ``1``, ``"true"`` and ``"false"`` are errors."""
    if value is True or value is False:
        return bool(value)
    raise _fail(field, f"expected a JSON boolean, got {type(value).__name__}", value)


def strict_str(value: Any, field: str = "value") -> str:
    """A JSON string, or :class:`DecodeError` naming ``field``."""
    if type(value) is str:
        return str(value)
    raise _fail(field, f"expected a string, got {type(value).__name__}", value)


def exact_scaleb(value: Union[Decimal, int], places: int) -> Decimal:
    """``value * 10**places``, exactly: ``Decimal.scaleb`` rounds to the context's
    28 digits, which would change a longer exact price."""
    sign, digits, exponent = Decimal(value).as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{value!r} is not a finite number")
    return Decimal((sign, digits, exponent + places))
