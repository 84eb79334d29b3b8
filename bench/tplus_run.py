"""tplus benchmark (issue 9, "Performance"): o2sync.tplus against tpluspy 0.6.0.

Starts the tplus feed (``tplus_feed.py``) in a separate process, then measures in one
run: decoded depth diffs/s and trades/s (flood) for the exact-decimal ceiling, o2sync
iteration and callbacks and tpluspy (its own virtualenv, a subprocess); a burst;
p50/p99 latency at fixed rates; the time from a sequence gap to a ready, correct
``order_book``. Prints PASS/MISS per goal and always exits 0.

    .venv/bin/python bench/tplus_run.py            # full run, about 3-4 minutes
    .venv/bin/python bench/tplus_run.py --quick    # about 40 s
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
ALL = ("ceiling", "ceiling-float", "ceiling-thread", "o2sync-iter", "o2sync-cb", "o2sync-inline",
       "tpluspy")
STREAMS = ("depth", "trades")
LABELS = {
    "ceiling": "ceiling: recv + json(parse_float=Decimal)",
    "ceiling-float": "recv + json.loads (floats, reference)",
    "ceiling-thread": "ceiling + handoff to a thread",
    "o2sync-iter": "o2sync iteration",
    "o2sync-cb": "o2sync callbacks",
    "o2sync-inline": "o2sync callbacks, inline_callbacks=True",
    "tpluspy": "tpluspy 0.6.0 async for",
}
MIN_VS_TPLUSPY = 1.5
WARMUP_S = 0.1  # latency samples left out at the start of each fixed-rate run


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="o2sync.tplus benchmark against a local tplus feed")
    p.add_argument("--quick", action="store_true", help="short run (about 30-40 s)")
    p.add_argument("--count", type=int, help="events per flood run (100000; quick 20000)")
    p.add_argument("--reps", type=int, help="flood repetitions, median reported (3; quick 1)")
    p.add_argument("--levels", type=int, default=10, help="levels a side in flood diffs")
    p.add_argument("--numbers", choices=("num", "str"), default="num",
                   help="depth levels as JSON numbers (default) or decimal strings")
    p.add_argument("--rates", default="1000,5000", help="fixed rates for latency, msgs/s")
    p.add_argument("--duration", type=float, help="seconds per latency rate (4; quick 0.5)")
    p.add_argument("--burst", type=int, help="burst size (100000; quick 20000; 0 skips it)")
    p.add_argument("--slow", type=int, help="events to a slow consumer (50000; quick 5000; "
                   "0 skips it)")
    p.add_argument("--gap-rate", type=int, default=1000, help="diffs/s in the gap phase")
    p.add_argument("--gaps", type=int, help="sequence gaps in the gap phase (10; quick 4)")
    p.add_argument("--only", default=",".join(ALL), help=f"consumers among {','.join(ALL)}")
    p.add_argument("--idle", type=float, help="end a run after S s without an event (3; quick 2)")
    p.add_argument("--phases", default="flood,latency,burst,gap",
                   help="comma-separated phases among flood,latency,burst,gap")
    p.add_argument("--summary-file", help="also write the JSON summary to this file")
    p.add_argument("--markdown", help="also write the figures as Markdown to this file")
    args = p.parse_args(argv)
    only = {c for c in args.only.split(",") if c}
    if only - set(ALL):
        p.error(f"unknown consumer(s) {sorted(only - set(ALL))}; choose among {ALL}")
    args.only = tuple(c for c in ALL if c in only)
    args.count = args.count or (20_000 if args.quick else 100_000)
    args.reps = args.reps or (1 if args.quick else 3)
    args.duration = args.duration or (0.5 if args.quick else 4.0)
    args.burst = args.burst if args.burst is not None else (20_000 if args.quick else 100_000)
    args.slow = args.slow if args.slow is not None else (5_000 if args.quick else 50_000)
    args.gaps = args.gaps or (3 if args.quick else 10)
    args.idle = args.idle or (2.0 if args.quick else 3.0)
    args.rates = tuple(int(r) for r in args.rates.split(",") if r)
    return args


def percentile_ms(values_ns: list[int], q: float) -> float:
    if not values_ns:
        return math.nan
    ordered = sorted(values_ns)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] / 1e6


def _num(x: Optional[float], fmt: str = ",.0f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


@dataclass
class Gap:
    skipped_k: int
    sent_ns: int  # the gap frame's send time (feed clock = this host's clock)
    ready_ns: int = 0  # the book ready again
    correct: Optional[bool] = None
    stale_ns: int = 0  # the book seen not ready (0: the rebuild was quicker than a wake-up)

    @property
    def ms(self) -> float:
        return (self.ready_ns - self.sent_ns) / 1e6 if self.ready_ns else math.nan

    @property
    def detect_ms(self) -> float:
        return (self.stale_ns - self.sent_ns) / 1e6 if self.stale_ns else math.nan


@dataclass
class Results:
    meta: dict[str, Any]
    flood: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (stream, consumer)
    latency: dict[tuple[str, int, str], Any] = field(default_factory=dict)
    burst: dict[tuple[str, str], Any] = field(default_factory=dict)
    slow: dict[tuple[str, str], Any] = field(default_factory=dict)
    rtt_ms: list[float] = field(default_factory=list)  # REST snapshot, idle
    rtt_busy_ms: list[float] = field(default_factory=list)  # while diffs stream at gap_rate
    gaps: list[Gap] = field(default_factory=list)
    gap_book: dict[str, Any] = field(default_factory=dict)

    def median(self, stream: str, consumer: str) -> float:
        runs = self.flood.get((stream, consumer), [])
        return statistics.median(r.rate for r in runs) if runs else math.nan

    def ratio(self, stream: str, a: str, b: str) -> float:
        den = self.median(stream, b)
        return self.median(stream, a) / den if den and not math.isnan(den) else math.nan


class Bench:
    def __init__(self, args: argparse.Namespace, feed: Any, res: Results) -> None:
        from consumers import Limits
        from tplus_messages import ASSET0

        self.args = args
        self.feed = feed
        self.res = res
        self.limits = Limits(idle=args.idle, deadline=120.0)
        self.asset = ASSET0

    def next_asset(self) -> int:
        self.asset += 1
        return self.asset

    def run(self, name: str, scenario: Any, keep: bool = False, slow: Any = None,
            loss: bool = False) -> Any:
        """One consumer run; ``keep``: latency samples; ``loss``: record every key to
        tell diffs healed by a snapshot from lost ones."""
        from tplus_consumers import Job, measure

        t0 = time.monotonic()
        asset = self.next_asset()
        run = measure(name, Job(self.feed, scenario, asset, self.limits, slow),
                      keep or loss)
        if keep:
            run.latencies_ns = self._latencies(run, asset)
        extra = "" if run.dropped is None else f", sub.dropped {run.dropped:,}"
        note = " (ended idle)" if run.stalled else ""
        print(f"  {scenario.stream:<6} {name:<13} {scenario.mode:<5} n={scenario.count:<7,}"
              f" -> {run.rate:>9,.0f}/s, lost {run.lost:,}{extra}{note}"
              f"  [{time.monotonic() - t0:.1f}s]", flush=True)
        return run

    def _latencies(self, run: Any, asset: int) -> list[int]:
        """Send -> receive, leaving out the first 100 ms of every run (connection
        warm-up; the same for every consumer)."""
        skip = int(run.scenario.rate * WARMUP_S)
        if run.scenario.stream == "trades":
            return [t - k for k, t in run.pairs[skip:]]
        from tplus_messages import SEQ0

        batches = self.feed.sent(str(asset))["batches"]
        lasts = [b[1] for b in batches]
        out = []
        for seq, t in run.pairs[skip:]:
            i = bisect.bisect_left(lasts, seq - SEQ0)
            if i < len(batches):
                out.append(t - batches[i][2])
        return out

    # ------------------------------------------------------------ phases

    def flood(self) -> None:
        from tplus_feed import Scenario

        a = self.args
        print(f"flood: {a.count:,} events x {a.reps} reps, {a.levels} levels a side", flush=True)
        for _ in range(a.reps):
            for stream in STREAMS:
                sc = Scenario(stream=stream, mode="flood", count=a.count, levels=a.levels,
                              numbers=a.numbers)
                for name in a.only:
                    self.res.flood.setdefault((stream, name), []).append(self.run(name, sc))

    def latency(self) -> None:
        from tplus_feed import Scenario

        a = self.args
        names = [n for n in a.only if n != "ceiling-float"]
        for rate in a.rates:
            print(f"latency at {rate:,} msgs/s for {a.duration} s", flush=True)
            for stream in STREAMS:
                sc = Scenario(stream=stream, mode="rate", rate=rate,
                              count=int(rate * a.duration), levels=a.levels, numbers=a.numbers)
                for name in names:
                    self.res.latency[(stream, rate, name)] = self.run(name, sc, keep=True)

    def burst(self) -> None:
        from tplus_consumers import Slow
        from tplus_feed import Scenario

        a = self.args
        if a.burst > 0:
            print(f"burst: {a.burst:,} events as fast as possible (depth: one level a side)",
                  flush=True)
        for stream in STREAMS if a.burst > 0 else ():
            sc = Scenario(stream=stream, mode="flood", count=a.burst, levels=1,
                          numbers=a.numbers)
            for name in (n for n in a.only if n in ("o2sync-iter", "o2sync-cb", "tpluspy")):
                self.res.burst[(stream, name)] = self.run(name, sc, loss=True)
        if a.slow <= 0:
            return
        slow = Slow()
        print(f"slow consumer: {a.slow:,} events, pause {slow.seconds * 1e3:g} ms every "
              f"{slow.every}; o2sync queue_size={slow.queue_size:,}", flush=True)
        for stream in STREAMS:
            sc = Scenario(stream=stream, mode="flood", count=a.slow, levels=1,
                          numbers=a.numbers)
            for name in (n for n in a.only if n in ("o2sync-iter", "o2sync-cb", "tpluspy")):
                self.res.slow[(stream, name)] = self.run(name, sc, slow=slow, loss=True)

    def gap(self) -> None:
        """``md.order_book(asset)`` over a paced diff stream with ``--gaps`` skipped
        sequence numbers: from each gap frame's send time to the book ready again."""
        from tplus_feed import Scenario
        from tplus_messages import SEQ0, true_book

        from o2sync.tplus import MarketDataClient

        a = self.args
        rate, spacing = a.gap_rate, max(a.gap_rate // 2, 50)
        gap_at = [rate + i * spacing for i in range(a.gaps)]  # the first after 1 s
        count = gap_at[-1] + rate
        print(f"gap recovery: order_book over {count:,} diffs at {rate:,}/s, "
              f"{a.gaps} gaps", flush=True)
        with MarketDataClient(self.feed.base_url) as md:
            probe = self.next_asset()
            self.feed.setup(Scenario(count=0), probe)
            for _ in range(30):  # the REST round trip the book pays
                t0 = time.perf_counter_ns()
                md.get_orderbook_snapshot(probe)
                self.res.rtt_ms.append((time.perf_counter_ns() - t0) / 1e6)
            asset = self.next_asset()
            sc = Scenario(mode="rate", rate=rate, count=count, levels=a.levels,
                          numbers=a.numbers, gap_at=",".join(map(str, gap_at)))
            self.feed.setup(sc, asset)
            book = md.order_book(asset)
            if not book.wait_ready(10):
                print("  the book never became ready", flush=True)
                return
            for _ in range(20):  # the same round trip while the book's stream runs
                time.sleep(0.01)
                t0 = time.perf_counter_ns()
                md.get_orderbook_snapshot(probe)
                self.res.rtt_busy_ms.append((time.perf_counter_ns() - t0) / 1e6)
            ready_at, stale_at, checks = self._watch(book, a.gaps, count / rate + 5, a.levels)
            book.wait_update(1.0)
            deadline = time.monotonic() + 5
            while book.sequence_number < SEQ0 + count and time.monotonic() < deadline:
                book.wait_update(0.2)
            final = _consistent(book)
            self.res.gap_book = {
                "gaps_counted": book.gaps, "resets": book.resets,
                "final_seq": final[0] - SEQ0, "expected_final_seq": count,
                "final_correct": _matches(final, a.levels, true_book)}
            book.close()
        sent = self.feed.sent(str(asset))["gaps"]
        for i, (k, ns) in enumerate(sent):
            g = Gap(k, ns)
            if i < len(ready_at):
                g.ready_ns, g.stale_ns, g.correct = ready_at[i], stale_at[i], checks[i]
            self.res.gaps.append(g)
            print(f"  gap at diff {k:,}: seen stale after {g.detect_ms:.2f} ms, ready again "
                  f"after {g.ms:.2f} ms, correct={g.correct}", flush=True)

    def _watch(self, book: Any, gaps: int, seconds: float, levels: int
               ) -> tuple[list[int], list[int], list[bool]]:
        """Wake on every book change; record when each gap makes the book stale and
        when its rebuild makes it ready again (and whether it is then correct)."""
        from tplus_messages import true_book

        ready_at: list[int] = []
        stale_at: list[int] = []
        checks: list[bool] = []
        resets, seen, stale = book.resets, book.version, 0
        deadline = time.monotonic() + seconds
        while len(ready_at) < gaps and time.monotonic() < deadline:
            book._wait(lambda: book.version != seen, 0.05)  # noqa: B023
            seen = book.version
            if not stale and not book.is_ready:
                stale = time.time_ns()
            if book.resets > resets and book.is_ready:
                now = time.time_ns()
                resets = book.resets
                ready_at.append(now)
                stale_at.append(stale)
                stale = 0
                checks.append(_matches(_consistent(book), levels, true_book))
        return ready_at, stale_at, checks


def _consistent(book: Any) -> tuple[int, dict[str, Any]]:
    for _ in range(10):
        s1 = book.sequence_number
        snap = book.snapshot()
        if book.sequence_number == s1:
            return s1, snap
    return s1, snap


def _matches(state: tuple[int, dict[str, Any]], levels: int, true_book: Any) -> bool:
    """The book equals the feed's true book at its sequence number (or the one before:
    the reader sets the number just before it applies the diff)."""
    from tplus_messages import SEQ0

    seq, snap = state
    mine = ([tuple(x) for x in snap["buys"]], [tuple(x) for x in snap["sells"]])
    for k in (seq - SEQ0, seq - SEQ0 - 1):
        bids, asks = true_book(k, levels)
        if mine == (list(bids), list(asks)):
            return True
    return False


# ------------------------------------------------------------------ report


def _table(headers: list[str], rows: list[list[str]], md: bool = False) -> str:
    if md:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    from report import _table as text_table

    return text_table(headers, rows)


def _loss_table(phase: dict[tuple[str, str], Any], md: bool) -> str:
    rows = []
    for (stream, name), run in phase.items():
        counted = run.dropped is not None
        rows.append([stream, LABELS[name], f"{run.expected:,}", f"{run.received:,}",
                     f"{run.lost:,}", f"{run.healed:,}" if counted else "-",
                     f"{run.dropped:,}" if counted else "-",
                     f"{int(run.stats.get('ignored', 0)):,}" if counted else "-",
                     f"{run.unaccounted:,}" if counted else
                     (f"{run.lost:,} (counts nothing)" if run.lost else "0"),
                     str(run.snapshots), _num(run.rate)])
    return _table(["stream", "consumer", "sent", "received", "lost", "in a snapshot",
                   "sub.dropped", "ignored", "uncounted", "snapshots", "recv/s"], rows, md)


def tables(res: Results, md: bool = False) -> list[tuple[str, str]]:
    out = []
    rows = []
    for (stream, name), runs in res.flood.items():
        rates = [r.rate for r in runs]
        rows.append([stream, LABELS[name], _num(statistics.median(rates)), _num(min(rates)),
                     _num(max(rates)), _num(res.ratio(stream, name, "tpluspy"), ".2f"),
                     _num(res.ratio(stream, name, "ceiling"), ".2f"),
                     f"{sum(r.lost for r in runs):,}"])
    if rows:
        out.append(("THROUGHPUT (flood, decoded events/s at the consumer; median of reps)",
                    _table(["stream", "consumer", "median/s", "min/s", "max/s", "x tpluspy",
                            "x ceiling", "lost"], rows, md)))
    rows = []
    for (stream, rate, name), run in res.latency.items():
        lat = run.latencies_ns
        rows.append([stream, f"{rate:,}", LABELS[name], f"{len(lat):,}",
                     _num(percentile_ms(lat, 0.5), ".3f"), _num(percentile_ms(lat, 0.99), ".3f"),
                     _num(percentile_ms(lat, 1.0), ".3f"), f"{run.lost:,}"])
    if rows:
        out.append(("LATENCY (feed send -> consumer holds the decoded event; first 100 ms "
                    "of each run left out)",
                    _table(["stream", "msgs/s", "consumer", "samples", "p50 ms", "p99 ms",
                            "max ms", "lost"], rows, md)))
    for phase, title in ((res.burst, "BURST (as fast as possible; one-level diffs; o2sync "
                                     "default queue_size 10,000)"),
                         (res.slow, "SLOW CONSUMER (pauses 2 ms every 50 events; o2sync "
                                    "queue_size 1,000)")):
        if phase:
            out.append((title, _loss_table(phase, md)))
    if res.gaps:
        rows = [[f"{g.skipped_k:,}", _num(g.detect_ms, ".2f"), _num(g.ms, ".2f"), str(g.correct)]
                for g in res.gaps]
        out.append(("GAP RECOVERY (order_book: from the gap frame's send time)",
                    _table(["skipped diff", "ms to not ready", "ms to ready again",
                            "correct"], rows, md)))
    return out


@dataclass
class Target:
    name: str
    ok: Optional[bool]
    detail: str

    def line(self) -> str:
        verdict = "n/a " if self.ok is None else ("PASS" if self.ok else "MISS")
        return f"[{verdict}] {self.name}: {self.detail}"


def gap_budget(res: Results) -> tuple[float, str]:
    """One REST round trip (median) + the diffs in flight: the gap frame's own delivery
    (o2sync iteration p99 at that rate, from the latency phase) and the diffs buffered
    during the fetch replayed at o2sync's flood rate."""
    rate = res.meta["gap_rate"]
    rtts = res.rtt_busy_ms or res.rtt_ms
    rtt = statistics.median(rtts) if rtts else math.nan
    run = res.latency.get(("depth", rate, "o2sync-iter"))
    p99 = percentile_ms(run.latencies_ns, 0.99) if run else 1.0
    flood = res.median("depth", "o2sync-iter")
    buffered = rate * rtt / 1e3 + 1
    replay = buffered / flood * 1e3 if flood and not math.isnan(flood) else 0.0
    budget = rtt + p99 + replay
    return budget, (f"REST RTT p50 {rtt:.2f} ms (while streaming) + delivery p99 {p99:.2f} ms + "
                    f"{buffered:.1f} buffered diffs replayed {replay:.3f} ms = {budget:.2f} ms")


def targets(res: Results) -> list[Target]:
    out = []
    for stream in STREAMS:
        for name in ("o2sync-iter", "o2sync-cb"):
            if (stream, name) not in res.flood or (stream, "tpluspy") not in res.flood:
                continue
            r = res.ratio(stream, name, "tpluspy")
            out.append(Target(f"{stream} {name} >= {MIN_VS_TPLUSPY}x tpluspy",
                              None if math.isnan(r) else r >= MIN_VS_TPLUSPY,
                              f"{r:.2f}x ({res.median(stream, name):,.0f}/s vs "
                              f"{res.median(stream, 'tpluspy'):,.0f}/s)"))
    o2 = [r for runs in res.flood.values() for r in runs if r.dropped is not None]
    o2 += [r for r in (*res.burst.values(), *res.slow.values()) if r.dropped is not None]
    o2 += [r for r in res.latency.values() if r.dropped is not None]
    if o2:
        lost = sum(r.lost for r in o2)
        unc = sum(r.unaccounted for r in o2)
        out.append(Target("o2sync: 0 uncounted loss", unc == 0,
                          f"{lost:,} lost over {len(o2)} flood/latency/burst/slow runs, "
                          f"{unc:,} neither in a later snapshot nor counted in sub.dropped or "
                          f"stats()['ignored']"))
    tp = [r for k, runs in res.flood.items() if k[1] == "tpluspy" for r in runs]
    tp += [r for k, r in (*res.burst.items(), *res.slow.items()) if k[1] == "tpluspy"]
    if tp:
        lost = sum(r.lost for r in tp)
        out.append(Target("tpluspy: 0 loss (it counts nothing)", lost == 0,
                          f"{lost:,} lost over {len(tp)} flood/burst/slow runs (for information)"))
    if res.gaps:
        budget, how = gap_budget(res)
        times = [g.ms for g in res.gaps]
        med = statistics.median(times)
        correct = all(g.correct for g in res.gaps) and res.gap_book.get("final_correct")
        out.append(Target("gap -> ready within one REST round trip + the diffs in flight",
                          None if math.isnan(med) else med <= budget,
                          f"median {med:.2f} ms, max {max(times):.2f} ms over {len(times)} "
                          f"gaps; budget {how}"))
        out.append(Target("book correct after every rebuild and at the end", bool(correct),
                          f"{sum(bool(g.correct) for g in res.gaps)}/{len(res.gaps)} rebuilds "
                          f"equal the true book; final {res.gap_book}"))
    return out


#: issue 12 "close to the wire" goals, both venues alike
MIN_VS_CEILING = {"o2sync-iter": 0.85, "o2sync-cb": 0.80}
MAX_P99_VS_CEILING = 1.3


def close_to_the_wire(res: Results) -> list[Target]:
    """Issue 12's throughput and p99 goals per stream, with the p99 of the threaded
    floor (a reader thread handing each message to the consumer) for information."""
    out = []
    for stream in STREAMS:
        for name, bound in MIN_VS_CEILING.items():
            if (stream, name) in res.flood and (stream, "ceiling") in res.flood:
                r = res.ratio(stream, name, "ceiling")
                out.append(Target(f"{stream} {name} throughput >= {bound:.2f} of the ceiling",
                                  None if math.isnan(r) else r >= bound, f"{r:.2f}"))
        p99 = {n: _p99(res, stream, n) for n in (*MIN_VS_CEILING, "ceiling", "ceiling-thread")}
        for name in MIN_VS_CEILING:
            if math.isnan(p99[name]) or math.isnan(p99["ceiling"]):
                continue
            ratio = p99[name] / p99["ceiling"]
            floor = ("" if math.isnan(p99["ceiling-thread"]) else
                     f"; threaded floor {p99['ceiling-thread']:.3f} ms, floor/ceiling "
                     f"{p99['ceiling-thread'] / p99['ceiling']:.2f}, {name}/floor "
                     f"{p99[name] / p99['ceiling-thread']:.2f}")
            out.append(Target(f"{stream} {name} p99 at 1,000 msgs/s <= {MAX_P99_VS_CEILING}x "
                              f"the ceiling's", ratio <= MAX_P99_VS_CEILING,
                              f"{p99[name]:.3f} / {p99['ceiling']:.3f} ms = {ratio:.2f}{floor}"))
    return out


def _p99(res: Results, stream: str, name: str) -> float:
    run = res.latency.get((stream, 1000, name))
    return percentile_ms(run.latencies_ns, 0.99) if run else math.nan


def summary(res: Results) -> dict[str, Any]:
    out: dict[str, Any] = {"meta": res.meta}
    out["flood"] = {f"{s}/{n}": {"median": round(res.median(s, n)),
                                 "runs": [round(r.rate) for r in runs]}
                    for (s, n), runs in res.flood.items()}
    out["latency_ms"] = {f"{s}@{rate}/{n}": {"p50": round(percentile_ms(r.latencies_ns, .5), 4),
                                             "p99": round(percentile_ms(r.latencies_ns, .99), 4)}
                         for (s, rate, n), r in res.latency.items()}
    out["burst"] = {f"{s}/{n}": {"sent": r.expected, "received": r.received,
                                 "dropped": r.dropped, "unaccounted": r.unaccounted}
                    for (s, n), r in res.burst.items()}
    out["slow"] = {f"{s}/{n}": {"sent": r.expected, "received": r.received,
                                "dropped": r.dropped, "unaccounted": r.unaccounted,
                                "snapshots": r.snapshots}
                   for (s, n), r in res.slow.items()}
    out["gaps_ms"] = [round(g.ms, 3) for g in res.gaps]
    out["rest_rtt_ms_p50"] = round(statistics.median(res.rtt_ms), 3) if res.rtt_ms else None
    out["rest_rtt_busy_ms_p50"] = (round(statistics.median(res.rtt_busy_ms), 3)
                                   if res.rtt_busy_ms else None)
    out["targets"] = {t.name: t.ok for t in targets(res)}
    out["issue12"] = {t.name: t.ok for t in close_to_the_wire(res)}
    return out


def header(res: Results) -> str:
    m = res.meta
    return (f"o2sync.tplus benchmark | o2sync {m['o2sync']} ({m['git']}) | Python {m['python']}"
            f" | o2sync.tplus JSON: {m['tplus_json']} (O2 side: {m['json_backend']}) | "
            f"tpluspy {m['tpluspy']} | {m['cpus']} CPUs | load avg {m['loadavg']}\n"
            f"flood {m['count']:,} x {m['reps']} reps, {m['levels']} levels a side, depth "
            f"numbers as {m['numbers']}; latency {m['duration']} s per rate; burst "
            f"{m['burst']:,}; gaps {m['gaps']} at {m['gap_rate']:,} diffs/s")


def _rtt_lines(res: Results) -> list[str]:
    out = []
    for what, rtts in (("idle", res.rtt_ms), ("while the book's diffs stream", res.rtt_busy_ms)):
        if rtts:
            out.append(f"REST snapshot round trip (o2sync get_orderbook_snapshot, {what}, "
                       f"{len(rtts)} GETs): p50 {statistics.median(rtts):.2f} ms, "
                       f"max {max(rtts):.2f} ms")
    return out


def render(res: Results) -> str:
    parts = ["", "=" * 100, header(res), "=" * 100]
    for title, table in tables(res):
        parts += ["", title, table]
    parts += _rtt_lines(res)
    parts += ["", "GOALS (issue 9)", *(t.line() for t in targets(res))]
    parts += ["", "GOALS (issue 12, close to the wire)",
              *(t.line() for t in close_to_the_wire(res))]
    parts += ["", "BENCH_SUMMARY " + json.dumps(summary(res), separators=(",", ":"))]
    return "\n".join(parts)


def markdown(res: Results) -> str:
    parts = ["# tplus benchmark figures", "", "```", header(res), "```"]
    for title, table in tables(res, md=True):
        parts += ["", f"**{title}**", "", table]
    parts += ["", *_rtt_lines(res)]
    parts += ["", "**Goals (issue 9)**", ""]
    parts += [f"- {t.line()}" for t in targets(res)]
    parts += ["", "**Goals (issue 12, close to the wire)**", ""]
    parts += [f"- {t.line()}" for t in close_to_the_wire(res)]
    return "\n".join(parts) + "\n"


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    import subprocess

    from procstat import git_rev
    from tplus_consumers import tpluspy_python

    import o2sync
    from o2sync._json import BACKEND

    tp = "not run"
    if "tpluspy" in args.only:
        python = tpluspy_python()
        tp = subprocess.run([str(python), "-c", "import importlib.metadata as m, sys; "
                             "print(m.version('tpluspy'), 'websockets', m.version('websockets'),"
                             " 'pydantic', m.version('pydantic'))"],
                            capture_output=True, text=True, timeout=60).stdout.strip()
    return {"o2sync": getattr(o2sync, "__version__", "?"), "git": git_rev(),
            "python": platform.python_version(), "json_backend": BACKEND,
            "tplus_json": "stdlib json, parse_float=Decimal", "tpluspy": tp,
            "cpus": os.cpu_count(), "loadavg": round(os.getloadavg()[0], 2),
            "count": args.count, "reps": args.reps, "levels": args.levels,
            "numbers": "JSON numbers" if args.numbers == "num" else "decimal strings",
            "duration": args.duration, "burst": args.burst, "gaps": args.gaps,
            "gap_rate": args.gap_rate}


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL, format="%(name)s: %(message)s")
    for name in ("o2sync", "websockets", "websocket", "tplus"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    from tplus_feed import TplusFeedProcess

    started = time.monotonic()
    res = Results(meta=_meta(args))
    feed = TplusFeedProcess()
    try:
        feed.__enter__()
        print(f"tplus feed pid {feed.proc.pid if feed.proc else '?'} at {feed.base_url}",
              flush=True)
        bench = Bench(args, feed, res)
        wanted = set(args.phases.split(","))
        for phase in (p for p in (bench.flood, bench.latency, bench.burst, bench.gap)
                      if p.__name__ in wanted):
            try:
                phase()
            except Exception as exc:  # a measurement, not a test: report and go on
                print(f"  {phase.__name__} phase failed: {exc!r}", flush=True)
    finally:
        feed.__exit__()  # terminates the feed process by its pid
    res.meta["wall_s"] = round(time.monotonic() - started, 1)
    print(render(res))
    if args.summary_file:
        Path(args.summary_file).write_text(json.dumps(summary(res), indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown(res))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
