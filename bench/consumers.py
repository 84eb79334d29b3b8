"""The measured consumers, one function each, sharing the counting and the stop rules.

Each consumer subscribes to the feed's depth stream, hands every *delta* it gets to a
:class:`Recorder` (snapshots are counted apart) and stops when the recorder has the
expected number, when nothing arrived for ``idle`` seconds, or at the hard deadline.
The per-message work outside the client under test is the same for all of them:
one ``Recorder`` call (a clock read, a counter, and the send->receive latency when
asked for).

* ``recv``: websocket-client ``recv()`` alone, no JSON: shows the feed is not the limit.
* ``ceiling`` (a): websocket-client ``recv()`` + JSON ``loads`` in the main thread.
* ``o2sync-iter`` (b): ``O2Client.stream_depth`` blocking iteration.
* ``o2sync-cb`` (c): ``O2Client.on_depth`` callbacks on the dispatcher thread.
* ``o2sync-inline`` (c2): the same with ``inline_callbacks=True`` (reader thread).
* ``o2-sdk`` (d): the official async SDK's ``stream_depth`` under ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import websocket
from feed import FeedProcess, Scenario
from messages import PAIR, market_id

import o2sync
from o2sync._json import BACKEND as O2SYNC_JSON

if O2SYNC_JSON == "orjson":
    import orjson

    json_loads: Callable[[Any], Any] = orjson.loads
else:
    json_loads = json.loads

POLL = 0.05  # seconds between progress checks of the stop rules

#: How much of each delta a consumer reads (run.py --touch): "none" (only its
#: timestamp), "best" (the first bid's price, as the O2 streams guide does) or "all"
#: (every level's price and quantity). Events cost what their consumer reads of them.
TOUCH = "best"


def touch_dict(msg: dict[str, Any]) -> None:
    """Read a raw delta (the ceiling's dicts) as deeply as TOUCH says."""
    if TOUCH == "none":
        return
    changes = msg["changes"]
    if TOUCH == "best":
        buys = changes["buys"]
        if buys:
            int(buys[0]["price"])
        return
    for side in (changes["buys"], changes["sells"]):
        for level in side:
            int(level["price"]), int(level["quantity"])


def touch_update(update: Any) -> None:
    """Read a decoded delta (o2sync's or the SDK's) as deeply as TOUCH says."""
    if TOUCH == "none":
        return
    changes = update.changes
    if TOUCH == "best":
        bids = changes.bids
        if bids:
            int(bids[0].price)
        return
    for side in (changes.bids, changes.asks):
        for level in side:
            int(level.price), int(level.quantity)


@dataclass(frozen=True)
class Limits:
    """Stop rules of one run: stall timeout and hard deadline, in seconds."""

    idle: float = 5.0
    deadline: float = 60.0


class Recorder:
    """Counts the deltas a consumer received; optionally their send->receive latency."""

    __slots__ = ("count", "deadline_ns", "expected", "first_ns", "keep_latency", "last_ns",
                 "latencies", "open", "snapshots")

    def __init__(self, expected: int, limits: Limits, keep_latency: bool) -> None:
        self.expected = expected
        self.keep_latency = keep_latency
        self.deadline_ns = time.time_ns() + int(limits.deadline * 1e9)
        self.count = 0
        self.snapshots = 0
        self.first_ns = 0
        self.last_ns = 0
        self.latencies: list[int] = []
        self.open = True  # False once the expected count or the deadline is reached

    def __call__(self, seen_timestamp: Any) -> None:
        """One delta received now; ``seen_timestamp`` is the feed's send time (ns)."""
        now = time.time_ns()
        if self.keep_latency:
            self.latencies.append(now - int(seen_timestamp))
        if not self.count:
            self.first_ns = now
        self.last_ns = now
        self.count += 1
        if self.count >= self.expected or now > self.deadline_ns:
            self.open = False

    def snapshot(self) -> None:
        self.snapshots += 1


class Stall:
    """Detects a run that stopped making progress (``idle`` seconds without a delta)."""

    def __init__(self, rec: Recorder, idle: float) -> None:
        self.rec = rec
        self.idle = idle
        self.seen = -1
        self.since = time.monotonic()
        self.stalled = False

    def check(self) -> bool:
        """True when the run should stop: done, past its deadline, or stalled."""
        rec, now = self.rec, time.monotonic()
        if not rec.open or time.time_ns() > rec.deadline_ns:
            return True
        if rec.count != self.seen:
            self.seen, self.since = rec.count, now
        elif now - self.since > self.idle:
            self.stalled = True
        return self.stalled


def watch(stall: Stall, done: threading.Event) -> None:
    """Block until ``done`` is set or the stall rules say stop."""
    while not done.wait(POLL) and not stall.check():
        pass


@contextlib.contextmanager
def idle_guard(stall: Stall, on_stop: Callable[[], None]) -> Any:
    """Run ``on_stop`` from a helper thread if the guarded block stalls."""
    done = threading.Event()

    def guard() -> None:
        watch(stall, done)
        if not done.is_set():
            on_stop()

    thread = threading.Thread(target=guard, name="bench-idle-guard", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)


@dataclass
class Run:
    """The outcome of one consumer run."""

    consumer: str
    scenario: Scenario
    received: int
    snapshots: int
    seconds: float  # first delta -> last delta, at the consumer
    latencies_ns: list[int] = field(default_factory=list)
    stalled: bool = False
    dropped: Optional[int] = None  # o2sync: sub.dropped
    stats: dict[str, Any] = field(default_factory=dict)  # o2sync: client.stats()
    slow: bool = False  # a SlowConsumer run

    @property
    def lost(self) -> int:
        return self.scenario.count - self.received

    @property
    def rate(self) -> float:
        """Deltas delivered per second."""
        return (self.received - 1) / self.seconds if self.seconds > 0 else 0.0

    @property
    def unaccounted(self) -> int:
        """o2sync: losses counted nowhere (``sub.dropped`` nor ``stats()['ignored']``)."""
        return self.lost - (self.dropped or 0) - int(self.stats.get("ignored", 0))


# --------------------------------------------------------------------- consumers


@dataclass(frozen=True)
class SlowConsumer:
    """A consumer that pauses ``seconds`` every ``every`` deltas (think: a database
    write) while its client keeps reading, so the client's bounded queue overflows."""

    every: int = 50
    seconds: float = 0.002
    queue_size: int = 1_000  # o2sync's queue bound, the same as o2-sdk's fixed 1,000


@dataclass(frozen=True)
class Job:
    """One consumer run: against which feed scenario, with which stop rules."""

    feed: FeedProcess
    scenario: Scenario
    limits: Limits
    slow: Optional[SlowConsumer] = None

    @property
    def url(self) -> str:
        return self.feed.ws_url(self.scenario)

    def pause_due(self, rec: Recorder) -> bool:
        return self.slow is not None and rec.count % self.slow.every == 0


Consumer = Callable[[Job, Recorder], dict[str, Any]]


def _bare_socket(job: Job) -> websocket.WebSocket:
    ws = websocket.create_connection(job.url, timeout=job.limits.idle, skip_utf8_validation=True)
    ws.send(json.dumps({"action": "subscribe_depth", "market_id": market_id(),
                        "precision": "10"}))
    return ws


def recv_only(job: Job, rec: Recorder) -> dict[str, Any]:
    """websocket-client frames only (no JSON): the feed-capacity check."""
    ws = _bare_socket(job)
    try:
        ws.recv()  # the snapshot
        rec.snapshot()
        recv = ws.recv
        while rec.open:
            recv()
            rec(0)
    except websocket.WebSocketTimeoutException:
        return {"stalled": True}
    finally:
        ws.close()
    return {}


class HandOff:
    """``loads(recv())`` of a socket on a reader thread, each message handed to the
    calling thread through a ``queue.SimpleQueue``: the reader of the threaded floor
    (``ceiling-thread``). :meth:`recv` returns the next parsed message and re-raises
    what ended the reader (the idle timeout, a closed socket); :meth:`close` ends it."""

    def __init__(self, ws: Any, loads: Callable[[Any], Any]) -> None:
        self._ws = ws
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._read, args=(loads,),
                                        name="bench-ceiling-reader", daemon=True)
        self._thread.start()

    def _read(self, loads: Callable[[Any], Any]) -> None:
        recv, put = self._ws.recv, self._queue.put
        try:
            while True:
                put(loads(recv()))
        except Exception as exc:  # closed by the consumer, or the idle timeout
            put(exc)

    def recv(self) -> Any:
        msg = self._queue.get()
        if isinstance(msg, Exception):
            raise msg
        return msg

    def close(self) -> None:
        self._ws.close()
        self._thread.join(5)


def parsed(msg: Any) -> Any:
    """The ``loads`` of a :class:`HandOff`'s messages: its reader parsed them already."""
    return msg


def ceiling(job: Job, rec: Recorder) -> dict[str, Any]:
    """(a) websocket-client ``recv()`` + JSON ``loads`` in the calling thread."""
    return _ceiling(job, rec, threaded=False)


def ceiling_thread(job: Job, rec: Recorder) -> dict[str, Any]:
    """(a2) the ceiling's ``recv()`` + ``loads`` on a reader thread, each message handed
    to the calling thread (:class:`HandOff`): the floor of any client that reads on
    one thread and delivers on another (o2sync's design), one handoff a message."""
    return _ceiling(job, rec, threaded=True)


def _ceiling(job: Job, rec: Recorder, threaded: bool) -> dict[str, Any]:
    ws = _bare_socket(job)
    source = HandOff(ws, json_loads) if threaded else ws
    # the loop stays loads(recv()) in both forms: nothing extra in the ceiling's
    recv, loads = (source.recv, parsed) if threaded else (ws.recv, json_loads)
    try:
        while rec.open:
            msg = loads(recv())
            if msg["action"] == "subscribe_depth":
                rec.snapshot()
            else:
                touch_dict(msg)
                rec(msg["seen_timestamp"])
    except websocket.WebSocketTimeoutException:
        return {"stalled": True}
    finally:
        source.close()
    return {}


def _o2sync_client(job: Job, inline: bool = False) -> o2sync.O2Client:
    options: dict[str, Any] = {} if job.slow is None else {"queue_size": job.slow.queue_size}
    if inline:
        options["inline_callbacks"] = True
    return o2sync.O2Client(ws_url=job.url, api_url=job.feed.api_url, **options)


def _o2sync_outcome(client: o2sync.O2Client, sub: Any, stall: Stall) -> dict[str, Any]:
    return {"dropped": sub.dropped, "stats": client.stats(), "stalled": stall.stalled}


def o2sync_iter(job: Job, rec: Recorder) -> dict[str, Any]:
    """(b) ``for update in client.stream_depth(pair)``."""
    stall = Stall(rec, job.limits.idle)
    with _o2sync_client(job) as client:
        sub = client.stream_depth(PAIR)
        with idle_guard(stall, sub.close):
            for update in sub:
                if update.is_snapshot:
                    rec.snapshot()
                    continue
                touch_update(update)
                rec(update.seen_timestamp)
                if not rec.open:
                    break
                if job.pause_due(rec):
                    time.sleep(job.slow.seconds)  # type: ignore[union-attr]
        return _o2sync_outcome(client, sub, stall)


def o2sync_callback(job: Job, rec: Recorder) -> dict[str, Any]:
    """(c) ``client.on_depth(pair, callback)``; the main thread waits on an Event."""
    return _o2sync_callback(job, rec, inline=False)


def o2sync_inline(job: Job, rec: Recorder) -> dict[str, Any]:
    """(c2) the same with ``inline_callbacks=True``: callbacks on the reader thread."""
    return _o2sync_callback(job, rec, inline=True)


def _o2sync_callback(job: Job, rec: Recorder, inline: bool) -> dict[str, Any]:
    done = threading.Event()
    stall = Stall(rec, job.limits.idle)

    def on_update(update: Any) -> None:
        if update.is_snapshot:
            rec.snapshot()
            return
        touch_update(update)
        rec(update.seen_timestamp)
        if not rec.open:
            done.set()
        elif job.pause_due(rec):
            time.sleep(job.slow.seconds)  # type: ignore[union-attr]

    with _o2sync_client(job, inline) as client:
        sub = client.on_depth(PAIR, on_update)
        watch(stall, done)
        return _o2sync_outcome(client, sub, stall)


def o2sdk(job: Job, rec: Recorder) -> dict[str, Any]:
    """(d) ``async for update in o2_sdk.O2Client(...).stream_depth(pair)``."""
    return asyncio.run(_o2sdk(job, rec))


async def _o2sdk(job: Job, rec: Recorder) -> dict[str, Any]:
    from o2_sdk import O2Client as SdkClient
    from o2_sdk.config import NetworkConfig

    config = NetworkConfig(api_base=job.feed.api_url, ws_url=job.url,
                           fuel_rpc="http://127.0.0.1:1", faucet_url=None)
    client = SdkClient(custom_config=config)
    updates = client.stream_depth(PAIR)

    async def consume() -> None:
        async for update in updates:
            if update.is_snapshot:
                rec.snapshot()
                continue
            touch_update(update)
            rec(update.seen_timestamp)
            if not rec.open:
                return
            if job.pause_due(rec):
                await asyncio.sleep(job.slow.seconds)  # type: ignore[union-attr]

    stall = Stall(rec, job.limits.idle)
    task = asyncio.create_task(consume())
    try:
        while not task.done() and not stall.check():
            await asyncio.wait({task}, timeout=POLL)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await updates.aclose()
        await client.close()
    return {"stalled": stall.stalled}


CONSUMERS: dict[str, Consumer] = {
    "recv": recv_only,
    "ceiling": ceiling,
    "ceiling-thread": ceiling_thread,
    "o2sync-iter": o2sync_iter,
    "o2sync-cb": o2sync_callback,
    "o2sync-inline": o2sync_inline,
    "o2-sdk": o2sdk,
}


def measure(name: str, job: Job, keep_latency: bool = False) -> Run:
    """Run one consumer against a fresh feed connection and collect the outcome."""
    rec = Recorder(job.scenario.count, job.limits, keep_latency)
    extra = CONSUMERS[name](job, rec)
    return Run(consumer=name, scenario=job.scenario, received=rec.count,
               snapshots=rec.snapshots, seconds=(rec.last_ns - rec.first_ns) / 1e9,
               latencies_ns=rec.latencies, stalled=bool(extra.get("stalled")),
               dropped=extra.get("dropped"), stats=extra.get("stats", {}),
               slow=job.slow is not None)
