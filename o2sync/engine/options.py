"""Client options: one validated object, built once from keyword arguments and passed down.

Every client takes these as flat keyword arguments (``O2Client(ping_interval=5)``,
``MarketDataClient(base_url, queue_size=100)``); :meth:`Options.build` checks them
at the call, so a wrong name or value raises before anything connects.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from ..proxy import parse_proxy

#: ``dispatcher=`` hook type: schedules a zero-argument function elsewhere, for
#: example ``pending.put`` of a queue that a GUI's main loop drains.
Scheduler = Callable[[Callable[[], None]], Any]

MIB = 1024 * 1024


class Overflow(str, enum.Enum):
    """What a full subscription queue does with one more event. Either way it is counted.

    Depth streams always behave as DROP_NEWEST and then resynchronise (they discard
    deltas until a fresh snapshot), because a depth stream with a hole is a wrong book.
    """

    DROP_NEWEST = "drop_newest"
    DROP_OLDEST = "drop_oldest"


def overflow_policy(value: Union[str, Overflow]) -> Overflow:
    """``"drop_newest"`` / ``"drop_oldest"`` (or the enum) as :class:`Overflow`."""
    try:
        return Overflow(value)
    except ValueError:
        choices = ", ".join(repr(o.value) for o in Overflow)
        raise ValueError(f"overflow must be one of {choices}, got {value!r}") from None


def check_queue_size(value: object) -> int:
    """A queue bound: an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"queue_size must be an int >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class Options:
    """Every tunable of a streaming client, with the defaults users get.

    Attributes:
        ping_interval: seconds between heartbeats (a text ping or a WebSocket ping,
            as the venue wants).
        pong_timeout: seconds without any frame after a heartbeat before the link
            counts as dead (half-open) and is replaced.
        reconnect: reconnect after a loss (True), or close (False).
        max_reconnect_attempts: give up (CLOSED) after this many failed attempts in
            a row; None = never.
        backoff_initial, backoff_max: reconnect delay bounds; exponential with jitter.
        connect_timeout: seconds for one WebSocket handshake; also how long a socket
            that has never connected keeps trying before its streams end with a
            ConnectError naming the cause.
        queue_size: events each subscription may hold before overflow (a stream can
            override it).
        overflow: ``"drop_newest"`` or ``"drop_oldest"`` (depth streams always resync).
        dispatcher: optional ``fn -> None`` that runs callbacks elsewhere. For Tk
            pass ``pending.put`` of a ``queue.Queue`` and drain it from the Tk main
            loop (``root.after(15, pump)``); do not call ``root.after`` from o2sync's
            threads, which not every Tcl build allows (see ``examples/tk_ticker.py``).
        inline_callbacks: opt-in lower latency: run stream callbacks (``on_depth``,
            ``on_trades``...) on the socket's reader thread, right after the frame is
            decoded, instead of handing them to the dispatcher thread (one thread
            wake-up less per event). The trade-off: a slow callback delays reading
            that socket, and its heartbeats' answers, so a callback that blocks for
            longer than ``pong_timeout`` makes the watchdog replace a healthy link.
            ``on_error`` and ``on_connection_state`` callbacks, and events not read
            from a socket, still run on the dispatcher thread. Not with ``dispatcher``.
        sslopt: websocket-client SSL options for the sockets.
        ca_bundle: path of a PEM CA bundle that verifies TLS for WebSocket and REST alike.
        proxy: ``http://``, ``https://``, ``socks4://``, ``socks5://`` or ``socks5h://``
            ``[user:password@]host[:port]`` for WebSocket and REST, checked here (SOCKS
            needs ``pip install "o2sync[socks]"``).
        max_message_size: the largest message (one frame, or a fragmented message)
            accepted; a larger one drops the link with a report.
        rest_timeout: total seconds for one REST call, retries and body included.
        rest_retries, rest_backoff: retries of transient REST failures (429, 5xx) and
            their backoff factor. rest_retry_after_max: the longest ``Retry-After``
            waited; a longer one raises RateLimitedError at once.
    """

    ping_interval: float = 20.0
    pong_timeout: float = 20.0
    reconnect: bool = True
    max_reconnect_attempts: Optional[int] = None
    backoff_initial: float = 0.25
    backoff_max: float = 30.0
    connect_timeout: float = 10.0
    queue_size: int = 10_000
    overflow: Overflow = Overflow.DROP_NEWEST
    dispatcher: Optional[Scheduler] = None
    inline_callbacks: bool = False
    sslopt: Optional[dict[str, Any]] = None
    ca_bundle: Optional[str] = None
    proxy: Optional[str] = None
    max_message_size: int = 16 * MIB
    rest_timeout: float = 10.0
    rest_retries: int = 3
    rest_backoff: float = 1.0
    rest_retry_after_max: float = 10.0

    @classmethod
    def build(cls, **kwargs: Any) -> Options:
        """Options from keyword arguments; an unknown name raises TypeError at the call."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(known))}")
        return cls(**kwargs)

    def __post_init__(self) -> None:
        for name in ("ping_interval", "pong_timeout", "connect_timeout", "rest_timeout"):
            _positive(name, getattr(self, name))
        _positive("backoff_initial", self.backoff_initial)
        if _number(self.backoff_max) < self.backoff_initial:
            raise ValueError(f"need backoff_initial <= backoff_max, got "
                             f"{self.backoff_initial} and {self.backoff_max}")
        if self.rest_backoff < 0:
            raise ValueError(f"rest_backoff must be >= 0, got {self.rest_backoff!r}")
        if not isinstance(self.reconnect, bool):
            raise TypeError(f"reconnect must be True or False, got {self.reconnect!r}")
        attempts = self.max_reconnect_attempts
        if attempts is not None and (isinstance(attempts, bool) or not isinstance(attempts, int)
                                     or attempts < 0):
            raise ValueError(f"max_reconnect_attempts must be >= 0 or None, got {attempts!r}")
        retries = self.rest_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"rest_retries must be an int >= 0, got {retries!r}")
        check_queue_size(self.queue_size)
        size = self.max_message_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1024:
            raise ValueError(f"max_message_size must be an int >= 1024 bytes, got {size!r}")
        object.__setattr__(self, "overflow", overflow_policy(self.overflow))
        if self.dispatcher is not None and not callable(self.dispatcher):
            raise TypeError("dispatcher must be a callable taking a zero-argument function")
        if not isinstance(self.inline_callbacks, bool):
            raise TypeError(f"inline_callbacks must be True or False, "
                            f"got {self.inline_callbacks!r}")
        if self.inline_callbacks and self.dispatcher is not None:
            raise ValueError("inline_callbacks runs callbacks on the reader thread; "
                             "it cannot be combined with a dispatcher hook")
        if self.sslopt is not None and not isinstance(self.sslopt, dict):
            raise TypeError(f"sslopt must be a dict of websocket-client SSL options, "
                            f"got {self.sslopt!r}")
        parse_proxy(self.proxy)  # ValueError (ImportError for SOCKS without the extra)
        if self.ca_bundle is not None and (not isinstance(self.ca_bundle, str)
                                           or not os.path.isfile(self.ca_bundle)):
            raise ValueError(f"ca_bundle must be the path of a PEM file, got {self.ca_bundle!r}")
        _positive("rest_retry_after_max", self.rest_retry_after_max)

    @property
    def websocket_sslopt(self) -> Optional[dict[str, Any]]:
        """``sslopt`` with ``ca_bundle`` folded in (as ``ca_certs``)."""
        if self.ca_bundle is None:
            return self.sslopt
        return {**(self.sslopt or {}), "ca_certs": self.ca_bundle}


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number of seconds, got {value!r}")
    return float(value)


def _positive(name: str, value: object) -> None:
    if _number(value) <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
