"""The venue interface is real: a test venue of a few dozen lines over a loopback server.

``PathVenue`` is what a second venue looks like to the engine: one socket per stream
path (the path is the subscription, no subscribe frames), WebSocket ping/pong
heartbeats, a header provider with refreshable bearer tokens, JSON routing and a
REST snapshot resync run off the reader thread. Each scenario drives a real
:class:`StreamEngine` over real loopback sockets and asserts what a user relies on.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from clientutil import wait_until
from venue_server import MISSING, SECURE, VenueServer

from o2sync.engine.lifecycle import ConnectionEvent, ConnectionState
from o2sync.engine.options import Options
from o2sync.engine.registry import Topic
from o2sync.engine.stream import ERRORS, LIFECYCLE, StreamEngine
from o2sync.engine.subscription import Subscription
from o2sync.engine.venue import TopicSpec, Venue, url_path
from o2sync.engine.watchdog import AUTH_REJECTIONS_MAX
from o2sync.errors import StreamFailedError

pytestmark = pytest.mark.timeout(30)

_engine_ids = itertools.count(1)


@dataclass(frozen=True)
class Tick:
    path: str
    seq: int
    is_snapshot: bool = False


class PathVenue(Venue):
    """A venue with one socket per path, WebSocket heartbeats, bearer tokens, REST resync."""

    def __init__(self, ws_url: str, http_url: str) -> None:
        self.ws_url, self.http_url = ws_url, http_url
        self._tokens = itertools.count(1)
        self.token = ""
        self.header_calls: list[tuple[str, bool]] = []
        self.resync_threads: list[str] = []

    def spec(self, path: str) -> TopicSpec:
        # no subscribe frames: the path is the subscription
        return TopicSpec(("path", path), url=self.ws_url + path, info=path)

    def heartbeat_text(self, url: str) -> None:
        return None  # WebSocket ping; the pong (or any frame) is liveness

    def handshake_headers(self, url: str, refresh: bool) -> dict[str, str]:
        self.header_calls.append((url_path(url), refresh))
        if refresh or not self.token:
            self.token = f"token-{next(self._tokens)}"
        return {"Authorization": f"Bearer {self.token}"}

    def route(self, url: str, data: bytes) -> None:
        path = url_path(url)
        topic = self.engine.topics.get(("path", path))
        if topic is not None:
            self.engine.deliver(topic, Tick(path, json.loads(data)["seq"]))

    def resync(self, topic: Topic) -> None:
        path = topic.info

        def fetch() -> None:  # on the watchdog thread, never a reader
            self.resync_threads.append(threading.current_thread().name)
            body = requests.get(f"{self.http_url}/snapshot", params={"path": path},
                                timeout=5).json()
            snapshot = Tick(path, body["seq"], is_snapshot=True)
            for sub in topic.subscribers:
                if sub.needs_snapshot:
                    sub.offer(snapshot)

        self.engine.run_task(fetch)


FAST = dict(ping_interval=0.05, pong_timeout=0.5, backoff_initial=0.05, backoff_max=0.2,
            connect_timeout=2.0)


@pytest.fixture
def server() -> Iterator[VenueServer]:
    srv = VenueServer()
    yield srv
    srv.stop()


@pytest.fixture
def make(server: VenueServer) -> Iterator[Any]:
    """``make(**options) -> (engine, venue)``; every engine is closed at teardown."""
    made: list[StreamEngine] = []

    def build(**options: Any) -> tuple[StreamEngine, PathVenue]:
        venue = PathVenue(server.ws_url, server.http_url)
        engine = StreamEngine(venue, Options.build(**{**FAST, **options}),
                              name=f"o2sync-test-{next(_engine_ids)}")
        made.append(engine)
        return engine, venue

    yield build
    for engine in made:
        assert engine.close(5.0)


def threads_of(engine: StreamEngine) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(engine.name + "-")]


def stream(engine: StreamEngine, venue: PathVenue, path: str, **kw: Any) -> Subscription[Any]:
    return engine.subscribe(venue.spec(path), name=path, **kw)


def live(server: VenueServer, sub: Subscription[Any], path: str, timeout: float = 5.0) -> Tick:
    """Publish on ``path`` until ``sub`` gets an event (the socket may still be opening)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.publish(path)
        try:
            return sub.get(timeout=0.1)
        except queue.Empty:
            continue
    raise AssertionError(f"no event on {path} within {timeout}s")


def caught_up(server: VenueServer, path: str, *subs: Subscription[Any]) -> int:
    """Publish one frame and read ``subs`` up to it: nothing older is queued or in flight."""
    [mark] = server.publish(path)
    for sub in subs:
        while sub.get(timeout=5).seq != mark:
            pass
    return mark


def next_state(events: Subscription[Any], state: ConnectionState,
               timeout: float = 5.0) -> ConnectionEvent:
    """The next lifecycle event of ``state`` (skipping others)."""
    deadline = time.monotonic() + timeout
    while True:
        event = events.get(timeout=max(0.0, deadline - time.monotonic()))
        if event.state is state:
            return event


def drain(sub: Subscription[Any]) -> list[Any]:
    out = []
    while sub.pending:
        out.append(sub.get(timeout=0))
    return out


# ---------------------------------------------------------------------- sockets


def test_one_socket_per_path_opened_and_closed_with_its_consumers(make: Any,
                                                                  server: VenueServer) -> None:
    engine, venue = make()
    ticks = stream(engine, venue, "/ticks")
    quotes = stream(engine, venue, "/quotes")
    assert live(server, ticks, "/ticks").path == "/ticks"
    assert live(server, quotes, "/quotes").path == "/quotes"
    assert server.open_count("/ticks") == 1 and server.open_count("/quotes") == 1
    assert wait_until(lambda: len(threads_of(engine)) == 2 + 2), threads_of(engine)
    assert sorted(threads_of(engine)) == sorted(
        f"{engine.name}-{part}" for part in ("watchdog", "dispatcher", "reader", "reader-2"))
    assert engine.stats()["sockets"] == {"/ticks": "open", "/quotes": "open"}

    assert wait_until(lambda: engine.stats()["pongs"] >= 4)
    pongs = engine.stats()["pongs"]
    quotes.close()  # the last consumer of /quotes: its socket closes, /ticks goes on
    assert engine.stats()["pongs"] >= pongs  # counters since creation never go back
    assert wait_until(lambda: server.open_count("/quotes") == 0)
    assert server.closed["/quotes"] == 1
    assert wait_until(lambda: len(threads_of(engine)) == 2 + 1), threads_of(engine)
    assert live(server, ticks, "/ticks").path == "/ticks"
    assert server.open_count("/ticks") == 1


def test_twenty_consumers_of_one_path_share_one_socket(make: Any, server: VenueServer) -> None:
    engine, venue = make()
    subs = [stream(engine, venue, "/ticks") for _ in range(20)]
    live(server, subs[0], "/ticks")
    caught_up(server, "/ticks", *subs)
    seqs = server.publish("/ticks", 5)
    for sub in subs:  # every consumer sees the same frames, from one socket
        assert [sub.get(timeout=2).seq for _ in range(5)] == seqs
    assert server.open_count("/ticks") == 1 and len(server.handshakes_on("/ticks")) == 1
    assert len(threads_of(engine)) == 3
    assert engine.stats()["wire_subscriptions"] == 1
    for sub in subs[:-1]:
        sub.close()
    assert server.open_count("/ticks") == 1  # one consumer left: still open
    subs[-1].close()
    assert wait_until(lambda: server.open_count("/ticks") == 0)
    assert wait_until(lambda: len(threads_of(engine)) == 2)


# ---------------------------------------------------------------------- heartbeat


def test_quiet_link_stays_up_on_websocket_pongs(make: Any, server: VenueServer) -> None:
    engine, venue = make(ping_interval=0.05, pong_timeout=0.5)
    sub = stream(engine, venue, "/ticks")
    live(server, sub, "/ticks")
    # nothing is published: only WebSocket pongs keep the link alive, for ~20 heartbeats
    assert wait_until(lambda: engine.stats()["pings_sent"] >= 20, timeout=5)
    stats = engine.stats()
    assert stats["pongs"] >= 15, stats
    assert stats["reconnects"] == 0
    assert len(server.handshakes_on("/ticks")) == 1 and server.closed["/ticks"] == 0
    assert live(server, sub, "/ticks").path == "/ticks"


def test_server_pings_are_answered_and_count_as_liveness(make: Any,
                                                         server: VenueServer) -> None:
    engine, venue = make()
    sub = stream(engine, venue, "/ticks")
    live(server, sub, "/ticks")
    for _ in range(3):  # each ping gets its pong from the client's reader
        assert server.ping_clients("/ticks") == 1
    assert live(server, sub, "/ticks").path == "/ticks"
    assert engine.stats()["reconnects"] == 0 and engine.stats()["decode_errors"] == 0


def test_a_fragmented_message_arrives_whole_between_whole_ones(make: Any,
                                                               server: VenueServer) -> None:
    engine, venue = make()
    sub = stream(engine, venue, "/ticks")
    live(server, sub, "/ticks")
    mark = caught_up(server, "/ticks", sub)
    server.send_fragmented("/ticks", ['{"se', 'q": ', f'{mark + 100}', '}'])
    [after] = server.publish("/ticks")
    assert sub.get(timeout=2).seq == mark + 100  # one event from four fragments
    assert sub.get(timeout=2).seq == after
    assert engine.stats()["decode_errors"] == 0


# ---------------------------------------------------------------------- faults


@pytest.mark.parametrize("ending", ["abort", "close frame"])
def test_lost_socket_reconnects_with_lifecycle_events_naming_the_stream(
        make: Any, server: VenueServer, ending: str) -> None:
    engine, venue = make()
    events = engine.local(LIFECYCLE, "lifecycle", None)
    sub = stream(engine, venue, "/ticks")
    live(server, sub, "/ticks")
    assert next_state(events, ConnectionState.CONNECTED).stream == "/ticks"

    if ending == "abort":
        server.drop("/ticks")  # no close frame
    else:
        server.close_sockets("/ticks", 4000)
    lost = next_state(events, ConnectionState.DISCONNECTED)
    if ending == "close frame":
        assert "close code 4000" in lost.message, lost
    retry = next_state(events, ConnectionState.RECONNECTING)
    back = next_state(events, ConnectionState.RECONNECTED)
    assert (lost.stream, retry.stream, back.stream) == ("/ticks",) * 3
    assert retry.attempt == 1
    assert len(server.handshakes_on("/ticks")) == 2
    drain(sub)
    assert live(server, sub, "/ticks").path == "/ticks"
    assert engine.stats()["reconnects"] == 1


def test_refusal_backs_off_with_growing_attempts_then_reconnects(make: Any,
                                                                 server: VenueServer) -> None:
    engine, venue = make()
    events = engine.local(LIFECYCLE, "lifecycle", None)
    sub = stream(engine, venue, "/ticks")
    live(server, sub, "/ticks")
    server.refuse(0.5)
    server.drop()
    next_state(events, ConnectionState.DISCONNECTED)
    attempts, messages = [], []
    while True:
        event = events.get(timeout=5)
        if event.state is ConnectionState.RECONNECTED:
            break
        assert event.state is ConnectionState.RECONNECTING, event
        assert event.stream == "/ticks"
        attempts.append(event.attempt)
        messages.append(event.message)
    assert len(attempts) >= 3, attempts
    assert attempts == list(range(1, len(attempts) + 1))
    assert all("HTTP 503" in m for m in messages[1:]), messages  # the first follows the drop
    assert len(server.handshakes_on("/ticks")) == len(attempts) + 1
    drain(sub)
    assert live(server, sub, "/ticks").path == "/ticks"


def test_404_path_fails_its_streams_once_and_spares_the_others(make: Any,
                                                               server: VenueServer) -> None:
    engine, venue = make()
    events = engine.local(LIFECYCLE, "lifecycle", None)
    errors = engine.local(ERRORS, "errors", None)
    ticks = stream(engine, venue, "/ticks")
    missing = stream(engine, venue, MISSING)
    start = time.monotonic()
    with pytest.raises(StreamFailedError) as failed:
        for _ in missing:
            pass
    assert time.monotonic() - start < 3
    error = failed.value
    assert f"{server.ws_url}{MISSING}" in str(error) and "404" in str(error)
    assert error.status == 404 and error.url == f"{server.ws_url}{MISSING}"
    event = next_state(events, ConnectionState.FAILED)
    assert event.stream == MISSING and "404" in event.message
    assert errors.get(timeout=2) is error  # on_error consumers hear of it too
    assert len(server.handshakes_on(MISSING)) == 1  # no retry loop
    assert missing.error is error and missing.closed

    assert live(server, ticks, "/ticks").path == "/ticks"  # other paths unaffected
    assert engine.stats()["sockets"] == {"/ticks": "open"}
    assert len(server.handshakes_on(MISSING)) == 1
    assert wait_until(lambda: len(threads_of(engine)) == 3), threads_of(engine)


def test_401_refreshes_the_token_once_then_connects(make: Any, server: VenueServer) -> None:
    engine, venue = make()
    events = engine.local(LIFECYCLE, "lifecycle", None)
    server.reject_next_token = True
    sub = stream(engine, venue, SECURE)
    assert live(server, sub, SECURE).path == SECURE
    # the immediate retry with a fresh token is invisible: no backoff, no RECONNECTING
    assert [e.state for e in drain(events)] == [ConnectionState.CONNECTED]
    shakes = server.handshakes_on(SECURE)
    assert len(shakes) == 2
    assert [h.get("Authorization") for h in shakes] == ["Bearer token-1", "Bearer token-2"]
    assert venue.header_calls == [(SECURE, False), (SECURE, True)]
    assert engine.stats()["reconnects"] == 0


def test_permanent_auth_rejection_ends_the_stream_without_a_hot_loop(make: Any,
                                                                     server: VenueServer) -> None:
    engine, venue = make()
    server.reject_all_tokens = True
    sub = stream(engine, venue, SECURE)
    with pytest.raises(StreamFailedError) as failed:
        sub.get(timeout=10)
    assert "401" in str(failed.value) and "rejected" in str(failed.value)
    handshakes = len(server.handshakes_on(SECURE))
    assert handshakes == AUTH_REJECTIONS_MAX + 1, handshakes
    assert all(refresh for _, refresh in venue.header_calls[1:])
    assert engine.stats()["sockets"] == {}
    assert len(server.handshakes_on(SECURE)) == handshakes  # and it stays that way


def test_stall_is_detected_and_the_link_replaced(make: Any, server: VenueServer) -> None:
    engine, venue = make(ping_interval=0.05, pong_timeout=0.3)
    events = engine.local(LIFECYCLE, "lifecycle", None)
    sub = stream(engine, venue, "/ticks")
    live(server, sub, "/ticks")
    next_state(events, ConnectionState.CONNECTED)
    server.stall("/ticks")
    stalled_at = time.monotonic()
    lost = next_state(events, ConnectionState.DISCONNECTED)
    detected = time.monotonic() - stalled_at
    assert detected < 0.05 + 0.3 + 0.5, detected
    assert "half-open" in lost.message and lost.stream == "/ticks"
    next_state(events, ConnectionState.RECONNECTED)
    server.unstall()
    drain(sub)
    assert live(server, sub, "/ticks").path == "/ticks"
    assert wait_until(lambda: server.open_count("/ticks") == 1)  # the stalled one is gone


# ---------------------------------------------------------------------- resync


def test_rest_resync_heals_an_overflowed_depth_consumer(make: Any, server: VenueServer) -> None:
    engine, venue = make()
    depth = stream(engine, venue, "/book", is_depth=True, queue_size=4)
    live(server, depth, "/book")
    last = caught_up(server, "/book", depth)
    server.publish("/book", 10)  # not reading: 4 queued, 6 lost
    assert wait_until(lambda: depth.dropped == 6), depth
    assert depth.needs_snapshot and venue.resync_threads == []  # not while the backlog is full
    backlog = [depth.get(timeout=2) for _ in range(4)]
    assert [t.seq for t in backlog] == list(range(last + 1, last + 5))
    snapshot = depth.get(timeout=5)
    assert snapshot.is_snapshot and snapshot.seq == last + 10
    assert venue.resync_threads == [f"{engine.name}-watchdog"]
    assert not depth.needs_snapshot
    server.publish("/book", 3)
    assert [depth.get(timeout=2).seq for _ in range(3)] == [snapshot.seq + i for i in (1, 2, 3)]
    assert depth.dropped == 6 and engine.stats()["dropped"] == 6


# ---------------------------------------------------------------------- close


def test_close_is_bounded_and_leaves_no_thread(make: Any, server: VenueServer) -> None:
    engine, venue = make()
    subs = [stream(engine, venue, p) for p in ("/ticks", "/quotes", "/book")]
    for sub, path in zip(subs, ("/ticks", "/quotes", "/book")):
        live(server, sub, path)
    assert wait_until(lambda: engine.stats()["pongs"] >= 3)
    pongs = engine.stats()["pongs"]
    server.stall("/book")  # a peer that reads nothing must not hold close() up
    assert len(threads_of(engine)) == 5
    start = time.monotonic()
    assert engine.close(timeout=3.0)
    assert time.monotonic() - start < 3.0
    assert threads_of(engine) == []
    assert engine.stats()["pongs"] >= pongs and engine.stats()["sockets"] == {}
    for sub in subs:
        drain(sub)
        with pytest.raises(StopIteration):
            next(sub)
    server.unstall()
    assert wait_until(lambda: sum(server.open_count(p) for p in ("/ticks", "/quotes")) == 0)
