"""The benchmark phases (flood, fixed-rate latency, burst, profile) against one feed.

Imported by ``run.py`` after it has chosen the JSON backend (``--json stdlib`` must
hide orjson before o2sync is imported).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Optional

import hotpath
from consumers import Job, Limits, Run, SlowConsumer, measure
from feed import FeedProcess, Scenario
from report import Results

LATENCY = ("ceiling", "ceiling-thread", "o2sync-iter", "o2sync-cb", "o2sync-inline", "o2-sdk")
BURST = ("o2sync-iter", "o2sync-cb", "o2-sdk")


@dataclass(frozen=True)
class Config:
    """What to run; defaults are the full run, ``--quick`` shrinks them."""

    count: int
    reps: int
    levels: int
    rates: tuple[int, ...]
    duration: float
    burst: int
    slow: int
    consumers: tuple[str, ...]
    idle: float
    profile: bool
    profile_count: int
    micro_repeat: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Config:
        """Defaults are the full run; ``--quick`` shrinks them; explicit options win."""
        return cls(
            count=args.count or (20_000 if args.quick else 100_000),
            reps=args.reps or (1 if args.quick else 3),
            levels=args.levels,
            rates=tuple(int(r) for r in args.rates.split(",") if r),
            duration=args.duration or (1.0 if args.quick else 5.0),
            burst=args.burst,
            slow=args.slow if args.slow is not None else (10_000 if args.quick else 50_000),
            consumers=args.only,
            idle=args.idle or (1.5 if args.quick else 3.0),
            profile=not args.no_profile,
            profile_count=10_000 if args.quick else 50_000,
            micro_repeat=5 if args.quick else 20,
        )


class Bench:
    """Runs the phases against one feed and fills a ``Results``."""

    def __init__(self, cfg: Config, feed: FeedProcess, results: Results) -> None:
        self.cfg = cfg
        self.feed = feed
        self.res = results
        self.limits = Limits(idle=cfg.idle, deadline=120.0)

    def _run(self, name: str, scenario: Scenario, keep_latency: bool = False,
             slow: Optional[SlowConsumer] = None) -> Run:
        t0 = time.monotonic()
        run = measure(name, Job(self.feed, scenario, self.limits, slow), keep_latency)
        note = " (ended idle)" if run.stalled else ""
        extra = "" if run.dropped is None else f", sub.dropped {run.dropped:,}"
        print(f"  {name:<12} {scenario.mode:<5} n={scenario.count:<7,} levels={scenario.levels:<2}"
              f" -> {run.rate:>9,.0f}/s, lost {run.lost:,}{extra}{note}"
              f"  [{time.monotonic() - t0:.1f}s]", flush=True)
        return run

    def throughput(self) -> None:
        print(f"flood: {self.cfg.count:,} deltas x {self.cfg.reps} reps", flush=True)
        scenario = Scenario(mode="flood", count=self.cfg.count, levels=self.cfg.levels)
        for _ in range(self.cfg.reps):  # interleaved, so drift hits every consumer alike
            for name in self.cfg.consumers:
                self.res.throughput.setdefault(name, []).append(self._run(name, scenario))

    def latency(self) -> None:
        for rate in self.cfg.rates:
            print(f"latency at {rate:,} msgs/s for {self.cfg.duration} s", flush=True)
            scenario = Scenario(mode="rate", count=int(rate * self.cfg.duration),
                                levels=self.cfg.levels, rate=rate)
            for name in (c for c in LATENCY if c in self.cfg.consumers):
                self.res.latency[(name, rate)] = self._run(name, scenario, keep_latency=True)

    def burst(self) -> None:
        if self.cfg.burst <= 0:
            return
        print(f"burst: {self.cfg.burst:,} one-level deltas", flush=True)
        scenario = Scenario(mode="flood", count=self.cfg.burst, levels=1)
        for name in (c for c in BURST if c in self.cfg.consumers):
            self.res.burst[name] = self._run(name, scenario)

    def slow_consumer(self) -> None:
        if self.cfg.slow <= 0:
            return
        slow = SlowConsumer()
        print(f"slow consumer: {self.cfg.slow:,} deltas, pause {slow.seconds * 1e3:g} ms every "
              f"{slow.every}; o2sync queue_size={slow.queue_size:,}", flush=True)
        scenario = Scenario(mode="flood", count=self.cfg.slow, levels=self.cfg.levels)
        for name in (c for c in BURST if c in self.cfg.consumers):
            self.res.slow[name] = self._run(name, scenario, slow=slow)

    def profile(self) -> None:
        if not self.cfg.profile:
            return
        print("profile: per-stage micro-benchmarks, then a live run with cProfile", flush=True)
        self.res.stages = hotpath.stage_costs(repeat=self.cfg.micro_repeat)
        try:
            self.res.live = hotpath.live_profile(self.feed, self.cfg.profile_count, self.limits)
        except AttributeError as exc:  # it hooks an o2sync internal that may have moved
            print(f"  live profile skipped: {exc!r}", flush=True)
