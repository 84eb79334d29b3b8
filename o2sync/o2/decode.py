"""Wire dict -> typed event, on the per-message path.

Each decoder calls the dataclass constructors directly (a few microseconds per
message) instead of dataclasses-json's reflective ``from_dict`` (hundreds). Any
missing or mistyped field raises :class:`~o2sync.errors.DecodeError`, so a frame is
either delivered whole or not at all. Accepted variants follow the protocol doc:
integers as strings or JSON numbers, snapshot books under ``orders``, ``view`` or
the top level, deltas under ``changes`` or the top level. Text fields o2-sdk keeps
as sent (``side``, ``order_type``) are kept as sent; absent fields take o2-sdk's
defaults.
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any, Callable, Optional

from .._json import BACKEND as _JSON_BACKEND
from .._json import loads as _json_loads
from ..errors import DecodeError
from ..models import (
    Balance,
    BalanceEntry,
    BalanceUpdate,
    DepthUpdate,
    NonceUpdate,
    Order,
    OrderBookBalance,
    OrderUpdate,
    Trade,
    TradeUpdate,
)
from ..numbers import I128_MAX, I128_MIN, U64_MAX
from .ids import Id
from .models import Identity, PackedDepthChanges, PackedDepthSnapshot, columns_of
from .protocol import is_hex_id, normalize_id

_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+")
_MISSING = object()
_EMPTY: list[Any] = []


def _why(value: Any, name: str, what: str) -> str:
    """The reason a number field was refused, for the DecodeError."""
    if value.__class__ is str:
        body = value[1:]
        if value[:1] == "-" and body.isascii() and body.isdigit():
            return f"{name} is negative"
        return f"{name} is not {what} (ASCII digits only)"
    if value.__class__ is int:
        return f"{name} is negative" if value < 0 else f"{name} is out of range (past 64 bits)"
    return f"{name} is not {what} (got {type(value).__name__})"


# More digits than the widest value in range (2**127 has 39): refused before int(),
# so an 80-digit (or 4000-digit) number costs nothing to reject.
_MAX_DIGITS = 40


def _uint(value: Any, name: str) -> int:
    """An unsigned 64-bit decimal integer: ASCII digits in a string, or a JSON integer.

    The protocol range (o2-websocket.md section 3.3) holds for every O2 price,
    quantity, amount and count: past 2**64 - 1 is malformed. Refused (DecodeError):
    other Unicode digits, ``"+7"``, ``"-7"``, ``" 7 "``, ``"1_000"``, ``"0x10"``,
    ``""``, floats, booleans, None. ``str.isdigit()`` alone accepts every Unicode
    digit, hence ``isascii()`` too.
    """
    cls = value.__class__
    if cls is str:
        if value.isascii() and value.isdigit():
            if len(value) <= _MAX_DIGITS:
                result = int(value)
                if result <= U64_MAX:
                    return result
            raise DecodeError(f"{name} is out of range (past 64 bits)", value[:50])
    elif cls is int and 0 <= value <= U64_MAX:  # a bool's class is bool, never int
        return int(value)
    raise DecodeError(_why(value, name, "an unsigned decimal integer"), value)


def _int128(value: Any, name: str) -> int:
    """A signed 128-bit decimal integer (a depth delta's change): an optional ``-``
    then ASCII digits, or a JSON integer. Nothing else (``+``, spaces, fractions)."""
    cls = value.__class__
    if cls is str:
        digits = value[1:] if value[:1] == "-" else value
        if digits.isascii() and digits.isdigit():
            if len(digits) <= _MAX_DIGITS:
                result = int(value)
                if I128_MIN <= result <= I128_MAX:
                    return result
            raise DecodeError(f"{name} is out of range (past 128 bits)", value[:50])
    elif cls is int:
        if I128_MIN <= value <= I128_MAX:
            return int(value)
        raise DecodeError(f"{name} is out of range (past 128 bits)", value)
    raise DecodeError(f"{name} is not a signed decimal integer", value)


def _uint_or_hex(value: Any, name: str) -> int:
    """:func:`_uint`, or a ``0x`` hex string where the protocol allows one (nonce)."""
    if value.__class__ is str and value[:2] in ("0x", "0X"):
        digits = value[2:]
        if digits and digits.isascii() and _HEX_DIGITS.fullmatch(digits):
            if len(digits) <= _MAX_DIGITS and int(digits, 16) <= U64_MAX:  # as every O2 number
                return int(digits, 16)
            raise DecodeError(f"{name} is out of range (past 64 bits)", value[:50])
        raise DecodeError(f"{name} is not a hex integer", value)
    return _uint(value, name)


def to_int(value: Any, name: str = "value") -> int:
    """An exact unsigned integer from an int, an ASCII decimal string or a ``0x`` hex string.

    Anything else (signs, spaces, underscores, non-ASCII digits, floats, booleans)
    raises DecodeError.
    """
    return _uint_or_hex(value, name)


def _opt_uint(raw: dict[str, Any], key: str, default: int = 0) -> int:
    value = raw.get(key, _MISSING)
    return default if value is _MISSING else _uint(value, key)


def _opt_uint_str(value: Any, name: str) -> Optional[str]:
    """An optional integer field kept as text (order ``timestamp``): validated, not parsed."""
    return None if value is None else str(_uint(value, name))


def _flag(raw: dict[str, Any], key: str) -> bool:
    """A JSON boolean field (absent = False). ``"false"``, 0, 1 or null are refused."""
    value = raw.get(key, False)
    if value is True or value is False:
        return value
    raise DecodeError(f"{key} is not a JSON boolean", value)


def _opt_str(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _text(value: Any, name: str) -> str:
    if value.__class__ is not str or not value:
        raise DecodeError(f"{name} is not a non-empty string", value)
    return str(value)


def _id(value: Any, name: str) -> str:
    """A 32-byte hex id (``0x`` optional, any case), normalised."""
    if not is_hex_id(value):
        raise DecodeError(f"{name} is not a 32-byte hex id", value)
    return normalize_id(value)


_MARKET_IDS: dict[str, str] = {}  # wire spelling -> normalised; a few entries in practice
_MARKET_IDS_MAX = 1024


_ANY_HEX = re.compile(r"(?:0[xX])?[0-9a-fA-F]+")


def _market_id(value: Any) -> str:
    """The market id of every depth/trades frame, normalised, memoised (bounded).

    Any non-empty hex (``0x`` optional, any case), as o2-sdk's ``Id`` takes it (its
    own depth test frames use ``"0xabc"``); a frame for a market nobody streams is
    ignored by the router anyway."""
    try:
        return _MARKET_IDS[value]
    except (KeyError, TypeError):  # TypeError: unhashable, e.g. a list
        pass
    if value.__class__ is not str or not value.isascii() or _ANY_HEX.fullmatch(value) is None:
        raise DecodeError("market_id is not a hex id", value)
    norm = normalize_id(value)
    if len(_MARKET_IDS) < _MARKET_IDS_MAX:
        _MARKET_IDS[value] = norm
    return norm


def market_key(value: str) -> str:
    """The normalised form of a market id as it came on the wire, for topic lookups
    (memoised once a frame with it decoded; not validated here)."""
    norm = _MARKET_IDS.get(value)
    return norm if norm is not None else normalize_id(value)


def _need_object(value: Any, name: str) -> None:
    if value.__class__ is not dict:
        raise DecodeError(f"{name} is not a JSON object", value)


def _list(value: Any, name: str) -> list[Any]:
    if value.__class__ is not list:
        raise DecodeError(f"{name} is not a JSON array", value)
    return value


_PRICE = itemgetter("price")
_QUANTITY = itemgetter("quantity")


def _book_columns(buys: Any, sells: Any, signed: bool = False
                  ) -> tuple[tuple[int, ...], int, int]:
    """Both sides' ``[{"price", "quantity"}, ...]`` -> ``(ints, bids, asks)``: the
    bid prices, bid quantities, ask prices and ask quantities as one tuple of ints
    (see ``PackedDepthSnapshot.from_columns``), and the level count of each side.
    ``signed``: a delta, whose quantities are signed changes (prices never are).

    The hot path: ten-odd levels a side per message. Each column is read with one
    C-level ``map``. What the server sends (decimal strings) is checked once for
    the whole message: every value joined, as UTF-8 bytes, must be digits (and, in
    a delta, minus signs) (``bytes.isdigit`` knows ASCII digits only;
    ``str.isdigit`` passes every Unicode digit and is several times slower). The
    checked values are then parsed in one call of the JSON parser as an array of
    integers, which is faster than one ``int()`` each and refuses an empty value, a
    leading zero or a misplaced minus. A value past 64 bits, which orjson would
    read as a float, a value out of range, and anything else (JSON numbers, a bad
    value, a missing key) takes the per-value path, which accepts ints and names
    the bad field.
    """
    if buys.__class__ is list and sells.__class__ is list:
        try:
            values = [*map(_PRICE, buys), *map(_QUANTITY, buys),
                      *map(_PRICE, sells), *map(_QUANTITY, sells)]
            if not values:
                return (), 0, 0
            text = "".join(values).encode()
            nbids, nasks = len(buys), len(sells)
            if text.isdigit() or (signed and text.replace(b"-", b"").isdigit()
                                  and _unsigned_prices(values, nbids, nasks)):
                ints = _json_loads("[" + ",".join(values) + "]")
                # sum: no float from a huge value; orjson makes every integer past
                # 64 bits (either sign) a float, so its ints are already in range
                if sum(ints).__class__ is int and (
                        _JSON_BACKEND == "orjson" or _in_range(ints, nbids, nasks, signed)):
                    return tuple(ints), nbids, nasks
        except (KeyError, TypeError, ValueError):
            pass
    return columns_of(_level_ints_checked(buys, signed), _level_ints_checked(sells, signed))


def _unsigned_prices(values: list[str], nbids: int, nasks: int) -> bool:
    """No minus in a delta's price texts (a ``"-0"`` price parses as 0)."""
    prices = values[:nbids] + values[2 * nbids:2 * nbids + nasks]
    return "-" not in "".join(prices)


def _in_range(ints: list[int], nbids: int, nasks: int, signed: bool) -> bool:
    """The fast path's range check (o2-websocket.md section 3.3): prices, and a
    snapshot's quantities, in 0..2**64-1; a delta's changes signed 128-bit."""
    if not signed:
        return max(ints) <= U64_MAX  # the digits check already ruled out signs
    prices = ints[:nbids] + ints[2 * nbids:2 * nbids + nasks]
    changes = ints[nbids:2 * nbids] + ints[2 * nbids + nasks:]
    return ((not prices or (min(prices) >= 0 and max(prices) <= U64_MAX))
            and (not changes or (min(changes) >= I128_MIN and max(changes) <= I128_MAX)))


def _level_ints_checked(raw: Any, signed: bool = False) -> tuple[int, ...]:
    if raw is None:
        return ()
    if raw.__class__ is not list:
        raise DecodeError("depth levels are not a list", raw)
    quantity = _int128 if signed else _uint
    out: list[int] = []
    for level in raw:
        if level.__class__ is not dict:
            raise DecodeError("depth level is not an object", level)
        if "price" not in level or "quantity" not in level:
            raise DecodeError("depth level without price or quantity", level)
        out.append(_uint(level["price"], "price"))
        out.append(quantity(level["quantity"], "quantity"))
    return tuple(out)


def decode_depth(msg: dict[str, Any]) -> DepthUpdate:
    """``subscribe_depth`` (snapshot: absolute levels) or ``subscribe_depth_update``
    (delta: signed relative changes)."""
    # the per-message path: calls inlined, the common spellings tested first
    is_snapshot = msg["action"] == "subscribe_depth"
    if is_snapshot:
        container = msg.get("orders") or msg.get("view") or msg
    else:
        container = msg.get("changes") or msg
    if container.__class__ is not dict:
        raise DecodeError("depth book is not an object", container)
    market_id = _market_id(msg["market_id"])
    if is_snapshot:
        columns = _book_columns(container.get("buys", _EMPTY), container.get("sells", _EMPTY))
        changes: Any = PackedDepthSnapshot.from_columns(*columns, market_id)
    else:
        buys = container.get("buys", _MISSING)
        sells = container.get("sells", _MISSING)
        if buys is _MISSING and sells is _MISSING:  # the newest TS SDK's spelling
            buys, sells = container.get("bids", _EMPTY), container.get("asks", _EMPTY)
        columns = _book_columns(_EMPTY if buys is _MISSING else buys,
                                _EMPTY if sells is _MISSING else sells, True)
        changes = PackedDepthChanges.from_columns(*columns)
    onchain = msg.get("onchain_timestamp")
    seen = msg.get("seen_timestamp")
    return DepthUpdate(
        changes,
        market_id,
        onchain if onchain is None or onchain.__class__ is str else str(onchain),
        seen if seen is None or seen.__class__ is str else str(seen),
        is_snapshot,
    )


def _sent_side(raw: dict[str, Any]) -> Optional[str]:
    """A trade's or order's ``side`` as sent (absent -> ``""``; JSON ``null`` stays
    None, as o2-sdk keeps it)."""
    return None if raw.get("side", "") is None else _opt_text(raw, "side")


def _opt_text(raw: dict[str, Any], key: str, default: str = "") -> str:
    """A text field kept as sent (absent -> ``default``, as o2-sdk); a number is
    turned into its text as o2-sdk's ``str()`` does; anything else is refused."""
    value = raw.get(key, _MISSING)
    if value is _MISSING:
        return default
    cls = value.__class__
    if cls is str:
        return str(value)
    if cls is int:
        return str(value)
    raise DecodeError(f"{key} is not a string", value)


# Memos of the immutable id objects (an Id is a str, an Identity a frozen
# dataclass), so the same account, market or asset in frame after frame is built
# and checked once. Bounded: a full memo is emptied and fills again (order ids
# are many and mostly seen a few times).
_MEMO_MAX = 4096
_IDS: dict[str, Id] = {}
_IDENTITIES: dict[tuple[str, str], Identity] = {}


def _identity(raw: dict[str, Any], key: str) -> Optional[Identity]:
    value = raw.get(key)
    if not value:  # o2-sdk: a missing, null or empty identity is None
        return None
    memo_key = None
    if value.__class__ is dict and len(value) == 1:
        memo_key = next(iter(value.items()))
        found = _IDENTITIES.get(memo_key) if memo_key[1].__class__ is str else None
        if found is not None:
            return found
    try:
        identity = Identity.from_wire(value)
    except (TypeError, ValueError):
        raise DecodeError(f"{key} is not an identity", value) from None
    if memo_key is not None and memo_key[1].__class__ is str and identity is not None:
        if len(_IDENTITIES) >= _MEMO_MAX:
            _IDENTITIES.clear()
        _IDENTITIES[memo_key] = identity
    return identity


def _hex_id(value: Any, name: str) -> Id:
    """Any non-empty hex id (``0x`` optional), as o2-sdk's ``Id`` takes it. Ids that
    route a frame to its subscription (market, account) are held to 32 bytes by
    :func:`_id`; these only name things (orders, order books, assets)."""
    if value.__class__ is str:
        found = _IDS.get(value)
        if found is not None:
            return found
    try:
        ident = Id(value)
    except ValueError:
        raise DecodeError(f"{name} is not a hex id", value) from None
    if len(_IDS) >= _MEMO_MAX:
        _IDS.clear()
    _IDS[value] = ident
    return ident


def _opt_id(raw: dict[str, Any], key: str) -> Optional[Id]:
    value = raw.get(key)
    return None if value is None else _hex_id(value, key)


def decode_depth_snapshot(body: dict[str, Any]) -> PackedDepthSnapshot:
    """A book in the wire's snapshot shape (``GET /v1/depth``, or a ``subscribe_depth``
    frame): levels under ``orders``, ``view`` or the top level; ``market_id`` the
    body's own (normalised), None when it has none, as o2-sdk reads it."""
    _need_object(body, "depth")
    sent_id = body.get("market_id")
    market_id = None if sent_id is None else _market_id(sent_id)
    container = body.get("orders") or body.get("view") or body
    if container.__class__ is not dict:
        raise DecodeError("depth book is not an object", container)
    columns = _book_columns(container.get("buys", _EMPTY), container.get("sells", _EMPTY))
    return PackedDepthSnapshot.from_columns(*columns, market_id)


def decode_trade(raw: dict[str, Any]) -> Trade:
    """One trade; absent fields take o2-sdk's defaults (``""``, 0), present ones are
    checked strictly."""
    _need_object(raw, "trade")
    return Trade(
        _opt_text(raw, "trade_id"),
        _sent_side(raw),
        _opt_uint(raw, "total"),
        _opt_uint(raw, "quantity"),
        _opt_uint(raw, "price"),
        _opt_uint(raw, "timestamp"),
        _opt_str(raw.get("trader_side")),
        _identity(raw, "maker"),
        _identity(raw, "taker"),
        _opt_id(raw, "market_id"),
    )


def decode_trades(msg: dict[str, Any]) -> TradeUpdate:
    """``subscribe_trades`` (alias ``trades``); ``trades`` absent = none (o2-sdk)."""
    market = _market_id(msg["market_id"])
    trades = msg.get("trades", _EMPTY)
    return TradeUpdate(
        [decode_trade(t) for t in _list(trades, "trades")],
        _hex_id(market, "market_id"),
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


def _opt_raw_list(raw: dict[str, Any], key: str) -> Optional[list[Any]]:
    value = raw.get(key)
    if value is None or value.__class__ is list:
        return value
    raise DecodeError(f"{key} is not a JSON array", value)


def decode_order(raw: dict[str, Any]) -> Order:
    """One order; absent fields take o2-sdk's defaults, present ones are checked."""
    _need_object(raw, "order")
    base_decimals = raw.get("base_decimals")
    timestamp = raw.get("timestamp", _MISSING)
    return Order(
        order_id=_hex_id(raw["order_id"], "order_id"),
        side=_sent_side(raw),
        order_type=raw.get("order_type", ""),
        quantity=_opt_uint(raw, "quantity"),
        quantity_fill=_opt_uint(raw, "quantity_fill"),
        price=_opt_uint(raw, "price"),
        price_fill=_opt_uint(raw, "price_fill"),
        timestamp="0" if timestamp is _MISSING else str(_uint(timestamp, "timestamp")),
        close=_flag(raw, "close"),
        partially_filled=_flag(raw, "partially_filled"),
        cancel=_flag(raw, "cancel"),
        account=_identity(raw, "account"),
        desired_quantity=raw.get("desired_quantity"),
        fill=raw.get("fill"),
        order_tx_history=_opt_raw_list(raw, "order_tx_history"),
        base_decimals=None if base_decimals is None else _uint(base_decimals, "base_decimals"),
        market_id=_opt_id(raw, "market_id"),
        owner=_identity(raw, "owner"),
        history=_opt_raw_list(raw, "history"),
        fills=_opt_raw_list(raw, "fills"),
    )


def decode_orders(msg: dict[str, Any]) -> OrderUpdate:
    """``subscribe_orders``; ``orders`` absent = none (o2-sdk)."""
    return OrderUpdate(
        [decode_order(o) for o in _list(msg.get("orders", _EMPTY), "orders")],
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


def decode_balance(raw: dict[str, Any]) -> Balance:
    """One balance (a stream entry, or a REST answer with ``asset_id`` added)."""
    _need_object(raw, "balance")
    books = raw.get("order_books")
    if books is None:
        books = {}
    _need_object(books, "order_books")

    def book_balance(v: Any) -> OrderBookBalance:
        _need_object(v, "order_books entry")
        return OrderBookBalance(_opt_uint(v, "locked"), _opt_uint(v, "unlocked"),
                                _opt_uint(v, "fee"))

    asset = raw.get("asset_id")
    return Balance(
        order_books={_hex_id(k, "order_books key"): book_balance(v) for k, v in books.items()},
        total_locked=_opt_uint(raw, "total_locked"),
        total_unlocked=_opt_uint(raw, "total_unlocked"),
        trading_account_balance=_opt_uint(raw, "trading_account_balance"),
        asset_id=None if asset is None else _hex_id(asset, "asset_id"),
        identity=raw.get("identity"),
    )


def _balance_entry(raw: Any) -> BalanceEntry:
    """The wire entry as sent, checked first (a bad number refuses the frame)."""
    parsed = decode_balance(raw)
    entry = BalanceEntry(raw)
    entry._parsed = parsed
    return entry


def decode_balances(msg: dict[str, Any]) -> BalanceUpdate:
    """``subscribe_balances``: ``balance`` is the list of wire entries (dicts), as in
    o2-sdk; each is checked, and also reads as an exact Balance (BalanceEntry)."""
    return BalanceUpdate(
        [_balance_entry(b) for b in _list(msg.get("balance", _EMPTY), "balance")],
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


def decode_nonce(msg: dict[str, Any]) -> NonceUpdate:
    """``subscribe_nonce`` (alias ``nonce``); ``nonce`` absent = 0 (o2-sdk)."""
    nonce = msg.get("nonce", _MISSING)
    return NonceUpdate(
        Id(_id(msg["contract_id"], "contract_id")),
        0 if nonce is _MISSING else _uint_or_hex(nonce, "nonce"),
        _opt_str(msg.get("onchain_timestamp")),
        _opt_str(msg.get("seen_timestamp")),
    )


Decoder = Callable[[dict[str, Any]], Any]

#: server ``action`` -> (stream kind, decoder). Aliases per protocol doc section 5.
DECODERS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "subscribe_depth": ("depth", decode_depth),
    "subscribe_depth_update": ("depth", decode_depth),
    "subscribe_trades": ("trades", decode_trades),
    "trades": ("trades", decode_trades),
    "subscribe_orders": ("orders", decode_orders),
    "subscribe_balances": ("balances", decode_balances),
    "subscribe_nonce": ("nonce", decode_nonce),
    "nonce": ("nonce", decode_nonce),
}


def decode(msg: dict[str, Any]) -> Any:
    """Decode any routed server message; raises DecodeError for anything else."""
    entry = DECODERS.get(msg.get("action"))  # type: ignore[arg-type]
    if entry is None:
        raise DecodeError("unknown action", msg.get("action"))
    try:
        return entry[1](msg)
    except DecodeError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise DecodeError(f"malformed {msg.get('action')} message ({exc!r})", msg) from None
