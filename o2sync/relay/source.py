"""The reading side: a client's topics read back from a relay's Redis streams.

:class:`RelaySource` is a :class:`~o2sync.engine.source.Source`: the engine hands it
each topic that starts, and it hands every logged frame back to the engine, which
runs it through the venue's own decoders into the same subscriptions as frames off
a socket. One named thread reads every stream of the client with one blocking
``XREAD`` (bounded, so ``close()`` is too).

A depth topic starts at the latest snapshot entry and applies what follows while the
relay sequence is contiguous; a jump (a trim past the reader, a lost write), a
``gap`` entry or a new epoch makes it wait for the next snapshot. Other streams count
what they lost in ``dropped``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

from ..engine.lifecycle import ConnectionState
from ..engine.registry import Topic
from ..engine.source import Source
from ..errors import ConnectError, DecodeError
from ..redact import redact_url
from ._o2 import O2Reading
from ._redis import connect_redis
from .envelope import EPOCH, FRAME, GAP, SNAPSHOT, Entry, meta_key
from .groups import GroupInfo

log = logging.getLogger(__name__)

BLOCK_MS = 200  # longest XREAD wait: bounds how long close() waits for the reader
_COUNT = 1000  # entries per read
_RETRY = 0.2  # seconds between attempts while the engine is down
#: Entries a group member reads at once: small, so a burst spreads over the members.
GROUP_PREFETCH = 16


@dataclass
class _Reading:
    """One topic being read: where it is in its stream."""

    topic: Topic
    stream: str
    last_id: Optional[bytes] = None  # None: not positioned yet
    epoch: Optional[str] = None
    seq: int = 0
    group: Optional[GroupInfo] = None  # read as a member of this consumer group
    claim_due: float = 0.0


class RelaySource(Source):
    """Reads a client's topics from the relay at ``url`` (see the module docs)."""

    def __init__(self, url: str, prefix: str, reading: O2Reading) -> None:
        self.url = url
        self.prefix = prefix
        self.reading = reading
        self.redis = connect_redis(url, socket_timeout=BLOCK_MS / 1000 + 5)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._readings: dict[int, _Reading] = {}  # id(topic) -> reading
        self._added: list[Topic] = []
        self._removed: list[Topic] = []
        self._connected = False
        self._ever_connected = False
        self._thread: Optional[threading.Thread] = None
        self.counters = dict(entries=0, frames=0, snapshots=0, gaps=0, jumps=0, epochs=0,
                             bad_entries=0, engine_errors=0, acked=0, reclaimed=0,
                             ack_failures=0)

    def __repr__(self) -> str:
        return f"<RelaySource {redact_url(self.url)} prefix={self.prefix!r}>"

    # -------------------------------------------------------- engine's interface

    def topic_started(self, topic: Topic) -> None:
        with self._lock:
            self._added.append(topic)
        self._ensure_thread()
        self._wake.set()

    def topic_stopped(self, topic: Topic) -> None:
        with self._lock:
            self._removed.append(topic)
        self._wake.set()

    def resync(self, topic: Topic) -> None:
        """A consumer lost events: start the topic again from the latest snapshot."""
        with self._lock:
            self._removed.append(topic)
            self._added.append(topic)
        self._wake.set()

    def connect(self, timeout: Optional[float]) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._ensure_thread()
        while True:
            try:
                self.redis.ping()
                return
            except Exception as exc:  # any failure is "cannot reach"
                if self._stop.is_set() or (deadline is not None
                                           and time.monotonic() >= deadline):
                    raise ConnectError(f"could not reach the relay at {redact_url(self.url)}"
                                       f" in {timeout}s ({exc})") from exc
                self._stop.wait(_RETRY)

    @property
    def is_connected(self) -> bool:
        return self._connected

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return False
        self.redis.close()
        return True

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.counters)
        # where each stream is: (epoch, relay sequence) of the last entry read
        out["positions"] = {r.stream: (r.epoch, r.seq) for r in self._readings.values()}
        return out

    # -------------------------------------------------------------- the thread

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"{self.engine.name}-relay-reader")
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._changes()
                if not self._readings:
                    self._set_connected(self._ping())
                    self._wake.wait(BLOCK_MS / 1000)
                    self._wake.clear()
                    continue
                self._read_once()
                self._set_connected(True)
            except Exception as exc:  # the engine is down: retry, bounded
                self.counters["engine_errors"] += 1
                if self.counters["engine_errors"] <= 3:
                    log.warning("%s: reading the relay failed: %r", self.engine.name, exc)
                self._set_connected(False, repr(exc))
                self._stop.wait(_RETRY)
        log.debug("%s: relay reader done (%s)", self.engine.name, self.counters)

    def _ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False

    def _set_connected(self, up: bool, why: str = "") -> None:
        if up == self._connected:
            return
        self._connected = up
        target = f"relay {redact_url(self.url)}"
        if up:
            state = (ConnectionState.RECONNECTED if self._ever_connected
                     else ConnectionState.CONNECTED)
            self._ever_connected = True
            self.engine.source_state(state, 0, f"connected to {target}", "relay")
        else:
            self.engine.source_state(ConnectionState.RECONNECTING, 0,
                                     f"lost {target}: {why}", "relay")

    def _changes(self) -> None:
        with self._lock:
            added, self._added = self._added, []
            removed, self._removed = self._removed, []
        for topic in removed:
            self._readings.pop(id(topic), None)
        for topic in added:
            if self.engine.topics.get(topic.key) is not topic:
                continue  # already gone again
            stream = self.reading.stream_for(topic)
            if stream is None:
                log.warning("%s: %s is not relayed", self.engine.name, topic.key)
                continue
            reading = _Reading(topic, stream)
            self._readings[id(topic)] = reading
            if isinstance(topic.info, GroupInfo):
                reading.group = topic.info
                self._join_group(reading)
            else:
                self._position(reading)

    def _position(self, r: _Reading) -> None:
        """Where a topic starts: a depth book at the latest snapshot entry, any other
        stream at its newest entry (as a live subscription starts now)."""
        if r.topic.info is not None and hasattr(r.topic.info, "book"):
            snap = self.redis.hget(meta_key(r.stream), "snapshot_id")
            if snap is not None:
                for entry_id, fields in self.redis.xrange(r.stream, snap, "+", count=1):
                    r.last_id = entry_id
                    self._entry(r, fields)
                    return
        newest = self.redis.xrevrange(r.stream, "+", "-", count=1)
        r.last_id = newest[0][0] if newest else b"0-0"
        if newest:
            entry = self._parse(newest[0][1])
            if entry is not None:
                r.epoch, r.seq = entry.epoch, entry.seq

    def _join_group(self, r: _Reading) -> None:
        """Create the group at the stream's end (new entries only), unless it exists."""
        assert r.group is not None
        try:
            self.redis.xgroup_create(r.stream, r.group.group, id="$", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def ack(self, stream: str, group: str, ids: list[bytes]) -> None:
        """XACK (a consumer's thread); a failure leaves them to be delivered again."""
        try:
            self.counters["acked"] += int(self.redis.xack(stream, group, *ids))
        except Exception as exc:
            self.counters["ack_failures"] += 1
            log.warning("%s: could not acknowledge %d entries of %s: %r",
                        self.engine.name, len(ids), stream, exc)

    def _read_once(self) -> None:
        groups = [r for r in self._readings.values() if r.group is not None]
        plain = [r for r in self._readings.values() if r.group is None]
        calls = len(groups) + (1 if plain else 0)
        block = max(BLOCK_MS // calls, 10)
        for r in groups:
            self._read_group(r, block)
        if not plain:
            return
        ids = {r.stream: r.last_id for r in plain}
        result = self.redis.xread(ids, count=_COUNT, block=block)
        by_stream: dict[str, list[_Reading]] = {}
        for r in plain:
            by_stream.setdefault(r.stream, []).append(r)
        for name, entries in result or ():
            name = name.decode() if isinstance(name, bytes) else name
            for entry_id, fields in entries:
                if self._stop.is_set():
                    return
                for r in by_stream.get(name, ()):
                    r.last_id = entry_id
                    self._entry(r, fields)

    def _read_group(self, r: _Reading, block: int) -> None:
        info = r.group
        assert info is not None
        now = time.monotonic()
        if now >= r.claim_due:  # what dead members took and never acknowledged
            r.claim_due = now + info.claim_after / 2
            _, claimed, *_ = self.redis.xautoclaim(
                r.stream, info.group, info.consumer, int(info.claim_after * 1000),
                start_id="0-0", count=_COUNT)
            for entry_id, fields in claimed:
                if fields:  # None: trimmed meanwhile
                    self.counters["reclaimed"] += 1
                    self._group_entry(r, entry_id, fields)
        result = self.redis.xreadgroup(info.group, info.consumer, {r.stream: ">"},
                                       count=GROUP_PREFETCH, block=block)
        for _, entries in result or ():
            for entry_id, fields in entries:
                if self._stop.is_set():
                    return
                self._group_entry(r, entry_id, fields)

    def _group_entry(self, r: _Reading, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        """One entry for this member: an event handed over waits for its ack; one
        the queue dropped stays pending (reclaimed later); anything else is done."""
        info = r.group
        assert info is not None
        entry = self._parse(fields)
        self.counters["entries"] += 1
        sub = info.sub
        if entry is None or entry.type != FRAME or sub is None:
            self.ack(r.stream, info.group, [entry_id])
            return
        self.counters["frames"] += 1
        dropped, received = sub.counts[0], sub.counts[1]
        self.engine.source_frame(r.topic.url or "", entry.data)
        if sub.counts[1] != received:
            info.ids.append(entry_id)
        elif sub.counts[0] == dropped:  # not an event (counted as a decode error)
            self.ack(r.stream, info.group, [entry_id])

    def _parse(self, fields: dict[bytes, bytes]) -> Optional[Entry]:
        try:
            return Entry.parse(fields)
        except ValueError as exc:
            self.counters["bad_entries"] += 1
            self.engine.report(DecodeError(f"bad relay entry ({exc})", repr(fields)[:200]))
            return None

    def _entry(self, r: _Reading, fields: dict[bytes, bytes]) -> None:
        entry = self._parse(fields)
        if entry is None:
            return
        self.counters["entries"] += 1
        topic = r.topic
        if r.epoch is not None:
            if entry.epoch != r.epoch:
                self.counters["epochs"] += 1
                self.engine.source_gap(topic, 0)
            elif entry.seq != r.seq + 1:
                self.counters["jumps"] += 1
                self.engine.source_gap(topic, max(entry.seq - r.seq - 1, 0))
        r.epoch, r.seq = entry.epoch, entry.seq
        if entry.type == FRAME:
            self.counters["frames"] += 1
            self.engine.source_frame(topic.url or "", entry.data)
        elif entry.type == SNAPSHOT:
            if entry.made == "server" or self._wants_snapshot(topic):
                self.counters["snapshots"] += 1
                self.engine.source_frame(topic.url or "", entry.data)
        elif entry.type == GAP:
            self.counters["gaps"] += 1
            self.engine.source_gap(topic, entry.lost)
        elif entry.type == EPOCH:
            pass  # a new epoch is told by the change of its id (above)

    @staticmethod
    def _wants_snapshot(topic: Topic) -> bool:
        return topic.awaiting_snapshot or any(s.needs_snapshot for s in topic.subscribers)
