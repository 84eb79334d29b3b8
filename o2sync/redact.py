"""Redaction of credentials in URLs, headers and free text, for logs, reprs and errors.

Venue-neutral (no venue imports): the engine, O2 and tplus all call these before a
URL, a header set or an exception text reaches a log line, a repr, an exception or
a lifecycle message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MASK = "***"

#: Query parameter names whose value is a credential (compared case-insensitively).
SECRET_PARAMS = frozenset({"token", "access_token", "auth", "key", "apikey", "api_key",
                           "secret", "signature", "password", "jwt"})
#: Header names whose value is a credential (plus any name containing token/secret).
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization",
                            "x-api-key"})

_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]+")
_PARAM_IN_TEXT = re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
                            + r")=[^&#\s'\"<>]+")
_USERINFO_IN_TEXT = re.compile(r"//[^/@\s'\"<>]+@")
_HEADER_IN_TEXT = re.compile(
    r"(?i)(['\"]?(?:authorization|proxy-authorization|cookie|x-api-key)['\"]?\s*[:=]\s*['\"]?)"
    r"[^'\",}\r\n]+")


def _secret_param(name: str) -> bool:
    return name.lower() in SECRET_PARAMS


def redact_url(url: Any) -> str:
    """``url`` without ``user:password@`` and with token-like query values masked.

    ``wss://u:p@host/v1/ws?token=abc&x=1`` -> ``wss://***@host/v1/ws?token=***&x=1``.
    Text that does not parse as a URL is returned with the same rules applied as far
    as they can be (it never raises).
    """
    text = str(url)
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = MASK + "@" + netloc.rpartition("@")[2]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(_secret_param(k) for k, _ in pairs):
                query = "&".join(
                    f"{quote(k, safe='')}={MASK if _secret_param(k) else quote(v, safe='')}"
                    for k, v in pairs)
        fragment = parts.fragment
        if fragment and any(_secret_param(k) for k, _ in parse_qsl(fragment)):
            fragment = MASK
        return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    except ValueError:  # e.g. an invalid IPv6 netloc: mask conservatively
        text = re.sub(r"//[^/@\s]*@", "//" + MASK + "@", text)
        return re.sub(r"(?i)([?&](?:" + "|".join(SECRET_PARAMS) + r")=)[^&#\s]*",
                      r"\1" + MASK, text)


def _secret_header(name: str) -> bool:
    low = name.lower()
    return low in SECRET_HEADERS or "token" in low or "secret" in low


def redact_headers(headers: Any) -> dict[str, str]:
    """A copy of ``headers`` (a mapping or ``(name, value)`` pairs) with credential values
    (Authorization, Cookie, Proxy-Authorization, X-Api-Key, any name with "token" or
    "secret") replaced by ``"***"``."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k): MASK if _secret_header(str(k)) else str(v) for k, v in items}


def redact_text(text: Any) -> str:
    """``text`` with every URL in it redacted, and bearer/basic tokens and auth header
    values masked (exception messages, log lines)."""
    out = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), str(text))
    out = _USERINFO_IN_TEXT.sub("//" + MASK + "@", out)
    out = _PARAM_IN_TEXT.sub(lambda m: m.group(1) + "=" + MASK, out)
    out = _BEARER.sub(lambda m: m.group(1) + m.group(2) + MASK, out)
    return _HEADER_IN_TEXT.sub(lambda m: m.group(1) + MASK, out)
