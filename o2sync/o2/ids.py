"""``Id``: a hex identifier that always reads ``0x`` + lowercase, as o2-sdk's ``Id`` does."""

from __future__ import annotations

_HEX = frozenset("0123456789abcdefABCDEF")


class Id(str):
    """A hex id (market, contract, order, asset) normalised to ``0x`` + lowercase.

    The exchange spells ids with or without ``0x`` and in either case; an ``Id``
    compares equal to any ``str`` spelling of the same id (``Id("AB") == "0xab"``)
    and hashes like its normalised text, so it works as a ``dict`` key next to
    plain strings. An empty or non-hex value raises ``ValueError``.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Id:
        if not isinstance(value, str):
            raise ValueError(f"an Id is a hex string, got {value!r}")
        digits = value[2:] if value[:2] in ("0x", "0X") else value
        if not digits or not _HEX.issuperset(digits):
            raise ValueError(f"an Id is a non-empty hex string, got {value!r}")
        return super().__new__(cls, "0x" + digits.lower())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            text = other if other[:2] in ("0x", "0X") else "0x" + other
            return str.__eq__(self, text.lower())
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __repr__(self) -> str:
        return f"Id({str.__repr__(self)})"


def opt_id(value: object) -> Id | None:
    """``Id(value)``, or None for None."""
    return None if value is None else Id(value)  # type: ignore[arg-type]
