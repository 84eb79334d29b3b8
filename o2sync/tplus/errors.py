"""Errors of the tplus layer (all subclasses of :class:`o2sync.errors.O2SyncError`).

``AuthError`` is the engine's own (:class:`o2sync.errors.AuthError`), re-exported here.
"""

from __future__ import annotations

from typing import Any, Optional

from ..errors import AuthError, DecodeError, O2SyncError

__all__ = [
    "AuthError",
    "BaseTplusException",
    "KeyFileError",
    "MissingClientUserError",
    "UnknownEventKind",
    "UserNotFoundError",
    "WrongPasswordError",
]


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


class BaseTplusException(O2SyncError):
    """tpluspy's base exception name, for code that catches it."""


class MissingClientUserError(BaseTplusException):
    """A per-user call got no ``user=`` and the client has no ``default_user``."""

    def __init__(self, context: Optional[str] = None) -> None:
        message = ("User required. Create the client with default_user=User(...) "
                   "or pass user= to the call")
        super().__init__(message if context is None else f"{message} ({context})")
