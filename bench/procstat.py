"""Shared helpers of the issue 12 scripts: /proc readings, tables, the summary line.

Linux only (``/proc/self``). Thread figures come from ``/proc/self/task/<tid>/``,
where ``tid`` is a Python thread's ``native_id``:

* context switches (``voluntary_ctxt_switches`` + ``nonvoluntary_ctxt_switches`` in
  ``status``): a thread blocked on a lock or a socket with no timeout makes none; each
  timed-out wait (a 0.2 s slice) is one voluntary switch, so switches/s of an idle
  thread are its wake-ups/s;
* CPU time (``utime`` + ``stime`` in ``stat``, in clock ticks).

Every script prints its table and then one line ``PERF_SUMMARY {...}`` (JSON).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _status(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path, encoding="ascii", errors="replace") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def switches(tid: Optional[int] = None) -> tuple[int, int]:
    """(voluntary, involuntary) context switches of one thread (the calling thread's
    process leader, i.e. the main thread, when ``tid`` is None)."""
    path = "/proc/self/status" if tid is None else f"/proc/self/task/{tid}/status"
    try:
        st = _status(path)
    except OSError:  # the thread ended
        return 0, 0
    return int(st["voluntary_ctxt_switches"]), int(st["nonvoluntary_ctxt_switches"])


def tids() -> list[int]:
    return sorted(int(t) for t in os.listdir("/proc/self/task"))


def process_switches() -> int:
    """Context switches of all live threads of this process (voluntary + involuntary)."""
    return sum(sum(switches(t)) for t in tids())


def thread_names() -> dict[int, str]:
    """native_id -> Python thread name, for the threads Python knows about."""
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


def per_thread_switches() -> dict[int, int]:
    return {t: sum(switches(t)) for t in tids()}


def rss_bytes() -> int:
    """Resident set size of this process (``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def thread_cpu(tid: int) -> float:
    """CPU seconds (user + system) of one thread of this process."""
    try:
        with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                             capture_output=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "../o2sync"], cwd=HERE,
                               text=True, capture_output=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}{'+dirty o2sync' if dirty else ''}" if rev else "unknown"


def meta() -> dict[str, Any]:
    import o2sync
    from o2sync._json import BACKEND

    return {"o2sync": getattr(o2sync, "__version__", "?"), "git": git_rev(),
            "python": platform.python_version(), "json_backend": BACKEND,
            "cpus": os.cpu_count(), "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}


def quiet_logs() -> None:
    """Clients log drops and reconnects as warnings; the scripts count them instead."""
    logging.basicConfig(level=logging.ERROR, format="%(name)s: %(message)s")
    for name in ("o2_sdk", "o2sync", "websockets", "websocket", "aiohttp"):
        logging.getLogger(name).setLevel(logging.ERROR)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if v != v:  # nan
            return "-"
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def emit(name: str, figures: dict[str, Any]) -> None:
    """The one-line JSON summary every script ends with."""
    print("PERF_SUMMARY " + json.dumps({"bench": name, **figures, "meta": meta()},
                                       sort_keys=False), flush=True)

