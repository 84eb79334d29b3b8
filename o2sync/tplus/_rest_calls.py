"""tpluspy 0.6.0's REST calls for blocking code, as mixins of the two clients.

:class:`MarketDataRest` (MDS: klines and their pages, trades, a user's trade and
order history) and :class:`OrderBookRest` (OMS: markets, the user's live orders,
the source of truth for open orders after a reconnect) have tpluspy's names,
positional order, keywords, defaults and return types (PARITY §2,
``tplus-streams.md`` §5). :class:`UserCalls` is what both share: ``user=`` on
every per-user call takes a :class:`~o2sync.tplus.auth.User` or a bare public key
(64 hex), ``None`` meaning the client's default user
(:class:`~o2sync.tplus.errors.MissingClientUserError` when there is none), and
``set_default_user``.

As tpluspy: query parameters go out only when set; a user's history answering 404
is an empty page; order-service rows that fail validation are skipped (logged and
reported through ``on_error``). Unlike tpluspy, every number is exact and every
other malformed answer raises :class:`~o2sync.errors.MalformedResponseError`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from ..errors import DecodeError, MalformedResponseError
from .asset import AssetIdentifier
from .auth import TokenStore, User
from .decode import decode_klines_page, decode_trades
from .errors import AuthError, MissingClientUserError, NotFoundError
from .history import (
    Interval,
    MarketsPage,
    OrderResponse,
    UserOrdersPage,
    UserTradesPage,
    decode_markets_page,
    decode_order_responses,
    decode_user_orders_page,
    decode_user_trades_page,
)
from .models import KlinesPage, KlineUpdate, MarketInfo, Trade

if TYPE_CHECKING:
    from ..engine.stream import StreamEngine
    from .rest import TplusRest
    from .venue import TplusVenue

__all__ = ["MarketDataRest", "OrderBookRest", "UserCalls", "UserType"]

log = logging.getLogger(__name__)

AssetLike = Union[AssetIdentifier, int, str]
T = TypeVar("T")
UserType = Union[User, str]
#: tpluspy's defaults
DEFAULT_MAX_KLINE_PAGES = 50
MARKETS_PAGE_LIMIT = 1000
OPEN_ORDERS_PAGE_LIMIT = 1000
_PUBLIC_KEY = re.compile(r"[0-9a-f]{64}")


def public_key(text: str) -> str:
    """A bare public key as paths carry it: 64 hex, lower case, ``0x`` optional."""
    key = text[2:] if text[:2] in ("0x", "0X") else text
    key = key.lower()
    if _PUBLIC_KEY.fullmatch(key) is None:
        raise ValueError(f"user must be a User or a 64-hex public key, got {text!r}")
    return key


def _count(value: Any, name: str, low: int = 0) -> Optional[int]:
    """A page number / limit / count argument: None or an int >= ``low``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def _text(value: Any, name: str) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str, got {value!r}")


def _interval(value: Any) -> Optional[str]:
    """``Interval.HOUR_4`` or a raw string (``"4h"``) as sent; None: the server's default."""
    if value is None:
        return None
    if isinstance(value, Interval):
        return value.value
    if isinstance(value, str) and value:
        return value
    raise TypeError(f"interval must be an Interval or a non-empty str, got {value!r}")


def _filters(page: Any, limit: Any, sub_account: Any, start_time: Any, end_time: Any,
             side: Any, status: Any) -> dict[str, Any]:
    """The history filters, checked at the call; unset ones are not sent."""
    return {"page": _count(page, "page"), "limit": _count(limit, "limit", 1),
            "sub_account": _count(sub_account, "sub_account"),
            "start_time": _count(start_time, "start_time"),
            "end_time": _count(end_time, "end_time"),
            "side": _text(side, "side"), "status": _text(status, "status")}


class UserCalls:
    """Per-call users and the default user, shared by both tplus clients."""

    rest: TplusRest
    default_user: Optional[User]
    _auth: Optional[TokenStore]
    _engine: StreamEngine
    _venue: TplusVenue

    def _init_users(self) -> None:
        self._user_auth: dict[str, TokenStore] = {}
        self._users_lock = threading.Lock()

    def set_default_user(self, user: Optional[User]) -> None:
        """Replace the user of calls that pass no ``user=`` (``None``: require one per
        call). Sockets already open keep their login until they reconnect."""
        if user is not None and not isinstance(user, User):
            raise TypeError(f"user must be a User (User(), User(seed), load_user(name)) or "
                            f"None, got {type(user).__name__}")
        with self._users_lock:
            self.default_user = user
            self._auth = self._store(user) if user is not None else None
            self._venue.set_auth(self._auth)

    def _store(self, user: User) -> TokenStore:
        """The login of ``user`` (one per user and client, kept; lock held or not)."""
        if self._auth is not None and self._auth.user_id == user.user_id:
            return self._auth
        store = self._user_auth.get(user.user_id)
        if store is None:
            store = self._user_auth[user.user_id] = TokenStore(user, self.rest.nonce,
                                                              self.rest.auth)
        return store

    def _user_id(self, user: Optional[UserType]) -> str:
        """The public key a per-user path names: ``user``'s, or the default user's."""
        if isinstance(user, str):
            return public_key(user)
        return self._signer(user).user_id

    def _signer(self, user: Optional[UserType]) -> User:
        """The user whose token a call presents: ``user`` when it can sign (a bare
        public key cannot: the default user's token is used, as tpluspy does)."""
        if isinstance(user, User):
            return user
        if user is not None and not isinstance(user, str):
            raise TypeError(f"user must be a User or a public key string, got "
                            f"{type(user).__name__}")
        if self.default_user is None:
            raise MissingClientUserError()
        return self.default_user

    def _authed_get(self, path: str, user: Optional[UserType], **params: Any) -> Any:
        """GET with ``user``'s token; a 401/403 answer drops that token and tries once
        more with a fresh login, as tpluspy does (then the AuthError stands)."""
        signer = self._signer(user)
        with self._users_lock:
            store = self._store(signer)
        headers = store.headers()
        try:
            return self.rest.get(path, headers=headers, **params)
        except AuthError as exc:
            if exc.status_code not in (401, 403):
                raise
            store.invalidate(headers["Authorization"].removeprefix("Bearer "))
            log.info("%s: HTTP %s with a held token; one retry after a fresh login",
                     path, exc.status_code)
        return self.rest.get(path, headers=store.headers(), **params)

    def _report(self, exc: Exception) -> None:
        self._engine.report(exc)


class MarketDataRest(UserCalls):
    """The MDS REST calls of tpluspy's ``MarketDataClient`` (mixed into o2sync's)."""

    def get_klines(self, asset_id: AssetLike, page: Optional[int] = None,
                   limit: Optional[int] = None, end_timestamp_ns: Optional[int] = None,
                   interval: Union[Interval, str, None] = None) -> KlinesPage:
        """One page of candles of ``asset_id``, newest first, with its continuation
        (``has_next_page``, ``next_page``, ``truncated_before_ns``). ``interval``:
        :class:`Interval` (``Interval.HOUR_4``) or a raw string (``"4h"``)."""
        asset = AssetIdentifier(asset_id)
        path = f"/klines/{asset}"
        body = self.rest.get(path, page=_count(page, "page"), limit=_count(limit, "limit", 1),
                             end_timestamp_ns=_count(end_timestamp_ns, "end_timestamp_ns"),
                             interval=_interval(interval))
        return _decoded(self.rest, path, decode_klines_page, body)

    def iter_klines(self, asset_id: AssetLike, limit: Optional[int] = None,
                    end_timestamp_ns: Optional[int] = None,
                    interval: Union[Interval, str, None] = None,
                    max_pages: Optional[int] = DEFAULT_MAX_KLINE_PAGES) -> Iterator[KlineUpdate]:
        """Every candle of ``asset_id``, newest first, across pages and across the
        server's truncation of a too-wide window (``truncated_before_ns``: the walk
        resumes just before it). ``end_timestamp_ns`` (default now) is pinned so
        pages cannot slide; ``max_pages`` bounds the reads (``None``: no bound).
        Arguments are checked here; pages are read as the iterator is consumed."""
        asset = AssetIdentifier(asset_id)
        _count(limit, "limit", 1)
        _count(end_timestamp_ns, "end_timestamp_ns")
        _count(max_pages, "max_pages")
        _interval(interval)
        end = end_timestamp_ns if end_timestamp_ns is not None else time.time_ns()
        return self._walk_klines(asset, limit, end, interval, max_pages)

    def _walk_klines(self, asset: AssetIdentifier, limit: Optional[int], end: int,
                     interval: Union[Interval, str, None], max_pages: Optional[int]
                     ) -> Iterator[KlineUpdate]:
        page, reads = 0, 0
        while max_pages is None or reads < max_pages:
            result = self.get_klines(asset, page=page, limit=limit, end_timestamp_ns=end,
                                     interval=interval)
            reads += 1
            yield from result.items
            if result.has_next_page:
                page += 1  # tpluspy counts pages itself, next_page is not read
                continue
            cutoff = result.truncated_before_ns
            if cutoff is None or cutoff == 0 or cutoff > end:
                return
            end, page = cutoff - 1, 0  # the clamped window's older rest

    def get_trades(self, page: Optional[int] = None, limit: Optional[int] = None
                   ) -> list[Trade]:
        """Recent finalized trades of every market (``GET /trades``), newest first."""
        path = "/trades"
        body = self.rest.get(path, page=_count(page, "page"), limit=_count(limit, "limit", 1))
        return _decoded(self.rest, path, decode_trades, body)

    def get_trades_for_asset(self, asset_id: AssetLike, page: Optional[int] = None,
                             limit: Optional[int] = None) -> list[Trade]:
        """Recent finalized trades of ``asset_id`` (``GET /trades/{asset}``)."""
        path = f"/trades/{AssetIdentifier(asset_id)}"
        body = self.rest.get(path, page=_count(page, "page"), limit=_count(limit, "limit", 1))
        return _decoded(self.rest, path, decode_trades, body)

    def get_user_trades(self, user: Optional[UserType] = None, *, page: Optional[int] = None,
                        limit: Optional[int] = None, start_time: Optional[int] = None,
                        end_time: Optional[int] = None, side: Optional[str] = None,
                        sub_account: Optional[int] = None, status: Optional[str] = None
                        ) -> UserTradesPage:
        """``user``'s settled trades (default user if None), newest first, one page.
        ``start_time``/``end_time``: inclusive Unix ns; ``side``: ``"buy"``/``"sell"``
        (the user's role). Empty unless the user exports to the MDS (the default).
        Re-read these after ``RECONNECTED`` with ``start_time=<last seen ns>``."""
        return self._history("trades", None, user, decode_user_trades_page,
                             _filters(page, limit, sub_account, start_time, end_time, side,
                                      status), UserTradesPage)

    def get_user_trades_for_asset(self, asset_id: AssetLike, user: Optional[UserType] = None,
                                  *, page: Optional[int] = None, limit: Optional[int] = None,
                                  start_time: Optional[int] = None,
                                  end_time: Optional[int] = None, side: Optional[str] = None,
                                  sub_account: Optional[int] = None,
                                  status: Optional[str] = None) -> UserTradesPage:
        """As :meth:`get_user_trades`, on ``asset_id`` only."""
        return self._history("trades", AssetIdentifier(asset_id), user,
                             decode_user_trades_page,
                             _filters(page, limit, sub_account, start_time, end_time, side,
                                      status), UserTradesPage)

    def get_user_orders(self, user: Optional[UserType] = None, *, page: Optional[int] = None,
                        limit: Optional[int] = None, sub_account: Optional[int] = None,
                        start_time: Optional[int] = None, end_time: Optional[int] = None,
                        side: Optional[str] = None, status: Optional[str] = None
                        ) -> UserOrdersPage:
        """``user``'s exported order history (MDS), newest first, one page; ``status``
        one of ``pending``, ``open``, ``partial``, ``cancelled``, ``closed``,
        ``completed``. For the open orders of a resync use the order service's
        ``OrderBookClient.get_open_orders_for_book`` (the source of truth)."""
        return self._history("orders", None, user, decode_user_orders_page,
                             _filters(page, limit, sub_account, start_time, end_time, side,
                                      status), UserOrdersPage)

    def get_user_orders_for_asset(self, asset_id: AssetLike, user: Optional[UserType] = None,
                                  *, page: Optional[int] = None, limit: Optional[int] = None,
                                  sub_account: Optional[int] = None,
                                  start_time: Optional[int] = None,
                                  end_time: Optional[int] = None, side: Optional[str] = None,
                                  status: Optional[str] = None) -> UserOrdersPage:
        """As :meth:`get_user_orders`, on ``asset_id`` only."""
        return self._history("orders", AssetIdentifier(asset_id), user,
                             decode_user_orders_page,
                             _filters(page, limit, sub_account, start_time, end_time, side,
                                      status), UserOrdersPage)

    def _history(self, kind: str, asset: Optional[AssetIdentifier], user: Optional[UserType],
                 decoder: Callable[[Any], T], params: dict[str, Any], empty: Callable[[], T]
                 ) -> T:
        path = f"/{kind}/user/{self._user_id(user)}" + (f"/{asset}" if asset else "")
        try:
            body = self._authed_get(path, user, **params)
        except NotFoundError:
            return empty()  # a user the service has no history for
        return _decoded(self.rest, path, decoder, body)


class OrderBookRest(UserCalls):
    """The OMS REST calls of tpluspy's ``OrderBookClient`` (mixed into o2sync's)."""

    def _init_markets(self) -> None:
        self._market_cache: dict[str, MarketInfo] = {}

    def get_market(self, asset_id: AssetLike) -> MarketInfo:
        """A market's book decimals (``GET /market/{asset}``), fetched once per asset."""
        asset = AssetIdentifier(asset_id)
        key = str(asset)
        cached = self._market_cache.get(key)
        if cached is not None:
            return cached
        market = self.rest.market(asset)
        self._market_cache[key] = market
        return market

    def get_markets(self, include_symbol_map: bool = False, *, page: Optional[int] = None,
                    limit: Optional[int] = None) -> MarketsPage:
        """One page of markets (default: page 0 of up to 1000, i.e. all of them), and
        the asset table with ``include_symbol_map=True``. A sequence of markets."""
        return markets_page(self.rest, include_symbol_map, page, limit)

    def get_user_orders_for_book(self, asset_id: AssetLike, *, page: Optional[int] = None,
                                 limit: Optional[int] = None, open_only: Optional[bool] = None,
                                 user: Optional[UserType] = None) -> list[OrderResponse]:
        """``user``'s orders on ``asset_id`` as the order service holds them now
        (``open_only=True``: open ones). If any of ``page``/``limit``/``open_only`` is
        set, ``page`` (default 0) and ``limit`` (default 1000) are sent too."""
        asset = AssetIdentifier(asset_id)
        page, limit = _count(page, "page"), _count(limit, "limit", 1)
        if open_only is not None and not isinstance(open_only, bool):
            raise TypeError(f"open_only must be a bool, got {open_only!r}")
        path = f"/orders/user/{self._user_id(user)}/{asset}"
        params: dict[str, Any] = {}
        if page is not None or limit is not None or open_only is not None:
            params = {"page": 0 if page is None else page,
                      "limit": OPEN_ORDERS_PAGE_LIMIT if limit is None else limit,
                      "open_only": open_only}
        try:
            body = self._authed_get(path, user, **params)
        except NotFoundError:
            return []  # no orders on this book yet
        if not isinstance(body, list):  # tpluspy: logged, no orders
            self._bad_shape(path, "expected a JSON array of orders", body)
            return []
        return decode_order_responses(body, path, self._report)

    def get_open_orders_for_book(self, asset_id: AssetLike, *, limit: int = 1000,
                                 max_pages: int = 50) -> list[OrderResponse]:
        """The default user's open orders on ``asset_id`` from the order service, the
        source of truth after ``RECONNECTED``: pages 0, 1, ... until one holds fewer
        than ``limit`` rows (or ``max_pages`` were read)."""
        asset = AssetIdentifier(asset_id)
        limit = _count(limit, "limit", 1) or OPEN_ORDERS_PAGE_LIMIT
        max_pages = _count(max_pages, "max_pages") or 0
        found: list[OrderResponse] = []
        for page in range(max_pages):
            rows = self.get_user_orders_for_book(asset, page=page, limit=limit, open_only=True)
            found.extend(rows)
            if len(rows) < limit:
                break
        return found

    def get_user_orders(self, user: Optional[UserType] = None, *, page: Optional[int] = None,
                        limit: Optional[int] = None
                        ) -> tuple[list[OrderResponse], dict[str, Any]]:
        """``user``'s orders on every book as the order service holds them (any
        status), newest first: ``(orders, raw_page)``, the raw page carrying the page
        metadata. (The MDS method of this name reads the exported history instead.)"""
        path = f"/orders/user/{self._user_id(user)}"
        params = {"page": _count(page, "page"), "limit": _count(limit, "limit", 1)}
        try:
            body = self._authed_get(path, user, **params)
        except NotFoundError:
            return [], {}
        if isinstance(body, dict) and "error" in body:
            self._bad_shape(path, "an error body", body)
            return [], {}
        if isinstance(body, dict):
            return decode_order_responses(body.get("orders", []), path, self._report), body
        if isinstance(body, list):
            return decode_order_responses(body, path, self._report), {"orders": body}
        self._bad_shape(path, "expected orders", body)
        return [], {}

    def _bad_shape(self, path: str, reason: str, body: Any) -> None:
        log.warning("%s: %s; treated as no orders", path, reason)
        self._report(MalformedResponseError(path, reason, url=self.rest.url(path)))


def markets_page(rest: TplusRest, include_symbol_map: bool, page: Optional[int],
                 limit: Optional[int]) -> MarketsPage:
    """``GET /markets`` of ``rest``'s service, as ``get_markets`` sends it (tpluspy
    always sends ``page`` and ``limit``)."""
    if not isinstance(include_symbol_map, bool):
        raise TypeError(f"include_symbol_map must be a bool, got {include_symbol_map!r}")
    path = "/markets"
    page = _count(page, "page")
    limit = _count(limit, "limit", 1)
    body = rest.get(path, page=0 if page is None else page,
                    limit=MARKETS_PAGE_LIMIT if limit is None else limit,
                    include_symbol_map=True if include_symbol_map else None)
    return _decoded(rest, path, decode_markets_page, body)


def _decoded(rest: TplusRest, path: str, decoder: Callable[[Any], T], body: Any) -> T:
    try:
        return decoder(body)
    except DecodeError as exc:
        raise MalformedResponseError(path, exc.reason, url=rest.url(path)) from None
