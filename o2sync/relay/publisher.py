"""The publishing side: a client's raw frames of chosen topics, into Redis Streams.

The reader thread of the client only hands each frame to a bounded queue (no Redis
call, no parsing); the relay's own thread classifies frames, keeps its copy of every
depth book, and writes pipelined XADD batches. What cannot be queued (overflow) or
written (the engine is down) is counted and logged as a ``gap`` entry as soon as
writing works again, followed by a snapshot of every depth book, so readers always
see where frames went missing and where books are right again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from .._json import dumps
from ..engine.lifecycle import ConnectionState
from ._o2 import O2Publishing, RelayBook
from ._redis import connect_redis
from .envelope import EPOCH, FRAME, GAP, SNAPSHOT, Entry, meta_key

log = logging.getLogger(__name__)

_FRAME, _RESUME, _EPOCH = 0, 1, 2
_BATCH = 500  # entries per pipelined write
_RETRY = 0.5  # seconds between attempts while the engine is down

# One writer per stream: the lease key holds the writer's instance id for ``ttl`` ms.
# Renewing returns 1, taking a free lease 2 (the new writer starts an epoch), 0: held
# by another relay (this one stands by).
_LEASE = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass
class _Stream:
    """One relayed topic on the relay thread."""

    name: str
    kind: str
    target: str
    path: str = "/"
    seq: int = 0
    book: Optional[RelayBook] = None
    since_snapshot: int = 0  # deltas since the last snapshot entry
    snapshot_at: float = 0.0
    lost: int = 0  # frames lost since the last gap entry (waiting to be written)
    leader: bool = False  # this relay holds the stream's lease (else it stands by)
    gap_due: bool = False  # entries failed to be written: a gap entry is due
    reason: str = ""
    counts: dict[str, int] = field(default_factory=lambda: dict(frames=0, snapshots=0,
                                                                  gaps=0, epochs=0))


class Relay:
    """Relays ``streams`` (``"depth:fFUEL/fUSDC"``, ``"trades:fFUEL/fUSDC"``) of an
    O2 ``client`` into the Redis (or Valkey) server at ``url``.

    One stream per topic (``<prefix>:o2:depth:fFUEL/fUSDC:p1``), each entry an
    :class:`~o2sync.relay.envelope.Entry`; retention is ``maxlen`` entries per stream
    (approximate trimming). Depth streams get a snapshot entry every
    ``snapshot_every`` deltas or ``snapshot_interval`` seconds, and after every gap
    or epoch. ``queue_size`` bounds the frames waiting for the relay thread.
    """

    def __init__(self, client: Any, streams: Sequence[str], url: str, *,
                 prefix: str = "o2sync", maxlen: int = 100_000, snapshot_every: int = 1000,
                 snapshot_interval: float = 5.0, queue_size: int = 100_000,
                 precision: int = 1, lease_ttl: float = 5.0) -> None:
        if not streams:
            raise ValueError("name at least one stream to relay (KIND:TARGET)")
        for name, value in (("maxlen", maxlen), ("snapshot_every", snapshot_every),
                            ("queue_size", queue_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not lease_ttl > 0:
            raise ValueError(f"lease_ttl must be > 0, got {lease_ttl!r}")
        if not snapshot_interval > 0:
            raise ValueError(f"snapshot_interval must be > 0, got {snapshot_interval!r}")
        if maxlen < 2 * snapshot_every:
            raise ValueError("maxlen must cover at least two snapshot periods "
                             f"(2 x snapshot_every = {2 * snapshot_every}), got {maxlen}")
        self.name = f"{client._engine.name}-relay"
        self.url, self.prefix, self.maxlen = url, prefix, maxlen
        self.snapshot_every, self.snapshot_interval = snapshot_every, snapshot_interval
        self.redis = connect_redis(url)
        self.venue = O2Publishing(client, prefix)
        self.instance = uuid.uuid4().hex[:12]
        self.generation = 1  # +1 with each new upstream connection
        self.lease_ttl = lease_ttl
        self._lease_due = 0.0
        self._engine_down = False  # the last lease round failed: the leases are unknown
        self._queue: queue.Queue[tuple[int, str, Any, float]] = queue.Queue(queue_size)
        self._overflowed = 0  # frames refused by the queue in the current episode
        self._overflow_told = False  # its gap entries are written (the count follows)
        # depth topics the client streamed before the relay came: their server snapshot
        # is gone, so the first frame brings the engine's book instead (see _tap)
        self._join_books: set[Hashable] = set()
        self._stop = threading.Event()
        self._streams: dict[Hashable, _Stream] = {}
        self.counters = dict(frames=0, entries=0, batches=0, dropped=0, engine_lost=0,
                             engine_errors=0, ignored=0, standby=0, takeovers=0)
        self.last_written = 0.0  # receive time of the newest entry written
        self._client = client
        self._started = False
        # the tap comes before the subscriptions: the server's first snapshot of a
        # topic follows its subscription at once, and the log must start with it
        client._engine.add_socket_tap(self._tap)
        self._lifecycle = client.on_lifecycle(self._on_lifecycle)
        try:
            for spec in streams:
                kind, _, target = spec.partition(":")
                key, name, kind, pair, existed = self.venue.add(kind, target, precision)
                book = self.venue.new_book(key)
                self._streams[key] = _Stream(name, kind, pair, book=book)
                if existed and book is not None:
                    self._join_books.add(key)
        except BaseException:
            self._untap()
            raise
        self._markets_written = self._markets_failed = False
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-writer", daemon=True)

    @property
    def epoch(self) -> str:
        """This writer and upstream connection generation."""
        return f"{self.instance}.{self.generation}"

    @property
    def stream_names(self) -> list[str]:
        return [s.name for s in self._streams.values()]

    def book(self, stream: str) -> Optional[RelayBook]:
        """The relay's copy of a depth stream's book (read it on the relay thread, or
        when the relay is quiet)."""
        return next((s.book for s in self._streams.values() if s.name == stream), None)

    # ------------------------------------------------------------------ life

    def start(self) -> Relay:
        """Tap the client and start the relay thread (idempotent)."""
        if self._started:
            return self
        self._started = True
        self._write_markets()  # readers without REST need them first; retried if down
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> bool:
        """Stop tapping, write what is queued (within ``timeout``), stop the thread."""
        deadline = time.monotonic() + timeout
        self._untap()
        self._stop.set()
        ok = True
        if self._started:
            self._thread.join(max(deadline - time.monotonic(), 0))
            ok = not self._thread.is_alive()
        self.redis.close()
        return ok

    def _untap(self) -> None:
        self._client._engine.remove_tap(self._tap)
        self._lifecycle.close()
        self.venue.close()

    def __enter__(self) -> Relay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<Relay {self.prefix} streams={len(self._streams)} epoch={self.epoch} "
                f"frames={self.counters['frames']} dropped={self.counters['dropped']}>")

    # ------------------------------------------------------------- reader side

    def _tap(self, url: str, data: bytes) -> None:
        """Reader thread: queue the frame, never block, never call Redis."""
        put = self._queue.put_nowait
        now = time.time()
        try:
            if self._join_books:
                books = {key: self.venue.engine_snapshot(key) for key in self._join_books}
                put((_RESUME, url, (0, books), now))
                self._join_books = set()
            if self._overflowed:
                # first room after an overflow: the engine's books as they are now,
                # between two frames, so the relay's copies heal exactly here
                books = {key: self.venue.engine_snapshot(key) if s.book is not None else None
                         for key, s in self._streams.items()}
                put((_RESUME, url, (self._overflowed, books), now))
                self._overflowed = 0
            put((_FRAME, url, data, now))
        except queue.Full:
            self._overflowed += 1
            self.counters["dropped"] += 1

    def _on_lifecycle(self, event: Any) -> None:
        """A new upstream connection: a new epoch (dispatcher thread)."""
        if event.state is ConnectionState.RECONNECTED:
            try:
                self._queue.put_nowait((_EPOCH, "", None, time.time()))
            except queue.Full:
                self._overflowed += 1  # the resume after the overflow heals it too

    # -------------------------------------------------------------- relay thread

    def _run(self) -> None:
        pending: list[tuple[_Stream, Entry]] = []
        while True:
            if time.monotonic() >= self._lease_due:
                self._leases(pending)
            stopping = self._stop.is_set()
            try:
                item = self._queue.get(timeout=0.05 if stopping else 0.2)
            except queue.Empty:
                item = None
            if item is None and stopping:
                break
            if item is None and self._overflowed and not self._overflow_told:
                self._overflow_gaps(pending)
            if item is not None:
                self._take(item, pending)
                while len(pending) < _BATCH:
                    try:
                        self._take(self._queue.get_nowait(), pending)
                    except queue.Empty:
                        break
            if not self._markets_written:
                self._write_markets()
            self._periodic_snapshots(pending)
            if pending:
                if not self._write(pending) and not self._stop.is_set():
                    self._stop.wait(_RETRY)  # the engine is down: wait before the next try
                pending = []
            elif not self._stop.is_set() and self._stalled():
                self._stop.wait(_RETRY)  # the engine is down: wait before the next try
        self._release_leases()
        log.debug("%s: relay thread done (%s)", self.name, self.counters)

    def _lease_key(self, s: _Stream) -> str:
        return f"{s.name}:lease"

    def _leases(self, pending: list[tuple[_Stream, Entry]]) -> None:
        """Renew (or take) every stream's lease; a stream taken starts a new epoch."""
        self._lease_due = time.monotonic() + self.lease_ttl / 3
        ttl = int(self.lease_ttl * 1000)
        streams = list(self._streams.values())
        pipe = self.redis.pipeline(transaction=False)
        for s in streams:
            pipe.eval(_LEASE, 1, self._lease_key(s), self.instance, ttl)
        try:
            results = pipe.execute()
        except Exception:  # the engine is down: what cannot be written is counted
            self._engine_down = True
            self._lease_due = time.monotonic() + _RETRY
            return
        self._engine_down = False
        t = time.time()
        for s, result in zip(streams, results):
            if result == 2:
                if s.leader:
                    log.warning("%s: %s lease had expired; a new epoch", self.name, s.name)
                else:
                    log.info("%s: writing %s", self.name, s.name)
                self.counters["takeovers"] += 1
                s.leader, s.seq = True, 0
                s.counts["epochs"] += 1
                self._add(pending, s, EPOCH, t)
                self._gap_first(pending, s, t)  # what this relay could not write, if any
                self._synthesize(pending, s, t)
            elif result == 0 and s.leader:
                log.warning("%s: another relay holds %s; standing by", self.name, s.name)
                s.leader = False

    def _release_leases(self) -> None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            for s in self._streams.values():
                if s.leader:
                    pipe.eval(_RELEASE, 1, self._lease_key(s), self.instance)
            pipe.execute()
        except Exception as exc:  # it expires by itself
            log.debug("%s: could not release the leases: %r", self.name, exc)

    def _stalled(self) -> bool:
        return (any(s.lost or s.gap_due for s in self._streams.values())
                and not self._flush_gaps())

    def _write_markets(self) -> None:
        try:
            body = self.venue.markets_body()
            self.redis.set(f"{self.prefix}:o2:markets", dumps(body))
            self._markets_written = True
        except Exception as exc:  # retried on the relay thread; readers with REST do without
            if not self._markets_failed:
                log.warning("%s: could not publish the markets yet: %r", self.name, exc)
            self._markets_failed = True

    def _take(self, item: tuple[int, str, Any, float], pending: list[tuple[_Stream, Entry]]
              ) -> None:
        code, url, data, t = item
        if code == _EPOCH:
            self.generation += 1
            for s in self._streams.values():
                if not s.leader:
                    continue
                s.seq = 0
                s.counts["epochs"] += 1
                self._add(pending, s, EPOCH, t)
                self._synthesize(pending, s, t)
            return
        if code == _RESUME:
            lost, books = data
            self._overflow_told = False
            for key, s in self._streams.items():
                if key not in books:
                    continue
                frame = books[key]
                if s.book is not None:
                    if frame is None:
                        s.book.invalidate()
                    else:
                        s.book.load_frame(frame)
                if lost:
                    s.lost += lost
                    s.reason = "relay queue overflow"
                else:  # a late start: readers can start here
                    self._synthesize(pending, s, t)
            return
        self.counters["frames"] += 1
        found = self.venue.classify(url, data)
        stream = self._streams.get(found[0]) if found is not None else None
        if stream is None or found is None:
            self.counters["ignored"] += 1
            return
        s = stream
        s.path = self.venue.path(url)
        self._gap_first(pending, s, t)
        is_snapshot = found[1]
        if s.book is not None:
            s.book.apply(found[2])
            s.since_snapshot = 0 if is_snapshot else s.since_snapshot + 1
            if is_snapshot:
                s.snapshot_at = time.monotonic()
        s.counts["frames"] += 1
        self._add(pending, s, SNAPSHOT if is_snapshot else FRAME, t, data,
                  made="server" if is_snapshot else "")

    def _gap_first(self, pending: list[tuple[_Stream, Entry]], s: _Stream, t: float) -> None:
        """Frames of ``s`` were lost: the gap entry, then a snapshot, come first.
        ``lost`` counts the frames that never got a number (a full queue, no lease
        known); entries that were numbered but not written show as a jump."""
        if s.lost or s.gap_due:
            lost, s.lost, s.gap_due = s.lost, 0, False
            s.counts["gaps"] += 1
            self._add(pending, s, GAP, t, lost=lost, reason=s.reason)
            self._synthesize(pending, s, t)

    def _overflow_gaps(self, pending: list[tuple[_Stream, Entry]]) -> None:
        """Frames were dropped and no frame came since (which would bring the
        engine's books): tell readers now, with the count to follow, and make no
        snapshot from books that missed frames."""
        self._overflow_told = True
        t = time.time()
        for s in self._streams.values():
            s.counts["gaps"] += 1
            self._add(pending, s, GAP, t, reason="relay queue overflow (count follows)")
            if s.book is not None:
                s.book.invalidate()

    def _synthesize(self, pending: list[tuple[_Stream, Entry]], s: _Stream, t: float) -> None:
        if self._overflowed:
            return  # frames were dropped since this book was last healed: it is stale
        if s.book is not None and s.book.ready:
            s.since_snapshot = 0
            s.snapshot_at = time.monotonic()
            self._add(pending, s, SNAPSHOT, t, s.book.snapshot(), made="relay")

    def _periodic_snapshots(self, pending: list[tuple[_Stream, Entry]]) -> None:
        now = time.monotonic()
        for s in self._streams.values():
            if s.book is None or not s.book.ready or s.lost or s.gap_due:
                continue
            if s.since_snapshot >= self.snapshot_every or (
                    s.since_snapshot and now - s.snapshot_at >= self.snapshot_interval):
                self._synthesize(pending, s, time.time())

    def _add(self, pending: list[tuple[_Stream, Entry]], s: _Stream, kind: str, t: float,
             data: bytes = b"", lost: int = 0, reason: str = "", made: str = "") -> None:
        if not s.leader:
            if self._engine_down:  # no lease known: the loss is counted, a gap follows
                if data:
                    s.lost += 1
                    s.reason = "engine unavailable"
                    self.counters["engine_lost"] += 1
            else:
                self.counters["standby"] += 1
            return
        s.seq += 1
        if kind == SNAPSHOT:
            s.counts["snapshots"] += 1
        pending.append((s, Entry(kind, self.venue.venue, s.kind, s.target, s.path, s.seq,
                                 self.epoch, t, data, lost=lost, reason=reason, made=made)))

    def _write(self, pending: list[tuple[_Stream, Entry]]) -> bool:
        """One pipelined batch. Entries the engine refused (or all of them, when it
        is down) keep their numbers: readers see the jump, and a gap entry with a
        snapshot follows as soon as writing works again. True if all were written."""
        pipe = self.redis.pipeline(transaction=False)
        for s, entry in pending:
            pipe.xadd(s.name, entry.fields(), maxlen=self.maxlen, approximate=True)
        try:
            results: list[Any] = pipe.execute(raise_on_error=False)
        except Exception as exc:  # the engine is down: nothing was written
            results = [exc] * len(pending)
        failed = [(s, entry, r) for (s, entry), r in zip(pending, results)
                  if isinstance(r, Exception)]
        written = len(pending) - len(failed)
        if written:
            self.counters["entries"] += written
            self.counters["batches"] += 1
            self.last_written = pending[-1][1].t
            self._point_snapshots(pending, results)
        if failed:
            self._markets_written = False  # a restarted engine may have lost them
            self._lost(failed)
        return not failed

    def _point_snapshots(self, pending: list[tuple[_Stream, Entry]], ids: list[Any]) -> None:
        latest: dict[str, tuple[Any, Entry]] = {}
        for (s, entry), entry_id in zip(pending, ids):
            if entry.type == SNAPSHOT and not isinstance(entry_id, Exception):
                latest[s.name] = (entry_id, entry)
        if not latest:
            return
        pipe = self.redis.pipeline(transaction=False)
        for name, (entry_id, entry) in latest.items():
            pipe.hset(meta_key(name), mapping={"snapshot_id": entry_id,
                                               "snapshot_seq": entry.seq,
                                               "snapshot_t": repr(entry.t),
                                               "epoch": entry.epoch,
                                               "writer": self.instance})
        try:
            pipe.execute()
        except Exception as exc:  # readers start from an older snapshot meanwhile
            log.debug("%s: could not point at the latest snapshots: %r", self.name, exc)

    def _lost(self, failed: list[tuple[_Stream, Entry, Exception]]) -> None:
        self.counters["engine_errors"] += 1
        exc = failed[0][2]
        if self.counters["engine_errors"] <= 3 or self.counters["engine_errors"] % 100 == 0:
            log.warning("%s: writing %d entries failed (%r); a gap entry follows",
                        self.name, len(failed), exc)
        for s, entry, _ in failed:
            if entry.type in (FRAME, SNAPSHOT) and entry.data:
                self.counters["engine_lost"] += 1
            elif entry.type == GAP:
                s.lost += entry.lost  # the next gap entry carries its count
            s.gap_due = True  # their numbers are burnt: readers count them from the jump
            s.reason = f"engine unavailable ({type(exc).__name__})"

    def _flush_gaps(self) -> bool:
        """Write the pending gap entries (and snapshots) on their own; True if written."""
        pending: list[tuple[_Stream, Entry]] = []
        for s in self._streams.values():
            self._gap_first(pending, s, time.time())
        return not pending or self._write(pending)

    # ------------------------------------------------------------------ stats

    def stats(self) -> dict[str, Any]:
        """Counters: frames, entries written, dropped (queue overflow), engine_lost
        (frames that could not be written), per stream frames/snapshots/gaps/epochs."""
        out: dict[str, Any] = dict(self.counters)
        out.update(queued=self._queue.qsize(), epoch=self.epoch,
                   lag=max(time.time() - self.last_written, 0.0) if self.last_written else None,
                   streams={s.name: dict(s.counts, seq=s.seq, leader=s.leader)
                            for s in self._streams.values()})
        return out
