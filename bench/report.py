"""Tables, targets (PASS/MISS) and the one-line JSON summary of a benchmark run."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Optional

from consumers import Run
from hotpath import LiveProfile, Stage, top_functions

LABELS = {
    "recv": "recv only, no JSON (feed check)",
    "ceiling": "(a) ceiling: recv + loads",
    "ceiling-thread": "(a2) ceiling + handoff to a thread",
    "o2sync-iter": "(b) o2sync stream_depth iteration",
    "o2sync-cb": "(c) o2sync on_depth callbacks",
    "o2sync-inline": "(c2) o2sync on_depth, inline_callbacks=True",
    "o2-sdk": "(d) o2-sdk async stream_depth",
}

#: issue 3 "Speed" targets
MIN_VS_SDK = 1.0
MIN_VS_CEILING = 0.5
MAX_P99_MS_AT_1K = 1.5


@dataclass
class Results:
    """Everything one benchmark run measured."""

    meta: dict[str, Any]
    throughput: dict[str, list[Run]] = field(default_factory=dict)
    latency: dict[tuple[str, int], Run] = field(default_factory=dict)
    burst: dict[str, Run] = field(default_factory=dict)
    slow: dict[str, Run] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    live: Optional[LiveProfile] = None

    def median_rate(self, consumer: str) -> float:
        runs = self.throughput.get(consumer, [])
        return statistics.median(r.rate for r in runs) if runs else math.nan

    def flood_lost(self, consumer: str) -> int:
        return sum(r.lost for r in self.throughput.get(consumer, []))

    def ratio(self, a: str, b: str) -> float:
        den = self.median_rate(b)
        return self.median_rate(a) / den if den and not math.isnan(den) else math.nan


def percentile_ms(values_ns: list[int], q: float) -> float:
    """Nearest-rank percentile of nanosecond samples, in milliseconds."""
    if not values_ns:
        return math.nan
    ordered = sorted(values_ns)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] / 1e6


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(headers, widths)))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)


def _num(x: float, fmt: str = ",.0f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _loss_columns(runs: list[Run]) -> list[str]:
    """lost, sub.dropped, ignored, unaccounted, summed over runs ('-' if not o2sync)."""
    lost = f"{sum(r.lost for r in runs):,}"
    if runs[0].dropped is None:
        return [lost, "-", "-", "-"]
    return [lost, f"{sum(r.dropped or 0 for r in runs):,}",
            f"{sum(int(r.stats.get('ignored', 0)) for r in runs):,}",
            f"{sum(r.unaccounted for r in runs):,}"]


def throughput_table(res: Results) -> str:
    ceiling = res.median_rate("ceiling")
    rows = []
    for name, runs in res.throughput.items():
        rates = [r.rate for r in runs]
        median = statistics.median(rates)
        rows.append([LABELS[name], _num(median), _num(min(rates)), _num(max(rates)),
                     _num(median / ceiling, ".2f"), *_loss_columns(runs)])
    return _table(["consumer", "median/s", "min/s", "max/s", "x ceil", "lost", "sub.dropped",
                   "ignored", "unaccounted"], rows)


def latency_table(res: Results) -> str:
    rows = []
    for (name, rate), run in res.latency.items():
        lat = run.latencies_ns
        rows.append([LABELS[name], f"{rate:,}", f"{len(lat):,}",
                     _num(percentile_ms(lat, 0.5), ".3f"), _num(percentile_ms(lat, 0.99), ".3f"),
                     _num(percentile_ms(lat, 0.999), ".3f"), _num(percentile_ms(lat, 1.0), ".3f"),
                     f"{run.lost:,}"])
    return _table(["consumer", "msgs/s", "samples", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
                   "lost"], rows)


def loss_table(runs: dict[str, Run]) -> str:
    """Sent, received, lost, and how o2sync accounted for each loss."""
    rows = []
    for name, run in runs.items():
        o2 = run.dropped is not None
        rows.append([LABELS[name], f"{run.scenario.count:,}", f"{run.received:,}",
                     f"{run.lost:,}", f"{run.lost / run.scenario.count:.1%}",
                     f"{run.dropped:,}" if o2 else "-",
                     f"{run.stats.get('ignored', 0):,}" if o2 else "-",
                     f"{run.unaccounted:,}" if o2 else "(not counted)",
                     f"{max(run.snapshots - 1, 0)}", _num(run.rate)])
    return _table(["consumer", "sent", "received", "lost", "lost %", "sub.dropped", "ignored",
                   "unaccounted", "resyncs", "recv/s"], rows)


def stages_table(stages: list[Stage]) -> str:
    rows = [[s.name, str(s.levels), _num(s.us, ".2f"),
             _num(1e6 / s.us if s.us else math.nan)] for s in stages]
    return _table(["stage (single thread, no socket)", "levels", "us/msg", "max msgs/s"], rows)


def live_table(live: LiveProfile) -> str:
    per_msg = 1e6 / live.messages
    g = live.gc
    out = [f"plain run: {live.rate:,.0f} deltas/s over {live.messages:,} messages; "
           f"cyclic GC off: {live.rate_without_gc:,.0f}/s; after gc.freeze(): "
           f"{live.rate_frozen_gc:,.0f}/s; under cProfile: "
           f"{live.profiled_rate:,.0f}/s",
           f"  cyclic GC: {g.seconds * per_msg:.1f} us/msg in pauses "
           f"(gen0/1/2 passes: {g.passes[0]}/{g.passes[1]}/{g.passes[2]})"]
    for tp in live.threads:
        out.append(f"  {tp.thread} thread: CPU {tp.cpu_s * per_msg:.1f} us/msg")
    for tp in live.threads:
        if tp.profile is None:
            continue
        rows = [[f.label, _num(f.calls_per_msg, ".2f"), _num(100 * f.own_share, ".1f"),
                 _num(100 * f.cum_share, ".1f")]
                for f in top_functions(tp.profile, live.messages)]
        out.append("")
        out.append(f"cProfile, {tp.thread} thread (own time share of that thread):")
        out.append(_table(["function", "calls/msg", "own %", "cum %"], rows))
    return "\n".join(out)


# ------------------------------------------------------------------ targets


@dataclass
class Target:
    name: str
    ok: Optional[bool]  # None: not measured
    detail: str

    def line(self) -> str:
        verdict = "n/a " if self.ok is None else ("PASS" if self.ok else "MISS")
        return f"[{verdict}] {self.name}: {self.detail}"


def targets(res: Results) -> list[Target]:
    """Issue 3's targets for (b), plus the same checks on (c) for information."""
    out = []
    for name, tag in (("o2sync-iter", "(b)"), ("o2sync-cb", "(c)")):
        if name not in res.throughput:
            continue
        vs_sdk, vs_ceiling = res.ratio(name, "o2-sdk"), res.ratio(name, "ceiling")
        out.append(Target(f"{tag} >= {MIN_VS_SDK:.1f}x o2-sdk throughput", _ge(vs_sdk, MIN_VS_SDK),
                          f"{vs_sdk:.2f}x"))
        out.append(Target(f"{tag} >= {MIN_VS_CEILING:.0%} of the ceiling",
                          _ge(vs_ceiling, MIN_VS_CEILING), f"{vs_ceiling:.0%}"))
        out.append(_loss_target(res, name, tag))
        run = res.latency.get((name, 1000))
        p99 = percentile_ms(run.latencies_ns, 0.99) if run else math.nan
        out.append(Target(f"{tag} p99 <= {MAX_P99_MS_AT_1K} ms at 1,000 msgs/s",
                          None if math.isnan(p99) else p99 <= MAX_P99_MS_AT_1K,
                          f"p99 {p99:.3f} ms"))
    return out


#: issue 12 "close to the wire" goals that run.py measures
MIN_ITER_VS_CEILING = 0.85
MIN_CB_VS_CEILING = 0.80
MAX_P99_VS_CEILING = 1.3


def close_to_the_wire(res: Results) -> list[Target]:
    """Issue 12's throughput and p99 goals, and the p99 against the threaded floor
    (a2) for information: what one handoff between threads costs by itself."""
    out = []
    for name, tag, bound in (("o2sync-iter", "(b)", MIN_ITER_VS_CEILING),
                             ("o2sync-cb", "(c)", MIN_CB_VS_CEILING)):
        if name in res.throughput and "ceiling" in res.throughput:
            ratio = res.ratio(name, "ceiling")
            out.append(Target(f"{tag} throughput >= {bound:.2f} of the ceiling",
                              _ge(ratio, bound), f"{ratio:.2f}"))
    for name, tag in (("o2sync-iter", "(b)"), ("o2sync-cb", "(c)")):
        p99 = {n: _p99_at_1k(res, n) for n in (name, "ceiling", "ceiling-thread")}
        if math.isnan(p99[name]) or math.isnan(p99["ceiling"]):
            continue
        ratio = p99[name] / p99["ceiling"]
        floor = (f"; (a2) threaded floor {p99['ceiling-thread']:.3f} ms, (a2)/(a) "
                 f"{p99['ceiling-thread'] / p99['ceiling']:.2f}, {tag}/(a2) "
                 f"{p99[name] / p99['ceiling-thread']:.2f}"
                 if not math.isnan(p99["ceiling-thread"]) else "")
        out.append(Target(f"{tag} p99 at 1,000 msgs/s <= {MAX_P99_VS_CEILING}x the ceiling's",
                          ratio <= MAX_P99_VS_CEILING,
                          f"{p99[name]:.3f} / {p99['ceiling']:.3f} ms = {ratio:.2f}{floor}"))
    return out


#: issue 21 goals that run.py measures (O2)
MIN_ITER_VS_CEILING_21 = 1.0
MIN_CB_VS_CEILING_21 = 0.95
MIN_VS_SDK_21 = 1.7
MAX_DEFAULT_P99_VS_FLOOR = 1.1


def issue21(res: Results) -> list[Target]:
    """Issue 21's O2 goals: throughput against the ceiling and o2-sdk; the inline
    mode's p99 at 1,000 msgs/s against o2-sdk's, the default callbacks' against the
    threaded floor (a2)."""
    out = []
    for name, tag, bound in (("o2sync-iter", "(b)", MIN_ITER_VS_CEILING_21),
                             ("o2sync-cb", "(c)", MIN_CB_VS_CEILING_21)):
        if name not in res.throughput:
            continue
        if "ceiling" in res.throughput:
            ratio = res.ratio(name, "ceiling")
            out.append(Target(f"{tag} throughput >= {bound:.2f} of the ceiling",
                              _ge(ratio, bound), f"{ratio:.2f}"))
        if "o2-sdk" in res.throughput:
            ratio = res.ratio(name, "o2-sdk")
            out.append(Target(f"{tag} throughput >= {MIN_VS_SDK_21}x o2-sdk",
                              _ge(ratio, MIN_VS_SDK_21), f"{ratio:.2f}x"))
    p99 = {n: _p99_at_1k(res, n) for n in LABELS}
    if not (math.isnan(p99["o2sync-inline"]) or math.isnan(p99["o2-sdk"])):
        out.append(Target("(c2) inline p99 at 1,000 msgs/s <= o2-sdk's",
                          p99["o2sync-inline"] <= p99["o2-sdk"],
                          f"{p99['o2sync-inline']:.3f} vs {p99['o2-sdk']:.3f} ms"))
    for name, tag in (("o2sync-iter", "(b)"), ("o2sync-cb", "(c)")):
        if not (math.isnan(p99[name]) or math.isnan(p99["ceiling-thread"])):
            ratio = p99[name] / p99["ceiling-thread"]
            out.append(Target(f"{tag} p99 at 1,000 msgs/s <= {MAX_DEFAULT_P99_VS_FLOOR}x "
                              "the threaded floor (a2)", ratio <= MAX_DEFAULT_P99_VS_FLOOR,
                              f"{p99[name]:.3f} / {p99['ceiling-thread']:.3f} ms = {ratio:.2f}"))
    return out


def _p99_at_1k(res: Results, name: str) -> float:
    run = res.latency.get((name, 1000))
    return percentile_ms(run.latencies_ns, 0.99) if run else math.nan


def _ge(x: float, bound: float) -> Optional[bool]:
    return None if math.isnan(x) else x >= bound


def _loss_target(res: Results, name: str, tag: str) -> Target:
    runs = [*res.throughput.get(name, []),
            *(phase[name] for phase in (res.burst, res.slow) if name in phase)]
    lost = sum(r.lost for r in runs)
    unaccounted = sum(r.unaccounted for r in runs)
    resyncs = sum(max(r.snapshots - 1, 0) for r in runs)
    detail = (f"{lost:,} lost over {len(runs)} flood/burst/slow runs, {unaccounted:,} of them "
              f"not counted in sub.dropped or stats()['ignored']; {resyncs} resyncs")
    return Target(f"{tag} zero events lost (or every loss counted)", unaccounted == 0, detail)


def summary(res: Results) -> dict[str, Any]:
    """The one-line JSON summary."""
    out: dict[str, Any] = {"meta": res.meta}
    out["throughput"] = {n: {"median": round(res.median_rate(n)),
                             "runs": [round(r.rate) for r in runs],
                             "lost": res.flood_lost(n)}
                         for n, runs in res.throughput.items()}
    out["ratios"] = {k: round(res.ratio(a, b), 3) for k, a, b in (
        ("b/a", "o2sync-iter", "ceiling"), ("b/d", "o2sync-iter", "o2-sdk"),
        ("c/a", "o2sync-cb", "ceiling"), ("c/d", "o2sync-cb", "o2-sdk"),
        ("c2/a", "o2sync-inline", "ceiling"), ("c2/d", "o2sync-inline", "o2-sdk"))
        if a in res.throughput and b in res.throughput}
    out["latency_ms"] = {f"{n}@{rate}": {"p50": round(percentile_ms(r.latencies_ns, 0.5), 4),
                                         "p99": round(percentile_ms(r.latencies_ns, 0.99), 4),
                                         "lost": r.lost}
                         for (n, rate), r in res.latency.items()}
    for phase, runs in (("burst", res.burst), ("slow", res.slow)):
        out[phase] = {n: _loss_summary(r) for n, r in runs.items()}
    out["targets"] = {t.name: t.ok for t in targets(res)}
    out["issue12"] = {t.name: t.ok for t in close_to_the_wire(res)}
    out["issue21"] = {t.name: t.ok for t in issue21(res)}
    return out


def _loss_summary(run: Run) -> dict[str, Any]:
    o2 = run.dropped is not None
    return {"sent": run.scenario.count, "received": run.received, "lost": run.lost,
            "dropped": run.dropped, "ignored": run.stats.get("ignored") if o2 else None,
            "unaccounted": run.unaccounted if o2 else None,
            "resyncs": max(run.snapshots - 1, 0)}


def render(res: Results) -> str:
    """The full printout."""
    meta = res.meta
    parts = [
        "",
        "=" * 100,
        f"o2sync benchmark  |  o2sync {meta['o2sync']} ({meta['git']})  |  JSON backend: "
        f"{meta['json_backend']}  |  Python {meta['python']}  |  {meta['cpus']} CPUs  |  "
        f"consumers read: {meta.get('touch', 'best')}",
        f"flood: {meta['count']:,} deltas x {meta['levels']} levels a side, "
        f"median of {meta['reps']}; latency: {meta['duration']} s per rate; "
        f"burst: {meta['burst']:,} one-level deltas; slow consumer: {meta['slow']:,}; "
        f"load avg at start {meta['loadavg_1m_at_start']}",
        "=" * 100,
    ]
    if res.throughput:
        parts += ["", "THROUGHPUT (flood, deltas delivered per second)", throughput_table(res)]
        ratios = summary(res)["ratios"]
        parts.append("ratios: " + "   ".join(f"{k} = {v:.2f}x" for k, v in ratios.items()))
    if res.latency:
        parts += ["", "LATENCY (feed send -> consumer has the decoded event)", latency_table(res)]
    if res.burst:
        parts += ["", "BURST (one-level deltas as fast as possible)", loss_table(res.burst)]
    if res.slow:
        parts += ["", "SLOW CONSUMER (pauses while the client reads; o2sync queue_size = o2-sdk's"
                  " 1,000)", loss_table(res.slow),
                  "o2sync: lost = sub.dropped (overflow) + ignored (deltas skipped until the"
                  " resync snapshot)"]
    if res.stages:
        parts += ["", "PER-MESSAGE STAGES (micro-benchmark)", stages_table(res.stages)]
    if res.live is not None:
        parts += ["", "LIVE PROFILE of stream_depth iteration", live_table(res.live)]
    parts += ["", "TARGETS (issue 3)", *(t.line() for t in targets(res))]
    parts += ["", "GOALS (issue 12, close to the wire)",
              *(t.line() for t in close_to_the_wire(res))]
    parts += ["", "GOALS (issue 21, O2)", *(t.line() for t in issue21(res))]
    parts += ["", "BENCH_SUMMARY " + json.dumps(summary(res), separators=(",", ":"))]
    return "\n".join(parts)
