"""tplus simulator login (§4): the test vector, nonces, signatures, tokens, 401/403."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import websocket
from tplus_util import FakeClock, Login, TWs, error_of, sim_login

from o2sync.sim.tplus import TplusSimulator, UserKey, signed_bytes, verify_signature

FIXTURES = Path(__file__).parent / "fixtures"
VECTOR_SEED = bytes(range(32)).hex()
VECTOR_USER = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
VECTOR_SIG = ("703be4be51a188e973d09224756ead17e9ba4420ecfedd3dc1d3bead914b267ced02377c4e2c93e9"
              "eaa64d1d045eab7cc7af5007f13b25f73c1fbc7e70a9a903")


def fixture(name: str) -> dict:
    return dict(json.loads((FIXTURES / name).read_text()))


# -- §4.4 test vector ------------------------------------------------------------------


def test_the_auth_fixture_verifies() -> None:
    body = fixture("tplus_auth_request.json")
    nonce = fixture("tplus_auth_nonce.json")["value"]
    assert body["nonce"] == nonce == "1767225601123456789"
    assert body["user_id"] == VECTOR_USER
    assert bytes(body["signature"]).hex() == VECTOR_SIG
    assert signed_bytes(nonce).hex() == "31373637323235363031313233343536373839"
    assert verify_signature(body["user_id"], nonce, body["signature"])


def test_the_vector_key_and_signature() -> None:
    key = UserKey(VECTOR_SEED)
    assert key.user_id == VECTOR_USER
    assert bytes(key.sign("1767225601123456789")).hex() == VECTOR_SIG
    # spaces, CR and LF are stripped before signing and verifying; tabs are not
    assert bytes(key.sign(" 17672256\r\n01123456789 ")).hex() == VECTOR_SIG
    assert verify_signature(VECTOR_USER, " 17672256\r\n01123456789 ", bytes.fromhex(VECTOR_SIG))
    assert not verify_signature(VECTOR_USER, "1767225601123456789\t", bytes.fromhex(VECTOR_SIG))


@pytest.mark.parametrize("signature", [
    [0] * 64, list(range(63)), [256] + [0] * 63, "00" * 64, None, [True] * 64,
])
def test_bad_signatures_do_not_verify(signature: object) -> None:
    assert not verify_signature(VECTOR_USER, "1767225601123456789", signature)


def test_bad_user_ids_do_not_verify() -> None:
    sig = list(bytes.fromhex(VECTOR_SIG))
    assert not verify_signature(VECTOR_USER.upper(), "1767225601123456789", sig)
    assert not verify_signature("0x" + VECTOR_USER, "1767225601123456789", sig)
    assert not verify_signature(VECTOR_USER[:-2], "1767225601123456789", sig)


# -- /nonce + /auth over HTTP ---------------------------------------------------------------


@pytest.mark.parametrize("service", ["oms", "mds"])
def test_login_issues_a_recorded_token(tsim: TplusSimulator, service: str) -> None:
    base = tsim.oms_url if service == "oms" else tsim.mds_url
    me = Login()
    token = me.login(base)
    record = tsim.token_record(token)
    assert record is not None and record.user_id == me.user_id and record.service == service
    assert record.expiry_ns - record.issued_ns == int(3600 * 1e9)
    assert tsim.latest_token(service, me.user_id) == token
    posts = tsim.requests("/auth", service)
    assert posts[-1].method == "POST" and posts[-1].status == 200
    assert posts[-1].body["user_id"] == me.user_id


def test_bad_signature_is_401(tsim: TplusSimulator) -> None:
    me = Login()
    body = me.auth_body(tsim.oms_url)
    body["signature"] = Login().sign(body["nonce"])  # someone else's key
    answer = requests.post(tsim.oms_url + "/auth", json=body, timeout=5)
    assert answer.status_code == 401
    assert error_of(answer)["code"] == "INVALID_SIGNATURE"
    assert tsim.tokens == []


def test_a_nonce_works_once_and_only_where_issued(tsim: TplusSimulator) -> None:
    me = Login()
    body = me.auth_body(tsim.oms_url)
    assert requests.post(tsim.oms_url + "/auth", json=body, timeout=5).status_code == 200
    again = requests.post(tsim.oms_url + "/auth", json=body, timeout=5)
    assert again.status_code == 401 and error_of(again)["code"] == "NONCE_INVALID"
    other = me.auth_body(tsim.oms_url)  # an OMS nonce is no MDS nonce
    assert requests.post(tsim.mds_url + "/auth", json=other, timeout=5).status_code == 401


def test_malformed_logins_are_400(tsim: TplusSimulator) -> None:
    assert requests.get(tsim.oms_url + "/nonce/XYZ", timeout=5).status_code == 400
    assert requests.post(tsim.oms_url + "/auth", data="nope", timeout=5).status_code == 400
    bad = requests.post(tsim.oms_url + "/auth", json={"user_id": "0x12"}, timeout=5)
    assert bad.status_code == 400 and error_of(bad)["code"] == "INVALID_USER_ID"


def test_fail_auth_then_success_and_permanent_failure(tsim: TplusSimulator) -> None:
    me = Login()
    tsim.fail_auth(1)
    first = requests.post(tsim.oms_url + "/auth", json=me.auth_body(tsim.oms_url), timeout=5)
    assert first.status_code == 401 and error_of(first)["code"] == "UNAUTHORIZED"
    assert me.login(tsim.oms_url)
    tsim.fail_auth(1000, status=403)
    for _ in range(3):
        answer = requests.post(tsim.oms_url + "/auth", json=me.auth_body(tsim.oms_url), timeout=5)
        assert answer.status_code == 403
    tsim.fail_auth(0)
    assert me.login(tsim.oms_url)


# -- tokens on upgrades ------------------------------------------------------------------------


def upgrade_status(sim: TplusSimulator, path: str, headers: dict[str, str]) -> int:
    try:
        TWs(sim.oms_url, path, headers).close()
    except websocket.WebSocketBadStatusException as exc:
        return int(exc.status_code)
    return 101


def test_user_streams_need_a_valid_token(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim)
    events = f"/trades/user/events/{me.user_id}"
    assert upgrade_status(tsim, "/orders", {}) == 401
    assert upgrade_status(tsim, events, {}) == 401
    assert upgrade_status(tsim, "/orders", {"Authorization": headers["Authorization"]}) == 401
    assert upgrade_status(tsim, "/orders", {**headers, "Authorization": "Bearer nope"}) == 401
    assert upgrade_status(tsim, "/orders", headers) == 101
    assert upgrade_status(tsim, events, headers) == 101
    # the token of another user: 403
    stranger = Login()
    assert upgrade_status(tsim, f"/trades/user/events/{stranger.user_id}", headers) == 403
    assert upgrade_status(tsim, "/orders", {**headers, "User-Id": stranger.user_id}) == 403
    # an MDS token is no OMS token
    mds_token = me.login(tsim.mds_url)
    assert upgrade_status(tsim, "/orders", me.headers(mds_token)) == 401
    statuses = [h.status for h in tsim.handshakes(service="oms")]
    assert statuses == [401, 401, 401, 401, 101, 101, 403, 403, 401]
    accepted = next(h for h in tsim.handshakes("/orders") if h.accepted)
    assert accepted.token == headers["Authorization"].split()[1]
    assert accepted.headers["Authorization"] == headers["Authorization"]
    assert accepted.user_id == me.user_id


def test_a_401_upgrade_carries_the_error_envelope(tsim: TplusSimulator) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        TWs(tsim.oms_url, "/orders")
    assert caught.value.status_code == 401
    body = json.loads(caught.value.resp_body)
    assert body["error"]["code"] == "UNAUTHORIZED"


def test_expired_and_revoked_tokens_are_refused(tsim: TplusSimulator) -> None:
    _, headers = sim_login(tsim)
    open_ws = TWs(tsim.oms_url, "/orders", headers)
    tsim.expire_tokens()
    assert upgrade_status(tsim, "/orders", headers) == 401
    assert tsim.open_connections("/orders") == 1  # open sockets stay up
    _, fresh = sim_login(tsim)
    assert upgrade_status(tsim, "/orders", fresh) == 101
    tsim.revoke_tokens()
    assert upgrade_status(tsim, "/orders", fresh) == 401
    assert all(t.revoked for t in tsim.tokens)
    open_ws.close()


def test_token_ttl_with_a_clock() -> None:
    clock = FakeClock()
    with TplusSimulator(start_flow=False, control_interval=None, token_ttl=5,
                        clock=clock) as sim:
        _me, headers = sim_login(sim)
        record = sim.token_record(headers["Authorization"].split()[1])
        assert record is not None and record.expiry_ns - record.issued_ns == 5 * 10**9
        assert upgrade_status(sim, "/orders", headers) == 101
        clock.advance(4)
        assert upgrade_status(sim, "/orders", headers) == 101
        clock.advance(2)
        assert upgrade_status(sim, "/orders", headers) == 401
        assert not record.valid(clock())


def test_reject_upgrades_then_accept(tsim: TplusSimulator) -> None:
    _, headers = sim_login(tsim)
    tsim.reject_upgrades(1)
    assert upgrade_status(tsim, "/orders", headers) == 401
    assert upgrade_status(tsim, "/orders", headers) == 101


def test_reconnect_presented_a_fresh_token(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim)
    first = TWs(tsim.oms_url, "/orders", headers)
    first.close()
    assert tsim.wait_for(lambda s: s.open_connections("/orders") == 0)
    again = TWs(tsim.oms_url, "/orders", headers)  # same token: not fresh
    again.close()
    assert not tsim.presented_fresh_token("/orders")
    new = me.headers(me.login(tsim.oms_url))
    TWs(tsim.oms_url, "/orders", new).close()
    assert tsim.presented_fresh_token("/orders")
    last = [h for h in tsim.handshakes("/orders") if h.accepted][-1]
    assert last.token == tsim.latest_token("oms", me.user_id)


def test_mds_streams_accept_bearer_headers_or_none(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim, "mds")
    TWs(tsim.mds_url, "/trades", headers).close()
    TWs(tsim.mds_url, "/trades").close()
    TWs(tsim.mds_url, "/trades", me.headers("expired-or-unknown")).close()
    assert [h.status for h in tsim.handshakes("/trades")] == [101, 101, 101]
    assert tsim.handshakes("/trades")[0].token == headers["Authorization"].split()[1]


def test_mds_user_history_needs_the_mds_token(tsim: TplusSimulator) -> None:
    me, headers = sim_login(tsim, "mds")
    for path in (f"/orders/user/{me.user_id}", f"/trades/user/{me.user_id}"):
        assert requests.get(tsim.mds_url + path, timeout=5).status_code == 401
        assert requests.get(tsim.mds_url + path, headers=headers, timeout=5).status_code == 200
        stranger = Login()
        other = requests.get(f"{tsim.mds_url}{path.rsplit('/', 1)[0]}/{stranger.user_id}",
                             headers=headers, timeout=5)
        assert other.status_code == 403 and error_of(other)["code"] == "FORBIDDEN"
    _, oms_headers = sim_login(tsim, "oms")
    answer = requests.get(f"{tsim.mds_url}/orders/user/{me.user_id}", headers=oms_headers,
                          timeout=5)
    assert answer.status_code == 401
