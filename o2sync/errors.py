"""Exceptions raised by o2sync, and the error reports handed to ``on_error`` callbacks."""

from __future__ import annotations

from typing import Any, Optional


class O2SyncError(Exception):
    """Base class of every error o2sync raises or reports."""


class O2Error(O2SyncError):
    """An O2 Exchange error, as o2-sdk names it (``O2Error`` and one subclass per API
    code, ``ERROR_CODE_MAP``), so ``except O2Error`` / ``except MarketNotFound`` from
    o2-sdk code catch what o2sync raises for O2.

    ``message``, ``code``, ``reason``, ``receipts`` and ``raw_reason`` as in o2-sdk.
    The o2sync errors raised by O2 REST calls (:class:`ApiError` and its kin) are
    instances of the subclass their ``code`` maps to.
    """

    def __init__(self, message: str, code: Optional[int] = None, reason: Optional[str] = None,
                 receipts: Optional[list[Any]] = None, raw_reason: Optional[str] = None) -> None:
        self.message = message
        self.code = code
        self.reason = reason
        self.receipts = receipts
        self.raw_reason = raw_reason if raw_reason is not None else reason
        super().__init__(message)


class InternalError(O2Error):
    """1000: Unexpected server error."""

class InvalidRequest(O2Error):
    """1001: Malformed or invalid request."""

class ParseError(O2Error):
    """1002: The request body could not be parsed."""

class RateLimitExceeded(O2Error):
    """1003: Too many requests."""

class GeoRestricted(O2Error):
    """1004: Region not allowed."""

class MarketNotFound(O2Error):
    """2000: No such market."""

class MarketPaused(O2Error):
    """2001: The market is paused."""

class MarketAlreadyExists(O2Error):
    """2002: The market exists already."""

class OrderNotFound(O2Error):
    """3000: No such order."""

class OrderNotActive(O2Error):
    """3001: The order is not active."""

class InvalidOrderParams(O2Error):
    """3002: Invalid order parameters."""

class InvalidSignature(O2Error):
    """4000: A signature did not verify."""

class InvalidSession(O2Error):
    """4001: The session is invalid or expired."""

class AccountNotFound(O2Error):
    """4002: No such account."""

class WhitelistNotConfigured(O2Error):
    """4003: The whitelist is not configured."""

class TradeNotFound(O2Error):
    """5000: No such trade."""

class InvalidTradeCount(O2Error):
    """5001: Invalid trade count."""

class AlreadySubscribed(O2Error):
    """6000: Already subscribed."""

class TooManySubscriptions(O2Error):
    """6001: Too many subscriptions."""

class SubscriptionError(O2Error):
    """6002: A subscription failed."""

class InvalidAmount(O2Error):
    """7000: Invalid amount."""

class InvalidTimeRange(O2Error):
    """7001: Invalid time range."""

class InvalidPagination(O2Error):
    """7002: Invalid pagination."""

class NoActionsProvided(O2Error):
    """7003: No actions given."""

class TooManyActions(O2Error):
    """7004: Too many actions."""

class BlockNotFound(O2Error):
    """8000: No such block."""

class EventsNotFound(O2Error):
    """8001: No events found."""


class SessionExpired(O2Error):
    """Client side: the session has expired."""


class OnChainRevert(O2Error):
    """An on-chain revert (no code; ``message`` and ``reason``)."""


#: API error code -> the O2Error subclass o2-sdk raises for it.
ERROR_CODE_MAP: dict[int, type[O2Error]] = {
    1000: InternalError,
    1001: InvalidRequest,
    1002: ParseError,
    1003: RateLimitExceeded,
    1004: GeoRestricted,
    2000: MarketNotFound,
    2001: MarketPaused,
    2002: MarketAlreadyExists,
    3000: OrderNotFound,
    3001: OrderNotActive,
    3002: InvalidOrderParams,
    4000: InvalidSignature,
    4001: InvalidSession,
    4002: AccountNotFound,
    4003: WhitelistNotConfigured,
    5000: TradeNotFound,
    5001: InvalidTradeCount,
    6000: AlreadySubscribed,
    6001: TooManySubscriptions,
    6002: SubscriptionError,
    7000: InvalidAmount,
    7001: InvalidTimeRange,
    7002: InvalidPagination,
    7003: NoActionsProvided,
    7004: TooManyActions,
    8000: BlockNotFound,
    8001: EventsNotFound,
}


class InvalidArgumentError(InvalidRequest, ValueError):
    """A bad argument, refused at the call before anything is sent (o2-sdk raises
    ``InvalidRequest`` for these; it is a ``ValueError`` too, as o2sync raised before)."""


class MarketNotFoundError(MarketNotFound, LookupError):
    """A market argument matched no market, or more than one.

    ``available`` lists the pair names the exchange offers.
    """

    def __init__(self, query: str, available: list[str], reason: str = "no market matches") -> None:
        self.query = query
        self.available = available
        listed = ", ".join(available) or "(none)"
        super().__init__(f"{reason} {query!r}; available markets: {listed}")
        self.code = None  # raised by the client, not an API answer (as o2-sdk's O2Error)


class ApiError(O2SyncError):
    """A REST call answered with an error status or an error body (``body``: the
    decoded error body, when it was JSON)."""

    body: Any = None

    def __init__(self, status: int, code: Optional[int], message: str, url: str = "") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.url = url
        super().__init__(f"HTTP {status}, code {code}: {message}" + (f" ({url})" if url else ""))


class RateLimitedError(ApiError):
    """The exchange kept answering 429 / code 1003 after every retry, or asked to wait
    longer than the client may (``Retry-After`` above ``retry_after_max``, or past the
    call's deadline). ``retry_after`` is the server's ``Retry-After`` in seconds, if any.
    """

    def __init__(self, status: int, code: Optional[int], message: str, url: str = "",
                 retry_after: Optional[float] = None) -> None:
        self.retry_after = retry_after
        if retry_after is not None:
            message = f"{message} (Retry-After {retry_after:g} s)"
        super().__init__(status, code, message, url)


class MalformedResponseError(ApiError):
    """A REST answer that is not the documented shape: not JSON, a list where an object
    is meant, a missing field, a wrong type, a bad number. ``endpoint`` and ``field``
    name what was wrong (``field`` may be None for the body as a whole)."""

    def __init__(self, endpoint: str, message: str, *, field: Optional[str] = None,
                 status: int = 200, url: str = "") -> None:
        self.endpoint = endpoint
        self.field = field
        where = f"{endpoint}: {field}" if field else endpoint
        super().__init__(status, None, f"malformed answer from {where}: {message}", url)


#: Short name of :class:`MalformedResponseError`.
ResponseError = MalformedResponseError


class ConnectError(O2SyncError, ConnectionError):
    """The exchange could not be reached: the WebSocket did not (re)connect in the time
    allowed, or a REST request failed below HTTP (DNS, refused, timed out, certificate
    verify failed). ``cause`` names the reason when it is known."""

    def __init__(self, message: str = "", cause: Optional[str] = None) -> None:
        self.cause = cause
        super().__init__(message)


class ClientClosedError(O2SyncError):
    """The client (or subscription) is closed; nothing more can be started on it."""


class DecodeError(O2SyncError):
    """A frame from the server could not be turned into an event.

    The frame is dropped (never delivered half-built) and counted in ``stats()``.
    ``raw`` holds the frame text, cut to 500 characters.
    """

    def __init__(self, reason: str, raw: Any = None) -> None:
        self.reason = reason
        self.raw = raw if not isinstance(raw, str) or len(raw) <= 500 else raw[:500] + "..."
        super().__init__(f"{reason}: {self.raw!r}" if raw is not None else reason)


class StreamOverflow(O2SyncError):
    """A subscription's queue was full and events were dropped.

    ``dropped`` is how many were dropped this time; the subscription keeps a
    running total in ``Subscription.dropped``. A depth stream that overflows
    asks the server for a fresh snapshot.
    """

    def __init__(self, subscription: Any, dropped: int) -> None:
        self.subscription = subscription
        self.dropped = dropped
        super().__init__(f"{subscription!r}: queue full, {dropped} event(s) dropped")


class CallbackError(O2SyncError):
    """A user callback raised. The original exception is ``__cause__`` and ``error``."""

    def __init__(self, subscription: Any, error: BaseException) -> None:
        self.subscription = subscription
        self.error = error
        super().__init__(f"callback of {subscription!r} raised {error!r}")
        self.__cause__ = error


class SubscriptionClosed(ClientClosedError):
    """``Subscription.get()`` was called on a subscription that has ended and is drained."""


class ServerError(O2SyncError):
    """The server sent an error frame (``action: "error"``); ``payload`` is the frame."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload
        super().__init__(f"server error frame: {payload!r}")


class AuthError(O2SyncError):
    """Credentials could not be had or were refused (a login, a bearer token).

    ``permanent`` is True when retrying cannot help (the server rejected the
    signature or the key); False for a login that failed on the way (network).
    """

    def __init__(self, message: str, *, permanent: bool = True,
                 status: Optional[int] = None) -> None:
        self.permanent = permanent
        self.status = status
        super().__init__(message)


class StreamFailedError(ConnectError):
    """A stream ended because its socket can never connect (a permanent handshake
    failure such as HTTP 404, a bad URL, or a refused login), or never did: its first
    connect kept failing for ``connect_timeout`` (``cause``: "connection refused",
    "timed out", "certificate verify failed (...)").

    Raised by the iterator (and ``get()``) of every subscription on that socket once
    what it had queued is consumed; also reported through ``on_error``. ``url`` is
    the socket (credentials removed), ``reason`` the cause, ``status`` the HTTP
    status of the handshake when there was one.
    """

    def __init__(self, url: str, reason: str, status: Optional[int] = None,
                 cause: Optional[str] = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"{url}: {reason}", cause=cause or reason)
