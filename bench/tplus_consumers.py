"""The measured tplus consumers, one function each, sharing the counting and stop rules.

Each consumer opens a fresh stream whose scenario was registered on the feed, hands
every diff (or trade) to a :class:`Recorder` and stops at the expected count, after
``idle`` seconds without an event, or at the deadline. Every consumer reads the first
bid of every diff (the price of every trade), as the tpluspy guide's loops do.

* ``ceiling``: websocket-client ``recv()`` + ``json.JSONDecoder(parse_float=Decimal)``
  (exact numbers, like o2sync) in the calling thread.
* ``ceiling-float``: the same with plain ``json.loads`` (floats: tpluspy's parser), for
  reference only (not exact).
* ``o2sync-iter``: ``for diff in md.stream_depth(asset)`` / ``stream_finalized_trades()``.
* ``o2sync-cb``: ``md.on_depth(asset, cb)`` / ``md.on_finalized_trades(cb)``.
* ``o2sync-inline``: the same with ``inline_callbacks=True`` (reader thread).
* ``tpluspy``: tpluspy 0.6.0 ``async for`` in its own virtualenv (``tplus_sdk_driver.py``
  in a subprocess; it prints its counts and receive times as JSON).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

import websocket
from consumers import HandOff, Limits, Stall, idle_guard, parsed, watch
from tplus_feed import Scenario, TplusFeedProcess
from tplus_messages import SEQ0, parse_gaps

from o2sync.tplus import MarketDataClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TPLUSPY_VENV = REPO / ".venv-tpluspy"
TPLUSPY = "tpluspy==0.6.0"
DRIVER = HERE / "tplus_sdk_driver.py"


class Recorder:
    """Counts the events a consumer received; optionally ``(key, receive ns)`` pairs
    (key: the diff's sequence number, or the trade's ``timestamp_ns``)."""

    __slots__ = ("count", "deadline_ns", "expected", "first_ns", "keep", "last_ns", "open",
                 "pairs", "snapshot_seqs", "snapshots")

    def __init__(self, expected: int, limits: Limits, keep: bool) -> None:
        self.expected = expected
        self.keep = keep
        self.deadline_ns = time.time_ns() + int(limits.deadline * 1e9)
        self.count = 0
        self.snapshots = 0
        self.first_ns = 0
        self.last_ns = 0
        self.pairs: list[tuple[int, int]] = []
        self.snapshot_seqs: list[int] = []
        self.open = True

    def __call__(self, key: int) -> None:
        now = time.time_ns()
        if self.keep:
            self.pairs.append((key, now))
        if not self.count:
            self.first_ns = now
        self.last_ns = now
        self.count += 1
        if self.count >= self.expected or now > self.deadline_ns:
            self.open = False

    def snapshot(self, seq: int = 0) -> None:
        """A depth consumer was handed a snapshot (its ``sequence_number``)."""
        self.snapshots += 1
        self.snapshot_seqs.append(seq)


@dataclass(frozen=True)
class Slow:
    """A consumer that pauses ``seconds`` every ``every`` events (think: a database
    write) while its client keeps reading; o2sync gets ``queue_size`` (o2-sdk's 1,000)."""

    every: int = 50
    seconds: float = 0.002
    queue_size: int = 1_000


@dataclass(frozen=True)
class Job:
    feed: TplusFeedProcess
    scenario: Scenario
    asset: int
    limits: Limits
    slow: Optional[Slow] = None

    def pause(self, rec: Recorder) -> None:
        if self.slow is not None and rec.count % self.slow.every == 0:
            time.sleep(self.slow.seconds)

    @property
    def queue(self) -> dict[str, Any]:
        return {} if self.slow is None else {"queue_size": self.slow.queue_size}

    @property
    def depth(self) -> bool:
        return self.scenario.stream == "depth"

    @property
    def expected(self) -> int:
        """Events the feed sends (``gap_at`` diffs are produced but not sent)."""
        return self.scenario.count - len(parse_gaps(self.scenario.gap_at))


@dataclass
class Run:
    consumer: str
    scenario: Scenario
    expected: int
    received: int
    seconds: float
    pairs: list[tuple[int, int]] = field(default_factory=list)
    snapshots: int = 0
    stalled: bool = False
    dropped: Optional[int] = None  # o2sync: sub.dropped
    stats: dict[str, Any] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)  # filled by the phase
    healed: int = 0  # depth: diffs not delivered but folded into a snapshot handed later

    @property
    def lost(self) -> int:
        return self.expected - self.received

    @property
    def rate(self) -> float:
        return (self.received - 1) / self.seconds if self.seconds > 0 else 0.0

    @property
    def unaccounted(self) -> Optional[int]:
        """o2sync: lost events counted nowhere (``sub.dropped``, ``stats()['ignored']``);
        None for consumers that count nothing."""
        if self.dropped is None:
            return None
        return max(0, self.lost - self.healed - self.dropped - int(self.stats.get("ignored", 0)))


Consumer = Callable[[Job, Recorder], dict[str, Any]]

_DECODE = json.JSONDecoder(parse_float=Decimal).decode


def ceiling(job: Job, rec: Recorder) -> dict[str, Any]:
    """websocket-client ``recv()`` + exact-decimal JSON in the calling thread."""
    return _bare(job, rec, _DECODE)


def ceiling_float(job: Job, rec: Recorder) -> dict[str, Any]:
    """The same with plain ``json.loads`` (floats, what tpluspy parses with): for
    reference, it is not exact."""
    return _bare(job, rec, json.loads)


def ceiling_thread(job: Job, rec: Recorder) -> dict[str, Any]:
    """The ceiling's ``recv()`` + exact JSON on a reader thread, each message handed to
    the calling thread through a ``queue.SimpleQueue``: the floor of any client that
    reads on one thread and delivers on another (o2sync's design)."""
    return _bare(job, rec, _DECODE, threaded=True)


def _bare(job: Job, rec: Recorder, loads: Callable[[str], Any],
          threaded: bool = False) -> dict[str, Any]:
    path = f"/marketdepth/diff/{job.asset}" if job.depth else "/trades"
    ws = websocket.create_connection(job.feed.base_url.replace("http", "ws", 1) + path,
                                     timeout=job.limits.idle, skip_utf8_validation=True)
    source = HandOff(ws, loads) if threaded else ws
    # the loop stays loads(recv()) in both forms: nothing extra in the ceiling's
    recv, loads = (source.recv, parsed) if threaded else (ws.recv, loads)
    try:
        if job.depth:
            while rec.open:
                msg = loads(recv())
                bids = msg["bids"]
                if bids:
                    bids[0][0]
                rec(msg["sequence_number"])
        else:
            while rec.open:
                msg = loads(recv())
                msg["price"]
                rec(msg["timestamp_ns"])
    except websocket.WebSocketTimeoutException:
        return {"stalled": True}
    finally:
        source.close()
    return {}


def _take(job: Job, rec: Recorder, event: Any) -> bool:
    """One o2sync event: touch it, record it; False once the run is complete."""
    if job.depth:
        if event.is_snapshot:
            rec.snapshot(event.sequence_number)
            return True
        bids = event.bids
        if bids:
            bids[0][0]
        rec(event.sequence_number)
    else:
        event.price  # noqa: B018
        rec(event.timestamp_ns)
    job.pause(rec)
    return rec.open


def _outcome(md: MarketDataClient, sub: Any, stall: Stall) -> dict[str, Any]:
    return {"dropped": sub.dropped, "stats": md.stats(), "stalled": stall.stalled}


def o2sync_iter(job: Job, rec: Recorder) -> dict[str, Any]:
    stall = Stall(rec, job.limits.idle)  # type: ignore[arg-type]
    with MarketDataClient(job.feed.base_url) as md:
        sub = (md.stream_depth(job.asset, **job.queue) if job.depth
               else md.stream_finalized_trades(**job.queue))
        with idle_guard(stall, sub.close):
            for event in sub:
                if not _take(job, rec, event):
                    break
        return _outcome(md, sub, stall)


def o2sync_callback(job: Job, rec: Recorder) -> dict[str, Any]:
    return _callback(job, rec, {})


def o2sync_inline(job: Job, rec: Recorder) -> dict[str, Any]:
    """Callbacks with ``inline_callbacks=True``: on the socket's reader thread."""
    return _callback(job, rec, {"inline_callbacks": True})


def _callback(job: Job, rec: Recorder, options: dict[str, Any]) -> dict[str, Any]:
    done = threading.Event()
    stall = Stall(rec, job.limits.idle)  # type: ignore[arg-type]

    def on_event(event: Any) -> None:
        if not _take(job, rec, event):
            done.set()

    with MarketDataClient(job.feed.base_url, **options) as md:
        sub = (md.on_depth(job.asset, on_event, **job.queue) if job.depth
               else md.on_finalized_trades(on_event, **job.queue))
        watch(stall, done)
        return _outcome(md, sub, stall)


def tpluspy_python() -> Path:
    """The interpreter of ``<repo>/.venv-tpluspy`` (built like the test suite does)."""
    python = TPLUSPY_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    check = ("import importlib.metadata as m, tplus.client; "
             "assert m.version('tpluspy') == '0.6.0'")
    if python.exists() and subprocess.run([str(python), "-c", check], capture_output=True,
                                          timeout=60).returncode == 0:
        return python
    shutil.rmtree(TPLUSPY_VENV, ignore_errors=True)
    print(f"building {TPLUSPY_VENV} ({TPLUSPY})", flush=True)
    for step in ([sys.executable, "-m", "venv", str(TPLUSPY_VENV)],
                 [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                  TPLUSPY]):
        subprocess.run(step, check=True, timeout=600)
    return python


def tpluspy(job: Job, rec: Recorder) -> dict[str, Any]:
    cfg = {"base_url": job.feed.base_url, "stream": job.scenario.stream, "asset": job.asset,
           "expected": rec.expected, "idle": job.limits.idle,
           "deadline": job.limits.deadline, "latency": rec.keep,
           "slow": None if job.slow is None else [job.slow.every, job.slow.seconds]}
    done = subprocess.run([str(tpluspy_python()), str(DRIVER), json.dumps(cfg)],
                          capture_output=True, text=True, timeout=job.limits.deadline + 60)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(f"  tpluspy driver failed: {done.stderr[-2000:]}", flush=True)
        return {"stalled": True}
    out = json.loads(lines[-1])
    rec.count, rec.first_ns, rec.last_ns = out["received"], out["first_ns"], out["last_ns"]
    rec.pairs = [(k, t) for k, t in out["pairs"]]
    return {"stalled": out["stalled"]}


CONSUMERS: dict[str, Consumer] = {
    "ceiling": ceiling,
    "ceiling-float": ceiling_float,
    "ceiling-thread": ceiling_thread,
    "o2sync-iter": o2sync_iter,
    "o2sync-cb": o2sync_callback,
    "o2sync-inline": o2sync_inline,
    "tpluspy": tpluspy,
}


def measure(name: str, job: Job, keep: bool = False) -> Run:
    """Register the job's scenario on the feed, run one consumer, collect the outcome."""
    job.feed.setup(job.scenario, job.asset if job.depth else None)
    rec = Recorder(job.expected, job.limits, keep)
    extra = CONSUMERS[name](job, rec)
    return Run(consumer=name, scenario=job.scenario, expected=job.expected,
               received=rec.count, seconds=(rec.last_ns - rec.first_ns) / 1e9,
               pairs=rec.pairs, snapshots=rec.snapshots, stalled=bool(extra.get("stalled")),
               dropped=extra.get("dropped"), stats=extra.get("stats", {}),
               healed=_healed(job, rec) if keep and job.depth else 0)


def _healed(job: Job, rec: Recorder) -> int:
    """Diffs never delivered whose effect a later snapshot carried (sequence number at
    most the last snapshot's): the consumer's book lost nothing by them."""
    if not rec.snapshot_seqs:
        return 0
    last = max(rec.snapshot_seqs) - SEQ0
    delivered = {k - SEQ0 for k, _ in rec.pairs}
    gaps = set(parse_gaps(job.scenario.gap_at))
    return sum(1 for k in range(1, min(last, job.scenario.count) + 1)
               if k not in delivered and k not in gaps)
