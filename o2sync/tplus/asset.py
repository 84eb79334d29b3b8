"""``AssetIdentifier``: a tplus asset, as a registry index or ``address@chain``.

Wire form (protocol §8): a JSON string, either a registry index (``"200"``) or a
32-byte address as 64 hex, ``@``, and a 9-byte chain id as exactly 18 hex (one
routing byte, ``00`` for EVM, then the 8-byte big-endian chain number). The string
goes into paths as is (``/marketdepth/diff/200``); ``@`` is not percent-encoded.
"""

from __future__ import annotations

import json
import re
from typing import Any, Union

__all__ = ["AssetIdentifier", "AssetLike"]

_HEX = re.compile(r"[0-9a-f]*", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_ADDRESS_HEX = 64
_EVM_ADDRESS_HEX = 40
_CHAIN_HEX = 18
_MAX_INDEX = 2**64 - 1

AssetLike = Union["AssetIdentifier", int, str, dict[str, Any]]

_FORMS = (
    "expected a registry index (200, '200') or '<64 hex address>@<18 hex chain id>' "
    "(a 40-hex EVM address is padded on the right)"
)


def _strip_0x(text: str) -> str:
    return text[2:] if text[:2] in ("0x", "0X") else text


def _hex_half(text: str, what: str, original: Any) -> str:
    half = _strip_0x(text).lower()
    if _HEX.fullmatch(half) is None:
        raise ValueError(f"invalid asset identifier {original!r}: {what} is not hexadecimal")
    return half


def _from_index(index: int, original: Any) -> str:
    if index < 0:
        raise ValueError(f"invalid asset identifier {original!r}: an index cannot be negative")
    if index > _MAX_INDEX:
        raise ValueError(f"invalid asset identifier {original!r}: index out of range")
    return str(index)


def _from_address(text: str, original: Any) -> str:
    address_part, _, chain_part = text.partition("@")
    if "@" in chain_part:
        raise ValueError(f"invalid asset identifier {original!r}: more than one '@'")
    address = _hex_half(address_part, "the address", original)
    chain = _hex_half(chain_part, "the chain id", original)
    if len(address) == _EVM_ADDRESS_HEX:
        address = address.ljust(_ADDRESS_HEX, "0")  # protocol §8: pad on the RIGHT
    if len(address) != _ADDRESS_HEX:
        raise ValueError(
            f"invalid asset identifier {original!r}: the address must be 32 bytes "
            f"(64 hex) or a 20-byte EVM address (40 hex), got {len(address)} hex digits"
        )
    if len(chain) != _CHAIN_HEX:
        raise ValueError(
            f"invalid asset identifier {original!r}: the chain id must be exactly 18 hex "
            f"(routing byte + 8-byte chain number), got {len(chain)} hex digits"
        )
    return f"{address}@{chain}"


def _from_bytes_list(value: Any, size: int, what: str, original: Any) -> str:
    if (
        not isinstance(value, list)
        or len(value) != size
        or not all(type(b) is int and 0 <= b <= 255 for b in value)
    ):
        raise ValueError(f"invalid asset identifier {original!r}: {what} must be {size} bytes")
    return bytes(value).hex()


def _normalise(value: Any) -> str:
    if isinstance(value, AssetIdentifier):
        return value._value
    kind = type(value)
    if kind is bool:
        raise TypeError(f"invalid asset identifier {value!r}: a boolean is not an asset")
    if isinstance(value, int) and kind is not bool:
        return _from_index(int(value), value)
    if isinstance(value, str):
        if "@" in value:
            return _from_address(value, value)
        if _DIGITS.fullmatch(value) is not None:
            return _from_index(int(value), value)
        raise ValueError(f"invalid asset identifier {value!r}: {_FORMS}")
    if isinstance(value, dict):
        return _from_legacy_dict(value)
    raise TypeError(f"invalid asset identifier {value!r} ({kind.__name__}): {_FORMS}")


def _from_legacy_dict(value: dict[str, Any]) -> str:
    if len(value) != 1:
        raise ValueError(
            f"invalid asset identifier {value!r}: expected {{'Index': n}} or {{'Address': ...}}"
        )
    if "Index" in value:
        index = value["Index"]
        if type(index) is int or (type(index) is str and _DIGITS.fullmatch(index)):
            return _from_index(int(index), value)
        raise ValueError(f"invalid asset identifier {value!r}: Index must be an integer")
    if "Address" in value:
        inner = value["Address"]
        if isinstance(inner, str):
            return _from_address(inner, value)
        if isinstance(inner, dict) and set(inner) == {"address", "chain"}:
            address = _from_bytes_list(inner["address"], 32, "address", value)
            chain = _from_bytes_list(inner["chain"], 9, "chain", value)
            return f"{address}@{chain}"
        raise ValueError(
            f"invalid asset identifier {value!r}: Address must be 'hex@chain' or "
            "{'address': [32 bytes], 'chain': [9 bytes]}"
        )
    raise ValueError(f"invalid asset identifier {value!r}: expected an 'Index' or 'Address' key")


class AssetIdentifier:
    """A validated tplus asset id; ``str(asset)`` is the wire and path form.

    ``AssetIdentifier(200)``, ``AssetIdentifier("200")``, ``AssetIdentifier("0x82af…@0x00…a4b1")``
    (``0x`` stripped from both halves, lowercased, a 20-byte EVM address padded on
    the right to 32 bytes), another ``AssetIdentifier``, or the legacy dicts
    ``{"Index": 200}`` / ``{"Address": {"address": [...], "chain": [...]}}``.
    Bad input raises ``ValueError`` (or ``TypeError`` for a wrong type) at the call.

    Equality and hashing use the normalised string, so an identifier also equals
    that exact plain string: ``AssetIdentifier(200) == "200"`` (but not ``"0200"``;
    normalise first: ``AssetIdentifier("0200") == AssetIdentifier(200)``).
    """

    __slots__ = ("_value",)

    def __init__(self, value: AssetLike) -> None:
        self._value = _normalise(value)

    @classmethod
    def from_evm_address(cls, address: str, chain_id: int, routing_id: int = 0) -> AssetIdentifier:
        """The identifier of an EVM token: ``address`` (40 hex) on chain number ``chain_id``."""
        if type(chain_id) is not int or not 0 <= chain_id < 2**64:
            raise ValueError(f"chain_id must be an integer in [0, 2**64), got {chain_id!r}")
        if type(routing_id) is not int or not 0 <= routing_id < 256:
            raise ValueError(f"routing_id must be a byte, got {routing_id!r}")
        chain = bytes([routing_id]) + chain_id.to_bytes(8, "big")
        return cls(f"{address}@{chain.hex()}")

    # ------------------------------------------------------------------ views

    @property
    def is_index(self) -> bool:
        """True for a registry index (``"200"``), False for ``address@chain``."""
        return "@" not in self._value

    @property
    def indexed(self) -> bool:
        """tpluspy's name for :attr:`is_index`."""
        return self.is_index

    @property
    def index(self) -> int:
        """The registry index; ``ValueError`` for an address-form identifier."""
        if not self.is_index:
            raise ValueError(f"{self!r} is an address@chain identifier, not a registry index")
        return int(self._value)

    @property
    def address(self) -> str:
        """The 32-byte address as 64 lowercase hex; ``ValueError`` for an index."""
        return self._parts()[0]

    @property
    def chain(self) -> str:
        """The 9-byte chain id as 18 lowercase hex; ``ValueError`` for an index."""
        return self._parts()[1]

    chain_hex = chain  # tpluspy's name

    @property
    def routing_id(self) -> int:
        """The chain id's routing byte (``0`` for EVM chains)."""
        return int(self.chain[:2], 16)

    @property
    def chain_number(self) -> int:
        """The chain id's 8-byte chain number (Arbitrum One: 42161)."""
        return int(self.chain[2:], 16)

    @property
    def evm_address(self) -> str:
        """``0x`` + the first 20 bytes of the address (not checksummed)."""
        return "0x" + self.address[:_EVM_ADDRESS_HEX]

    def _parts(self) -> tuple[str, str]:
        if self.is_index:
            raise ValueError(f"{self!r} is a registry index; it has no address or chain")
        address, _, chain = self._value.partition("@")
        return address, chain

    # ------------------------------------------------------------- protocols

    def __str__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"AssetIdentifier({self._value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AssetIdentifier):
            return self._value == other._value
        if isinstance(other, str):
            # Only the normalised text: equal objects must hash equal.
            return self._value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (AssetIdentifier, (self._value,))

    def to_json(self) -> str:
        """The wire form (what dataclasses-json emits for models holding an asset)."""
        return self._value

    # pydantic's root-model conveniences (tpluspy's AssetIdentifier is a RootModel)

    def model_dump(self, **_ignored: Any) -> str:
        """The wire string, as tpluspy's root model dumps it."""
        return self._value

    def model_dump_json(self, **_ignored: Any) -> str:
        """The wire string as a JSON string."""
        return json.dumps(self._value)

    @classmethod
    def model_validate(cls, obj: Any, **_ignored: Any) -> AssetIdentifier:
        """An asset id from anything the constructor takes (an instance as is)."""
        return obj if isinstance(obj, cls) else cls(obj)
