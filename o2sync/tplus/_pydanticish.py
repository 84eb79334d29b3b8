"""pydantic v2's model conveniences for o2sync's tplus models (PARITY rule 5).

tpluspy's models are pydantic ``BaseModel`` s, so code written against it calls
``model_dump()``, ``model_dump_json()`` and ``Model.model_validate(obj)``. o2sync's
models are frozen dataclasses (no pydantic dependency); :class:`TplusModel` gives
them the same three calls, plus ``model_validate_json``, ``model_copy`` and
``model_fields``. Apply it by deriving from it instead of ``DataClassJsonMixin``
(it is one, so ``to_dict()`` / ``to_json()`` keep working)::

    @dataclass(frozen=True)
    class Ticker(TplusModel):
        asset_id: AssetIdentifier
        ...

What the calls do, as pydantic does:

* ``model_dump()`` (``mode="python"``): a ``dict`` of the fields, nested models as
  dicts, ``Decimal`` kept exact, an asset id as its wire string, a level tuple as
  a list. ``mode="json"``: JSON-safe values (``Decimal`` → ``str``, enums → their
  value, dict keys → ``str``). ``exclude_none``, ``include`` and ``exclude`` (sets
  of top-level names) are honoured.
* ``model_validate(obj)``: an instance of the class from a ``dict`` (the wire shape
  or a ``model_dump``), validated by o2sync's strict rules (exact decimals, JSON
  integers and booleans); an instance is returned as is. A class with a decoder of
  its own (registered with :func:`register_validator`) uses it. Errors raise
  :class:`ValidationError`, a ``ValueError`` like pydantic's.

Fields only: properties are not dumped, except the names a class lists in
``_dump_extra`` (tpluspy's ``event_type``, which is a field there and a property here).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import typing
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Callable, ClassVar, Optional, TypeVar, Union

from dataclasses_json import DataClassJsonMixin

from ..errors import DecodeError
from ..numbers import strict_bool, strict_decimal, strict_int, strict_str
from .asset import AssetIdentifier

__all__ = ["RowsPage", "TplusModel", "ValidationError", "register_validator"]

M = TypeVar("M", bound="TplusModel")
_VALIDATORS: dict[type, Callable[[Any], Any]] = {}
_HINTS: dict[type, dict[str, Any]] = {}
_NONE = type(None)


class ValidationError(DecodeError, ValueError):
    """``model_validate`` refused its input (pydantic's ``ValidationError`` is a
    ``ValueError`` too); ``reason`` names the field."""


def register_validator(cls: type, validator: Callable[[Any], Any]) -> None:
    """Make ``cls.model_validate(dict)`` use ``validator`` (a strict wire decoder)."""
    _VALIDATORS[cls] = validator


class _ModelFields:
    """``Model.model_fields``: ``{name: dataclasses.Field}`` in declaration order."""

    def __get__(self, obj: Any, owner: type) -> dict[str, dataclasses.Field[Any]]:
        return {f.name: f for f in dataclasses.fields(owner)}


class TplusModel(DataClassJsonMixin):
    """Mixin of every tplus model: pydantic-style dump and validate on a dataclass."""

    _dump_extra: ClassVar[tuple[str, ...]] = ()
    model_fields: ClassVar[dict[str, dataclasses.Field[Any]]] = _ModelFields()  # type: ignore[assignment]

    def model_dump(self, *, mode: str = "python", include: Optional[set[str]] = None,
                   exclude: Optional[set[str]] = None, exclude_none: bool = False,
                   **_ignored: Any) -> dict[str, Any]:
        """The fields as a ``dict`` (``mode="json"``: JSON-safe values)."""
        if mode not in ("python", "json"):
            raise ValueError(f"mode must be 'python' or 'json', got {mode!r}")
        names = [f.name for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        names += self._dump_extra
        out: dict[str, Any] = {}
        for name in names:
            if (include is not None and name not in include) or (exclude and name in exclude):
                continue
            value = getattr(self, name)
            if value is None and exclude_none:
                continue
            out[name] = _dump(value, mode, exclude_none)
        return out

    def model_dump_json(self, *, indent: Optional[int] = None,
                        include: Optional[set[str]] = None,
                        exclude: Optional[set[str]] = None, exclude_none: bool = False,
                        **_ignored: Any) -> str:
        """The fields as JSON text (exact decimals as strings)."""
        body = self.model_dump(mode="json", include=include, exclude=exclude,
                               exclude_none=exclude_none)
        if indent is None:
            return json.dumps(body, separators=(",", ":"))
        return json.dumps(body, indent=indent)

    @classmethod
    def model_validate(cls: type[M], obj: Any, **_ignored: Any) -> M:
        """An instance from ``obj`` (a ``dict`` or an instance), strictly validated."""
        if isinstance(obj, cls):
            return obj
        validator = _VALIDATORS.get(cls)
        try:
            result = validator(obj) if validator is not None else _build(cls, obj, cls.__name__)
        except ValidationError:
            raise
        except DecodeError as exc:
            raise ValidationError(exc.reason, exc.raw) from None
        if not isinstance(result, cls):
            raise ValidationError(f"{cls.__name__}: got a {type(result).__name__}", obj)
        return result

    @classmethod
    def model_validate_json(cls: type[M], data: Union[str, bytes], **_ignored: Any) -> M:
        """:meth:`model_validate` of JSON text, its numbers parsed exactly."""
        from .decode import parse_frame

        return cls.model_validate(parse_frame(data))

    def model_copy(self: M, *, update: Optional[Mapping[str, Any]] = None,
                   **_ignored: Any) -> M:
        """A copy with ``update`` applied (frozen models are changed this way)."""
        copy: M = dataclasses.replace(self, **dict(update or {}))  # type: ignore[type-var]
        return copy


def _dump(value: Any, mode: str, exclude_none: bool) -> Any:
    if isinstance(value, TplusModel):
        return value.model_dump(mode=mode, exclude_none=exclude_none)
    if isinstance(value, AssetIdentifier):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value if mode == "json" else value
    if isinstance(value, Decimal):
        return str(value) if mode == "json" else value
    if isinstance(value, (list, tuple)):
        return [_dump(v, mode, exclude_none) for v in value]
    if isinstance(value, dict):
        return {(str(k) if mode == "json" else k): _dump(v, mode, exclude_none)
                for k, v in value.items()}
    if isinstance(value, (datetime.datetime, datetime.date)) and mode == "json":
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name), mode, exclude_none)
                for f in dataclasses.fields(value)}
    return value


# ---------------------------------------------------------------- validation


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _build(cls: type, obj: Any, what: str) -> Any:
    """An instance of dataclass ``cls`` from a mapping, each field by its annotation."""
    if isinstance(obj, cls):
        return obj
    if not isinstance(obj, Mapping):
        raise DecodeError(f"{what}: expected an object, got {type(obj).__name__}", obj)
    hints = _hints(cls)
    aliases: Mapping[str, str] = getattr(cls, "_field_aliases", {})
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = f.name if f.name in obj else aliases.get(f.name, f.name)
        if key not in obj:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DecodeError(f"{what}.{f.name}: missing field", obj)
            continue
        kwargs[f.name] = _convert(hints[f.name], obj[key], f"{what}.{f.name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"{what}: {exc}", obj) from None


def _convert(tp: Any, value: Any, what: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Union:
        args = typing.get_args(tp)
        if value is None:
            if _NONE in args:
                return None
            raise DecodeError(f"{what}: must not be null", value)
        errors = []
        for arg in args:
            if arg is _NONE:
                continue
            try:
                return _convert(arg, value, what)
            except DecodeError as exc:
                errors.append(exc.reason)
        raise DecodeError(errors[0] if len(errors) == 1 else f"{what}: no variant fits", value)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise DecodeError(f"{what}: expected an array", value)
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise DecodeError(f"{what}: expected {len(args)} items", value)
            return tuple(_convert(a, v, f"{what}[{i}]")
                         for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        converted = [_convert(item, v, f"{what}[{i}]") for i, v in enumerate(value)]
        return converted if origin is list else tuple(converted)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise DecodeError(f"{what}: expected an object", value)
        key_tp, val_tp = typing.get_args(tp) or (Any, Any)
        return {_key(key_tp, k, what): _convert(val_tp, v, f"{what}[{k}]")
                for k, v in value.items()}
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise DecodeError(f"{what}: expected one of {typing.get_args(tp)}", value)
        return value
    return _scalar(tp, value, what)


def _key(tp: Any, key: Any, what: str) -> Any:
    if tp is int:
        return strict_int(key, f"{what} key")
    return key


def _scalar(tp: Any, value: Any, what: str) -> Any:
    if tp is Decimal:
        return strict_decimal(value, what, signed=True)
    if tp is bool:
        return strict_bool(value, what)
    if tp is int:
        return strict_int(value, what, signed=True)
    if tp is str:
        return strict_str(value, what)
    if tp is AssetIdentifier:
        try:
            return AssetIdentifier(value)
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"{what}: {exc}", value) from None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)  # an enum's own _missing_ takes other spellings
        except ValueError:
            raise DecodeError(f"{what}: not a {tp.__name__}", value) from None
    if isinstance(tp, type) and issubclass(tp, TplusModel):
        validator = _VALIDATORS.get(tp)
        return validator(value) if validator is not None else _build(tp, value, what)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, what)
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        raise DecodeError(f"{what}: expected {tp.__name__}", value)
    return value


class RowsPage(Sequence[Any]):
    """A page that behaves as the sequence of its rows, as tpluspy's pages do:
    iteration, ``len``, indexing and slicing, truth, ``in``, and ``==`` a plain list.

    A page class names its rows field in ``_rows_field`` and is declared with
    ``@dataclass(frozen=True, eq=False)`` so this ``__eq__`` is the one used.
    """

    _rows_field: ClassVar[str] = ""

    def _rows(self) -> list[Any]:
        rows: list[Any] = getattr(self, self._rows_field)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())

    def __getitem__(self, index: Any) -> Any:
        return self._rows()[index]

    def __bool__(self) -> bool:
        return bool(self._rows())

    def __contains__(self, item: object) -> bool:
        return item in self._rows()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return self._rows() == other
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name)
                   for f in dataclasses.fields(self))  # type: ignore[arg-type]

    __hash__ = None  # type: ignore[assignment]
