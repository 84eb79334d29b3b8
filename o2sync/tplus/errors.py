"""Errors of the tplus layer (all subclasses of :class:`o2sync.errors.O2SyncError`).

``AuthError`` is the engine's own (:class:`o2sync.errors.AuthError`), re-exported here.
"""

from __future__ import annotations

from typing import Any

from ..errors import AuthError, DecodeError, O2SyncError

__all__ = [
    "AuthError",
    "KeyFileError",
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
