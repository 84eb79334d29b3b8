"""The REST reads a streaming client needs, over ``requests``.

Rate limits (HTTP 429) and transient 5xx answers are retried with exponential
backoff by urllib3's ``Retry`` mounted on the session (honouring ``Retry-After``).
Markets are fetched once and cached; market arguments resolve by id or pair name.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional, Union

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..errors import ApiError, ConnectError, MarketNotFoundError, RateLimitedError
from ..models import Balance, DepthUpdate, Market, MarketAsset, Order, Trade
from . import decode
from .protocol import is_hex_id, normalize_id, wire_precision

log = logging.getLogger(__name__)

RATE_LIMITED_CODE = 1003
MarketLike = Union[str, Market]


def _retry(retries: int, backoff: float) -> Retry:
    return Retry(total=retries, connect=retries, read=retries, status=retries,
                 backoff_factor=backoff, status_forcelist=(429, 502, 503, 504),
                 allowed_methods=frozenset({"GET"}), respect_retry_after_header=True,
                 raise_on_status=False)


def _market_from_wire(raw: dict[str, Any]) -> Market:
    def asset(a: dict[str, Any]) -> MarketAsset:
        return MarketAsset(str(a["symbol"]), normalize_id(a["asset"]), int(a["decimals"]),
                           int(a["max_precision"]))

    return Market(
        market_id=normalize_id(raw["market_id"]),
        contract_id=normalize_id(raw["contract_id"]),
        base=asset(raw["base"]),
        quote=asset(raw["quote"]),
        maker_fee=str(raw.get("maker_fee", "0")),
        taker_fee=str(raw.get("taker_fee", "0")),
        min_order=str(raw.get("min_order", "0")),
        dust=str(raw.get("dust", "0")),
        price_window=int(raw.get("price_window") or 0),
    )


class RestClient:
    """Blocking REST reads against one O2 API base URL. Thread-safe."""

    def __init__(self, api_url: str, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 1.0, proxy: Optional[str] = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json"})
        if proxy:
            self._session.proxies.update({"http": proxy, "https": proxy})
        adapter = HTTPAdapter(max_retries=_retry(retries, backoff))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._markets: Optional[list[Market]] = None
        self._markets_lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def get(self, path: str, **params: Any) -> Any:
        """GET ``/v1/<path>`` and return the decoded JSON; ApiError on an error answer."""
        url = f"{self.api_url}/v1/{path}"
        query = {k: _query_value(v) for k, v in params.items() if v is not None}
        try:
            resp = self._session.get(url, params=query, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ConnectError(f"GET {url} failed: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        if resp.status_code == 429 or code == RATE_LIMITED_CODE:
            raise RateLimitedError(resp.status_code, code, _message(body, resp), resp.url)
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, code, _message(body, resp), resp.url)
        return body

    # ------------------------------------------------------------------ markets

    def markets(self, refresh: bool = False) -> list[Market]:
        """Every spot market (cached after the first call; ``refresh`` re-reads)."""
        with self._markets_lock:
            if self._markets is None or refresh:
                body = self.get("markets")
                self._markets = [_market_from_wire(m) for m in body["markets"]
                                 if not m.get("turbo")]
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
              ) -> DepthUpdate:
        """The book now, as a snapshot DepthUpdate (``is_snapshot`` True)."""
        body = self.get("depth", market_id=market.market_id,
                        precision=wire_precision(precision), limit=limit)
        body = dict(body, action="subscribe_depth", market_id=market.market_id)
        update = decode.decode_depth(body)
        if limit is not None:
            update.changes.bids = update.changes.bids[:limit]
            update.changes.asks = update.changes.asks[:limit]
        return update

    def trades(self, market: Market, count: int = 50) -> list[Trade]:
        """Recent trades, newest first (at most 50)."""
        body = self.get("trades", market_id=market.market_id, direction="desc", count=count)
        raw = body.get("trades", []) if isinstance(body, dict) else body
        return [decode.decode_trade(t) for t in raw]

    def open_orders(self, market: Market, account: str, count: int = 200) -> list[Order]:
        """The account's open orders on one market."""
        body = self.get("orders", market_id=market.market_id, contract=account,
                        direction="desc", count=count, is_open=True)
        return [decode.decode_order(o) for o in body.get("orders", [])]

    def balance(self, account: str, asset_id: str) -> Balance:
        """One asset's balance of a trade account."""
        body = self.get("balance", asset_id=asset_id, contract=account)
        return decode.decode_balance(dict(body, asset_id=asset_id))

    def nonce(self, account: str) -> Optional[int]:
        """The trade account's current nonce (None for an unknown account)."""
        body = self.get("accounts", trade_account_id=account)
        info = body.get("trade_account") if isinstance(body, dict) else None
        return decode.to_int(info["nonce"], "nonce") if info else None


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _message(body: Any, resp: requests.Response) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return resp.reason or resp.text[:200]


def _without_faucet_prefix(market: Market) -> str:
    """``fFUEL/fUSDC`` -> ``fuel/usdc``: testnet faucet tokens carry an ``f`` prefix."""
    def strip(sym: str) -> str:
        return sym[1:] if sym[:1] == "f" and sym[1:2].isupper() else sym

    return f"{strip(market.base.symbol)}/{strip(market.quote.symbol)}".lower()
