"""The REST reads a tplus streaming client needs, over :mod:`o2sync._http`.

Market-data service (MDS): the order-book snapshot, klines, trades; order
service (OMS): market decimals. (The user history, order state and market pages
are read by :mod:`o2sync.tplus._rest_calls` through :meth:`TplusRest.get`.) Both: the login
(``GET /nonce/{user_id}``, ``POST /auth``). Bodies are parsed with every number
exact; answers that are not the documented shape raise o2sync's own errors.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Optional

from .._http import HttpJson
from ..engine.options import Options
from ..errors import ApiError, DecodeError, MalformedResponseError
from . import decode
from .asset import AssetIdentifier
from .decode import parse_frame
from .errors import AuthError, OmsError, oms_error
from .models import KlinesPage, MarketInfo, OrderBook, Trade


class TplusRest:
    """Blocking REST calls against one tplus service base URL. Thread-safe."""

    def __init__(self, base_url: str, options: Options, auth_path_prefix: str = "") -> None:
        self.base_url = base_url
        prefix = auth_path_prefix.strip("/")
        self.auth_path_prefix = f"/{prefix}" if prefix else ""  # a gateway's MDS login
        self._http = HttpJson(base_url, timeout=options.rest_timeout,
                              retries=options.rest_retries, backoff=options.rest_backoff,
                              retry_after_max=options.rest_retry_after_max,
                              ca_bundle=options.ca_bundle, proxy=options.proxy,
                              loads=parse_frame)

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"<TplusRest {self._http!r}>"

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this service."""
        return self._http.url(path)

    def get(self, path: str, headers: Optional[Mapping[str, str]] = None,
            **params: Any) -> Any:
        """GET ``path`` (unset parameters omitted) and return the exact-number JSON.

        An error answer raises the :class:`~o2sync.tplus.errors.OmsError` subclass
        tpluspy would raise (``NotFoundError``, ``RateLimitError``, ``AuthError``...).
        """
        query = {k: _query_value(v) for k, v in params.items() if v is not None}
        try:
            return self._http.get(path, query or None, headers=headers)
        except (MalformedResponseError, OmsError):
            raise
        except ApiError as exc:
            raise oms_error(exc) from None

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

    # ------------------------------------------------------------ order service

    def market(self, asset: AssetIdentifier) -> MarketInfo:
        path = f"/market/{asset}"
        result: MarketInfo = self._decoded(path, decode.decode_market, self.get(path))
        return result

    # ------------------------------------------------------------ login

    def nonce(self, user_id: str) -> str:
        """``GET /nonce/{user_id}``: the nonce to sign, as text."""
        from .auth import nonce_from_response

        path = f"{self.auth_path_prefix}/nonce/{user_id}"
        return nonce_from_response(self._login_call(lambda: self.get(path)))

    def auth(self, body: dict[str, Any]) -> Any:
        """``POST /auth`` with a signed nonce; the ``{"token", "expiry_ns"}`` answer."""
        return self._login_call(lambda: self._http.post(f"{self.auth_path_prefix}/auth", body))

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


def _query_value(value: Any) -> Any:
    """A query parameter as tpluspy sends it: booleans as ``true``/``false``, enums
    (``Interval``) as their value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.value
    return value
