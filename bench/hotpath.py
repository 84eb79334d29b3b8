"""Where o2sync's per-message time goes.

Two views:

* :func:`stage_costs`: micro-benchmarks of each stage of the reader-thread path on
  pre-built frames, in one thread with no sockets: JSON parse, decode, the whole
  router (parse + route + decode + queue push), and the consumer's ``get()``; plus
  dataclasses-json's ``from_dict`` for comparison. Uses o2sync internals
  (``O2Venue``, ``StreamEngine``, ``decode_depth``); if they change, that part is
  skipped with a note.
* :func:`live_profile`: a real ``stream_depth`` flood from the feed, with the CPU
  time of the reader and consumer threads (``time.thread_time``), then the same run
  under ``cProfile`` in each thread (the profiler slows everything, so read its
  numbers as shares, not speeds).
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import json
import pstats
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from consumers import Limits, Recorder, Stall, idle_guard
from feed import FeedProcess, Scenario
from messages import PAIR, depth_snapshot, dumps, market_id, sample_texts

import o2sync


@dataclass
class Stage:
    """Cost of one stage, in microseconds per message."""

    name: str
    levels: int
    us: float


def _per_call_us(fn: Callable[[Any], Any], items: list[Any], repeat: int) -> float:
    """Best-of-3 mean cost of ``fn(item)`` over ``repeat`` passes of ``items``."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeat):
            for item in items:
                fn(item)
        best = min(best, time.perf_counter() - t0)
    return best / (repeat * len(items)) * 1e6


def _router_costs(texts: list[str], repeat: int) -> tuple[float, float]:
    """(router call incl. queue push, consumer get) in us per message.

    Drained after every pass over ``texts``, so the backlog stays as short as in a
    live run where the consumer keeps up (a long backlog costs extra GC time).
    """
    from o2sync.engine.options import Options
    from o2sync.engine.stream import StreamEngine
    from o2sync.engine.venue import TopicSpec
    from o2sync.o2.depth import DepthTopic
    from o2sync.o2.venue import O2Venue

    mid = market_id()
    venue = O2Venue()
    engine = StreamEngine(venue, Options(queue_size=len(texts) + 10), name="bench-micro")
    url = "ws://127.0.0.1:9/v1/ws"

    def router(data: Any) -> None:
        venue.route(url, data)

    # a local topic (no socket): the router still finds it by key
    sub = engine.subscribe(TopicSpec(("depth", mid), info=DepthTopic(1)), name="bench",
                           is_depth=True)
    clock = time.perf_counter
    try:
        router(dumps(depth_snapshot(mid)))
        sub.get(0)
        push = get = float("inf")
        for _ in range(3):
            t_push = t_get = 0.0
            for _ in range(repeat):
                t0 = clock()
                for text in texts:
                    router(text)
                t1 = clock()
                for _ in texts:
                    sub.get(0)
                t_push, t_get = t_push + t1 - t0, t_get + clock() - t1
            push, get = min(push, t_push), min(get, t_get)
        total = len(texts) * repeat
        return push / total * 1e6, get / total * 1e6
    finally:
        engine.close(1.0)


def stage_costs(levels_list: tuple[int, ...] = (10, 1), repeat: int = 20) -> list[Stage]:
    """Micro-benchmark each stage of the per-message path."""
    from o2sync.o2.decode import decode_depth

    out: list[Stage] = []
    for levels in levels_list:
        texts = sample_texts(market_id(), levels)
        dicts = [json.loads(t) for t in texts]
        out.append(Stage("json.loads (stdlib)", levels, _per_call_us(json.loads, texts, repeat)))
        try:
            import orjson
        except ImportError:
            pass
        else:
            out.append(Stage("orjson.loads", levels, _per_call_us(orjson.loads, texts, repeat)))
        out.append(Stage("decode_depth (o2sync)", levels,
                         _per_call_us(decode_depth, dicts, repeat)))
        events = [decode_depth(d).to_dict() for d in dicts[:20]]
        out.append(Stage("DepthUpdate.from_dict (dataclasses-json)", levels,
                         _per_call_us(o2sync.DepthUpdate.from_dict, events, 2)))
        try:
            push, get = _router_costs(texts, repeat)
        except Exception as exc:  # internals moved: say so, keep the rest
            out.append(Stage(f"router (skipped: {exc!r})", levels, float("nan")))
        else:
            out.append(Stage("O2Router(text): parse+route+decode+push", levels, push))
            out.append(Stage("Subscription.get() (uncontended)", levels, get))
    return out


# ------------------------------------------------------------------ live profile


@dataclass
class ThreadProfile:
    """What one thread spent during a live run."""

    thread: str
    cpu_s: float = 0.0
    profile: Optional[cProfile.Profile] = None


@dataclass
class GcTally:
    """Cyclic-GC passes and their total pause time, from ``gc.callbacks``."""

    passes: list[int] = field(default_factory=lambda: [0, 0, 0])
    seconds: float = 0.0
    _t0: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t0
            self.passes[info["generation"]] += 1

    def __enter__(self) -> GcTally:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


@dataclass
class LiveProfile:
    """CPU split, GC pauses and cProfile of a ``stream_depth`` flood."""

    messages: int
    rate: float  # deltas/s without the profiler
    gc: GcTally
    threads: list[ThreadProfile] = field(default_factory=list)
    profiled_rate: float = 0.0
    rate_without_gc: float = 0.0
    rate_frozen_gc: float = 0.0  # after gc.freeze()


def _flood_once(feed: FeedProcess, count: int, limits: Limits, profiled: bool
                ) -> tuple[float, ThreadProfile, ThreadProfile]:
    """One o2sync iteration run; returns (rate, reader thread, consumer thread)."""
    scenario = Scenario(mode="flood", count=count, levels=10)
    reader = ThreadProfile("reader", profile=cProfile.Profile() if profiled else None)
    consumer = ThreadProfile("consumer (main)",
                             profile=cProfile.Profile() if profiled else None)
    rec = Recorder(count, limits, keep_latency=False)
    stall = Stall(rec, limits.idle)
    client = o2sync.O2Client(ws_url=feed.ws_url(scenario), api_url=feed.api_url)
    try:
        with _instrument_reader(client, reader):
            sub = client.stream_depth(PAIR)
        with idle_guard(stall, sub.close), ThreadSpan(consumer):
            for update in sub:
                if not update.is_snapshot:
                    rec(update.seen_timestamp)
                    if not rec.open:
                        break
    finally:
        client.close()
    seconds = (rec.last_ns - rec.first_ns) / 1e9
    return (rec.count - 1) / seconds if seconds > 0 else 0.0, reader, consumer


class ThreadSpan:
    """Accumulate thread CPU time (and run the profiler) around a block of one thread."""

    def __init__(self, tp: ThreadProfile) -> None:
        self.tp = tp
        self.t0 = 0.0

    def __enter__(self) -> None:
        self.t0 = time.thread_time()
        if self.tp.profile is not None:
            self.tp.profile.enable()

    def __exit__(self, *exc: object) -> None:
        if self.tp.profile is not None:
            self.tp.profile.disable()
        self.tp.cpu_s += time.thread_time() - self.t0


@contextlib.contextmanager
def _instrument_reader(client: Any, tp: ThreadProfile) -> Iterator[None]:
    """Wrap the receive loop (an o2sync internal) of the reader thread that ``client``
    opens inside the block with a thread span. Links are opened lazily, by the first
    subscription, so the wrapper goes on the link as the engine creates it."""
    engine = client._engine
    open_link = engine._open_link

    def opening(url: str) -> Any:
        link = open_link(url)
        conn = link.connection
        receive = conn._receive

        def measured(ws: Any) -> str:
            with ThreadSpan(tp):
                return receive(ws)  # type: ignore[no-any-return]

        conn._receive = measured
        return link

    engine._open_link = opening
    try:
        yield
    finally:
        engine._open_link = open_link


def live_profile(feed: FeedProcess, count: int, limits: Limits) -> LiveProfile:
    """CPU split per thread and GC pauses (plain run), the same with the cyclic GC off,
    then the same run under cProfile."""
    with GcTally() as tally:
        rate, reader, consumer = _flood_once(feed, count, limits, profiled=False)
    out = LiveProfile(messages=count, rate=rate, gc=tally)
    gc.disable()
    try:
        out.rate_without_gc = _flood_once(feed, count, limits, profiled=False)[0]
    finally:
        gc.enable()
    gc.freeze()  # what the README suggests: stop re-walking the start-up heap
    try:
        out.rate_frozen_gc = _flood_once(feed, count, limits, profiled=False)[0]
    finally:
        gc.unfreeze()
    prate, preader, pconsumer = _flood_once(feed, count, limits, profiled=True)
    reader.profile, consumer.profile = preader.profile, pconsumer.profile
    out.threads = [reader, consumer]
    out.profiled_rate = prate
    return out


@dataclass
class FuncCost:
    """One function of a cProfile: per-message calls and own/cumulative time share."""

    label: str
    calls_per_msg: float
    own_share: float  # of the thread's profiled time
    cum_share: float


def top_functions(prof: cProfile.Profile, messages: int, n: int = 14) -> list[FuncCost]:
    """The ``n`` functions with the most own time, as shares of the thread total."""
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values()) or 1.0
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]
    return [FuncCost(_label(key), row[1] / messages, row[2] / total, row[3] / total)
            for key, row in rows]


def _label(key: tuple[str, int, str]) -> str:
    path, line, func = key
    if path == "~":
        return func
    parts = path.replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{line}({func})"
