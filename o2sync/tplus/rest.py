"""The REST reads a tplus streaming client needs, over :mod:`o2sync._http`.

Market-data service (MDS): the order-book snapshot, klines, trades and a user's
history; order service (OMS): market decimals, the market list. Both: the login
(``GET /nonce/{user_id}``, ``POST /auth``). Bodies are parsed with every number
exact; answers that are not the documented shape raise o2sync's own errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from .._http import HttpJson
from ..engine.options import Options
from ..errors import ApiError, AuthError, DecodeError, MalformedResponseError
from . import decode
from .asset import AssetIdentifier
from .decode import parse_frame
from .models import KlinesPage, MarketInfo, OrderBook, Trade


class TplusRest:
    """Blocking REST calls against one tplus service base URL. Thread-safe."""

    def __init__(self, base_url: str, options: Options) -> None:
        self.base_url = base_url
        self._http = HttpJson(base_url, timeout=options.rest_timeout,
                              retries=options.rest_retries, backoff=options.rest_backoff,
                              retry_after_max=options.rest_retry_after_max,
                              ca_bundle=options.ca_bundle, proxy=options.proxy,
                              loads=parse_frame)

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"<TplusRest {self._http!r}>"

    def get(self, path: str, headers: Optional[Mapping[str, str]] = None,
            **params: Any) -> Any:
        """GET ``path`` (unset parameters omitted) and return the exact-number JSON."""
        query = {k: v for k, v in params.items() if v is not None}
        return self._http.get(path, query or None, headers=headers)

    def _decoded(self, path: str, decoder: Any, body: Any) -> Any:
        try:
            return decoder(body)
        except DecodeError as exc:
            raise MalformedResponseError(path, exc.reason, url=self._http.url(path)) from None

    # ------------------------------------------------------------ market data

    def orderbook(self, asset: AssetIdentifier) -> OrderBook:
        path = f"/marketdepth/{asset}"
        result: OrderBook = self._decoded(path, decode.decode_orderbook, self.get(path))
        return result

    def klines(self, asset: AssetIdentifier, *, interval: Optional[str] = None,
               page: Optional[int] = None, limit: Optional[int] = None,
               end_timestamp_ns: Optional[int] = None) -> KlinesPage:
        path = f"/klines/{asset}"
        body = self.get(path, page=page, limit=limit, end_timestamp_ns=end_timestamp_ns,
                        interval=interval)
        result: KlinesPage = self._decoded(path, decode.decode_klines_page, body)
        return result

    def trades(self, asset: Optional[AssetIdentifier] = None, *, page: Optional[int] = None,
               limit: Optional[int] = None) -> list[Trade]:
        path = "/trades" if asset is None else f"/trades/{asset}"
        result: list[Trade] = self._decoded(path, decode.decode_trades,
                                            self.get(path, page=page, limit=limit))
        return result

    def user_trades(self, user_id: str, headers: Mapping[str, str], *,
                    asset: Optional[AssetIdentifier] = None, page: Optional[int] = None,
                    limit: Optional[int] = None) -> list[dict[str, Any]]:
        """A user's settled fills as the service returns them (JSON objects, exact
        numbers). History rows carry no ``trade_id`` (one row may merge fills), so
        they are not :class:`UserTrade` events (§5)."""
        path = f"/trades/user/{user_id}" + (f"/{asset}" if asset is not None else "")
        return self._rows(path, "trades", headers, page=page, limit=limit)

    def user_orders(self, user_id: str, headers: Mapping[str, str], *,
                    asset: Optional[AssetIdentifier] = None) -> list[dict[str, Any]]:
        """A user's open orders as the service returns them (JSON objects, exact numbers)."""
        path = f"/orders/user/{user_id}" + (f"/{asset}" if asset is not None else "")
        return self._rows(path, "orders", headers)

    def _rows(self, path: str, field: str, headers: Mapping[str, str],
              **params: Any) -> list[dict[str, Any]]:
        try:
            body = self.get(path, headers=headers, **params)
        except ApiError as exc:
            if exc.status == 404:  # §5: user history 404 means "none"
                return []
            raise
        if isinstance(body, Mapping):
            body = body.get(field, [])
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise MalformedResponseError(path, f"expected a list of {field}",
                                         url=self._http.url(path))
        return body

    # ------------------------------------------------------------ order service

    def market(self, asset: AssetIdentifier) -> MarketInfo:
        path = f"/market/{asset}"
        result: MarketInfo = self._decoded(path, decode.decode_market, self.get(path))
        return result

    def markets(self) -> list[MarketInfo]:
        path = "/markets"
        body = self.get(path, page=0, limit=1000)
        rows = body.get("markets") if isinstance(body, Mapping) else body
        if not isinstance(rows, list):
            raise MalformedResponseError(path, "expected 'markets' to be a list",
                                         url=self._http.url(path))
        return [self._decoded(path, decode.decode_market, row) for row in rows]

    # ------------------------------------------------------------ login

    def nonce(self, user_id: str) -> str:
        """``GET /nonce/{user_id}``: the nonce to sign, as text."""
        from .auth import nonce_from_response

        return nonce_from_response(self._login_call(lambda: self.get(f"/nonce/{user_id}")))

    def auth(self, body: dict[str, Any]) -> Any:
        """``POST /auth`` with a signed nonce; the ``{"token", "expiry_ns"}`` answer."""
        return self._login_call(lambda: self._http.post("/auth", body))

    @staticmethod
    def _login_call(call: Any) -> Any:
        try:
            return call()
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                raise AuthError(f"login refused: HTTP {exc.status} {exc.message}",
                                permanent=True, status=exc.status) from None
            raise AuthError(f"login failed: HTTP {exc.status} {exc.message}",
                            permanent=False, status=exc.status) from None
