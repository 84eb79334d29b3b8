"""The REST reads a streaming client needs, over :mod:`o2sync._http`.

Every call has a total deadline (``timeout``); rate limits (HTTP 429 or code 1003)
and transient 5xx answers are retried with exponential backoff, honouring
``Retry-After`` up to ``retry_after_max``. Every answer is checked against the
documented shape (``o2-rest.md``): anything else raises
:class:`~o2sync.errors.MalformedResponseError` naming the endpoint and the field,
never ``KeyError``/``TypeError``. Markets are fetched once and cached; market
arguments resolve by id or pair name.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any, Optional, Union

from .._http import HttpJson
from ..errors import (
    ERROR_CODE_MAP,
    ApiError,
    ConnectError,
    DecodeError,
    MalformedResponseError,
    MarketNotFoundError,
    O2Error,
    O2SyncError,
)
from ..models import Balance, DepthSnapshot, Market, MarketAsset, Order, Trade
from ..redact import redact_url
from . import decode
from .ids import Id
from .models import Identity
from .protocol import is_hex_id, normalize_id, wire_precision
from .resources import (
    AccountInfo,
    Bar,
    MarketsResponse,
    MarketTicker,
    OrdersResponse,
    TradeAccount,
    check_resolution,
)

log = logging.getLogger(__name__)

RATE_LIMITED_CODE = 1003
MarketLike = Union[str, Market]


@contextlib.contextmanager
def _shape(endpoint: str) -> Iterator[None]:
    """Turn a shape problem while reading an answer of ``endpoint`` into the library's error."""
    try:
        yield
    except MalformedResponseError:
        raise
    except DecodeError as exc:
        field = exc.reason.split(" ", 1)[0] if " is " in exc.reason else None
        raise _malformed(endpoint, str(exc), field=field) from None
    except KeyError as exc:
        raise _malformed(endpoint, "missing field", field=str(exc.args[0])) from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise _malformed(endpoint, f"unexpected shape ({exc})") from None


def _object(value: Any, endpoint: str, field: Optional[str] = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(endpoint, f"expected a JSON object, got "
                                     f"{type(value).__name__}", field=field)
    return value


def _array(value: Any, endpoint: str, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _malformed(endpoint, f"expected a JSON array, got "
                                     f"{type(value).__name__}", field=field)
    return value


def _uint_text(raw: dict[str, Any], key: str, default: str = "0") -> str:
    """An optional unsigned integer field (string or number), kept as text."""
    value = raw.get(key)
    return default if value is None else str(decode._uint(value, key))


_O2_KINDS: dict[tuple[type[O2SyncError], type[O2Error]], type[O2SyncError]] = {}
_O2_KINDS_LOCK = threading.Lock()


def as_o2_error(exc: O2SyncError) -> O2SyncError:
    """The same error, also an instance of o2-sdk's class for it: the ``O2Error``
    subclass its API ``code`` maps to (``RateLimitExceeded`` for 1003, ...), else
    ``O2Error``. So ``except O2Error`` (and every o2-sdk subclass) catches what an O2
    REST call raises, and ``except ApiError`` still does too."""
    if isinstance(exc, O2Error):
        return exc
    code = getattr(exc, "code", None)
    sdk_kind = ERROR_CODE_MAP.get(code, O2Error) if isinstance(code, int) else O2Error
    base = type(exc)
    with _O2_KINDS_LOCK:
        kind = _O2_KINDS.get((base, sdk_kind))
        if kind is None:
            kind = type(base.__name__, (base, sdk_kind), {"__module__": base.__module__,
                                                          "__doc__": base.__doc__})
            _O2_KINDS[(base, sdk_kind)] = kind
    out = kind.__new__(kind)
    out.__dict__.update(exc.__dict__)
    out.args = exc.args
    out.__dict__.setdefault("message", str(exc))
    out.__dict__.setdefault("code", None)
    for name in ("reason", "receipts", "raw_reason"):
        out.__dict__.setdefault(name, None)
    out.__cause__, out.__traceback__ = exc.__cause__, exc.__traceback__
    return out


def _malformed(endpoint: str, message: str, *, field: Optional[str] = None) -> O2SyncError:
    """A MalformedResponseError that is also an o2-sdk ``O2Error``."""
    return as_o2_error(MalformedResponseError(endpoint, message, field=field))


def _market_from_wire(raw: dict[str, Any]) -> Market:
    """One entry of ``GET /v1/markets`` -> Market; DecodeError/KeyError on a bad shape."""
    def asset(a: Any, side: str) -> MarketAsset:
        if not isinstance(a, dict):
            raise DecodeError(f"{side} is not an object", a)
        return MarketAsset(decode._text(a["symbol"], f"{side}.symbol"),
                           decode._id(a["asset"], f"{side}.asset"),
                           decode._uint(a["decimals"], f"{side}.decimals"),
                           decode._uint(a["max_precision"], f"{side}.max_precision"))

    if not isinstance(raw, dict):
        raise DecodeError("market is not an object", raw)
    return Market(
        market_id=Id(decode._id(raw["market_id"], "market_id")),
        contract_id=Id(decode._id(raw["contract_id"], "contract_id")),
        base=asset(raw["base"], "base"),
        quote=asset(raw["quote"], "quote"),
        maker_fee=_uint_text(raw, "maker_fee"),
        taker_fee=_uint_text(raw, "taker_fee"),
        min_order=_uint_text(raw, "min_order"),
        dust=_uint_text(raw, "dust"),
        price_window=int(_uint_text(raw, "price_window")),
    )


class RestClient:
    """Blocking REST reads against one O2 API base URL. Thread-safe."""

    def __init__(self, api_url: str, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 1.0, proxy: Optional[str] = None,
                 ca_bundle: Optional[str] = None, verify: bool = True,
                 retry_after_max: float = 10.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._http = HttpJson(self.api_url, timeout=timeout, retries=retries, backoff=backoff,
                              retry_after_max=retry_after_max,
                              rate_limit_codes=(RATE_LIMITED_CODE,), verify=verify,
                              ca_bundle=ca_bundle, proxy=proxy)
        self._markets: Optional[list[Market]] = None
        self._markets_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"<RestClient {redact_url(self.api_url)} timeout={self.timeout:g}s>"

    def get(self, path: str, **params: Any) -> Any:
        """GET ``/v1/<path>`` and return the decoded JSON.

        Raises ApiError / RateLimitedError (error answers), ConnectError (below HTTP,
        deadline passed), MalformedResponseError (not JSON).
        """
        query = {k: _query_value(v) for k, v in params.items() if v is not None}
        try:
            return self._http.get(f"v1/{path}", query)
        except (ApiError, ConnectError) as exc:
            raise as_o2_error(exc) from exc.__cause__

    # ------------------------------------------------------------------ markets

    def markets(self, refresh: bool = False) -> list[Market]:
        """Every spot market (cached after the first call; ``refresh`` re-reads)."""
        with self._markets_lock:
            if self._markets is None or refresh:
                self._markets = self._parse_markets(_object(self.get("markets"), "markets"))
            return list(self._markets)

    @staticmethod
    def _parse_markets(body: dict[str, Any]) -> list[Market]:
        with _shape("markets"):
            rows = _array(body.get("markets"), "markets", "markets")
            for row in rows:
                _object(row, "markets", "markets[]")
            return [_market_from_wire(m) for m in rows if m.get("turbo") is not True]

    def resolve(self, market: MarketLike) -> Market:
        """A Market from a Market, a market/contract id (hex) or a pair name.

        Pair names match exactly, then case-insensitively, then without the testnet
        ``f`` prefix (``"FUEL/USDC"`` finds ``fFUEL/fUSDC``). Unknown ids refresh the
        cache once. Raises MarketNotFoundError listing the available pairs.
        """
        if isinstance(market, Market):
            return market
        if not isinstance(market, str) or not market.strip():
            raise TypeError(f"market must be a pair name, a market id or a Market, got {market!r}")
        found = self._match(market, self.markets())
        if found is None and is_hex_id(market):
            found = self._match(market, self.markets(refresh=True))
        if found is None:
            raise MarketNotFoundError(market, [m.pair for m in self.markets()])
        return found

    @staticmethod
    def _match(query: str, markets: list[Market]) -> Optional[Market]:
        if is_hex_id(query):
            qid = normalize_id(query)
            return next((m for m in markets if qid in (m.market_id, m.contract_id)), None)
        pair = "/".join(part.strip() for part in query.split("/"))
        for rule in (lambda m: m.pair == pair,
                     lambda m: m.pair.lower() == pair.lower(),
                     lambda m: _without_faucet_prefix(m) == pair.lower()):
            hits = [m for m in markets if rule(m)]
            if len(hits) > 1:
                raise MarketNotFoundError(query, [m.pair for m in markets], "ambiguous market")
            if hits:
                return hits[0]
        return None

    # ------------------------------------------------------------------ reads

    def depth(self, market: Market, precision: int = 1, limit: Optional[int] = None
              ) -> DepthSnapshot:
        """The book now (absolute levels; ``market_id`` as the body has it), as o2-sdk's
        ``get_depth``."""
        body = self.get("depth", market_id=market.market_id,
                        precision=wire_precision(precision), limit=limit)
        with _shape("depth"):  # market_id: the body's, None when absent (as o2-sdk)
            snapshot: DepthSnapshot = decode.decode_depth_snapshot(_object(body, "depth"))
        if limit is not None:
            snapshot.bids = snapshot.bids[:limit]
            snapshot.asks = snapshot.asks[:limit]
        return snapshot

    def trades(self, market: Union[Market, str], count: int = 50, *, account: Optional[str] = None,
               start_timestamp: Optional[int] = None, start_trade_id: Optional[str] = None,
               direction: str = "desc", contract: Optional[str] = None) -> list[Trade]:
        """Trades of a market, newest first (``count`` at most 50). With ``account``,
        ``/v1/trades_by_account`` (trades carry ``trader_side``); ``contract`` is the
        low-level filter ``/v1/trades`` itself takes. The cursor is the last trade's
        ``timestamp`` and ``trade_id``."""
        endpoint = "trades" if account is None else "trades_by_account"
        market_id = market.market_id if isinstance(market, Market) else market
        body = self.get(endpoint, market_id=market_id,
                        contract=account if account is not None else contract,
                        direction=direction, count=count, start_timestamp=start_timestamp,
                        start_trade_id=start_trade_id)
        raw = body.get("trades", []) if isinstance(body, dict) else body
        with _shape(endpoint):
            return [decode.decode_trade(t) for t in _array(raw, endpoint, "trades")]

    def orders_page(self, market_id: str, contract: Optional[str] = None,
                    account: Optional[str] = None, direction: str = "desc", count: int = 20,
                    is_open: Optional[bool] = None, start_timestamp: Optional[int] = None,
                    start_order_id: Optional[str] = None) -> OrdersResponse:
        """One page of an account's orders on a market (``count`` at most 200);
        ``contract`` is a trade account id, ``account`` a wallet address."""
        body = self.get("orders", market_id=market_id, contract=contract,
                        account=None if contract else account, direction=direction,
                        count=count, is_open=is_open, start_timestamp=start_timestamp,
                        start_order_id=start_order_id)
        body = _object(body, "orders")
        with _shape("orders"):
            raw = body.get("orders")
            identity = body.get("identity")
            return OrdersResponse(
                identity=Identity.from_wire(identity) if identity else None,
                market_id=decode._hex_id(body["market_id"], "market_id"),
                orders=[decode.decode_order(o)
                        for o in ([] if raw is None else _array(raw, "orders", "orders"))])

    def open_orders(self, market: Market, account: str, count: int = 200,
                    max_pages: int = 10_000) -> list[Order]:
        """Every open order of the account on one market, newest first: pages of
        ``count`` followed by their cursor until a short page, so an account with more
        open orders than one page holds loses none (duplicates dropped by id)."""
        seen: set[str] = set()
        out: list[Order] = []
        cursor: tuple[Optional[int], Optional[str]] = (None, None)
        for _ in range(max_pages):  # bounded: a server that never ends its pages stops here
            page = self.orders_page(market.market_id, contract=account, count=count,
                                    is_open=True, start_timestamp=cursor[0],
                                    start_order_id=cursor[1]).orders
            fresh = [o for o in page if o.order_id not in seen]
            seen.update(o.order_id for o in fresh)
            out.extend(fresh)
            if len(page) < count or not fresh:
                return out
            last = page[-1]
            cursor = (int(last.timestamp), str(last.order_id))
        log.warning("open orders of %s on %s: stopped after %d pages", account[:10],
                    market.pair, max_pages)
        return out

    def order(self, market_id: str, order_id: str) -> Order:
        """One order (``GET /v1/order``; the answer wraps it as ``{"order": ...}``)."""
        body = _object(self.get("order", market_id=market_id, order_id=order_id), "order")
        with _shape("order"):
            inner = body.get("order", body)
            return decode.decode_order(_object(inner, "order", "order"))

    def balance(self, account: Optional[str], asset_id: str,
                address: Optional[str] = None) -> Balance:
        """One asset's balance of a trade account (or, with ``address``, of a wallet)."""
        body = self.get("balance", asset_id=asset_id, contract=account,
                        address=None if account else address)
        with _shape("balance"):
            return decode.decode_balance(dict(_object(body, "balance"), asset_id=asset_id))

    def account(self, owner: Optional[str] = None,
                trade_account_id: Optional[str] = None) -> AccountInfo:
        """``GET /v1/accounts`` by wallet (``owner``) or trade account id."""
        body = self.get("accounts", owner=owner or None,
                        trade_account_id=None if owner else trade_account_id)
        body = _object(body, "accounts")
        if "trade_account" not in body:
            raise _malformed("accounts", "missing field", field="trade_account")
        with _shape("accounts"):
            return _account_info(body)

    def nonce(self, account: str) -> Optional[int]:
        """The trade account's current nonce (None for an unknown account)."""
        info = self.account(trade_account_id=account)
        return None if info.trade_account is None else info.nonce

    def markets_response(self) -> MarketsResponse:
        """``GET /v1/markets`` with the registry ids (the markets are cached as well)."""
        body = _object(self.get("markets"), "markets")
        markets = self._parse_markets(body)
        with self._markets_lock:
            self._markets = markets
        with _shape("markets"):
            return markets_response_from(body, markets)

    def bars(self, market_id: str, from_ts: int, to_ts: int, resolution: str = "1h"
             ) -> list[Bar]:
        """Candles of a market between two times in milliseconds."""
        check_resolution(resolution)
        body = self.get("bars", market_id=market_id, resolution=resolution,
                        **{"from": from_ts, "to": to_ts})
        raw = body.get("bars", []) if isinstance(body, dict) else body
        with _shape("bars"):
            return [_bar(b) for b in _array(raw, "bars", "bars")]

    def ticker(self, market_id: str) -> MarketTicker:
        """The market's ticker (the live answer is a one-item list; an object is taken too)."""
        body = self.get("markets/ticker", market_id=market_id)
        if isinstance(body, list):
            if not body:
                raise as_o2_error(MalformedResponseError(
                    "markets/ticker", f"no ticker returned for market {market_id}"))
            body = body[0]
        with _shape("markets/ticker"):
            return ticker_from(market_id, _object(body, "markets/ticker"))


def markets_response_from(body: dict[str, Any], markets: list[Market]) -> MarketsResponse:
    """The registry ids of a ``GET /v1/markets`` answer (a zero id where one is absent,
    as o2-sdk) with its parsed markets."""
    def hex_or_zero(key: str) -> Id:
        return decode._hex_id(body.get(key) or "0" * 64, key)

    chain = body.get("chain_id", "0x0000000000000000")
    return MarketsResponse(hex_or_zero("books_registry_id"), hex_or_zero("accounts_registry_id"),
                           hex_or_zero("trade_account_oracle_id"), decode._text(chain, "chain_id"),
                           hex_or_zero("base_asset_id"), list(markets))


def ticker_from(market_id: str, item: dict[str, Any]) -> MarketTicker:
    """One ticker object; ``market_id`` set to the one asked for when it has none."""
    data = {"market_id": market_id, **item}
    return MarketTicker(decode._hex_id(data["market_id"], "market_id"), data)


def _account_info(body: dict[str, Any]) -> AccountInfo:
    info = body["trade_account"]
    account_id = body.get("trade_account_id")
    session = body.get("session")
    trade_account = None
    if info is not None:
        _object(info, "accounts", "trade_account")
        synced = info.get("synced_with_network")
        if synced is not None and synced is not True and synced is not False:
            raise DecodeError("synced_with_network is not a JSON boolean", synced)
        nonce = info.get("nonce")
        trade_account = TradeAccount(
            last_modification=decode._opt_uint(info, "last_modification"),
            nonce=0 if nonce is None else decode.to_int(nonce, "nonce"),
            owner=Identity.from_wire(info["owner"]),  # type: ignore[arg-type]
            synced_with_network=synced,
            sync_state=info.get("sync_state"))
    if session is not None and not isinstance(session, dict):
        raise DecodeError("session is not an object", session)
    return AccountInfo(None if account_id is None else decode._hex_id(account_id,
                                                                       "trade_account_id"),
                       trade_account, session)


def _bar(raw: Any) -> Bar:
    if not isinstance(raw, dict):
        raise DecodeError("bar is not an object", raw)

    def text(key: str) -> str:
        value = raw.get(key, "0")
        if value.__class__ not in (str, int, float):
            raise DecodeError(f"{key} is not a number", value)
        return str(value)

    return Bar(decode._opt_uint(raw, "time"), text("open"), text("high"), text("low"),
               text("close"), text("volume"))


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _without_faucet_prefix(market: Market) -> str:
    """``fFUEL/fUSDC`` -> ``fuel/usdc``: testnet faucet tokens carry an ``f`` prefix."""
    def strip(sym: str) -> str:
        return sym[1:] if sym[:1] == "f" and sym[1:2].isupper() else sym

    return f"{strip(market.base.symbol)}/{strip(market.quote.symbol)}".lower()
