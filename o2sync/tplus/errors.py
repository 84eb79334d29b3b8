"""Errors of the tplus layer (all subclasses of :class:`o2sync.errors.O2SyncError`).

tpluspy's names and attributes: :class:`BaseTplusException`,
:class:`MissingClientUserError`, and for an error answer of a service
:class:`OmsError` (``code``, ``message``, ``status_code``, ``details``,
``retryable``, ``response``) with its subclasses :class:`OrderRejected`,
:class:`AuthError`, :class:`SignerRegistryUnavailable`, :class:`RateLimitError`,
:class:`NotFoundError` and :class:`ServerError`, classified from the error
envelope ``{"error": {"code", "message", "details", "retryable"}}`` as tpluspy
classifies it (code first, then status). Differences, since o2sync uses
``requests``, not ``httpx``: :class:`OmsError` is an :class:`o2sync.errors.ApiError`
(not an ``httpx.HTTPStatusError``), and ``response`` is a small
:class:`RestResponse` (``status_code``, ``url``, ``json()``), not an ``httpx.Response``.
:class:`AuthError` is also the engine's :class:`o2sync.errors.AuthError` (a failed
login, a refused token) and :class:`RateLimitError` o2sync's
:class:`~o2sync.errors.RateLimitedError` (with ``retry_after``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..errors import ApiError, DecodeError, O2SyncError, RateLimitedError
from ..errors import AuthError as _EngineAuthError

__all__ = [
    "AuthError",
    "BaseTplusException",
    "KeyFileError",
    "MissingClientUserError",
    "NotFoundError",
    "OmsError",
    "OrderRejected",
    "RateLimitError",
    "RestResponse",
    "ServerError",
    "SignerRegistryUnavailable",
    "UnknownEventKind",
    "UserNotFoundError",
    "WrongPasswordError",
    "oms_error",
]


class BaseTplusException(O2SyncError):
    """Base of tpluspy's own exceptions (here: :class:`MissingClientUserError`)."""


class MissingClientUserError(BaseTplusException, ValueError):
    """A call needs a user and none was given: pass ``user=`` or create the client
    with ``default_user=`` (or call ``set_default_user``)."""

    def __init__(self, context: Optional[str] = None) -> None:
        message = ("User required. Create client with a default user or specify user "
                   "in request (default_user=User(...))")
        if context is not None:
            message = f"{message}. Context: {context}"
        super().__init__(message)


@dataclass(frozen=True)
class RestResponse:
    """What o2sync keeps of an error answer (tpluspy hands an ``httpx.Response``)."""

    status_code: int
    url: str = ""
    body: Any = None

    def json(self) -> Any:
        """The decoded error body (exact numbers), or None if it was not JSON."""
        return self.body


class OmsError(ApiError):
    """A tplus service answered an error: ``code`` (e.g. ``"RATE_LIMITED"``),
    ``message``, ``status_code``, ``details``, ``retryable`` and ``response``, as
    tpluspy's. ``status`` and ``url`` are the :class:`~o2sync.errors.ApiError` ones."""

    def __init__(self, code: str, message: str, status_code: int,
                 details: Optional[dict[str, Any]] = None, retryable: Optional[bool] = None,
                 *, response: Optional[RestResponse] = None, url: str = "") -> None:
        self._set(code, message, status_code, details, retryable, response, url)
        Exception.__init__(self, f"[{code}] {message}" + (f" ({url})" if url else ""))

    def _set(self, code: str, message: str, status_code: Optional[int],
             details: Optional[dict[str, Any]], retryable: Optional[bool],
             response: Optional[RestResponse], url: str) -> None:
        self.code = code  # type: ignore[assignment]  # tpluspy's codes are strings
        self.message = message
        self.status_code = status_code
        self.status = status_code or 0
        self.details = details
        self.retryable = retryable
        self.url = url
        self.response = response if response is not None else RestResponse(
            status_code or 0, url)


class OrderRejected(OmsError):
    """An order was rejected (create/replace/cancel)."""

    @property
    def order_id(self) -> Optional[str]:
        """The rejected order's id, from ``details``."""
        return self.details.get("order_id") if self.details else None


class AuthError(OmsError, _EngineAuthError):  # type: ignore[misc]  # status: int vs Optional
    """Authentication failed: the service refused a token or a login (tpluspy's
    ``AuthError``), or o2sync could not log in at all (the engine's ``AuthError``:
    ``permanent`` says whether retrying can help).

    Takes tpluspy's arguments, ``AuthError(code, message, status_code, ...)``, or
    just a message, ``AuthError("login refused", permanent=True, status=401)``.
    """

    def __init__(self, code: str, message: Optional[str] = None,
                 status_code: Optional[int] = None, details: Optional[dict[str, Any]] = None,
                 retryable: Optional[bool] = None, *, response: Optional[RestResponse] = None,
                 url: str = "", permanent: bool = True, status: Optional[int] = None) -> None:
        text = None
        if message is None:  # the engine's form: one message
            code, message, text = "UNAUTHORIZED", code, code
        status_code = status_code if status_code is not None else status
        self._set(code, message, status_code, details, retryable, response, url)
        self.permanent = permanent
        Exception.__init__(self, text or f"[{code}] {message}" + (f" ({url})" if url else ""))


class SignerRegistryUnavailable(AuthError):
    """The signer registry could not be reached to check a signature."""


class RateLimitError(OmsError, RateLimitedError):
    """Too many requests (429 / ``RATE_LIMITED``); ``retry_after`` is the server's
    ``Retry-After`` in seconds, if it sent one."""

    retry_after: Optional[float] = None


class NotFoundError(OmsError):
    """The resource does not exist (404 / ``*_NOT_FOUND``)."""


class ServerError(OmsError):
    """A server-side failure (5xx, ``INTERNAL_ERROR``, ``TIMEOUT``...)."""


_AUTH_CODES = frozenset(("UNAUTHORIZED", "INVALID_SIGNATURE"))
_AUTH_PREFIXES = ("SIGNER_", "NONCE_")
_SERVER_CODES = frozenset(("INTERNAL_ERROR", "CE_COMMUNICATION_ERROR", "TIMEOUT",
                           "TIMEOUT_UNKNOWN_STATE"))
_ORDER_PREFIXES = ("INSUFFICIENT_MARGIN", "INVALID_ORDER", "ORDER_REJECTED", "DUPLICATE_ORDER",
                   "SELF_TRADE", "REDUCE_ONLY", "POST_ONLY", "FOK_", "IOC_")


def _classify(code: str, status: int) -> type[OmsError]:
    """tpluspy's order: the code decides, then the status (``tplus-streams.md`` §5.1)."""
    if code == "SIGNER_REGISTRY_UNAVAILABLE":
        return SignerRegistryUnavailable
    if code in _AUTH_CODES or code.startswith(_AUTH_PREFIXES):
        return AuthError
    if code == "RATE_LIMITED":
        return RateLimitError
    if code.endswith("_NOT_FOUND"):
        return NotFoundError
    if code in _SERVER_CODES:
        return ServerError
    if code.startswith(_ORDER_PREFIXES):
        return OrderRejected
    if 500 <= status <= 599:
        return ServerError
    if status == 429:
        return RateLimitError
    if status in (401, 403):
        return AuthError
    if status == 404:
        return NotFoundError
    return OmsError


def oms_error(exc: ApiError) -> OmsError:
    """The :class:`OmsError` subclass for an error answer o2sync's HTTP layer raised
    (its ``body`` is the decoded error body, when it was JSON)."""
    body = getattr(exc, "body", None)
    envelope = body.get("error") if isinstance(body, dict) else None
    if isinstance(envelope, dict):
        code = envelope.get("code")
        code = code if isinstance(code, str) else "UNKNOWN"
        message = envelope.get("message")
        message = message if isinstance(message, str) else exc.message
        details = envelope.get("details")
        details = details if isinstance(details, dict) else None
        retryable = envelope.get("retryable")
        retryable = retryable if isinstance(retryable, bool) else None
    else:  # a flat {"error": "<reason>"} or any other body: the status decides
        code, details, retryable = "UNKNOWN", None, None
        message = envelope if isinstance(envelope, str) else exc.message
    cls = _classify(code, exc.status)
    response = RestResponse(exc.status, exc.url, body)
    error = cls(code, message, exc.status, details, retryable, response=response, url=exc.url)
    if isinstance(error, RateLimitError):
        error.retry_after = getattr(exc, "retry_after", None)
    return error


class UnknownEventKind(DecodeError):
    """A well-formed frame named an event kind this version does not know.

    A :class:`DecodeError` (the frame is dropped, never delivered), but a distinct
    class so a client can count and report new server kinds separately from
    garbage. ``kind`` is the name as sent.
    """

    def __init__(self, kind: Any, reason: str = "", raw: Any = None) -> None:
        self.kind = kind
        super().__init__(reason or f"unknown event kind {kind!r}", raw)


class KeyFileError(O2SyncError, ValueError):
    """A tpluspy key file could not be read (missing, malformed, or wrong password)."""


class UserNotFoundError(KeyFileError):
    """No key file exists for the requested user name."""


class WrongPasswordError(KeyFileError):
    """The key file's MAC did not verify: wrong password or a corrupted file."""
