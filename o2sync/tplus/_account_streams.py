"""The tickers, positions, account-event and intent streams and their re-sync reads.

Mixins of :class:`~o2sync.tplus.client.MarketDataClient` and
:class:`~o2sync.tplus.client.OrderBookClient`, with tpluspy 0.6.0's method names,
parameters and return types (PARITY.md section 2), and the ``on_*`` callback form
of every stream. Every per-user method takes ``user=``: a
:class:`~o2sync.tplus.auth.User` (its own login and token), a bare public key
(64 hex; the path and ``User-Id`` name it, the default user's token is
presented, as tpluspy does), or ``None`` for the client's default user;
:class:`~o2sync.tplus.errors.MissingClientUserError` when there is none.

The streams reconnect like every o2sync stream (fresh token, ``RECONNECTED``
naming the stream); what happened in the gap is re-read with the REST calls here:
``get_user_positions_page`` (or ``get_user_positions``), ``get_user_inventory``,
``get_user_margin_info``, ``get_tickers``, ``get_all_open_interest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..clientbase import Callback, Registration, register
from ..engine.subscription import Subscription
from ..engine.venue import TopicSpec
from ..errors import ApiError, DecodeError, MalformedResponseError
from . import _account_decode as dec
from . import protocol
from ._account_models import (
    IntentAggregateUpdate,
    OpenInterest,
    PositionBasisResponse,
    PositionResponse,
    PositionUpdate,
    SubAccountNamesResponse,
    Ticker,
    UserActivityEvent,
    UserMarginInfo,
    UserPositionsPage,
    UserSolvency,
)
from ._rest_calls import AssetLike, UserCalls, UserType, public_key
from .asset import AssetIdentifier
from .auth import TokenStore, User
from .errors import MissingClientUserError
from .models import UserTrade
from .venue import StreamInfo

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class _Who:
    """Whose data a call reads (``user_id``) and whose token it presents (``auth``)."""

    user_id: str
    auth: Optional[TokenStore]


def _flag(value: bool) -> str:
    return "true" if value else "false"


class _AccountBase(UserCalls):
    """User streams and user REST reads; the users and their logins are
    :class:`UserCalls`'s (one token store per user and client, for REST and streams)."""

    if TYPE_CHECKING:
        base_url: str

    def _who(self, user: Optional[UserType], context: str) -> _Who:
        """Resolve ``user=`` as tpluspy does; raises at the call, before any I/O."""
        if user is None:
            if self.default_user is None:
                raise MissingClientUserError(context)
            return _Who(self.default_user.user_id, self._auth)
        if isinstance(user, User):
            if self.default_user is not None and user.user_id == self.default_user.user_id:
                return _Who(user.user_id, self._auth)
            with self._users_lock:
                return _Who(user.user_id, self._store(user))
        if isinstance(user, str):
            return _Who(public_key(user), self._auth)
        raise TypeError(f"user must be a User, a public-key string or None, "
                        f"got {type(user).__name__}")

    @staticmethod
    def _token_of(who: _Who, context: str) -> TokenStore:
        if who.auth is None:  # a bare public key and no default user: nobody can log in
            raise MissingClientUserError(f"{context}: a bare public key needs a default_user "
                                         "to present a token")
        return who.auth

    # ------------------------------------------------------------ streams

    def _user_stream(self, path: str, kind: str, who: _Who, callback: Optional[Callback[Any]],
                     context: str, **queue: Any) -> Subscription[Any]:
        """An authenticated stream of ``who``; its handshakes present ``who``'s token."""
        auth = self._token_of(who, context)
        url = protocol.websocket_url(self.base_url, path)
        existing = self._engine.topics.get(url)
        other = getattr(getattr(existing, "info", None), "user_id", None)
        if other is not None and other != who.user_id:
            # /orders and /intent/ws carry no user in the path: one socket, one user
            raise ValueError(f"{path} is already open for user {other} on this client; "
                             "use another client for another user")
        info = StreamInfo(kind, None, True, None, user_id=who.user_id, auth=auth)
        return self._engine.subscribe(TopicSpec(url, url, (), info), name=f"{kind}:{path}",
                                      callback=callback, **queue)

    def _public_stream(self, path: str, kind: str, callback: Optional[Callback[Any]],
                       asset: Optional[AssetIdentifier] = None,
                       **queue: Any) -> Subscription[Any]:
        url = protocol.websocket_url(self.base_url, path)
        info = StreamInfo(kind, asset, False, None)
        return self._engine.subscribe(TopicSpec(url, url, (), info), name=f"{kind}:{path}",
                                      callback=callback, **queue)

    # ------------------------------------------------------------ REST

    def _read(self, path: str, decoder: Optional[Callable[[Any], Any]], *,
              who: Optional[_Who] = None, context: str = "", missing: Any = None,
              **params: Any) -> Any:
        """GET ``path`` (as ``who`` when given: one re-login after a 401/403, as
        tpluspy), ``missing`` on 404 when given, decoded by ``decoder``."""
        headers: Optional[dict[str, str]] = None
        auth = self._token_of(who, context) if who is not None else None
        for attempt in (1, 2):
            if auth is not None and who is not None:
                headers = {**auth.headers(), "User-Id": who.user_id}
            try:
                body = self.rest.get(path, headers, **params)
                break
            except ApiError as exc:
                if exc.status == 404 and missing is not None:
                    return missing
                if auth is not None and attempt == 1 and exc.status in (401, 403):
                    auth.invalidate((headers or {}).get("Authorization", "")
                                    .removeprefix("Bearer "))
                    continue
                raise
        if decoder is None:
            return body
        try:
            return decoder(body)
        except DecodeError as exc:
            raise MalformedResponseError(path, exc.reason, url=self.base_url + path) from None


class MarketDataAccountMixin(_AccountBase):
    """Tickers, open interest, position basis and sub-account names (MDS)."""

    def stream_ticker(self, asset_id: AssetLike, **queue: Any) -> Subscription[Ticker]:
        """The 24 h ticker of ``asset_id`` (``/ticker/ws/{asset}``), one :class:`Ticker`
        per aggregator tick that changed it. Re-read with :meth:`get_ticker`."""
        a = AssetIdentifier(asset_id)
        return self._public_stream(f"/ticker/ws/{a}", "ticker", None, a, **queue)

    def stream_tickers(self, **queue: Any) -> Subscription[list[Ticker]]:
        """Tickers of the markets that changed (``/tickers/ws``), one ``list[Ticker]``
        per frame (not a snapshot of every market: re-read with :meth:`get_tickers`)."""
        return self._public_stream("/tickers/ws", "tickers", None, **queue)

    def on_ticker(self, asset_id: AssetLike, callback: Optional[Callback[Ticker]] = None,
                  **queue: Any) -> Registration:
        """Call ``callback(ticker)`` for each ticker of ``asset_id``; decorator when omitted."""
        a = AssetIdentifier(asset_id)
        return register(callback, lambda cb: self._public_stream(f"/ticker/ws/{a}", "ticker",
                                                                 cb, a, **queue))

    def on_tickers(self, callback: Optional[Callback[list[Ticker]]] = None,
                   **queue: Any) -> Registration:
        """Call ``callback(tickers)`` for each ``/tickers/ws`` frame; decorator when omitted."""
        return register(callback, lambda cb: self._public_stream("/tickers/ws", "tickers", cb,
                                                                 **queue))

    def get_ticker(self, asset_id: AssetLike) -> Ticker:
        """The 24 h ticker of ``asset_id`` (``GET /ticker/{asset}``)."""
        result: Ticker = self._read(f"/ticker/{AssetIdentifier(asset_id)}", dec.decode_ticker)
        return result

    def get_tickers(self) -> list[Ticker]:
        """The 24 h tickers of every market (``GET /tickers``)."""
        result: list[Ticker] = self._read("/tickers", dec.decode_tickers)
        return result

    def get_open_interest(self, asset_id: AssetLike) -> OpenInterest:
        """Open interest of ``asset_id``; sides ``None`` until the market first reports."""
        result: OpenInterest = self._read(f"/openinterest/{AssetIdentifier(asset_id)}",
                                          dec.decode_open_interest)
        return result

    def get_all_open_interest(self) -> list[OpenInterest]:
        """Open interest of every listed market (``GET /openinterest``)."""
        result: list[OpenInterest] = self._read("/openinterest", dec.decode_open_interests)
        return result

    def get_user_position_basis(self, user: Optional[UserType] = None, *,
                                sub_account: Optional[int] = None
                                ) -> list[PositionBasisResponse]:
        """Trade-derived position-basis estimates of ``user`` (not inventory); ``[]``
        when the service knows none (404)."""
        return self._basis(None, user, sub_account)

    def get_user_position_basis_for_asset(self, asset_id: AssetLike,
                                          user: Optional[UserType] = None, *,
                                          sub_account: Optional[int] = None
                                          ) -> list[PositionBasisResponse]:
        """As :meth:`get_user_position_basis`, for one asset."""
        return self._basis(AssetIdentifier(asset_id), user, sub_account)

    def _basis(self, asset: Optional[AssetIdentifier], user: Optional[UserType],
               sub_account: Optional[int]) -> list[PositionBasisResponse]:
        who = self._who(user, "get_user_position_basis")
        path = f"/positions/user/{who.user_id}/basis" + (f"/{asset}" if asset else "")
        result: list[PositionBasisResponse] = self._read(
            path, dec.decode_position_basis, who=who, context="get_user_position_basis",
            missing=[], sub_account=sub_account)
        return result

    def get_sub_account_names(self, user: Optional[UserType] = None
                              ) -> SubAccountNamesResponse:
        """The names ``user`` gave their sub-accounts (``GET /sub-accounts/user/{user}``)."""
        who = self._who(user, "get_sub_account_names")
        result: SubAccountNamesResponse = self._read(
            f"/sub-accounts/user/{who.user_id}", dec.decode_sub_account_names, who=who,
            context="get_sub_account_names")
        return result


class OrderBookAccountMixin(_AccountBase):
    """Finalized user trades, positions, account events, intent; positions,
    inventory, margin and solvency reads (OMS)."""

    # ------------------------------------------------------------ streams

    def _stream_for(self, kind: str, user: Optional[UserType], context: str,
                    callback: Optional[Callback[Any]], **queue: Any) -> Subscription[Any]:
        who = self._who(user, context)
        path = {
            "user_finalized_trades": f"/trades/user/{who.user_id}",
            "positions": f"/positions/ws/{who.user_id}",
            "user_events": f"/account/events/{who.user_id}",
            "intent": "/intent/ws",
        }[kind]
        wire_kind = "user_trades" if kind == "user_finalized_trades" else kind
        return self._user_stream(path, wire_kind, who, callback, context, **queue)

    def stream_user_finalized_trades(self, user: Optional[UserType] = None,
                                     **queue: Any) -> Subscription[UserTrade]:
        """``user``'s confirmed fills (``/trades/user/{user}``), one :class:`UserTrade`
        each. After ``RECONNECTED`` re-read the gap with the MDS ``get_user_trades``."""
        return self._stream_for("user_finalized_trades", user, "stream_user_finalized_trades",
                                None, **queue)

    def stream_user_trades(self, user: Optional[UserType] = None,
                           **queue: Any) -> Subscription[UserTrade]:
        """Deprecated in tpluspy: :meth:`stream_user_finalized_trades` under its old name."""
        return self.stream_user_finalized_trades(user, **queue)

    def stream_user_positions(self, user: Optional[UserType] = None,
                              **queue: Any) -> Subscription[PositionUpdate]:
        """``user``'s positions (``/positions/ws/{user}``): each :class:`PositionUpdate`
        is the complete list and replaces the last. Whether one is pushed on connect
        is unknown: read :meth:`get_user_positions_page` after every ``RECONNECTED``."""
        return self._stream_for("positions", user, "stream_user_positions", None, **queue)

    def stream_user_events(self, user: Optional[UserType] = None,
                           **queue: Any) -> Subscription[UserActivityEvent]:
        """``user``'s account events (``/account/events/{user}``): ``DepositLanded``,
        ``WithdrawalCompleted``, ``PositionCleared``, ``SubAccountAssetTransferred``,
        ``MarginCallUpdated``. They notify; balances are re-read with
        :meth:`get_user_inventory` / :meth:`get_user_margin_info`."""
        return self._stream_for("user_events", user, "stream_user_events", None, **queue)

    def stream_intent(self, user: Optional[UserType] = None,
                      **queue: Any) -> Subscription[IntentAggregateUpdate]:
        """The anonymous intent aggregates (``/intent/ws``), market makers only: the
        service refuses other users' upgrades with 403, and after the usual re-login
        retries the stream ends with that error."""
        return self._stream_for("intent", user, "stream_intent", None, **queue)

    def on_user_finalized_trades(self, callback: Optional[Callback[UserTrade]] = None, *,
                                 user: Optional[UserType] = None,
                                 **queue: Any) -> Registration:
        """Call ``callback(trade)`` for each confirmed fill; decorator when omitted."""
        return self._on("user_finalized_trades", user, "on_user_finalized_trades", callback,
                        queue)

    def on_user_trades(self, callback: Optional[Callback[UserTrade]] = None, *,
                       user: Optional[UserType] = None, **queue: Any) -> Registration:
        """Deprecated alias of :meth:`on_user_finalized_trades`."""
        return self.on_user_finalized_trades(callback, user=user, **queue)

    def on_user_positions(self, callback: Optional[Callback[PositionUpdate]] = None, *,
                          user: Optional[UserType] = None, **queue: Any) -> Registration:
        """Call ``callback(update)`` for each position list; decorator when omitted."""
        return self._on("positions", user, "on_user_positions", callback, queue)

    def on_user_events(self, callback: Optional[Callback[UserActivityEvent]] = None, *,
                       user: Optional[UserType] = None, **queue: Any) -> Registration:
        """Call ``callback(event)`` for each account event; decorator when omitted."""
        return self._on("user_events", user, "on_user_events", callback, queue)

    def on_intent(self, callback: Optional[Callback[IntentAggregateUpdate]] = None, *,
                  user: Optional[UserType] = None, **queue: Any) -> Registration:
        """Call ``callback(update)`` for each intent aggregate; decorator when omitted."""
        return self._on("intent", user, "on_intent", callback, queue)

    def _on(self, kind: str, user: Optional[UserType], context: str,
            callback: Optional[Callback[Any]], queue: Mapping[str, Any]) -> Registration:
        self._token_of(self._who(user, context), context)  # wrong arguments raise now
        return register(callback, lambda cb: self._stream_for(kind, user, context, cb,
                                                              **queue))

    # ------------------------------------------------------------ REST

    def get_user_positions(self, user: Optional[UserType] = None, *,
                           sub_account: Optional[int] = None, page: Optional[int] = None,
                           limit: Optional[int] = None) -> list[PositionResponse]:
        """One page of ``user``'s positions (the rows of :meth:`get_user_positions_page`)."""
        return self.get_user_positions_page(sub_account=sub_account, page=page, limit=limit,
                                            user=user).positions

    def get_user_positions_page(self, *, sub_account: Optional[int] = None,
                                page: Optional[int] = None, limit: Optional[int] = None,
                                user: Optional[UserType] = None) -> UserPositionsPage:
        """One page of ``user``'s positions with its page meta (``GET /positions/{user}``;
        an empty page when the service does not know the user). Ask for
        ``next_page`` while ``has_next_page``."""
        who = self._who(user, "get_user_positions_page")
        empty = dec.decode_positions_page([])
        result: UserPositionsPage = self._read(
            f"/positions/{who.user_id}", dec.decode_positions_page, who=who,
            context="get_user_positions_page", missing=empty, page=page, limit=limit,
            sub_account=sub_account)
        return result

    def get_user_position_for_asset(self, asset_id: AssetLike,
                                    user: Optional[UserType] = None, *,
                                    sub_account: Optional[int] = None
                                    ) -> list[PositionResponse]:
        """``user``'s positions on one asset (``[]`` when unknown)."""
        who = self._who(user, "get_user_position_for_asset")
        page: UserPositionsPage = self._read(
            f"/positions/{who.user_id}/{AssetIdentifier(asset_id)}",
            dec.decode_positions_page, who=who, context="get_user_position_for_asset",
            missing=dec.decode_positions_page([]), sub_account=sub_account)
        return page.positions

    def get_user_inventory(self, user: Optional[UserType] = None) -> dict[str, Any]:
        """``user``'s inventory as the service sends it (a ``dict``, exact numbers;
        ``{}`` when unknown), as tpluspy returns it unparsed."""
        who = self._who(user, "get_user_inventory")
        body = self._read(f"/inventory/user/{who.user_id}", None, who=who,
                          context="get_user_inventory", missing={})
        if not isinstance(body, dict):
            raise MalformedResponseError(f"/inventory/user/{who.user_id}",
                                         "expected a JSON object", url=self.base_url)
        return body

    def get_user_margin_info(self, sub_account: Optional[int] = None,
                             include_positions: bool = False,
                             user: Optional[UserType] = None, now_ns: Optional[int] = None,
                             *, sub_accounts: Optional[list[int]] = None) -> UserMarginInfo:
        """``user``'s margin per sub-account (``GET /margin/user/{user}``).

        ``sub_accounts`` is tpluspy's deprecated alias (at most one index);
        ``now_ns`` a debug clock override the service may ignore.
        """
        if sub_account is not None and sub_accounts is not None:
            raise ValueError("Specify either sub_account or sub_accounts, not both")
        if sub_accounts is not None:
            if len(sub_accounts) > 1:
                raise ValueError("GET /margin/user accepts at most one sub-account filter")
            sub_account = sub_accounts[0] if sub_accounts else None
        who = self._who(user, "get_user_margin_info")
        result: UserMarginInfo = self._read(
            f"/margin/user/{who.user_id}", dec.decode_user_margin, who=who,
            context="get_user_margin_info", sub_account=sub_account,
            include_positions=_flag(True) if include_positions else None, now_ns=now_ns)
        return result

    def get_user_solvency(self, user: Optional[UserType] = None) -> UserSolvency:
        """``user``'s solvency per sub-account (empty when the service does not know it)."""
        who = self._who(user, "get_user_solvency")
        result: UserSolvency = self._read(
            f"/solvency/user/{who.user_id}", dec.decode_user_solvency, who=who,
            context="get_user_solvency", missing=UserSolvency(accounts={}))
        return result
