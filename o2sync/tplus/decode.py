"""tplus wire JSON -> typed events, strictly (protocol §6, §9).

One function per stream or REST shape. Each takes the value :func:`parse_frame`
produced (fractional JSON numbers already ``Decimal``, never ``float``) and
returns a model from :mod:`o2sync.tplus.models`, or raises
:class:`~o2sync.errors.DecodeError` whose reason names the field: a frame is
delivered whole or not at all. Unknown order/trade event kinds raise
:class:`~o2sync.tplus.errors.UnknownEventKind` (a ``DecodeError``) so they can be
counted apart from garbage.

Strict rules (DESIGN.md "What bad input ... get"; :mod:`o2sync.numbers`):

* decimal fields: a JSON number (exact from its text) or an ASCII decimal
  string; never NaN/Infinity, ``""``, hex, ``+``, spaces, ``_`` or non-ASCII
  digits; no ``-`` except on ``trading_fee``;
* integer fields: a JSON integer or a string of ASCII digits; ``5.0``, ``true``
  and floats are errors;
* booleans: JSON ``true``/``false`` only;
* strings: JSON strings only. Unknown fields are ignored.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Optional, Union

try:  # o2sync's dependency; without it every frame takes the stdlib path below
    import msgspec
except ImportError:  # pragma: no cover - depends on the environment
    msgspec = None  # type: ignore[assignment]

from ..errors import DecodeError
from ..numbers import _MAX_EXPONENT, strict_bool, strict_decimal, strict_int, strict_str
from .asset import AssetIdentifier
from .errors import UnknownEventKind
from .models import (
    GTC,
    GTD,
    IOC,
    KlinesPage,
    KlineUpdate,
    Level,
    LimitOrderDetails,
    MarketBaseQuantity,
    MarketInfo,
    MarketOrderDetails,
    MarketQuantity,
    MarketQuoteQuantity,
    Order,
    OrderAmendedEvent,
    OrderAmendFailedEvent,
    OrderBook,
    OrderBookDiff,
    OrderCancelFailedEvent,
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderCreateFailedEvent,
    OrderEvent,
    OrderRemovedEvent,
    OrderReplacedEvent,
    OrderReplaceFailedEvent,
    OrderTrigger,
    OrderTriggeredEvent,
    OrderUpdatedEvent,
    PackedOrderBookDiff,
    Side,
    Trade,
    TradeConfirmedEvent,
    TradeEvent,
    TradePendingEvent,
    TradeRollbackedEvent,
    TradeTarget,
    UserTrade,
)

__all__ = [
    "CONTROL_TYPES",
    "control_type",
    "decode_depth_diff",
    "decode_depth_diff_frame",
    "decode_kline",
    "decode_klines",
    "decode_klines_page",
    "decode_market",
    "decode_order",
    "decode_order_event",
    "decode_orderbook",
    "decode_trade",
    "decode_trade_event",
    "decode_trades",
    "decode_user_trade",
    "decode_user_trades",
    "normalise_kind",
    "parse_frame",
]

Obj = dict[str, Any]
_MISSING: Any = object()
_TRADE_STATUSES = frozenset(("Pending", "Confirmed", "Rollbacked"))

# ----------------------------------------------------------------- framing

CONTROL_TYPES = frozenset(("subscriptions", "ping", "pong"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


# Prebuilt: json.loads(..., parse_float=...) would build a decoder per call.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


# The fast parser (msgspec, C) is used only where it provably agrees with the stdlib
# one, value for value and error for error: ASCII frames (msgspec accepts UTF-8
# encoded surrogates that bytes.decode refuses), shorter than the stdlib's 4300-digit
# int limit (a longer number in a skipped field would parse), nested far less deep
# than the stdlib's recursion limit (a frame of at most 1,800 bytes nests at most 900
# deep; a longer one has its brackets counted). Anything it refuses is parsed again by
# the stdlib path, so errors and their texts stay the stdlib's.
_FAST_MAX_BYTES = 4000
_FAST_SHALLOW_BYTES = 1800
_FAST_MAX_BRACKETS = 600
_FAST_DECODER: Any = (msgspec.json.Decoder(float_hook=Decimal) if msgspec is not None
                      else None)


def _fast_ok(data: Any) -> bool:
    if type(data) is not bytes or not data.isascii():
        return False
    size = len(data)
    return size <= _FAST_SHALLOW_BYTES or (
        size <= _FAST_MAX_BYTES
        and data.count(b"[") + data.count(b"{") < _FAST_MAX_BRACKETS)


def parse_frame(data: Union[bytes, bytearray, memoryview, str]) -> Any:
    """Parse one frame's JSON with every number exact.

    Fractional and exponent numbers become ``Decimal`` from their own text (the
    parser calls ``Decimal`` on the token; no float is ever built), integers stay
    ``int``; ``NaN``/``Infinity`` and invalid UTF-8 are errors. orjson is
    deliberately not used: it has no exact-decimal mode. Short ASCII frames are
    parsed by msgspec (C, with the number's text handed to ``Decimal``), the rest
    and every frame it refuses by the standard library's scanner.
    Raises :class:`DecodeError`.
    """
    if _FAST_DECODER is not None and _fast_ok(data):
        try:
            return _FAST_DECODER.decode(data)
        except (ValueError, RecursionError):  # msgspec.DecodeError: let the stdlib say why
            pass
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise DecodeError(f"malformed JSON frame ({exc})", _raw_text(data)) from None


def _raw_text(data: Any) -> Any:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data[:500]).decode("utf-8", "replace")
    return data


def control_type(obj: Any) -> Optional[str]:
    """``"ping"``, ``"pong"`` or ``"subscriptions"`` for a control frame, else ``None``.

    A control frame is a JSON object whose ``type`` is one of those; arrays and
    other objects (the legacy ``{"type": "updated"}`` order event included) are data.
    """
    if type(obj) is dict:
        kind = obj.get("type")
        if type(kind) is str and kind in CONTROL_TYPES:
            return str(kind)
    return None


# ---------------------------------------------------------------- helpers


def _obj(data: Any, what: str) -> Obj:
    if type(data) is not dict:
        raise DecodeError(f"{what}: expected a JSON object, got {type(data).__name__}", data)
    return data


def _get(d: Obj, key: str, what: str) -> Any:
    try:
        return d[key]
    except KeyError:
        raise DecodeError(f"{what}.{key}: missing field", d) from None


def _dec(d: Obj, key: str, what: str, signed: bool = False) -> Decimal:
    return strict_decimal(_get(d, key, what), f"{what}.{key}", signed=signed)


def _int(d: Obj, key: str, what: str) -> int:
    return strict_int(_get(d, key, what), f"{what}.{key}")


def _bool(d: Obj, key: str, what: str) -> bool:
    return strict_bool(_get(d, key, what), f"{what}.{key}")


def _str(d: Obj, key: str, what: str) -> str:
    return strict_str(_get(d, key, what), f"{what}.{key}")


def _opt(d: Obj, key: str, what: str, conv: Callable[[Any, str], Any], default: Any) -> Any:
    """An optional field: absent or ``null`` gives ``default``; else ``conv`` strictly."""
    value = d.get(key)
    if value is None:
        return default
    return conv(value, f"{what}.{key}")


@lru_cache(maxsize=4096)
def _asset_from_text(text: str) -> AssetIdentifier:
    return AssetIdentifier(text)


def _asset(d: Obj, key: str, what: str) -> AssetIdentifier:
    value = _get(d, key, what)
    try:
        if type(value) is str:
            return _asset_from_text(value)
        if type(value) is dict:  # legacy {"Index": n} / {"Address": ...}
            return AssetIdentifier(value)
    except ValueError as exc:
        raise DecodeError(f"{what}.{key}: {exc}", value) from None
    raise DecodeError(f"{what}.{key}: expected an asset id string", value)


# ------------------------------------------------------------------ trades


def decode_trade(data: Any, what: str = "Trade") -> Trade:
    """A ``/trades`` frame (or one REST list item) -> :class:`Trade`."""
    if type(data) is dict:
        trade = _plain_trade(data, what)
        if trade is not None:
            return trade
    return _checked_trade(data, what)


def _checked_trade(data: Any, what: str) -> Trade:
    """Field by field, naming the first that is wrong."""
    d = _obj(data, what)
    status = _opt(d, "status", what, strict_str, "Confirmed")
    if status not in _TRADE_STATUSES:
        raise DecodeError(f"{what}.status: not Pending/Confirmed/Rollbacked", status)
    return Trade(
        asset_id=_asset(d, "asset_id", what),
        trade_id=_int(d, "trade_id", what),
        price=_dec(d, "price", what),
        quantity=_dec(d, "quantity", what),
        timestamp_ns=_int(d, "timestamp_ns", what),
        buyer_is_maker=_bool(d, "buyer_is_maker", what),
        order_id=_opt(d, "order_id", what, strict_str, ""),
        status=status,
    )


_new_trade = object.__new__


def _plain_trade(d: Obj, what: str) -> Optional[Trade]:
    """The usual trade in one pass, or ``None`` for :func:`decode_trade`'s field-by-field
    path (which then decodes it or names what is wrong).

    Only a trade every check of that path would pass comes out here: each field of
    its wire type, ids and timestamps non-negative JSON integers, price and quantity
    plain decimal strings. The frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field) is skipped: the fields go in one ``__dict__``
    update.
    """
    get = d.get
    asset, trade_id, ts, maker = (get("asset_id"), get("trade_id"), get("timestamp_ns"),
                                  get("buyer_is_maker"))
    order_id, status = get("order_id"), get("status")
    if order_id is None:
        order_id = ""
    if status is None:
        status = "Confirmed"
    if not (type(asset) is str and type(trade_id) is int and trade_id >= 0
            and type(ts) is int and ts >= 0 and (maker is True or maker is False)
            and type(order_id) is str and type(status) is str and status in _TRADE_STATUSES):
        return None
    price, quantity = get("price", ""), get("quantity", "")
    if not (_plain_decimal_text(price) and _plain_decimal_text(quantity)):
        return None  # numbers, signs, exponents, errors: the full path
    try:
        asset_id = _asset_from_text(asset)
    except ValueError:
        return None
    trade: Trade = _new_trade(Trade)
    trade.__dict__.update(asset_id=asset_id, trade_id=trade_id, price=Decimal(price),
                          quantity=Decimal(quantity), timestamp_ns=ts, buyer_is_maker=maker,
                          order_id=order_id, status=status)
    return trade


def _plain_decimal_text(value: Any) -> bool:
    """``[0-9]+(.[0-9]+)?`` of at most 100 characters (so in range), at C speed: the
    decimal string a trade usually carries, which strict_decimal would accept as is."""
    return (type(value) is str and 0 < len(value) <= 100 and value.isascii()
            and value[0] != "." and value[-1] != "." and value.replace(".", "", 1).isdigit())


def decode_trades(data: Any) -> list[Trade]:
    """A REST list of trades."""
    if type(data) is not list:
        raise DecodeError("trades: expected a JSON array", data)
    return [decode_trade(item) for item in data]


_TRADE_EVENTS: dict[str, Callable[..., TradeEvent]] = {
    "Pending": TradePendingEvent,
    "Confirmed": TradeConfirmedEvent,
    "Rollbacked": TradeRollbackedEvent,
}


def decode_trade_event(data: Any) -> TradeEvent:
    """A ``/trades/events`` frame ``{"Pending"|"Confirmed"|"Rollbacked": Trade}``.

    Exactly one key (a frame naming two events is rejected rather than half-read);
    the inner trade's ``status`` is kept as sent.
    """
    d = _obj(data, "TradeEvent")
    if len(d) != 1:
        raise DecodeError("TradeEvent: expected exactly one key naming the event", d)
    ((tag, payload),) = d.items()
    cls = _TRADE_EVENTS.get(tag)
    if cls is None:
        raise UnknownEventKind(tag, f"TradeEvent: unknown trade event kind {tag!r}", d)
    if not payload:
        raise DecodeError(f"TradeEvent.{tag}: empty payload", d)
    return cls(status=tag, trade=decode_trade(payload, f"TradeEvent.{tag}"))


def decode_user_trade(data: Any) -> UserTrade:
    """A ``/trades/user/events/{user_id}`` frame (or REST item) -> :class:`UserTrade`."""
    what = "UserTrade"
    d = _obj(data, what)
    status = _str(d, "status", what)
    if status not in _TRADE_STATUSES:
        raise DecodeError(f"{what}.status: not Pending/Confirmed/Rollbacked", status)
    return UserTrade(
        asset_id=_asset(d, "asset_id", what),
        trade_id=_int(d, "trade_id", what),
        order_id=_str(d, "order_id", what),
        price=_dec(d, "price", what),
        quantity=_dec(d, "quantity", what),
        timestamp_ns=_int(d, "timestamp_ns", what),
        is_maker=_bool(d, "is_maker", what),
        is_buyer=_bool(d, "is_buyer", what),
        status=status,
        rollback_reason=_opt(d, "rollback_reason", what, strict_str, None),
        is_liquidation=_opt(d, "is_liquidation", what, strict_bool, False),
        is_auto_deleverage=_opt(d, "is_auto_deleverage", what, strict_bool, False),
        sub_account=_opt(d, "sub_account", what, strict_int, 0),
        trading_fee=_opt(d, "trading_fee", what, _signed_decimal, Decimal(0)),
    )


def decode_user_trades(data: Any) -> list[UserTrade]:
    """A REST list of user trades."""
    if type(data) is not list:
        raise DecodeError("user trades: expected a JSON array", data)
    return [decode_user_trade(item) for item in data]


def _signed_decimal(value: Any, field: str) -> Decimal:
    return strict_decimal(value, field, signed=True)


# ------------------------------------------------------------------- depth


_ZERO = Decimal(0)


def _levels(d: Obj, key: str, what: str, required: bool) -> list[Level]:
    raw = d.get(key, _MISSING)
    if raw is _MISSING:
        if required:
            raise DecodeError(f"{what}.{key}: missing field", d)
        return []
    if type(raw) is not list:
        raise DecodeError(f"{what}.{key}: expected an array of [price, quantity]", raw)
    out: list[Level] = []
    append = out.append
    dec, bound = Decimal, _MAX_EXPONENT
    try:
        # the hot path, inlined: the checks strict_decimal makes of the parser's JSON
        # numbers, without two calls and two field names per level. A Decimal from
        # parse_frame is always finite (NaN and Infinity are refused by the parser),
        # so sign and exponent are what is left to check. A quantity of JSON 0 (a
        # removed level) is common enough to have its own branch. Unpacking checks
        # the shape: anything but a pair raises, and a pair that is not a JSON array
        # (a two-key object, a two-letter string) holds no Decimal.
        for level in raw:
            price, qty = level
            if type(price) is dec and not price.is_signed() and -bound <= price.adjusted() <= bound:
                if type(qty) is dec:
                    if not qty.is_signed() and -bound <= qty.adjusted() <= bound:
                        append((price, qty))
                        continue
                elif type(qty) is int and qty == 0:
                    append((price, _ZERO))
                    continue
            append(_checked_level(level, f"{what}.{key}"))
    except (TypeError, ValueError):  # a level that is not a pair: name it
        for level in raw:
            _checked_level(level, f"{what}.{key}")
        raise
    return out


def _checked_level(level: Any, field: str) -> Level:
    """One level off the hot path: strings, ints and every error, with the field named."""
    if type(level) is not list or len(level) != 2:
        raise DecodeError(f"{field}: a level must be [price, quantity]", level)
    price, qty = level
    return strict_decimal(price, field + ".price"), strict_decimal(qty, field + ".quantity")


def decode_depth_diff(data: Any) -> OrderBookDiff:
    """A ``/marketdepth/diff/{asset}`` frame -> :class:`OrderBookDiff` (all fields required)."""
    what = "OrderBookDiff"
    d = _obj(data, what)
    seq = d.get("sequence_number")
    if type(seq) is not int or seq < 0:  # the usual JSON integer passes at once
        seq = _int(d, "sequence_number", what)
    return OrderBookDiff(seq, _levels(d, "asks", what, True), _levels(d, "bids", what, True))


# One side's levels as the fast path takes them: [[p,q],...] of JSON numbers with
# neither sign nor exponent (or, below, of plain decimal strings). The text is valid
# JSON already (msgspec kept it), so each run of digits and points is a well-formed
# number; a side under 1,000 bytes holds no number whose exponent is out of range.
# Anything else (signs, exponents, escapes, whitespace, other shapes, longer sides)
# goes through the strict decoder, which accepts it or names the field.
_LEVELS = re.compile(rb"\[(?:\[[0-9.]+,[0-9.]+\](?:,\[[0-9.]+,[0-9.]+\])*)?\]")
# The same of decimal strings, tried when the first fails: each the form (and at most
# the 100 characters) strict_decimal accepts, no escapes.
_STR = rb'"(?=[0-9.]{1,100}")[0-9]+(?:\.[0-9]+)?"'
_STR_LEVELS = re.compile(rb"\[(?:\[S,S\](?:,\[S,S\])*)?\]".replace(b"S", _STR))
_FAST_MAX_SIDE = 999

if msgspec is not None:
    class _WireDiff(msgspec.Struct):
        """The shape of a diff frame, each side's array kept as its JSON text."""

        sequence_number: int
        asks: msgspec.Raw
        bids: msgspec.Raw
        # a "type" key makes it a control frame or garbage: the strict path decides
        kind: Any = msgspec.field(default=None, name="type")

    _DIFF_DECODER: Any = msgspec.json.Decoder(_WireDiff)
else:  # pragma: no cover
    _DIFF_DECODER = None


def decode_depth_diff_frame(data: Any) -> Optional[OrderBookDiff]:
    """A depth frame's bytes -> an :class:`OrderBookDiff` whose levels are built when
    first read, or ``None`` when the frame is not a plain, valid diff (a control
    frame, a string sequence number, a sign, an exponent, anything malformed): the
    caller then takes the strict path (``parse_frame`` + :func:`decode_depth_diff`),
    which decodes it or says why not. A diff returned here is one that path would
    return too, with the same values.
    """
    if _DIFF_DECODER is None or not _fast_ok(data):
        return None
    try:
        wire = _DIFF_DECODER.decode(data)
    except (ValueError, RecursionError):
        return None
    seq, asks, bids = wire.sequence_number, wire.asks, wire.bids
    match, strings, most = _LEVELS.fullmatch, _STR_LEVELS.fullmatch, _FAST_MAX_SIDE
    if (wire.kind is not None or seq < 0 or seq.bit_length() > 64
            or len(asks) > most or len(bids) > most
            or (match(asks) or strings(asks)) is None
            or (match(bids) or strings(bids)) is None):
        return None
    return PackedOrderBookDiff.from_text(seq, asks, bids)


def decode_orderbook(data: Any) -> OrderBook:
    """The ``GET /marketdepth/{asset}`` snapshot -> :class:`OrderBook`.

    Missing ``asks``/``bids`` are empty; a missing or null ``sequence_number`` is 0
    (a snapshot that cannot be spliced; protocol §7.3).
    """
    what = "OrderBook"
    d = _obj(data, what)
    return OrderBook(
        asks=_levels(d, "asks", what, False),
        bids=_levels(d, "bids", what, False),
        sequence_number=_opt(d, "sequence_number", what, strict_int, 0),
    )


# ------------------------------------------------------------------ klines


def decode_kline(data: Any) -> KlineUpdate:
    """One timebar object -> :class:`KlineUpdate`."""
    what = "KlineUpdate"
    d = _obj(data, what)
    return KlineUpdate(
        open=_dec(d, "open", what),
        high=_dec(d, "high", what),
        low=_dec(d, "low", what),
        close=_dec(d, "close", what),
        volume=_dec(d, "volume", what),
        open_timestamp_ns=_int(d, "open_timestamp_ns", what),
        close_timestamp_ns=_int(d, "close_timestamp_ns", what),
    )


def decode_klines(data: Any) -> list[KlineUpdate]:
    """A ``/klines/diff/{asset}`` frame: a JSON **array** of timebars.

    A bare object frame is an error (tpluspy drops it): the stream's shape is a list.
    """
    if type(data) is not list:
        raise DecodeError("klines frame: expected a JSON array of timebars", data)
    return [decode_kline(item) for item in data]


def decode_klines_page(data: Any) -> KlinesPage:
    """A ``GET /klines/{asset}`` answer: the 0.6 envelope, or a bare array (older servers)."""
    if type(data) is list:
        return KlinesPage(items=decode_klines(data))
    what = "KlinesPage"
    d = _obj(data, what)
    items = d.get("items", [])
    return KlinesPage(
        items=decode_klines(items),
        has_next_page=_opt(d, "has_next_page", what, strict_bool, False),
        next_page=_opt(d, "next_page", what, strict_int, None),
        truncated_before_ns=_opt(d, "truncated_before_ns", what, strict_int, None),
    )


# ------------------------------------------------------------------ market


def decode_market(data: Any) -> MarketInfo:
    """``GET /market/{asset}`` -> :class:`MarketInfo`."""
    what = "MarketInfo"
    d = _obj(data, what)
    return MarketInfo(
        asset_id=_asset(d, "asset_id", what),
        book_price_decimals=_int(d, "book_price_decimals", what),
        book_quantity_decimals=_int(d, "book_quantity_decimals", what),
    )


# ------------------------------------------------------------------ orders

_SIDES = {"buy": Side.BUY, "bid": Side.BUY, "sell": Side.SELL, "ask": Side.SELL}


def _one_key(value: Any, field: str) -> tuple[str, Any]:
    if type(value) is not dict or len(value) != 1:
        raise DecodeError(f"{field}: expected an object with exactly one key", value)
    ((tag, inner),) = value.items()
    return tag, _obj(inner, f"{field}.{tag}")


def _time_in_force(value: Any, field: str) -> Union[GTC, GTD, IOC]:
    tag, d = _one_key(value, field)
    what = f"{field}.{tag}"
    if tag == "GTC":
        return GTC(post_only=_bool(d, "post_only", what))
    if tag == "GTD":
        return GTD(
            post_only=_bool(d, "post_only", what), timestamp_ns=_int(d, "timestamp_ns", what)
        )
    if tag == "IOC":
        return IOC(fill_or_kill=_bool(d, "fill_or_kill", what))
    raise DecodeError(f"{field}: unknown time in force {tag!r}", value)


def _details(value: Any, field: str) -> Union[LimitOrderDetails, MarketOrderDetails]:
    tag, d = _one_key(value, field)
    what = f"{field}.{tag}"
    if tag == "Limit":
        return LimitOrderDetails(
            limit_price=_int(d, "limit_price", what),
            quantity=_int(d, "quantity", what),
            time_in_force=_time_in_force(_get(d, "time_in_force", what), what + ".time_in_force"),
        )
    if tag == "Market":
        qfield = what + ".quantity"
        qtag, q = _one_key(_get(d, "quantity", what), qfield)
        qwhat = f"{qfield}.{qtag}"
        if qtag == "BaseAsset":
            quantity = MarketQuantity(
                base_asset=MarketBaseQuantity(
                    quantity=_int(q, "quantity", qwhat),
                    max_sellable_amount=_opt(q, "max_sellable_amount", qwhat, strict_int, None),
                )
            )
        elif qtag == "QuoteAsset":
            quantity = MarketQuantity(
                quote_asset=MarketQuoteQuantity(
                    quantity=_int(q, "quantity", qwhat),
                    max_sellable_quantity=_opt(q, "max_sellable_quantity", qwhat, strict_int, None),
                )
            )
        else:
            raise DecodeError(f"{qfield}: expected BaseAsset or QuoteAsset", qtag)
        return MarketOrderDetails(quantity=quantity, fill_or_kill=_bool(d, "fill_or_kill", what))
    raise DecodeError(f"{field}: expected Limit or Market details", tag)


def _trigger(value: Any, field: str) -> OrderTrigger:
    d = _obj(value, field)
    # tpluspy writes "condition" (and its model reads "trigger"); accept both.
    key = "condition" if "condition" in d else "trigger"
    tag, inner = _one_key(_get(d, key, field), f"{field}.{key}")
    if tag not in ("PriceAbove", "PriceBelow"):
        raise DecodeError(f"{field}.{key}: expected PriceAbove or PriceBelow", tag)
    return OrderTrigger(
        condition=tag,
        price=_int(inner, "price", f"{field}.{key}.{tag}"),
        parent_order_id=_opt(d, "parent_order_id", field, strict_str, None),
    )


def _side(value: Any, field: str) -> Side:
    try:
        return _SIDES[value.lower()]
    except (KeyError, AttributeError):
        raise DecodeError(f"{field}: expected Buy or Sell", value) from None


def _target(value: Any, field: str) -> TradeTarget:
    d = _obj(value, field)
    return TradeTarget(account=_int(d, "account", field), is_spot=_bool(d, "is_spot", field))


def _signature(value: Any, field: str) -> list[int]:
    if (
        type(value) is not list
        or len(value) != 64
        or not all(type(b) is int and 0 <= b <= 255 for b in value)
    ):
        raise DecodeError(f"{field}: expected 64 byte values (0-255)", value)
    return list(value)


def decode_order(data: Any, what: str = "Order") -> Order:
    """A book ``Order`` object (inside ``Created``) -> :class:`Order`."""
    d = _obj(data, what)
    return Order(
        signer=_str(d, "signer", what),
        order_id=_str(d, "order_id", what),
        base_asset=_asset(d, "base_asset", what),
        book_price_decimals=_int(d, "book_price_decimals", what),
        book_quantity_decimals=_int(d, "book_quantity_decimals", what),
        details=_details(_get(d, "details", what), what + ".details"),
        side=_side(_get(d, "side", what), what + ".side"),
        creation_timestamp_ns=_int(d, "creation_timestamp_ns", what),
        trigger=_opt(d, "trigger", what, _trigger, None),
        target=_opt(d, "target", what, _target, TradeTarget()),
        reduce_only=_opt(d, "reduce_only", what, strict_bool, False),
        max_trading_fees_rate=_opt(d, "max_trading_fees_rate", what, strict_int, 50_000),
        protocol_version=_opt(d, "protocol_version", what, strict_int, 1),
    )


def _created(d: Obj, what: str) -> OrderCreatedEvent:
    return OrderCreatedEvent(
        user_order=decode_order(_get(d, "user_order", what), what + ".user_order"),
        signature=_signature(_get(d, "signature", what), what + ".signature"),
        book_timestamp_ns=_int(d, "book_timestamp_ns", what),
        limit_overrides=d.get("limit_overrides"),
        limit_overrides_signature=d.get("limit_overrides_signature"),
        amend_overrides=d.get("amend_overrides"),
        trigger_touched=_opt(d, "trigger_touched", what, strict_bool, None),
        is_liquidation=_opt(d, "is_liquidation", what, strict_bool, False),
        is_auto_deleverage=_opt(d, "is_auto_deleverage", what, strict_bool, False),
    )


def _canceled(d: Obj, what: str) -> OrderCancelledEvent:
    return OrderCancelledEvent(
        order_id=_str(d, "order_id", what),
        asset_id=_asset(d, "asset_id", what),
        user_id=_str(d, "user_id", what),
        timestamp_ns=_int(d, "timestamp_ns", what),
        reason=_opt(d, "reason", what, strict_str, None),
        operator_pubkey=_opt(d, "operator_pubkey", what, strict_str, None),
        initial_receive_timestamp_ns=_opt(
            d, "initial_receive_timestamp_ns", what, strict_int, None
        ),
    )


def _removed(d: Obj, what: str) -> OrderRemovedEvent:
    return OrderRemovedEvent(
        order_id=_str(d, "order_id", what),
        asset_id=_asset(d, "asset_id", what),
        user_id=_str(d, "user_id", what),
        timestamp_ns=_int(d, "timestamp_ns", what),
        reason=_str(d, "reason", what),
        operator_pubkey=_opt(d, "operator_pubkey", what, strict_str, None),
        filled_quantity=_opt(d, "filled_quantity", what, strict_int, 0),
        confirmed_quantity=_opt(d, "confirmed_quantity", what, strict_int, 0),
        filled_amount=_opt(d, "filled_amount", what, strict_int, 0),
        confirmed_amount=_opt(d, "confirmed_amount", what, strict_int, 0),
        book_quantity_decimals=_opt(d, "book_quantity_decimals", what, strict_int, 0),
        initial_receive_timestamp_ns=_opt(
            d, "initial_receive_timestamp_ns", what, strict_int, None
        ),
    )


def _replaced(d: Obj, what: str) -> OrderReplacedEvent:
    return OrderReplacedEvent(
        order_id=_str(d, "order_id", what),
        asset_id=_asset(d, "asset_id", what),
        user_id=_str(d, "user_id", what),
        new_quantity=_int(d, "new_quantity", what),
        new_price=_int(d, "new_price", what),
        timestamp_ns=_opt(d, "timestamp_ns", what, strict_int, None),
        authorization_revision=_opt(d, "authorization_revision", what, strict_int, 0),
        operator_pubkey=_opt(d, "operator_pubkey", what, strict_str, None),
        initial_receive_timestamp_ns=_opt(
            d, "initial_receive_timestamp_ns", what, strict_int, None
        ),
    )


def _amended(d: Obj, what: str) -> OrderAmendedEvent:
    return OrderAmendedEvent(
        order_id=_str(d, "order_id", what),
        asset_id=_asset(d, "asset_id", what),
        user_id=_str(d, "user_id", what),
        new_quantity=_int(d, "new_quantity", what),
        remaining_quantity=_int(d, "remaining_quantity", what),
        authorization_revision=_opt(d, "authorization_revision", what, strict_int, 0),
        book_quantity_decimals=_opt(d, "book_quantity_decimals", what, strict_int, 0),
        timestamp_ns=_opt(d, "timestamp_ns", what, strict_int, None),
        operator_pubkey=_opt(d, "operator_pubkey", what, strict_str, None),
    )


def _triggered(d: Obj, what: str) -> OrderTriggeredEvent:
    return OrderTriggeredEvent(
        order_id=_str(d, "order_id", what),
        asset_id=_asset(d, "asset_id", what),
        user_id=_str(d, "user_id", what),
        timestamp_ns=_int(d, "timestamp_ns", what),
        quantity=_int(d, "quantity", what),
        trigger_touched=_bool(d, "trigger_touched", what),
        operator_pubkey=_opt(d, "operator_pubkey", what, strict_str, None),
    )


def _failed(cls: Any) -> Callable[[Obj, str], OrderEvent]:
    def build(d: Obj, what: str) -> OrderEvent:
        event: OrderEvent = cls(
            order_id=_str(d, "order_id", what),
            user_id=_str(d, "user_id", what),
            reason=_opt(d, "reason", what, strict_str, None),
        )
        return event

    return build


def _updated(d: Obj, what: str) -> OrderUpdatedEvent:
    return OrderUpdatedEvent(
        order_id=_str(d, "order_id", what),
        status=_str(d, "status", what),
        filled_quantity=_int(d, "filled_quantity", what),
        remaining_quantity=_int(d, "remaining_quantity", what),
        update_timestamp_ns=_int(d, "update_timestamp_ns", what),
    )


# Keyed by the normalised name (``_`` removed, upper-cased), as tpluspy does.
_ORDER_EVENTS: dict[str, Callable[[Obj, str], OrderEvent]] = {
    "CREATED": _created,
    "CANCELED": _canceled,
    "REMOVED": _removed,
    "REPLACED": _replaced,
    "AMENDED": _amended,
    "TRIGGERED": _triggered,
    "CREATEFAILED": _failed(OrderCreateFailedEvent),
    "REPLACEFAILED": _failed(OrderReplaceFailedEvent),
    "CANCELFAILED": _failed(OrderCancelFailedEvent),
    "AMENDFAILED": _failed(OrderAmendFailedEvent),
    "UPDATED": _updated,
}

_KIND_NAMES = {
    "CREATED": "Created",
    "CANCELED": "Canceled",
    "REMOVED": "Removed",
    "REPLACED": "Replaced",
    "AMENDED": "Amended",
    "TRIGGERED": "Triggered",
    "CREATEFAILED": "CreateFailed",
    "REPLACEFAILED": "ReplaceFailed",
    "CANCELFAILED": "CancelFailed",
    "AMENDFAILED": "AmendFailed",
    "UPDATED": "Updated",
}


def normalise_kind(name: str) -> str:
    """The order-event name as tpluspy compares it: ``create_failed`` -> ``CREATEFAILED``."""
    return name.replace("_", "").upper()


def decode_order_event(data: Any) -> OrderEvent:
    """An ``/orders`` frame -> the :class:`OrderEvent` subclass for its kind.

    Externally tagged ``{"Removed": {...}}`` (what servers send) or the older
    internally tagged ``{"type": "removed", ...}``. Names are normalised (``_``
    removed, upper-cased). ``Cancelled`` (double L) and any other unknown name
    raise :class:`UnknownEventKind`.
    """
    d = _obj(data, "OrderEvent")
    if "type" in d:
        name = d["type"]
        if type(name) is not str:
            raise DecodeError("OrderEvent.type: expected a string", d)
        fields = {k: v for k, v in d.items() if k != "type"}
    elif len(d) == 1:
        ((name, fields),) = d.items()
    else:
        raise DecodeError(
            "OrderEvent: expected one key naming the event ({'Removed': {...}}) or a 'type'", d
        )
    norm = normalise_kind(name)
    build = _ORDER_EVENTS.get(norm)
    if build is None:
        hint = " (the wire spells it 'Canceled')" if norm == "CANCELLED" else ""
        raise UnknownEventKind(name, f"OrderEvent: unknown order event kind {name!r}{hint}", d)
    what = _KIND_NAMES[norm]
    return build(_obj(fields, what), what)
