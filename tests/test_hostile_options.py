"""Redaction (issue 10, item 6) and proxy options that cannot work (item 7)."""

from __future__ import annotations

import importlib.util

import pytest

from o2sync import O2Client
from o2sync.proxy import SOCKS_HINT, Proxy, parse_proxy
from o2sync.redact import redact_headers, redact_text, redact_url

SECRET_PARAMS = ["token", "access_token", "auth", "key", "apikey", "api_key", "secret",
                 "signature", "password", "jwt"]
HAS_SOCKS = all(importlib.util.find_spec(m) for m in ("socks", "python_socks"))


@pytest.mark.parametrize("name", SECRET_PARAMS + [p.upper() for p in SECRET_PARAMS]
                         + ["Api_Key", "Token"])
def test_redact_url_masks_every_token_like_parameter(name: str) -> None:
    out = redact_url(f"wss://user:hunter2@api.example/v1/ws?a=1&{name}=s3cr3t&b=2")
    assert "hunter2" not in out and "s3cr3t" not in out and "user" not in out
    assert out.startswith("wss://***@api.example/v1/ws?") and "a=1" in out and "b=2" in out


@pytest.mark.parametrize("url", ["ws://127.0.0.1:1/v1/ws", "https://api.o2.app", "not a url", "",
                                 "http://[::1]:80/x?q=1"])
def test_redact_url_leaves_clean_urls_alone(url: str) -> None:
    assert redact_url(url) == url


def test_redact_url_never_raises_on_garbage() -> None:
    out = redact_url("http://u:pw@[bad/?token=zz")
    assert "pw" not in out and "zz" not in out


@pytest.mark.parametrize("name", ["Authorization", "authorization", "Cookie", "Set-Cookie",
                                  "Proxy-Authorization", "X-Api-Key", "X-Auth-Token",
                                  "x-client-secret", "TOKEN"])
def test_redact_headers(name: str) -> None:
    out = redact_headers({name: "s3cr3t", "Accept": "application/json"})
    assert out == {name: "***", "Accept": "application/json"}
    assert redact_headers([(name, "s3cr3t")]) == {name: "***"}


@pytest.mark.parametrize("text", [
    "Authorization: Bearer eyJhbGciOi.s3cr3t.sig failed",
    "header {'Authorization': 'Bearer s3cr3t'}",
    "GET https://u:s3cr3t@api.example/v1/x?token=s3cr3t failed",
    "Max retries exceeded with url: /v1/ws?access_token=s3cr3t (Caused by ...)",
    "connect to //user:s3cr3t@host:1 refused", "bearer s3cr3t", "X-Api-Key=s3cr3t",
])
def test_redact_text(text: str) -> None:
    assert "s3cr3t" not in redact_text(text)


ACCEPTED = [("http://proxy.local:3128", "http", "proxy.local", 3128),
            ("https://proxy.local:8443", "https", "proxy.local", 8443),
            ("http://proxy.local", "http", "proxy.local", 8080),
            ("HTTP://user:p%40ss@10.0.0.1:3128", "http", "10.0.0.1", 3128),
            ("http://[::1]:3128", "http", "::1", 3128)]


@pytest.mark.parametrize("value,scheme,host,port", ACCEPTED)
def test_proxy_accepted_forms(value: str, scheme: str, host: str, port: int) -> None:
    proxy = parse_proxy(value)
    assert isinstance(proxy, Proxy)
    assert (proxy.scheme, proxy.host, proxy.port) == (scheme, host, port)
    opts = proxy.websocket_options()
    assert opts["http_proxy_host"] == host and opts["http_proxy_port"] == port
    assert opts["proxy_type"] == "http"
    assert proxy.requests_proxies() == {"http": value, "https": value}
    assert "p%40ss" not in repr(proxy) and "p@ss" not in repr(proxy)
    if proxy.username:
        assert opts["http_proxy_auth"] == ("user", "p@ss")


@pytest.mark.parametrize("value", ["ftp://x:1", "not a url", "", " ", "http://", "http://:80",
                                   "http://h:70000", "http://h:0", "http://h:-1", "http://h:port",
                                   "proxy.local:3128", "http://h:1/path", "http://h:1?x=1",
                                   "gopher://h:1", " http://h:1", "ws://h:1"])
def test_proxy_rejected_forms(value: str) -> None:
    with pytest.raises(ValueError, match="proxy"):
        parse_proxy(value)
    with pytest.raises(ValueError, match="proxy"):
        O2Client(ws_url="ws://127.0.0.1:1/v1/ws", proxy=value)


def test_proxy_error_does_not_show_the_password() -> None:
    with pytest.raises(ValueError) as info:
        parse_proxy("ftp://user:hunter2@h:1")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("value", ["socks4://h:1080", "socks5://u:p@h:1080", "socks5h://h"])
def test_socks_needs_the_extra(value: str) -> None:
    if HAS_SOCKS:
        proxy = parse_proxy(value)
        assert proxy is not None and proxy.is_socks
        assert proxy.websocket_options()["proxy_type"] == value.split(":")[0]
    else:
        with pytest.raises(ImportError, match='pip install "o2sync\\[socks\\]"'):
            parse_proxy(value)
        with pytest.raises(ImportError) as info:
            O2Client(ws_url="ws://127.0.0.1:1/v1/ws", proxy=value)
        assert SOCKS_HINT in str(info.value)


def test_proxy_none_is_none() -> None:
    assert parse_proxy(None) is None
