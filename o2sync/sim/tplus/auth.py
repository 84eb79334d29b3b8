"""Login of the tplus simulator: nonces, Ed25519 signature checks, Bearer tokens.

§4 of ``tplus-streams.md``: ``GET /nonce/{user_id}`` gives ``{"value": <nonce>}``;
``POST /auth`` with ``{"user_id", "nonce", "signature": [64 ints],
"additional_signers"}`` is checked by verifying the Ed25519 signature (pure, no
pre-hash) of the nonce string with every space, CR and LF removed (tabs kept),
against the public key that *is* the user id. Each service (MDS, OMS) keeps its own
nonces and tokens: a token works only on the service that issued it.

Everything here runs on the simulator's loop thread except the read-only views.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

USER_ID_RE = re.compile(r"^[0-9a-f]{64}$")
_STRIPPED = str.maketrans("", "", " \r\n")


def signed_bytes(nonce: str) -> bytes:
    """The bytes a user signs for ``nonce`` (§4.3): spaces, CR and LF removed."""
    return nonce.translate(_STRIPPED).encode("utf-8")


def verify_signature(user_id: str, nonce: str, signature: Any) -> bool:
    """True if ``signature`` (64 ints 0-255, or bytes) signs ``nonce`` for ``user_id``."""
    if not isinstance(user_id, str) or not USER_ID_RE.match(user_id):
        return False
    try:
        if isinstance(signature, (bytes, bytearray)):
            raw = bytes(signature)
        elif isinstance(signature, list) and all(
            isinstance(b, int) and not isinstance(b, bool) for b in signature
        ):
            raw = bytes(signature)  # ValueError if any is outside 0..255
        else:
            return False
    except ValueError:
        return False
    if len(raw) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(user_id)).verify(raw, signed_bytes(nonce))
    except (InvalidSignature, ValueError):
        return False
    return True


class UserKey:
    """An Ed25519 key from a 32-byte seed (hex): what the simulated user signs with."""

    def __init__(self, seed_hex: str) -> None:
        seed = bytes.fromhex(seed_hex)
        if len(seed) != 32:
            raise ValueError("a user seed is 32 bytes (64 hex digits)")
        self.seed_hex = seed.hex()
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.user_id = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, message: str) -> list[int]:
        """Signature of ``message`` as §4.3 prescribes, as a list of 64 ints."""
        return list(self._key.sign(signed_bytes(message)))

    def sign_raw(self, data: bytes) -> list[int]:
        return list(self._key.sign(data))


@dataclass
class TokenRecord:
    """One token issued by ``POST /auth``."""

    token: str
    user_id: str
    service: str  # "mds" or "oms"
    issued_ns: int
    expiry_ns: int
    revoked: bool = False

    def valid(self, now_ns: Optional[int] = None) -> bool:
        """Not revoked and not expired."""
        now = time.time_ns() if now_ns is None else now_ns
        return not self.revoked and now < self.expiry_ns


@dataclass
class AuthCheck:
    """What a request's ``Authorization``/``User-Id`` headers amount to."""

    status: int  # 200 ok, 401 missing/unknown/expired/revoked, 403 other user
    token: Optional[str] = None
    user_id: Optional[str] = None
    code: str = "UNAUTHORIZED"
    message: str = ""


@dataclass
class AuthState:
    """Nonces and tokens of both services, plus the fault switches on login."""

    token_ttl: float
    clock: Callable[[], int] = time.time_ns
    tokens: list[TokenRecord] = field(default_factory=list)
    _by_token: dict[str, TokenRecord] = field(default_factory=dict)
    _nonces: dict[tuple[str, str], str] = field(default_factory=dict)
    _counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def nonce(self, service: str, user_id: str) -> str:
        """A fresh nonce for ``user_id`` on ``service`` (the previous one is replaced)."""
        self._counter += 1
        value = str(self.clock() + self._counter)
        self._nonces[(service, user_id)] = value
        return value

    def login(self, service: str, body: Any) -> tuple[int, dict[str, Any]]:
        """Check a ``POST /auth`` body; (200, token response) or (status, error code)."""
        if not isinstance(body, dict):
            return 400, {"code": "INVALID_REQUEST", "message": "body must be a JSON object"}
        user_id, nonce, signature = body.get("user_id"), body.get("nonce"), body.get("signature")
        if not isinstance(user_id, str) or not USER_ID_RE.match(user_id):
            return 400, {"code": "INVALID_USER_ID", "message": "user_id must be 64 lowercase hex"}
        if not isinstance(nonce, str) or self._nonces.get((service, user_id)) != nonce:
            return 401, {"code": "NONCE_INVALID", "message": "unknown or used nonce"}
        if not verify_signature(user_id, nonce, signature):
            return 401, {"code": "INVALID_SIGNATURE", "message": "signature does not verify"}
        del self._nonces[(service, user_id)]
        now = self.clock()
        record = TokenRecord(
            token="tpl_" + secrets.token_hex(16),
            user_id=user_id,
            service=service,
            issued_ns=now,
            expiry_ns=now + int(self.token_ttl * 1e9),
        )
        with self.lock:
            self.tokens.append(record)
            self._by_token[record.token] = record
        return 200, {"token": record.token, "expiry_ns": record.expiry_ns}

    def check(
        self, service: str, headers: Any, path_user: Optional[str] = None
    ) -> AuthCheck:
        """Judge ``Authorization: Bearer <token>`` + ``User-Id`` for ``service``."""
        auth = headers.get("Authorization", "")
        user_id = headers.get("User-Id")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return AuthCheck(401, None, user_id, message="missing bearer token")
        record = self._by_token.get(token)
        if record is None or record.service != service:
            return AuthCheck(401, token, user_id, message="unknown token")
        if record.revoked:
            return AuthCheck(401, token, user_id, message="revoked token")
        if not record.valid(self.clock()):
            return AuthCheck(401, token, user_id, message="expired token")
        if not user_id:
            return AuthCheck(401, token, user_id, message="missing User-Id")
        if user_id != record.user_id or (path_user is not None and path_user != record.user_id):
            return AuthCheck(403, token, user_id, code="FORBIDDEN", message="token of another user")
        return AuthCheck(200, token, user_id)

    def expire_all(self) -> None:
        """Every token issued so far expires now."""
        now = self.clock()
        with self.lock:
            for record in self.tokens:
                record.expiry_ns = min(record.expiry_ns, now)

    def revoke_all(self) -> None:
        with self.lock:
            for record in self.tokens:
                record.revoked = True

    def snapshot(self) -> list[TokenRecord]:
        with self.lock:
            return list(self.tokens)
