"""The watchdog thread: connects every socket, keeps each alive and honest, reconnects.

One watchdog serves all the sockets of a client. For each it owns the life of the
link: the first connect, the heartbeat (a text ping or a WebSocket ping, as the
venue says; any frame proves liveness), the half-open check, reconnects with
capped exponential backoff and jitter (starting over only once a link proved
healthy, never on a handshake alone), the meaning of a failed handshake
(permanent, auth, transient; a first connect has ``connect_timeout`` to succeed)
and the lifecycle events. It also runs short
maintenance tasks (REST snapshot fetches) so they never run on a reader thread.
What to do once a socket is up (replaying subscriptions) is the owner's business.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable, Optional, Protocol

from ..redact import redact_text
from . import threads
from .backoff import Backoff
from .heartbeat import Beat, Heartbeat
from .lifecycle import ConnectionState
from .link import Link, LinkState
from .options import Options
from .venue import Failure, describe_failure, retry_after

log = logging.getLogger(__name__)

#: 401/403 handshakes in a row (each after fresh credentials) before a socket gives up.
AUTH_REJECTIONS_MAX = 3

#: Seconds a link must stay up to count as healthy without carrying data: only a
#: healthy link resets the backoff (a handshake alone does not).
HEALTHY_AFTER = 5.0

Task = Callable[[], None]


class LinkOwner(Protocol):
    """What the watchdog asks of the engine."""

    def handshake_headers(self, link: Link, refresh: bool) -> dict[str, str]: ...

    def classify_failure(self, link: Link, exc: BaseException) -> Failure: ...

    def heartbeat_text(self, link: Link) -> Optional[str]: ...

    def link_opened(self, link: Link, generation: int) -> None: ...

    def link_event(self, link: Link, state: ConnectionState, attempt: int,
                   message: str) -> None: ...

    def link_failed(self, link: Link, reason: str, status: Optional[int]) -> None: ...

    def give_up(self, reason: str) -> None: ...


class Watchdog(threads.ThreadOwner):
    """Supervises every :class:`Link` of a client on one named thread."""

    def __init__(self, name: str, owner: LinkOwner, options: Options,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._owner = owner
        self._options = options
        self._backoff = Backoff(options.backoff_initial, options.backoff_max)
        self._clock = clock
        self._wake = threading.Condition(threading.Lock())
        self._links: list[Link] = []
        self._tasks: list[tuple[float, int, Task]] = []  # a heap by due time
        self._task_ids = itertools.count()
        self._stopping = False
        self.reconnects = 0
        self.connect_failures = 0  # failed attempts, links that died unproven included
        self.pings_sent = 0
        self._thread = threading.Thread(target=self._run, name=f"{name}-watchdog", daemon=True)

    # ------------------------------------------------------------ called by others

    def add(self, link: Link) -> None:
        """Supervise ``link`` from now on (its first connect is tried at once)."""
        with self._wake:
            self._links.append(link)
            self._wake.notify_all()

    def remove(self, link: Link) -> None:
        with self._wake:
            link.state = LinkState.CLOSED
            if link in self._links:
                self._links.remove(link)

    def submit(self, task: Task, delay: float = 0.0) -> None:
        """Run ``task`` on the watchdog thread in ``delay`` seconds (it must not block
        for long: a REST call with a deadline at most)."""
        with self._wake:
            heapq.heappush(self._tasks, (self._clock() + delay, next(self._task_ids), task))
            self._wake.notify_all()

    def connection_lost(self, link: Link, reason: str) -> None:
        """The link's socket died (reader or watchdog thread)."""
        with self._wake:
            link.lost = reason
            self._wake.notify_all()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        try:
            while self._round():
                pass
        except Exception:  # never die silently: a dead watchdog means a dead client
            log.exception("watchdog crashed")
            self._owner.give_up("internal error in the watchdog")

    def _round(self) -> bool:
        """Run due tasks and serve every link once, then wait. False when stopping."""
        with self._wake:
            if self._stopping:
                return False
            tasks = self._due_tasks()
            links = list(self._links)
        for task in tasks:
            self._run_task(task)
        for link in links:
            if self._stopping:
                return False
            self.service(link, self._clock())
        with self._wake:
            if self._stopping:
                return False
            if any(link.lost is not None for link in self._links):
                return True
            deadlines = [d for d in map(self._deadline, self._links) if d is not None]
            if self._tasks:
                deadlines.append(self._tasks[0][0])
            if deadlines:
                self._wake.wait(max(0.0, min(deadlines) - self._clock()))
            else:
                self._wake.wait()
        return True

    def _due_tasks(self) -> list[Task]:
        now = self._clock()
        due = []
        while self._tasks and self._tasks[0][0] <= now:
            due.append(heapq.heappop(self._tasks)[2])
        return due

    @staticmethod
    def _run_task(task: Task) -> None:
        try:
            task()
        except Exception:
            log.exception("watchdog task %r failed", task)

    @staticmethod
    def _deadline(link: Link) -> Optional[float]:
        if link.state is LinkState.OPEN and link.heartbeat is not None:
            return link.heartbeat.deadline()
        if link.state is LinkState.WAITING:
            return link.retry_at
        return None

    def service(self, link: Link, now: float) -> None:
        """Do what is due for ``link`` at ``now`` (may block on a connect)."""
        if link.state is LinkState.OPEN:
            self._supervise(link, now)
        elif link.state is LinkState.WAITING and now >= link.retry_at:
            self._connect(link, now)

    def _supervise(self, link: Link, now: float) -> None:
        with self._wake:
            lost, link.lost = link.lost, None
        if lost is not None:
            self._lost(link, lost, now)
            return
        assert link.heartbeat is not None
        beat = link.heartbeat.check(now, link.connection.last_rx)
        if beat is Beat.DEAD:
            reason = (f"no frame within {self._options.pong_timeout}s of a heartbeat "
                      f"(half-open link)")
            log.warning("%s: %s", link.path, reason)
            link.connection.drop(link.generation, reason)  # on_lost sets link.lost
        elif beat is Beat.PING:
            text = self._owner.heartbeat_text(link)
            if text is None:
                link.connection.ping()
            else:
                link.connection.send(text)
            self.pings_sent += 1

    def _lost(self, link: Link, reason: str, now: float) -> None:
        link.state = LinkState.WAITING
        link.heartbeat = None
        self._owner.link_event(link, ConnectionState.DISCONNECTED, 0, reason)
        if not self._options.reconnect:
            self._owner.give_up("connection lost and reconnect=False")
            return
        if link.proven or now - link.opened_at >= HEALTHY_AFTER:
            # a link that carried data (or stayed up) was healthy: the backoff starts
            # over, and the first retry is quick (a dropped server is usually back)
            link.attempt = 1
            link.auth_rejections = 0
            link.failures = 0
            self._schedule(link, now, None, self._backoff.first_delay())
            return
        # Up a moment, then failed without ever carrying data: as good as a failed
        # attempt. Resetting here would reconnect a server that kills every link right
        # after its handshake at the first, fastest retry forever.
        link.attempt += 1
        link.last_error = reason
        self._count_failure(link, f"link failed right after its handshake ({reason})")
        self._schedule(link, now, reason)

    def _connect(self, link: Link, now: float) -> None:
        with self._wake:
            link.lost = None  # set again if the new socket dies before we supervise it
        if link.first_attempt_at is None:
            link.first_attempt_at = now
        try:
            headers = self._owner.handshake_headers(link, link.refresh_auth)
            link.refresh_auth = False
            generation = link.connection.open(self._options.connect_timeout, headers)
        except Exception as exc:
            self._failed_attempt(link, exc, self._clock())
            return
        link.generation = generation
        link.state = LinkState.OPEN
        link.opened_at = self._clock()
        link.proven = False  # until this socket delivers an event
        link.heartbeat = Heartbeat(self._options.ping_interval, self._options.pong_timeout,
                                   link.opened_at)
        link.last_error = None
        self._owner.link_opened(link, generation)
        if link.ever_connected:
            self.reconnects += 1
            self._owner.link_event(link, ConnectionState.RECONNECTED, link.attempt,
                                   "reconnected; re-sync state from REST")
        else:
            link.ever_connected = True
            self._owner.link_event(link, ConnectionState.CONNECTED, 0, "connected")
        # link.attempt (and auth_rejections) stay: they reset once the link proves
        # healthy (see _lost), not on a handshake alone

    def _count_failure(self, link: Link, cause: str) -> None:
        """Count one failed attempt; the first of a run is a warning, later ones info."""
        self.connect_failures += 1
        link.failures += 1
        level = logging.WARNING if link.failures == 1 else logging.INFO
        log.log(level, "%s: connect failed: %s%s", link.path, cause,
                " (retrying with backoff; later failures are logged at INFO)"
                if link.failures == 1 else f" ({link.failures} in a row)")

    def _failed_attempt(self, link: Link, exc: BaseException, now: float) -> None:
        if link.state is LinkState.CLOSED or self._stopping:
            return  # retired (or the client closed) while connecting: nothing to retry
        kind = self._owner.classify_failure(link, exc)
        cause = redact_text(describe_failure(exc))
        link.last_error = cause
        self._count_failure(link, cause)
        status = getattr(exc, "status_code", None)
        if kind is Failure.PERMANENT:
            link.state = LinkState.FAILED
            self._owner.link_failed(link, cause, status)
            return
        if kind is Failure.AUTH:
            link.auth_rejections += 1
            if link.auth_rejections > AUTH_REJECTIONS_MAX:
                link.state = LinkState.FAILED
                self._owner.link_failed(
                    link, f"credentials rejected {link.auth_rejections} times ({cause})", status)
                return
            link.refresh_auth = True
            if link.auth_rejections == 1:
                link.retry_at = now  # fresh credentials, one new handshake at once
                return
        link.attempt += 1
        delay = self._backoff.delay(link.attempt)
        asked = retry_after(exc)
        if asked is not None:  # Retry-After, honoured up to the backoff cap
            delay = max(delay, min(asked, self._backoff.maximum))
        if not link.ever_connected and self._first_connect_over(link, now + delay):
            # never connected: the stream ends with the cause, as a failed first
            # connect of the official SDKs raises, instead of retrying in silence
            link.state = LinkState.FAILED
            self._owner.link_failed(link, f"could not connect ({cause})", status)
            return
        self._schedule(link, now, cause, delay)

    def _first_connect_over(self, link: Link, next_at: float) -> bool:
        """True when a socket that never connected is out of time: reconnect=False,
        or its next attempt would start more than connect_timeout after its first."""
        if not self._options.reconnect:
            return True
        started = link.first_attempt_at if link.first_attempt_at is not None else next_at
        return next_at - started > self._options.connect_timeout

    def _schedule(self, link: Link, now: float, cause: Optional[str],
                  delay: Optional[float] = None) -> None:
        """Plan attempt ``link.attempt`` (after ``delay``, by default the backoff's),
        or give up when out of attempts."""
        limit = self._options.max_reconnect_attempts
        if limit is not None and link.attempt > limit:
            link.state = LinkState.CLOSED
            self._owner.give_up(f"gave up after {limit} reconnect attempt(s)")
            return
        if delay is None:
            delay = self._backoff.delay(link.attempt)
        link.retry_at = now + delay
        message = f"attempt {link.attempt} in {delay:.2f}s" + (f" ({cause})" if cause else "")
        self._owner.link_event(link, ConnectionState.RECONNECTING, link.attempt, message)
