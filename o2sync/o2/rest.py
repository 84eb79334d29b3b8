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
from ..errors import DecodeError, MalformedResponseError, MarketNotFoundError
from ..models import Balance, DepthSnapshot, Market, MarketAsset, Order, Trade
from ..redact import redact_url
from . import decode
from .protocol import is_hex_id, normalize_id, wire_precision

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
        raise MalformedResponseError(endpoint, str(exc), field=field) from None
    except KeyError as exc:
        raise MalformedResponseError(endpoint, "missing field", field=str(exc.args[0])) from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise MalformedResponseError(endpoint, f"unexpected shape ({exc})") from None


def _object(value: Any, endpoint: str, field: Optional[str] = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponseError(endpoint, f"expected a JSON object, got "
                                     f"{type(value).__name__}", field=field)
    return value


def _array(value: Any, endpoint: str, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedResponseError(endpoint, f"expected a JSON array, got "
                                     f"{type(value).__name__}", field=field)
    return value


def _uint_text(raw: dict[str, Any], key: str, default: str = "0") -> str:
    """An optional unsigned integer field (string or number), kept as text."""
    value = raw.get(key)
    return default if value is None else str(decode._uint(value, key))


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
        market_id=decode._id(raw["market_id"], "market_id"),
        contract_id=decode._id(raw["contract_id"], "contract_id"),
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
        return self._http.get(f"v1/{path}", query)

    # ------------------------------------------------------------------ markets

    def markets(self, refresh: bool = False) -> list[Market]:
        """Every spot market (cached after the first call; ``refresh`` re-reads)."""
        with self._markets_lock:
            if self._markets is None or refresh:
                body = _object(self.get("markets"), "markets")
                with _shape("markets"):
                    rows = _array(body.get("markets"), "markets", "markets")
                    for row in rows:
                        _object(row, "markets", "markets[]")
                    self._markets = [_market_from_wire(m) for m in rows
                                     if m.get("turbo") is not True]
            return list(self._markets)

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

    def trades(self, market: Market, count: int = 50) -> list[Trade]:
        """Recent trades, newest first (at most 50)."""
        body = self.get("trades", market_id=market.market_id, direction="desc", count=count)
        raw = body.get("trades", []) if isinstance(body, dict) else body
        with _shape("trades"):
            return [decode.decode_trade(t) for t in _array(raw, "trades", "trades")]

    def open_orders(self, market: Market, account: str, count: int = 200) -> list[Order]:
        """The account's open orders on one market."""
        body = self.get("orders", market_id=market.market_id, contract=account,
                        direction="desc", count=count, is_open=True)
        with _shape("orders"):
            raw = _object(body, "orders").get("orders", [])
            return [decode.decode_order(o) for o in _array(raw, "orders", "orders")]

    def balance(self, account: str, asset_id: str) -> Balance:
        """One asset's balance of a trade account."""
        body = self.get("balance", asset_id=asset_id, contract=account)
        with _shape("balance"):
            return decode.decode_balance(dict(_object(body, "balance"), asset_id=asset_id))

    def nonce(self, account: str) -> Optional[int]:
        """The trade account's current nonce (None for an unknown account)."""
        body = self.get("accounts", trade_account_id=account)
        body = _object(body, "accounts")
        if "trade_account" not in body:
            raise MalformedResponseError("accounts", "missing field", field="trade_account")
        info = body["trade_account"]
        if info is None:
            return None
        with _shape("accounts"):
            return decode.to_int(_object(info, "accounts", "trade_account")["nonce"], "nonce")


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _without_faucet_prefix(market: Market) -> str:
    """``fFUEL/fUSDC`` -> ``fuel/usdc``: testnet faucet tokens carry an ``f`` prefix."""
    def strip(sym: str) -> str:
        return sym[1:] if sym[:1] == "f" and sym[1:2].isupper() else sym

    return f"{strip(market.base.symbol)}/{strip(market.quote.symbol)}".lower()
