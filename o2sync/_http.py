"""JSON over HTTP GET for every venue: one requests Session, and nothing but o2sync errors.

* A total deadline per call (``timeout``): retries stop when their wait would pass
  it, and the body is streamed with ``iter_content`` while a timer shuts the socket
  down at the deadline, so a server that trickles its body (a byte every 0.5 s)
  cannot hold a call past it.
* Retries by urllib3's ``Retry`` (429, 502, 503, 504 and connection failures, with
  exponential backoff; a refused connection is answered at once, not retried);
  ``Retry-After`` is honoured up to ``retry_after_max``
  seconds: a longer one raises :class:`RateLimitedError` at once, carrying it.
* Every failure is an o2sync error: :class:`ApiError` / :class:`RateLimitedError`
  for statuses, :class:`ConnectError` naming the cause for failures below HTTP
  (connection refused, DNS, timed out, certificate verify failed, proxy), and
  :class:`MalformedResponseError` for a body that is not JSON or too large.
* TLS verified by default; ``ca_bundle`` names a PEM CA bundle (the same option the
  WebSocket side passes as ``sslopt={"ca_certs": ...}``). Proxies from
  :mod:`o2sync.proxy`. URLs and texts in errors and logs are redacted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Collection, Mapping
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from .errors import ApiError, ConnectError, DecodeError, MalformedResponseError, RateLimitedError
from .proxy import Proxy, parse_proxy
from .redact import redact_text, redact_url

log = logging.getLogger(__name__)

#: Largest body read (a market list is a few hundred KiB at most).
DEFAULT_MAX_BODY = 32 * 1024 * 1024
_CHUNK = 64 * 1024
_calls = threading.local()  # the deadline of the call running on this thread


class _DeadlineRetry(Retry):
    """Retry that gives up (returning the last answer, or raising) instead of sleeping
    past the call's deadline or longer than ``retry_after_max``."""

    cap: float = 10.0

    def increment(self, method: Optional[str] = None, url: Optional[str] = None,
                  response: Any = None, error: Optional[Exception] = None,
                  _pool: Any = None, _stacktrace: Any = None) -> Any:
        if error is not None and _refused(error):
            # nothing listens there: a wrong port or a stopped service; retrying for
            # seconds only delays the one-line answer (timeouts and resets do retry)
            raise MaxRetryError(_pool, url or "", error)
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        wait = None
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.cap:
                raise MaxRetryError(_pool, url or "",
                                    RuntimeError(f"Retry-After {wait:g} s above the cap"))
        if wait is None:
            wait = new.get_backoff_time()
        deadline = getattr(_calls, "deadline", None)
        if deadline is not None and time.monotonic() + wait >= deadline:
            raise MaxRetryError(_pool, url or "",
                                error or TimeoutError("no time left before the deadline"))
        return new


def _refused(error: BaseException) -> bool:
    """True if ``error`` (or what it was raised from) is a refused TCP connection."""
    seen: Optional[BaseException] = error
    for _ in range(8):  # a short chain: NewConnectionError from ConnectionRefusedError
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "connection refused" in str(error).lower()


def _cause(exc: BaseException) -> str:
    """A short name for why a request failed below HTTP."""
    text = f"{exc!r} {exc}".lower()
    if "certificate_verify_failed" in text or "certificate verify failed" in text:
        return "certificate verify failed"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy error"
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text:
        return "timed out"
    if "refused" in text:
        return "connection refused"
    if ("nameresolution" in text or "name or service not known" in text
            or "getaddrinfo" in text or "nodename nor servname" in text
            or "temporary failure in name resolution" in text):
        return "DNS lookup failed"
    if "reset" in text:
        return "connection reset"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def _shutdown(resp: requests.Response) -> None:
    """Unblock a read of ``resp`` from another thread (the deadline timer)."""
    raw = resp.raw
    try:
        raw.shutdown()  # urllib3 >= 2.3: shuts the socket down for reading
    except Exception:  # older urllib3, or already released
        with contextlib.suppress(Exception):
            resp.close()


def error_message(body: Any, text: str = "") -> str:
    """The message of an error body: ``message`` or ``error`` (also the structured
    ``{"error": {"code", "message"}}`` envelope), else the start of the text."""
    if isinstance(body, dict):
        msg = body.get("message") or body.get("error")
        if isinstance(msg, dict):  # {"error": {"code": "RATE_LIMITED", "message": ...}}
            code, text_ = msg.get("code"), msg.get("message")
            msg = ": ".join(str(part) for part in (code, text_) if part)
        if msg:
            return str(msg)
    return text[:200]


class HttpJson:
    """Blocking JSON GETs (and POSTs, never retried) against one base URL.
    Thread-safe (one Session, pooled).

    Args:
        base_url: scheme and host (and an optional path prefix); a URL's
            ``user:password@`` is used as basic auth by requests and never shown.
        timeout: total seconds one :meth:`get` may take, retries and body included.
        retries, backoff: urllib3 Retry count and backoff factor.
        retry_after_max: longest ``Retry-After`` honoured; a longer one raises
            RateLimitedError carrying it.
        rate_limit_codes: error-body ``code`` values that also mean "rate limited".
        verify: verify TLS certificates (default True); ``ca_bundle`` is a PEM file
            of trusted CAs (implies verification).
        proxy: a proxy URL or :class:`~o2sync.proxy.Proxy` (validated here).
        headers: extra request headers (values never logged).
        max_body: bytes; a longer body is a MalformedResponseError.
        loads: the JSON decoder of bodies (tplus passes one that keeps decimals exact).
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 1.0, retry_after_max: float = 10.0,
                 rate_limit_codes: Collection[int] = (), verify: bool = True,
                 ca_bundle: Optional[str] = None, proxy: Union[str, Proxy, None] = None,
                 headers: Optional[Mapping[str, str]] = None,
                 max_body: int = DEFAULT_MAX_BODY,
                 loads: Callable[[bytes], Any] = json.loads) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout!r}")
        if retry_after_max < 0:
            raise ValueError(f"retry_after_max must be >= 0, got {retry_after_max!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.retry_after_max = float(retry_after_max)
        self.rate_limit_codes = frozenset(rate_limit_codes)
        self.max_body = max_body
        self._loads = loads
        self.proxy = proxy if isinstance(proxy, Proxy) or proxy is None else parse_proxy(proxy)
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json"})
        if headers:
            self._session.headers.update(headers)
        self._session.verify = ca_bundle if ca_bundle is not None else verify
        # passed with every request too: requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
        # override ``Session.verify``, but not a request's own ``verify``; None keeps
        # the environment's say when no CA bundle (and no verify=False) was given
        self._verify: Union[str, bool, None] = (
            ca_bundle if ca_bundle is not None else (None if verify else False))
        self._session.trust_env = self.proxy is None  # an explicit proxy wins over env vars
        if self.proxy is not None:
            self._session.proxies.update(self.proxy.requests_proxies())
        # a subclass per client: Retry.new() copies constructor arguments only
        retry_cls = type("_Retry", (_DeadlineRetry,), {"cap": self.retry_after_max})
        retry = retry_cls(total=retries, connect=retries, read=retries, status=retries,
                               backoff_factor=backoff, status_forcelist=(429, 502, 503, 504),
                               allowed_methods=frozenset({"GET"}),
                               respect_retry_after_header=True, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:
        return f"<HttpJson {redact_url(self.base_url)} timeout={self.timeout:g}s>"

    def url(self, path: str) -> str:
        """``base_url`` with ``path`` appended to its path (its query string kept last)."""
        parts = urlsplit(self.base_url)
        joined = f"{parts.path.rstrip('/')}/{path.lstrip('/')}"
        return urlunsplit((parts.scheme, parts.netloc, joined, parts.query, ""))

    def get(self, path: str, params: Optional[Mapping[str, Any]] = None,
            headers: Optional[Mapping[str, str]] = None) -> Any:
        """GET ``base_url/path`` and return the decoded JSON body.

        Raises ApiError (error status), RateLimitedError (429 or a rate-limit code),
        ConnectError (below HTTP, with ``cause``), MalformedResponseError (a 2xx body
        that is not JSON, or too large).
        """
        return self._call("GET", path, params=params, headers=headers)

    def post(self, path: str, body: Any, headers: Optional[Mapping[str, str]] = None) -> Any:
        """POST ``body`` as JSON to ``base_url/path`` (no retries); errors as :meth:`get`."""
        return self._call("POST", path, json_body=body, headers=headers)

    def _call(self, method: str, path: str, params: Optional[Mapping[str, Any]] = None,
              json_body: Any = None, headers: Optional[Mapping[str, str]] = None) -> Any:
        url = self.url(path)
        shown = redact_url(url)
        deadline = time.monotonic() + self.timeout
        _calls.deadline = deadline
        try:
            resp = self._session.request(method, url, params=params, json=json_body,
                                         headers=headers, stream=True, verify=self._verify,
                                         timeout=(self.timeout, self.timeout))
        except requests.RequestException as exc:
            cause = _cause(exc)
            log.debug("%s %s failed: %s", method, shown, redact_text(exc))
            raise ConnectError(f"{method} {shown} failed ({cause}): {redact_text(exc)}",
                               cause=cause) from None
        finally:
            _calls.deadline = None
        with resp:
            body_bytes = self._read(resp, deadline, shown, path)
        status = resp.status_code
        try:
            body = self._loads(body_bytes)
        except (ValueError, DecodeError):
            body = _NOT_JSON
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            code = None
        text = body_bytes[:200].decode("utf-8", "replace")
        error: Optional[ApiError] = None
        if status == 429 or (code is not None and code in self.rate_limit_codes):
            error = RateLimitedError(status, code, redact_text(error_message(body, text)
                                                                or "rate limited"),
                                     shown, _retry_after(resp))
        elif status >= 400:
            error = ApiError(status, code, redact_text(error_message(body, text) or resp.reason),
                             shown)
        if error is not None:
            error.body = None if body is _NOT_JSON else body  # for venue-specific errors
            raise error
        if body is _NOT_JSON:
            raise MalformedResponseError(path, f"body is not JSON: {redact_text(text)!r}",
                                         status=status, url=shown)
        return body

    def _read(self, resp: requests.Response, deadline: float, shown: str, path: str) -> bytes:
        remaining = deadline - time.monotonic()
        timer = threading.Timer(max(remaining, 0.0), _shutdown, (resp,))
        timer.daemon = True
        timer.name = "o2sync-http-deadline"
        chunks: list[bytes] = []
        size = 0
        timer.start()
        try:
            for chunk in resp.iter_content(_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_body:
                    raise MalformedResponseError(path, f"body larger than {self.max_body} bytes",
                                                 status=resp.status_code, url=shown)
                if time.monotonic() >= deadline:
                    break
        except requests.RequestException as exc:
            if time.monotonic() < deadline:
                cause = _cause(exc)
                raise ConnectError(f"GET {shown} failed reading the body ({cause}): "
                                   f"{redact_text(exc)}", cause=cause) from None
        finally:
            timer.cancel()
            timer.join()
        if time.monotonic() >= deadline:
            raise ConnectError(f"GET {shown} timed out: no complete answer within "
                               f"{self.timeout:g}s (got {size} bytes)", cause="timed out")
        return b"".join(chunks)


_NOT_JSON: Any = object()


def _retry_after(resp: requests.Response) -> Optional[float]:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, Retry.parse_retry_after(Retry(), value))
    except Exception:  # an unparseable header: no hint
        return None
