"""The engine's rules without sockets or threads: heartbeat, backoff and the watchdog's
handling of one link, all on a fake clock and driven by hand."""

from __future__ import annotations

import random
from typing import Any, Optional

import pytest
import websocket

from o2sync.engine.backoff import Backoff, ResyncLimiter
from o2sync.engine.heartbeat import Beat, Heartbeat
from o2sync.engine.lifecycle import ConnectionState
from o2sync.engine.link import Link, LinkState
from o2sync.engine.options import Options
from o2sync.engine.venue import Failure, classify
from o2sync.engine.watchdog import AUTH_REJECTIONS_MAX, HEALTHY_AFTER, Watchdog

S = ConnectionState

# ---------------------------------------------------------------------- heartbeat


def test_heartbeat_pings_when_due_and_any_frame_answers() -> None:
    hb = Heartbeat(interval=1.0, timeout=2.0, now=10.0)
    assert hb.deadline() == 11.0
    assert hb.check(10.5, last_rx=10.0) is Beat.NOTHING
    assert hb.check(11.0, last_rx=10.0) is Beat.PING
    assert hb.deadline() == 12.0  # next ping (before the timeout of this one, 13.0)
    assert hb.check(11.4, last_rx=11.2) is Beat.NOTHING  # any frame after the ping answers
    assert hb.check(12.0, last_rx=11.2) is Beat.PING
    assert hb.check(12.1, last_rx=12.0) is Beat.NOTHING  # a frame at the ping's instant counts


def test_heartbeat_is_dead_after_timeout_without_a_frame() -> None:
    hb = Heartbeat(interval=1.0, timeout=2.5, now=0.0)
    assert hb.check(1.0, last_rx=0.0) is Beat.PING
    assert hb.check(2.0, last_rx=0.0) is Beat.PING  # still pinging; the oldest one counts
    assert hb.deadline() == 3.0
    assert hb.check(3.0, last_rx=0.9) is Beat.PING  # a frame from before the ping: no answer
    assert hb.deadline() == pytest.approx(3.5)  # 1.0 + 2.5, the unanswered ping's timeout
    assert hb.check(3.4, last_rx=0.9) is Beat.NOTHING
    assert hb.check(3.5, last_rx=0.9) is Beat.DEAD


@pytest.mark.parametrize("interval,timeout", [(0, 1), (1, 0), (-1, 1)])
def test_heartbeat_rejects_non_positive_timings(interval: float, timeout: float) -> None:
    with pytest.raises(ValueError):
        Heartbeat(interval, timeout, now=0.0)


# ---------------------------------------------------------------------- backoff


def test_backoff_is_exponential_and_capped_without_jitter() -> None:
    b = Backoff(0.25, 3.0, jitter=0.0)
    assert [b.delay(n) for n in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]
    assert b.delay(0) == 0.25 and b.delay(10_000) == 3.0


def test_backoff_jitter_stays_in_range_and_is_seedable() -> None:
    b = Backoff(1.0, 8.0, jitter=0.5, rng=random.Random(7))
    delays = [b.delay(n) for n in range(1, 9) for _ in range(50)]
    for i, delay in enumerate(delays):
        base = min(8.0, 2.0 ** (i // 50))
        assert base * 0.5 <= delay <= base
    again = Backoff(1.0, 8.0, jitter=0.5, rng=random.Random(7))
    assert [again.delay(n) for n in range(1, 9) for _ in range(50)] == delays
    assert len(set(delays)) > 300  # jitter really spreads them


@pytest.mark.parametrize("args", [(0, 1, 0.5), (2, 1, 0.5), (1, 2, 1.0), (1, 2, -0.1)])
def test_backoff_rejects_bad_parameters(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(*args)


# ---------------------------------------------------------------------- watchdog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeConnection:
    """What the watchdog uses of a Connection; ``failures`` are raised by open() in turn."""

    def __init__(self, url: str = "wss://venue.test/orders") -> None:
        self.url = url
        self.failures: list[BaseException] = []
        self.opens: list[Optional[dict[str, str]]] = []
        self.generation = 0
        self.last_rx = 0.0
        self.sent: list[str] = []
        self.pings = 0
        self.drops: list[tuple[int, str]] = []
        self.watchdog: Optional[Watchdog] = None
        self.link: Optional[Link] = None

    @property
    def is_open(self) -> bool:
        return self.generation > 0 and not self.drops

    def open(self, timeout: float, header: Optional[dict[str, str]] = None) -> int:
        self.opens.append(header)
        if self.failures:
            raise self.failures.pop(0)
        self.generation += 1
        return self.generation

    def send(self, text: str) -> bool:
        self.sent.append(text)
        return True

    def ping(self) -> bool:
        self.pings += 1
        return True

    def drop(self, generation: int, reason: str) -> bool:
        self.drops.append((generation, reason))
        assert self.watchdog is not None and self.link is not None
        self.watchdog.connection_lost(self.link, reason)  # as the engine's on_lost does
        return True


class Owner:
    """Records what the watchdog tells the engine."""

    def __init__(self, text: Optional[str] = None) -> None:
        self.text = text
        self.refreshes: list[bool] = []
        self.events: list[tuple[ConnectionState, int, str]] = []
        self.opened: list[int] = []
        self.failed: list[tuple[str, Optional[int]]] = []
        self.gave_up: list[str] = []

    def handshake_headers(self, link: Link, refresh: bool) -> dict[str, str]:
        self.refreshes.append(refresh)
        return {"Authorization": f"Bearer t{len(self.refreshes)}"}

    def classify_failure(self, link: Link, exc: BaseException) -> Failure:
        return classify(exc)

    def heartbeat_text(self, link: Link) -> Optional[str]:
        return self.text

    def link_opened(self, link: Link, generation: int) -> None:
        self.opened.append(generation)

    def link_event(self, link: Link, state: ConnectionState, attempt: int, message: str) -> None:
        self.events.append((state, attempt, message))

    def link_failed(self, link: Link, reason: str, status: Optional[int]) -> None:
        self.failed.append((reason, status))

    def give_up(self, reason: str) -> None:
        self.gave_up.append(reason)

    def states(self) -> list[ConnectionState]:
        return [state for state, _, _ in self.events]


def rig(text: Optional[str] = None, **options: Any) -> tuple[Watchdog, Link, FakeConnection,
                                                             Owner, Clock]:
    clock, owner, conn = Clock(), Owner(text), FakeConnection()
    opts = dict(ping_interval=1.0, pong_timeout=2.0, backoff_initial=1.0, backoff_max=8.0)
    watchdog = Watchdog("o2sync-rules", owner, Options.build(**{**opts, **options}), clock=clock)
    link = Link(conn)  # type: ignore[arg-type]
    conn.watchdog, conn.link = watchdog, link
    watchdog.add(link)  # the thread is never started: service() is driven by hand
    return watchdog, link, conn, owner, clock


def status(code: int, headers: Optional[dict[str, str]] = None) -> Exception:
    return websocket.WebSocketBadStatusException(f"Handshake status {code}", code,
                                                 resp_headers=headers)


def serve_due(watchdog: Watchdog, link: Link, clock: Clock) -> None:
    """Advance the clock to the link's next attempt and serve it."""
    clock.now = max(clock.now, link.retry_at)
    watchdog.service(link, clock.now)


def test_first_connect_is_immediate_and_says_connected() -> None:
    watchdog, link, conn, owner, clock = rig()
    watchdog.service(link, clock.now)
    assert link.state is LinkState.OPEN and conn.opens == [{"Authorization": "Bearer t1"}]
    assert owner.opened == [1] and owner.refreshes == [False]
    assert owner.events == [(S.CONNECTED, 0, "connected")]
    assert watchdog.reconnects == 0 and link.attempt == 0


def test_transient_failures_back_off_with_growing_delays() -> None:
    watchdog, link, conn, owner, clock = rig()
    link.ever_connected = True  # an outage of a link that was up (a first connect ends sooner)
    conn.failures = [ConnectionRefusedError(), status(503), status(429), TimeoutError(),
                     ConnectionRefusedError()]
    delays = []
    for attempt in range(1, 6):
        start = clock.now
        watchdog.service(link, clock.now)
        state, number, message = owner.events[-1]
        assert (state, number) == (S.RECONNECTING, attempt)
        assert link.state is LinkState.WAITING
        delay = link.retry_at - start
        base = min(8.0, 2.0 ** (attempt - 1))
        assert base / 2 <= delay <= base and f"attempt {attempt} in {delay:.2f}s" in message
        delays.append(delay)
        watchdog.service(link, link.retry_at - 0.01)  # not yet due: nothing happens
        assert len(conn.opens) == attempt
        clock.now = link.retry_at
    assert [m.split(" (")[1] for _, _, m in owner.events] == [
        "connection refused)", "HTTP 503)", "HTTP 429)", "timed out)", "connection refused)"]
    assert delays[3] > delays[0] and delays[4] >= 4.0
    watchdog.service(link, clock.now)  # the sixth attempt succeeds
    assert link.state is LinkState.OPEN
    # a handshake alone does not reset the backoff: the link has to prove healthy
    assert owner.events[-1][:2] == (S.RECONNECTED, 5) and link.attempt == 5
    assert owner.failed == [] and owner.gave_up == []
    assert watchdog.connect_failures == 5


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    watchdog, link, conn, _owner, clock = rig(backoff_max=4.0)
    conn.failures = [status(503, {"retry-after": "3"}), status(429, {"Retry-After": "60"})]
    watchdog.service(link, clock.now)
    assert link.retry_at - clock.now >= 3.0
    serve_due(watchdog, link, clock)
    assert link.retry_at - clock.now == pytest.approx(4.0)


def test_401_refreshes_once_immediately_then_backs_off() -> None:
    watchdog, link, conn, owner, clock = rig()
    conn.failures = [status(401), status(403)]
    watchdog.service(link, clock.now)
    assert link.retry_at == clock.now and owner.events == []  # no backoff: retry at once
    watchdog.service(link, clock.now)
    assert owner.refreshes == [False, True]  # the second handshake asked for fresh credentials
    assert owner.events[-1][:2] == (S.RECONNECTING, 1)  # a second rejection backs off
    assert link.retry_at > clock.now
    serve_due(watchdog, link, clock)
    assert owner.refreshes == [False, True, True] and link.state is LinkState.OPEN
    assert link.auth_rejections == 2  # until the link proves healthy (data, or time up)
    link.proven = True
    conn.drop(link.generation, "gone")
    watchdog.service(link, clock.now)
    assert link.auth_rejections == 0 and link.attempt == 1


def test_auth_rejected_every_time_fails_after_a_bounded_number_of_handshakes() -> None:
    watchdog, link, conn, owner, clock = rig()
    conn.failures = [status(401) for _ in range(10)]
    for _ in range(10):
        if link.state is not LinkState.WAITING:
            break
        serve_due(watchdog, link, clock)
    assert len(conn.opens) == AUTH_REJECTIONS_MAX + 1
    assert link.state is LinkState.FAILED
    [(reason, code)] = owner.failed
    assert code == 401 and "rejected" in reason
    assert owner.gave_up == []


@pytest.mark.parametrize("exc", [status(404), status(400), ValueError("scheme http is invalid")])
def test_permanent_failure_fails_the_link_without_retry(exc: Exception) -> None:
    watchdog, link, conn, owner, clock = rig()
    conn.failures = [exc]
    watchdog.service(link, clock.now)
    assert link.state is LinkState.FAILED and len(owner.failed) == 1
    assert owner.states() == [] and owner.gave_up == []
    clock.now += 100
    watchdog.service(link, clock.now)  # a FAILED link is never tried again
    assert len(conn.opens) == 1
    reason, code = owner.failed[0]
    assert code == getattr(exc, "status_code", None)
    if code is not None:
        assert f"HTTP {code}" in reason


def test_max_reconnect_attempts_gives_up() -> None:
    watchdog, link, conn, owner, clock = rig(max_reconnect_attempts=2)
    conn.failures = [ConnectionRefusedError() for _ in range(5)]
    for _ in range(5):
        if link.state is not LinkState.WAITING:
            break
        serve_due(watchdog, link, clock)
    assert len(conn.opens) == 3  # the first connect and 2 reconnect attempts
    assert [n for s, n, _ in owner.events if s is S.RECONNECTING] == [1, 2]
    assert owner.gave_up == ["gave up after 2 reconnect attempt(s)"]
    assert link.state is LinkState.CLOSED


def test_reconnect_false_fails_a_first_connect_at_its_first_failure() -> None:
    watchdog, link, conn, owner, clock = rig(reconnect=False)
    conn.failures = [ConnectionRefusedError()]
    watchdog.service(link, clock.now)
    assert link.state is LinkState.FAILED
    assert owner.failed == [("could not connect (connection refused)", None)]


def test_reconnect_false_gives_up_when_a_connected_link_is_lost() -> None:
    watchdog, link, conn, owner, clock = rig(reconnect=False)
    watchdog.service(link, clock.now)
    conn.drop(link.generation, "gone")
    watchdog.service(link, clock.now)
    assert owner.gave_up and "reconnect=False" in owner.gave_up[0]


def test_a_first_connect_that_keeps_failing_ends_after_connect_timeout() -> None:
    watchdog, link, conn, owner, clock = rig(connect_timeout=4.0)
    conn.failures = [ConnectionRefusedError() for _ in range(10)]
    started = clock.now
    for _ in range(10):
        if link.state is not LinkState.WAITING:
            break
        serve_due(watchdog, link, clock)
    assert link.state is LinkState.FAILED
    assert clock.now - started <= 4.0  # never an attempt past the first one's deadline
    assert 2 <= len(conn.opens) <= 4  # backoff 1, 2, 4 s (jittered) within 4 s
    [(reason, code)] = owner.failed
    assert reason == "could not connect (connection refused)" and code is None
    assert watchdog.connect_failures == len(conn.opens)


def test_a_link_failing_right_after_its_handshake_backs_off_like_a_refusal() -> None:
    watchdog, link, conn, _owner, clock = rig()
    watchdog.service(link, clock.now)
    delays = []
    for _ in range(5):  # up, then lost at once, no data: five times
        conn.drop(link.generation, "connection closed by server (close code 1011)")
        lost_at = clock.now
        watchdog.service(link, clock.now)
        assert link.state is LinkState.WAITING
        delays.append(link.retry_at - lost_at)
        serve_due(watchdog, link, clock)
        assert link.state is LinkState.OPEN
    for n, delay in enumerate(delays, start=1):
        base = min(8.0, 2.0 ** (n - 1))  # backoff_initial 1 s, doubling: no reset
        assert base / 2 <= delay <= base, delays
    assert watchdog.connect_failures == 5 and link.attempt == 5


@pytest.mark.parametrize("healthy", ["data", "time"])
def test_a_healthy_link_resets_the_backoff(healthy: str) -> None:
    watchdog, link, conn, _owner, clock = rig()
    link.ever_connected, link.attempt = True, 6  # after a run of failures
    watchdog.service(link, clock.now)
    if healthy == "data":
        link.proven = True  # the engine marks it when the socket delivers an event
    else:
        clock.now += HEALTHY_AFTER
    conn.drop(link.generation, "gone")
    watchdog.service(link, clock.now)
    assert link.attempt == 1 and link.retry_at - clock.now <= Backoff.FIRST_RETRY


@pytest.mark.parametrize("text", [None, "PING"])
def test_heartbeat_pings_and_a_dead_link_is_dropped_and_reconnected(text: Optional[str]) -> None:
    watchdog, link, conn, owner, clock = rig(text=text)
    watchdog.service(link, clock.now)
    opened_at = clock.now
    conn.last_rx = opened_at
    watchdog.service(link, opened_at + 0.5)
    assert watchdog.pings_sent == 0
    watchdog.service(link, opened_at + 1.0)  # ping due
    assert watchdog.pings_sent == 1
    assert (conn.pings, conn.sent) == ((1, []) if text is None else (0, ["PING"]))
    conn.last_rx = opened_at + 1.1  # a frame answers it
    watchdog.service(link, opened_at + 2.0)
    watchdog.service(link, opened_at + 3.9)  # second ping (at 2.0) unanswered, not yet dead
    assert conn.drops == [] and watchdog.pings_sent == 3
    watchdog.service(link, opened_at + 4.0)  # 2.0 + pong_timeout: dead
    assert [g for g, _ in conn.drops] == [1] and "half-open" in conn.drops[0][1]
    clock.now = opened_at + 4.0
    watchdog.service(link, clock.now)  # the loss is handled: DISCONNECTED, then a retry
    assert owner.states()[-2:] == [S.DISCONNECTED, S.RECONNECTING]
    assert link.state is LinkState.WAITING and link.attempt == 1
    serve_due(watchdog, link, clock)
    assert link.state is LinkState.OPEN and owner.events[-1][:2] == (S.RECONNECTED, 1)
    assert watchdog.reconnects == 1 and owner.opened == [1, 2]


def test_a_link_removed_while_connecting_is_not_retried() -> None:
    watchdog, link, conn, owner, clock = rig()

    def fail_after_removal(timeout: float, header: Optional[dict[str, str]] = None) -> int:
        watchdog.remove(link)  # the last topic left during the handshake
        raise ConnectionRefusedError()

    conn.open = fail_after_removal  # type: ignore[method-assign]
    watchdog.service(link, clock.now)
    assert link.state is LinkState.CLOSED and owner.events == [] and owner.gave_up == []


# ---------------------------------------------------------------------- resync limit


def test_resyncs_in_a_run_are_spaced_exponentially_and_the_first_is_immediate() -> None:
    limit = ResyncLimiter(initial=0.25, maximum=2.0)
    now, runs = 100.0, []
    for _ in range(7):  # a server that breaks every snapshot: asked again at once
        delay = limit.next_delay(now, progress=1)
        runs.append(delay)
        now += delay
    assert runs == [0.0, 0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_a_resync_run_ends_once_the_stream_is_healthy_or_quiet() -> None:
    limit = ResyncLimiter(initial=0.25, maximum=30.0, quiet=10.0, healthy_events=10)
    assert limit.next_delay(0.0, progress=0) == 0.0
    assert limit.next_delay(0.0, progress=5) == 0.25  # 5 events prove nothing yet
    assert limit.next_delay(0.5, progress=15) == 0.0  # 10 good events since: at once
    assert limit.next_delay(0.5, progress=15) == 0.25
    assert limit.next_delay(20.0, progress=15) == 0.0  # quiet for 10 s: at once


@pytest.mark.parametrize("args", [(0, 1, 1), (2, 1, 1), (1, 2, 0)])
def test_resync_limiter_rejects_bad_parameters(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        ResyncLimiter(*args)
