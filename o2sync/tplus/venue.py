"""The tplus venue: one socket per stream path, WebSocket heartbeats, bearer auth,
and depth that heals from a REST snapshot.

What :class:`TplusVenue` tells the engine:

* the path *is* the subscription: a topic is keyed by its socket URL and sends
  no frames;
* heartbeats are WebSocket pings (any frame proves liveness);
* handshake headers come from the user's :class:`~o2sync.tplus.auth.TokenStore` on
  every connect, so a reconnect presents a token with more than 60 s left; after a
  401/403 the rejected token is dropped and a new login made;
* control frames (``ping``, ``subscriptions``) are counted, never delivered;
  malformed frames and unknown event kinds are counted and reported;
* a depth topic resynchronises by the self-healing rule of the protocol doc §7.3:
  buffer diffs, fetch ``GET /marketdepth/{asset}`` on the watchdog thread, drop
  buffered diffs the snapshot already holds, hand the snapshot plus the rest to the
  consumers that needed it; a snapshot older than the buffer is fetched again
  (200 ms, doubling), and after 5 such tries the socket is replaced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from ..engine.registry import Topic
from ..engine.stream import StreamEngine
from ..engine.venue import Venue, url_path
from ..errors import ApiError, AuthError, ConnectError, DecodeError, O2SyncError
from . import _account_decode, decode
from .asset import AssetIdentifier
from .auth import TokenStore
from .errors import UnknownEventKind
from .models import OrderBook, OrderBookDiff
from .rest import TplusRest

log = logging.getLogger(__name__)

#: Snapshots older than the buffered diffs tolerated before the socket is replaced.
STALE_SNAPSHOTS_MAX = 5
SNAPSHOT_RETRY_INITIAL = 0.2
SNAPSHOT_RETRY_MAX = 5.0
#: Diffs buffered while a snapshot is fetched; more means the fetch is hopeless.
BUFFER_MAX = 100_000


@dataclass
class DepthSplice:
    """A depth topic's splice of a REST snapshot into its diff stream (§7.3)."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    waiting: bool = False  # a snapshot is on its way to the consumers that need one
    buffer: list[OrderBookDiff] = field(default_factory=list)
    stale: int = 0  # snapshots older than the buffer, in a row
    delay: float = SNAPSHOT_RETRY_INITIAL
    fetches: int = 0  # snapshots fetched for this topic
    live: int = 0  # diffs passed on as they came (not from a splice): the resync limit's
    # sign of health, since the diffs handed over with a snapshot prove nothing


@dataclass
class StreamInfo:
    """What a tplus topic is: its kind, its asset and (depth) its splice."""

    kind: str  # "trades", "trade_events", "depth", "klines", "orders", "user_trades"...
    asset: Optional[AssetIdentifier] = None
    authenticated: bool = False
    depth: Optional[DepthSplice] = None
    user_id: Optional[str] = None  # a per-call user: the User-Id its handshakes send
    auth: Optional[TokenStore] = None  # ... and the token they present (else the client's)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "trades": decode.decode_trade,
    "trade_events": decode.decode_trade_event,
    "depth": decode.decode_depth_diff,
    "klines": decode.decode_klines,
    "orders": decode.decode_order_event,
    "user_trades": decode.decode_user_trade,
    "ticker": _account_decode.decode_ticker,
    "tickers": _account_decode.decode_tickers,
    "positions": _account_decode.decode_position_update,
    "user_events": _account_decode.decode_user_event,
    "intent": _account_decode.decode_intent,
}


class TplusVenue(Venue):
    """The tplus protocol object of one client's engine (one service origin)."""

    def __init__(self, rest: TplusRest, auth: Optional[TokenStore]) -> None:
        self._rest = rest
        self._auth = auth
        self._presented: dict[str, str] = {}  # url -> the token its last handshake used
        self._auth_lock = threading.Lock()

    def set_auth(self, auth: Optional[TokenStore]) -> None:
        """The login handshakes present from now on (``set_default_user``)."""
        self._auth = auth

    def bind(self, engine: StreamEngine) -> None:
        super().bind(engine)
        self._topics = engine.topics
        self._counters = engine.counters

    # ------------------------------------------------------------ handshakes

    def handshake_headers(self, url: str, refresh: bool) -> dict[str, str]:
        info = self._info(url)
        required = info is not None and info.authenticated
        auth = info.auth if info is not None and info.auth is not None else self._auth
        if auth is None:
            if required:
                raise AuthError(f"{url_path(url)} needs a user (default_user=...)")
            return {}
        if refresh:
            auth.invalidate(self._presented.get(url))
        try:
            headers = auth.headers()
            if info is not None and info.user_id is not None:
                headers["User-Id"] = info.user_id  # a bare public key names the user
        except (AuthError, ApiError, ConnectError) as exc:
            if not required:  # opportunistic login (market data): go anonymous
                log.info("%s: login failed, streaming anonymously: %s", url_path(url), exc)
                return {}
            if isinstance(exc, AuthError):
                raise
            raise AuthError(f"login failed: {exc}", permanent=False) from None
        with self._auth_lock:
            self._presented[url] = headers["Authorization"].removeprefix("Bearer ")
        return headers

    def _info(self, url: str) -> Optional[StreamInfo]:
        topic = self._topics.get(url)
        return topic.info if topic is not None else None

    # ------------------------------------------------------------ reader thread

    def route(self, url: str, data: bytes) -> None:
        counters = self._counters
        counters["messages"] += 1
        topic = self._topics.get(url)
        if topic is not None and topic.info.depth is not None:
            # a plain diff is checked over its bytes and its levels built when read;
            # anything else (control frames, errors included) takes the path below
            diff = decode.decode_depth_diff_frame(data)
            if diff is not None:
                self._deliver_diff(topic, topic.info.depth, diff)
                return
        try:
            obj = decode.parse_frame(data)
        except DecodeError as exc:
            self._bad(exc)
            return
        if type(obj) is dict and "type" in obj and decode.control_type(obj) is not None:
            counters["control_frames"] += 1  # (data frames carry no "type": one lookup)
            return
        if topic is None:
            counters["ignored"] += 1  # in flight after the last consumer left
            return
        info: StreamInfo = topic.info
        try:
            event = _DECODERS[info.kind](obj)
        except UnknownEventKind as exc:
            counters["unknown_kinds"] += 1
            self.engine.report(exc)
            return
        except DecodeError as exc:
            self._bad(exc)
            if info.depth is not None:
                self.engine.lost_event(topic)  # a hole in the stream: heal from a snapshot
            return
        if info.depth is not None:
            self._deliver_diff(topic, info.depth, event)
        elif info.kind == "klines":
            for bar in event:  # the wire packs a list; consumers get one bar each
                self.engine.deliver(topic, bar)
        else:
            self.engine.deliver(topic, event)

    def _bad(self, exc: DecodeError) -> None:
        self._counters["decode_errors"] += 1
        self.engine.report(exc)

    def _deliver_diff(self, topic: Topic, splice: DepthSplice, diff: OrderBookDiff) -> None:
        self._counters["events"] += 1
        with splice.lock:
            if not splice.waiting:
                splice.live += 1
                topic.push(diff)
                return
            if len(splice.buffer) < BUFFER_MAX:
                splice.buffer.append(diff)
            for sub in topic.subscribers:
                if not sub.needs_snapshot:  # the others get it from the buffer
                    sub.offer(diff)

    # ------------------------------------------------------------ resync

    def resync(self, topic: Topic) -> None:
        info: Optional[StreamInfo] = topic.info
        if info is None or info.depth is None:
            return  # only depth has a snapshot to heal from
        splice = info.depth
        with splice.lock:
            if splice.waiting:
                return
            splice.waiting = True
            splice.buffer = []
            splice.stale = 0
            splice.delay = SNAPSHOT_RETRY_INITIAL
        # at once the first time; spaced out when gaps keep coming (the engine's limit)
        self.engine.run_task(lambda: self._splice(topic),
                             self.engine.resync_delay(topic, splice.live))

    def _splice(self, topic: Topic) -> None:
        """Watchdog thread: fetch the snapshot and hand it over, or plan another try."""
        info: StreamInfo = topic.info
        splice = info.depth
        assert splice is not None and info.asset is not None
        if self._topics.get(topic.key) is not topic or self.engine.closing:
            with splice.lock:
                splice.waiting = False
            return
        try:
            snapshot = self._rest.orderbook(info.asset)
        except O2SyncError as exc:
            self.engine.report(exc)
            self._retry(topic, splice, f"snapshot fetch failed: {exc}")
            return
        splice.fetches += 1
        with splice.lock:
            verdict = self._hand_over(topic, splice, snapshot)
        if verdict is not None:
            self._retry(topic, splice, verdict)

    def _hand_over(self, topic: Topic, splice: DepthSplice, snapshot: OrderBook
                   ) -> Optional[str]:
        """Splice ``snapshot`` (lock held); a reason to try again, or None when done."""
        # A snapshot's sequence_number is the last diff folded into it, so 0 (also
        # tpluspy's default when the field is absent) is a book no diff has touched
        # yet, e.g. a market that never traded: it splices like any other number.
        seq = snapshot.sequence_number
        buffered = splice.buffer
        if buffered and seq < buffered[0].sequence_number - 1:
            splice.stale += 1
            if splice.stale >= STALE_SNAPSHOTS_MAX:
                splice.stale = 0
                splice.buffer = []
                self.engine.reconnect(topic.url or "", "depth snapshots keep lagging the stream")
            return (f"snapshot {seq} is older than the buffered diffs "
                    f"(from {buffered[0].sequence_number})")
        newer = [d for d in buffered if d.sequence_number > seq]
        needing = [sub for sub in topic.subscribers if sub.needs_snapshot]
        # done before handing over: a consumer that finds a gap in what it is handed
        # asks for the next snapshot at once
        splice.waiting = False
        splice.buffer = []
        for sub in needing:
            sub.offer(snapshot)
            for diff in newer:
                sub.offer(diff)
        return None

    def _retry(self, topic: Topic, splice: DepthSplice, reason: str) -> None:
        with splice.lock:
            delay = splice.delay
            splice.delay = min(splice.delay * 2, SNAPSHOT_RETRY_MAX)
        log.info("%s: %s; next snapshot in %.2fs", url_path(topic.url or ""), reason, delay)
        self.engine.run_task(lambda: self._splice(topic), delay)
