"""tplus users and login (protocol §4): Ed25519 keys, tpluspy key files, bearer tokens.

* :class:`User`: an Ed25519 key; ``user_id`` is the raw public key as 64 lowercase
  hex. ``sign(nonce)`` applies the §4.3 rule (remove spaces, CR and LF only).
* :func:`load_user`: reads the encrypted key files tpluspy's ``UserManager``
  writes under ``~/.tplus/users/``.
* :class:`TokenStore`: holds the bearer token, logs in through two injected
  callables (no networking here), one login at a time.

Private keys, seeds and tokens never appear in a repr, str or exception message.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional, Union

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import DecodeError
from ..numbers import strict_int
from .errors import AuthError, KeyFileError, UserNotFoundError, WrongPasswordError

__all__ = [
    "DEFAULT_USERS_DIR",
    "EXPIRY_MARGIN_NS",
    "PASSWORD_ENV_VAR",
    "Credentials",
    "TokenStore",
    "User",
    "compact_nonce",
    "load_user",
    "nonce_from_response",
]

SEED_SIZE = 32
_HEX64 = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_HEX128 = re.compile(r"[0-9a-fA-F]{128}", re.ASCII)

DEFAULT_USERS_DIR = Path.home() / ".tplus" / "users"
"""Where tpluspy's ``UserManager`` keeps key files: ``<dir>/<name>`` + ``<name>.pub``."""
PASSWORD_ENV_VAR = "TPLUS_PASSWORD"
"""The environment variable tpluspy reads a key-file password from."""
PUBKEY_SUFFIX = ".pub"
EXPIRY_MARGIN_NS = 60 * 1_000_000_000
"""A token counts as expired this long before its ``expiry_ns`` (§4.5)."""


def compact_nonce(payload: str) -> str:
    """The §4.3 stripping rule: remove every space, CR and LF (tabs etc. are kept)."""
    return payload.replace(" ", "").replace("\r", "").replace("\n", "")


def _seed_bytes(seed: Union[str, bytes, bytearray]) -> bytes:
    """32 seed bytes from hex (with or without 0x) or raw bytes; never echoes the seed."""
    if isinstance(seed, str):
        text = seed[2:] if seed[:2] in ("0x", "0X") else seed
        if _HEX64.fullmatch(text) is None and _HEX128.fullmatch(text) is None:
            raise ValueError(
                "seed must be a 32-byte Ed25519 seed as 64 hex digits (optionally 0x-prefixed)"
            )
        raw = bytes.fromhex(text)
    elif isinstance(seed, (bytes, bytearray)):
        raw = bytes(seed)
    else:
        raise TypeError(f"seed must be hex text or bytes, not {type(seed).__name__}")
    if len(raw) == 2 * SEED_SIZE:  # seed || public key, as tpluspy accepts
        key = Ed25519PrivateKey.from_private_bytes(raw[:SEED_SIZE])
        if _public_bytes(key) != raw[SEED_SIZE:]:
            raise ValueError("a 64-byte key must be seed || its own public key")
        return raw[:SEED_SIZE]
    if len(raw) != SEED_SIZE:
        raise ValueError(f"seed must be {SEED_SIZE} bytes, got {len(raw)}")
    return raw


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class User:
    """A tplus user: an Ed25519 key pair (pure Ed25519, protocol §4.1).

    ``User()`` makes a random key; ``User(seed)`` with a 32-byte seed (64 hex,
    ``0x`` optional, or raw bytes) is deterministic. ``public_key`` and
    ``user_id`` are the raw public key as 64 lowercase hex without ``0x``.
    """

    __slots__ = ("_key", "public_key")

    def __init__(self, seed: Union[str, bytes, bytearray, None] = None) -> None:
        if seed is None:
            self._key = Ed25519PrivateKey.generate()
        else:
            self._key = Ed25519PrivateKey.from_private_bytes(_seed_bytes(seed))
        self.public_key: str = _public_bytes(self._key).hex()

    @property
    def user_id(self) -> str:
        """The path segment, ``/auth`` field and ``User-Id`` header: the public key hex."""
        return self.public_key

    @property
    def public_key_vec(self) -> list[int]:
        """The public key as 32 byte values (tpluspy's name)."""
        return list(bytes.fromhex(self.public_key))

    def pubkey(self) -> str:
        """tpluspy's spelling of :attr:`public_key`."""
        return self.public_key

    def sign(self, nonce: str) -> bytes:
        """The 64-byte Ed25519 signature of ``nonce`` after §4.3 stripping, UTF-8 encoded."""
        if not isinstance(nonce, str):
            raise TypeError(f"nonce must be a str, not {type(nonce).__name__}")
        return self._key.sign(compact_nonce(nonce).encode("utf-8"))

    def signature_ints(self, nonce: str) -> list[int]:
        """:meth:`sign` as the JSON array of 64 ints the wire carries."""
        return list(self.sign(nonce))

    def auth_request(self, nonce: str) -> dict[str, Any]:
        """The ``POST /auth`` body of §4.2 (no cosigners)."""
        return {
            "user_id": self.user_id,
            "nonce": nonce,
            "signature": self.signature_ints(nonce),
            "additional_signers": [],
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.public_key == self.public_key

    def __hash__(self) -> int:
        return hash(self.public_key)

    def __repr__(self) -> str:
        return f"User(user_id={self.public_key!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("User objects hold a private key and are not picklable")


# ---------------------------------------------------------------- key files


def _b64(crypto: Mapping[str, Any], *keys: str) -> bytes:
    value: Any = crypto
    for key in keys:
        value = value[key]
    if not isinstance(value, str):
        raise TypeError(f"{'.'.join(keys)} is not a base64 string")
    return base64.b64decode(value, validate=True)


def _decrypt_key_file(path: Path, password: str) -> bytes:
    """tpluspy's key-file envelope (``tplus/utils/user/ed_keyfile.py``).

    ``{"crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv"}, "ciphertext",
    "kdf": "pbkdf2", "kdfparams": {"salt", "iterations", "dklen": 32, "digest":
    "sha256"}, "mac"}}`` with base64 fields; key = PBKDF2-HMAC-SHA256(password),
    AES-128-CTR under key[:16], MAC = SHA3-256(key[16:32] + ciphertext).
    """
    try:
        crypto = json.loads(path.read_text(encoding="utf-8"))["crypto"]
        if crypto.get("cipher") != "aes-128-ctr" or crypto.get("kdf") != "pbkdf2":
            raise ValueError("unsupported cipher or kdf")
        params = crypto["kdfparams"]
        digest = params.get("digest", "sha256")
        iterations = params["iterations"]
        dklen = params.get("dklen", 32)
        if digest != "sha256" or type(iterations) is not int or iterations < 1 or dklen != 32:
            raise ValueError("unsupported kdf parameters")
        salt = _b64(crypto, "kdfparams", "salt")
        iv = _b64(crypto, "cipherparams", "iv")
        ciphertext = _b64(crypto, "ciphertext")
        stored_mac = _b64(crypto, "mac")
        if len(iv) != 16:
            raise ValueError("iv must be 16 bytes")
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {str(path)!r}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        reason = exc if isinstance(exc, ValueError) else f"missing or bad field {exc}"
        raise KeyFileError(f"{str(path)!r} is not a tpluspy key file ({reason})") from None
    derived = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, dklen=32)
    mac = hashlib.sha3_256(derived[16:32] + ciphertext).digest()
    if not hmac.compare_digest(mac, stored_mac):
        raise WrongPasswordError(
            f"cannot unlock {str(path)!r}: wrong password or corrupted key file"
        )
    decryptor = Cipher(algorithms.AES(derived[:16]), modes.CTR(iv)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def _resolve_password(password: Optional[str], name: str) -> str:
    if password is not None:
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        return password
    env = os.environ.get(PASSWORD_ENV_VAR)
    if env:
        return env
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"Enter password for '{name}': ")
    raise KeyFileError(
        f"a password is needed to unlock user {name!r}: pass password=... or set {PASSWORD_ENV_VAR}"
    )


def _stored_names(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.is_file() and p.suffix != PUBKEY_SUFFIX)


def load_user(
    name: Optional[str] = None,
    password: Optional[str] = None,
    *,
    directory: Union[str, Path, None] = None,
    path: Union[str, Path, None] = None,
) -> User:
    """Load a user from a key file written by tpluspy (``tplus.utils.user``).

    tpluspy keeps ``~/.tplus/users/<name>`` (the encrypted private key, JSON; see
    :func:`_decrypt_key_file`) and ``<name>.pub`` (the public key hex). ``directory``
    replaces ``~/.tplus/users``; ``path`` names the key file itself. With no
    ``name`` the only stored user is loaded. The password comes from ``password``,
    else ``$TPLUS_PASSWORD``, else a prompt when stdin is a terminal.

    Unlike tpluspy (which decrypts on first signature) the key is decrypted now,
    so a wrong password fails here. Raises :class:`UserNotFoundError`,
    :class:`WrongPasswordError` or :class:`KeyFileError` (all ``ValueError``).
    """
    if path is not None:
        key_path = Path(path)
        name = name or key_path.name
    else:
        folder = Path(directory) if directory is not None else DEFAULT_USERS_DIR
        if not name:
            names = _stored_names(folder)
            if not names:
                raise UserNotFoundError(f"no tplus users stored in {str(folder)!r}")
            if len(names) > 1:
                raise KeyFileError(
                    f"several users in {str(folder)!r} ({', '.join(names)}): name one"
                )
            name = names[0]
        if name != Path(name).name or name in (".", ".."):
            raise ValueError(f"invalid user name {name!r}")
        key_path = folder / name
    if not key_path.is_file():
        raise UserNotFoundError(f"user {name!r} not found (no key file {str(key_path)!r})")
    secret = _decrypt_key_file(key_path, _resolve_password(password, name))
    if len(secret) not in (SEED_SIZE, 2 * SEED_SIZE):
        raise KeyFileError(f"{str(key_path)!r} does not hold an Ed25519 key")
    try:
        user = User(secret)
    except ValueError:
        raise KeyFileError(f"{str(key_path)!r} does not hold a valid Ed25519 key") from None
    pub_path = key_path.with_name(key_path.name + PUBKEY_SUFFIX)
    if pub_path.is_file():
        stored = pub_path.read_text(encoding="utf-8").strip().lower().removeprefix("0x")
        if stored != user.public_key:
            raise KeyFileError(
                f"{str(pub_path)!r} names public key {stored}, but the key file holds "
                f"{user.public_key}"
            )
    return user


# ------------------------------------------------------------------- tokens


def nonce_from_response(body: Any) -> str:
    """The nonce text from a ``GET /nonce/{user_id}`` answer: ``{"value": x}`` or bare ``x``."""
    value = body.get("value") if isinstance(body, Mapping) else body
    if isinstance(value, bool) or value is None:
        raise AuthError("nonce response has no usable 'value'")
    if isinstance(value, (str, int)):
        text = str(value)
        if text:
            return text
    raise AuthError(f"nonce response 'value' is not a string or integer ({type(value).__name__})")


class TokenStore:
    """A user's bearer token: login on demand, one at a time, never used past expiry.

    ``fetch_nonce(user_id) -> str`` and ``post_auth(body) -> {"token", "expiry_ns"}``
    do the HTTP (their own exceptions propagate unchanged). ``clock()`` returns
    Unix nanoseconds (injectable for tests).

    * :meth:`token` / :meth:`headers` return a usable token, logging in first when
      there is none or it expires within 60 s (``EXPIRY_MARGIN_NS``).
    * Logins run under a lock: threads that arrive during one wait and reuse its token.
    * :meth:`invalidate` ``(rejected)`` after a 401/403 drops the token only if it
      is still the rejected one, so a caller whose token another thread already
      replaced does not log in again (§4.5).
    """

    def __init__(
        self,
        user: User,
        fetch_nonce: Callable[[str], str],
        post_auth: Callable[[dict[str, Any]], Any],
        *,
        clock: Callable[[], int] = time.time_ns,
        margin_ns: int = EXPIRY_MARGIN_NS,
    ) -> None:
        self.user = user
        self._fetch_nonce = fetch_nonce
        self._post_auth = post_auth
        self._clock = clock
        self._margin_ns = margin_ns
        self._lock = threading.Lock()
        self._current: Optional[tuple[str, int]] = None  # (token, expiry_ns)
        self.logins = 0

    @property
    def user_id(self) -> str:
        """The user's id (``User-Id`` header)."""
        return self.user.user_id

    @property
    def expiry_ns(self) -> Optional[int]:
        """The held token's expiry (Unix ns), or ``None`` when no token is held."""
        current = self._current
        return None if current is None else current[1]

    def _usable(self, current: Optional[tuple[str, int]], now: int) -> bool:
        return current is not None and now < current[1] - self._margin_ns

    def is_valid(self) -> bool:
        """True if a token is held and does not expire within the margin."""
        return self._usable(self._current, self._clock())

    def token(self) -> str:
        """A usable token, logging in first if needed (blocking; one login at a time)."""
        current = self._current
        if self._usable(current, self._clock()):
            return current[0]  # type: ignore[index]
        with self._lock:
            current = self._current
            if self._usable(current, self._clock()):
                return current[0]  # type: ignore[index]
            return self._login_locked()

    def login(self) -> str:
        """Log in now, replacing any held token."""
        with self._lock:
            return self._login_locked()

    def invalidate(self, token: Optional[str] = None) -> bool:
        """Forget the token (or only ``token``, if it is still the held one).

        Returns True if a token was dropped; the next :meth:`token` logs in.
        """
        with self._lock:
            current = self._current
            if current is None or (token is not None and current[0] != token):
                return False
            self._current = None
            return True

    def headers(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>", "User-Id": <user_id>}`` with a usable token."""
        return {"Authorization": f"Bearer {self.token()}", "User-Id": self.user_id}

    def _login_locked(self) -> str:
        nonce = self._fetch_nonce(self.user_id)
        if not isinstance(nonce, str) or not nonce:
            raise AuthError("fetch_nonce must return the nonce as a non-empty string")
        token, expiry_ns = self._parse_auth(self._post_auth(self.user.auth_request(nonce)))
        self.logins += 1
        if self._clock() >= expiry_ns:
            raise AuthError("the server issued a token that has already expired")
        self._current = (token, expiry_ns)
        return token

    @staticmethod
    def _parse_auth(body: Any) -> tuple[str, int]:
        if not isinstance(body, Mapping):
            raise AuthError(f"auth response is not an object ({type(body).__name__})")
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise AuthError("auth response has no 'token' string")
        if "expiry_ns" not in body:
            raise AuthError("auth response has no 'expiry_ns'")
        try:
            expiry_ns = strict_int(body["expiry_ns"], "expiry_ns")
        except DecodeError as exc:
            raise AuthError(f"auth response: {exc.reason}") from None
        return token, expiry_ns

    def __repr__(self) -> str:
        current = self._current
        if current is None:
            state = "no token"
        else:
            left = (current[1] - self._clock()) / 1e9
            state = f"token held, expires in {left:.0f} s" if left > 0 else "token expired"
        return f"TokenStore(user_id={self.user_id!r}, {state})"

    __str__ = __repr__


Credentials = TokenStore
