"""User signing (the §4.4 test vector), tpluspy key files, and the token store."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from o2sync.tplus import (
    AuthError,
    KeyFileError,
    TokenStore,
    User,
    UserNotFoundError,
    WrongPasswordError,
    load_user,
)
from o2sync.tplus.auth import EXPIRY_MARGIN_NS, nonce_from_response
from o2sync.tplus.utils.user import User as TwinUser
from o2sync.tplus.utils.user import load_user as twin_load_user

FIXTURES = Path(__file__).parent / "fixtures"
SEED = bytes(range(32)).hex()
PUBLIC = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
NONCE = "1767225601123456789"
SIGNATURE = (
    "703be4be51a188e973d09224756ead17e9ba4420ecfedd3dc1d3bead914b267c"
    "ed02377c4e2c93e9eaa64d1d045eab7cc7af5007f13b25f73c1fbc7e70a9a903"
)
TOKEN = "tpl_4f9c2b7e1d8a4c3e9b6f0a5d2c7e8b1f"
SEC = 1_000_000_000


# ------------------------------------------------------------------- User


def test_test_vector() -> None:
    user = User(SEED)
    assert user.public_key == user.user_id == PUBLIC
    assert user.sign(NONCE).hex() == SIGNATURE
    assert NONCE.encode().hex() == "31373637323235363031313233343536373839"
    expected = json.loads((FIXTURES / "tplus_auth_request.json").read_text())
    assert user.auth_request(NONCE) == expected
    assert user.signature_ints(NONCE) == expected["signature"]
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(PUBLIC)).verify(
        user.sign(NONCE), NONCE.encode()
    )


def test_stripping_rule_both_ways() -> None:
    user = User(SEED)
    assert user.sign(" 17672256\r\n01123456789 ").hex() == SIGNATURE
    assert user.sign("1767225601123456789\t").hex() != SIGNATURE
    assert user.sign("1767225601123456789\u00a0").hex() != SIGNATURE  # NBSP is kept
    assert user.sign("1767225601123456789\x0b").hex() != SIGNATURE


def test_seed_forms_and_determinism() -> None:
    assert User("0x" + SEED).public_key == PUBLIC
    assert User(SEED.upper()).public_key == PUBLIC
    assert User(bytes(range(32))).public_key == PUBLIC
    assert User(bytes(range(32)) + bytes.fromhex(PUBLIC)).public_key == PUBLIC
    assert User(SEED) == User(SEED) and hash(User(SEED)) == hash(User(SEED))
    a, b = User(), User()
    assert a != b and a.public_key != b.public_key and len(a.public_key) == 64
    assert a.public_key == a.public_key.lower()
    assert TwinUser is User and twin_load_user is load_user


@pytest.mark.parametrize(
    "bad",
    [
        SEED[:-2],
        SEED + "00",
        "zz" * 32,
        " " + SEED,
        b"\x00" * 31,
        "٠" * 64,
        bytes(range(32)) + b"\x00" * 32,
    ],
)
def test_bad_seeds_never_echo(bad: Any) -> None:
    with pytest.raises(ValueError) as info:
        User(bad)
    text = str(info.value)
    assert SEED not in text and (not isinstance(bad, str) or bad.strip() not in text)
    with pytest.raises(TypeError):
        User(12345)  # type: ignore[arg-type]


def test_repr_hides_private_key() -> None:
    user = User(SEED)
    for text in (repr(user), str(user), f"{user}"):
        assert PUBLIC in text and SEED not in text
    assert not hasattr(user, "__dict__")
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(user)


# -------------------------------------------------------------- key files


def write_tpluspy_key_file(
    folder: Path, name: str, secret: bytes, password: str, iterations: int = 1000
) -> Path:
    """What tpluspy's UserManager.add/generate writes (tplus/utils/user/ed_keyfile.py)."""
    salt, iv = os.urandom(16), os.urandom(16)
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, dklen=32)
    enc = Cipher(algorithms.AES(derived[:16]), modes.CTR(iv)).encryptor()
    ciphertext = enc.update(secret) + enc.finalize()
    mac = hashlib.sha3_256(derived[16:32] + ciphertext).digest()
    keyfile = {
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": base64.b64encode(iv).decode()},
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "kdf": "pbkdf2",
            "kdfparams": {
                "salt": base64.b64encode(salt).decode(),
                "iterations": iterations,
                "dklen": 32,
                "digest": "sha256",
            },
            "mac": base64.b64encode(mac).decode(),
        }
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(keyfile, indent=2))
    (folder / f"{name}.pub").write_text(f"{User(secret).public_key}\n")
    return path


def test_load_user_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TPLUS_PASSWORD", raising=False)
    path = write_tpluspy_key_file(tmp_path, "alice", bytes(range(32)), "hunter2")
    user = load_user("alice", "hunter2", directory=tmp_path)
    assert user.public_key == PUBLIC and user.sign(NONCE).hex() == SIGNATURE
    assert load_user(password="hunter2", directory=tmp_path) == user  # the only user
    assert load_user(password="hunter2", path=path) == user
    monkeypatch.setenv("TPLUS_PASSWORD", "hunter2")
    assert load_user("alice", directory=tmp_path) == user


def test_load_user_default_iterations_and_64_byte_key(tmp_path: Path) -> None:
    secret = bytes(range(32)) + bytes.fromhex(PUBLIC)
    write_tpluspy_key_file(tmp_path, "bob", secret, "pw", iterations=262144)
    assert load_user("bob", "pw", directory=tmp_path).public_key == PUBLIC


def test_load_user_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TPLUS_PASSWORD", raising=False)
    with pytest.raises(UserNotFoundError):
        load_user("alice", "pw", directory=tmp_path)
    with pytest.raises(UserNotFoundError):
        load_user(password="pw", directory=tmp_path / "nothing")
    write_tpluspy_key_file(tmp_path, "alice", bytes(range(32)), "right")
    with pytest.raises(WrongPasswordError) as info:
        load_user("alice", "wrong", directory=tmp_path)
    assert "wrong password" in str(info.value) and SEED not in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(UserNotFoundError):
        load_user("bob", "right", directory=tmp_path)
    with pytest.raises(ValueError):
        load_user("../alice", "right", directory=tmp_path)
    write_tpluspy_key_file(tmp_path, "carol", bytes(range(1, 33)), "pw")
    with pytest.raises(KeyFileError, match="several"):
        load_user(password="pw", directory=tmp_path)
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(KeyFileError, match="password"):
        load_user("alice", directory=tmp_path)
    (tmp_path / "broken").write_text("{not json")
    with pytest.raises(KeyFileError, match="not a tpluspy key file"):
        load_user("broken", "pw", directory=tmp_path)
    (tmp_path / "alice.pub").write_text("00" * 32 + "\n")
    with pytest.raises(KeyFileError, match="public key"):
        load_user("alice", "right", directory=tmp_path)


# ----------------------------------------------------------------- tokens


class Server:
    """Fake /nonce + /auth, counting logins, issuing numbered tokens."""

    def __init__(self, clock: list[int], ttl_ns: int = 3600 * SEC) -> None:
        self.clock = clock
        self.ttl_ns = ttl_ns
        self.logins = 0
        self.bodies: list[dict] = []
        self.gate: threading.Event | None = None
        self.expiry_as_string = False

    def fetch_nonce(self, user_id: str) -> str:
        assert user_id == PUBLIC
        return NONCE

    def post_auth(self, body: dict) -> dict:
        if self.gate is not None:
            assert self.gate.wait(10)
        self.logins += 1
        self.bodies.append(body)
        expiry = self.clock[0] + self.ttl_ns
        return {
            "token": f"{TOKEN}-{self.logins}",
            "expiry_ns": str(expiry) if self.expiry_as_string else expiry,
        }


def make_store(ttl_ns: int = 3600 * SEC) -> tuple[TokenStore, Server, list[int]]:
    clock = [1767225601 * SEC]
    server = Server(clock, ttl_ns)
    store = TokenStore(User(SEED), server.fetch_nonce, server.post_auth, clock=lambda: clock[0])
    return store, server, clock


def test_login_and_headers() -> None:
    store, server, _ = make_store()
    assert not store.is_valid() and store.expiry_ns is None
    headers = store.headers()
    assert headers == {"Authorization": f"Bearer {TOKEN}-1", "User-Id": PUBLIC}
    assert server.bodies[0] == json.loads((FIXTURES / "tplus_auth_request.json").read_text())
    assert store.token() == f"{TOKEN}-1" and server.logins == 1 and store.is_valid()


def test_sixty_second_rule() -> None:
    store, server, clock = make_store(ttl_ns=3600 * SEC)
    store.token()
    expiry = store.expiry_ns
    assert expiry is not None
    clock[0] = expiry - EXPIRY_MARGIN_NS - 1
    assert store.is_valid() and store.token() == f"{TOKEN}-1"
    clock[0] = expiry - EXPIRY_MARGIN_NS  # expires within 60 s: counts as expired
    assert not store.is_valid()
    assert store.token() == f"{TOKEN}-2" and server.logins == 2
    clock[0] = store.expiry_ns + 1  # type: ignore[operator]
    assert store.token() == f"{TOKEN}-3"


def test_never_presented_past_expiry() -> None:
    store, server, _ = make_store(ttl_ns=30 * SEC)  # shorter than the margin
    assert store.token() == f"{TOKEN}-1"
    assert store.token() == f"{TOKEN}-2"  # within the margin at once: logs in again
    server.ttl_ns = 0  # the server now issues already-expired tokens
    with pytest.raises(AuthError) as info:
        store.token()
    assert TOKEN not in str(info.value)


def test_numeric_string_expiry_and_bad_responses() -> None:
    store, server, _ = make_store()
    server.expiry_as_string = True
    store.token()
    assert isinstance(store.expiry_ns, int)
    for body in (
        {"token": TOKEN},
        {"token": TOKEN, "expiry_ns": 1.5},
        {"token": TOKEN, "expiry_ns": True},
        {"token": TOKEN, "expiry_ns": " 5"},
        {"expiry_ns": 5},
        {"token": "", "expiry_ns": 5},
        [TOKEN],
        None,
    ):
        bad = TokenStore(User(SEED), server.fetch_nonce, lambda _b, body=body: body)
        with pytest.raises(AuthError) as info:
            bad.token()
        assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_single_login_under_concurrency() -> None:
    store, server, _ = make_store()
    server.gate = threading.Event()
    n = 16
    barrier = threading.Barrier(n + 1)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        token = store.token()
        with lock:
            results.append(token)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    server.gate.set()
    for t in threads:
        t.join(10)
    assert results == [f"{TOKEN}-1"] * n and server.logins == 1


def test_invalidate_semantics() -> None:
    store, server, _ = make_store()
    first = store.token()
    assert store.invalidate("some-other-token") is False and store.token() == first
    assert store.invalidate(first) is True
    second = store.token()
    assert second != first and server.logins == 2
    # A second caller that was also rejected with `first` finds it already replaced:
    assert store.invalidate(first) is False
    assert store.token() == second and server.logins == 2
    assert store.invalidate() is True and store.token() == f"{TOKEN}-3"


def test_concurrent_rejections_relogin_once() -> None:
    store, server, _ = make_store()
    rejected = store.token()
    n = 8
    barrier = threading.Barrier(n)

    def worker() -> None:
        barrier.wait()
        store.invalidate(rejected)
        store.token()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # Each invalidate drops the token only while it is still the rejected one.
    assert server.logins == 2 and store.token() == f"{TOKEN}-2"


def test_no_token_or_seed_in_reprs() -> None:
    store, _, _ = make_store()
    store.token()
    for text in (repr(store), str(store), repr(store.user)):
        assert TOKEN not in text and SEED not in text
    assert "expires in 3600 s" in repr(store)


def test_nonce_from_response() -> None:
    assert (
        nonce_from_response(json.loads((FIXTURES / "tplus_auth_nonce.json").read_text())) == NONCE
    )
    assert nonce_from_response(NONCE) == NONCE and nonce_from_response(17) == "17"
    for bad in ({}, {"value": None}, {"value": True}, {"value": ""}, [1]):
        with pytest.raises(AuthError):
            nonce_from_response(bad)
