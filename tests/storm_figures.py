"""Issue 18's figures, for any checkout of o2sync (run it with PYTHONPATH=<checkout>):

    python tests/storm_figures.py storms [--window 30]
    python tests/storm_figures.py memory --venue o2 --bound-mib 16 --fragment-mib 15
    python tests/storm_figures.py connect --venue tplus --cause refused
    python tests/storm_figures.py close --venue o2

``storms``: handshakes per fault class and venue in the window (one client each, all
at once), and resyncs (O2 subscribe_depth frames, tplus REST snapshots at 50 diffs/s).
``memory``: peak RSS growth of this process under an endless fragmented message.
``connect``: how a stream whose socket never connects ends (iteration, get, on_error,
wait_ready), and when. ``close``: close(timeout=3) during a handshake, and a worker
blocked in book.wait_ready() when the client closes.
Only public API, so the same script measures the code before and after the fix.
"""

from __future__ import annotations

import argparse
import gc
import json
import queue
import threading
import time
from typing import Any, Callable

from storms_util import (
    ASSET,
    LINK_FAULTS,
    MARKET,
    MIB,
    PeakRss,
    fragment_stream,
    hostile,
    live_websockets,
    o2_client,
    refused_port,
    tplus_client,
)

import o2sync


def storms(window: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with hostile(*LINK_FAULTS, "bad_delta") as o2s, hostile(*LINK_FAULTS, "gap_depth") as tps:
        clients, keep = [], []
        for mode in LINK_FAULTS:
            o2 = o2_client(o2s.ws(mode), o2s.http(mode))
            tp = tplus_client(tps.http(mode))
            keep += [o2.stream_depth(MARKET), tp.stream_klines(ASSET)]
            clients += [o2, tp]
        o2 = o2_client(o2s.ws("bad_delta"), o2s.http("bad_delta"))
        keep.append(o2.stream_depth(MARKET))
        tp = tplus_client(tps.http("gap_depth"))
        keep.append(tp.order_book(ASSET))
        clients += [o2, tp]
        time.sleep(window)  # the measurement window itself
        for mode in LINK_FAULTS:
            out[f"handshakes o2/{mode}"] = o2s.stats(mode)["handshakes"]
            out[f"handshakes tplus/{mode}"] = tps.stats(mode)["handshakes"]
        out["resyncs o2/bad_delta (subscribes)"] = o2s.stats("bad_delta")["subscribes"]
        out["resyncs tplus/gap_depth (REST snapshots)"] = tps.stats("gap_depth")["snapshots"]
        for client in clients:
            client.close(5)
    return out


def memory(venue: str, bound: int, fragment: int, window: float) -> dict[str, Any]:
    with hostile("fragments", fragment=fragment) as server:
        peak = PeakRss()
        client, stream = fragment_stream(server, venue, bound)
        time.sleep(window)  # the measurement window itself
        growth = peak.stop()
        out = {"peak RSS growth MiB": round(growth / MIB, 1),
               "handshakes": server.stats("fragments")["handshakes"],
               "websockets alive (before gc)": live_websockets()}
        gc.collect()
        out["websockets alive (after gc)"] = live_websockets()
        client.close(5)
        del stream
    return out


def connect(venue: str, cause: str, patience: float) -> dict[str, Any]:
    timeout = 1.0
    with hostile("silent", "bad_delta") as server, refused_port() as refusing:
        port = refusing if cause == "refused" else server.ports["silent"]
        if venue == "o2":
            client: Any = o2_client(f"ws://127.0.0.1:{port}/v1/ws", server.http("bad_delta"),
                                    connect_timeout=timeout)
            target = MARKET
            second = client.stream_trades(target)
        else:
            client = tplus_client(f"http://127.0.0.1:{port}", connect_timeout=timeout)
            target = ASSET
            second = client.stream_klines(target)
        errors: list[Exception] = []
        client.on_error(errors.append)
        first = client.stream_depth(target)
        book = client.order_book(target)
        started = time.monotonic()
        out: dict[str, Any] = {}

        def timed(name: str, fn: Callable[[], Any]) -> None:
            try:
                result = fn()
                out[name] = f"returned {result!r} after {time.monotonic() - started:.2f}s"
            except BaseException as exc:  # what each API ended with
                out[name] = (f"{type(exc).__name__} after {time.monotonic() - started:.2f}s: "
                             f"{str(exc)[:80]}")

        workers = [threading.Thread(target=timed, args=args, daemon=True) for args in (
            ("iteration", lambda: next(iter(first))),
            ("get", lambda: second.get(timeout=patience)),
            ("wait_ready", lambda: book.wait_ready(patience)))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(patience + 1)
        for name in ("iteration", "get", "wait_ready"):
            out.setdefault(name, f"still blocked after {patience:.0f}s")
        out["on_error"] = [f"{type(e).__name__}: {str(e)[:60]}" for e in errors] or "nothing"
        out["stats reconnects"] = client.stats().get("reconnects")
        out["stats connect_failures"] = client.stats().get("connect_failures", "n/a")
        client.close(1)
    return out


def close(venue: str) -> dict[str, Any]:
    with hostile("silent", "bad_delta") as server:
        port = server.ports["silent"]
        if venue == "o2":
            client: Any = o2_client(f"ws://127.0.0.1:{port}/v1/ws", server.http("bad_delta"))
            target = MARKET
        else:
            client = tplus_client(f"http://127.0.0.1:{port}")
            target = ASSET
        book = client.order_book(target)
        waited: queue.SimpleQueue[Any] = queue.SimpleQueue()
        worker = threading.Thread(target=lambda: waited.put(book.wait_ready()), daemon=True)
        worker.start()
        time.sleep(1.0)  # let the handshake start (a measurement, not a test)
        started = time.monotonic()
        ok = client.close(timeout=3)
        took = time.monotonic() - started
        try:
            ended = f"wait_ready() returned {waited.get(timeout=5)!r}"
        except queue.Empty:
            ended = "wait_ready() still blocked 5 s after close()"
        prefix = f"{client._engine.name}-"
        left = [t.name for t in threading.enumerate() if t.name.startswith(prefix)]
        return {"close(timeout=3)": ok, "took s": round(took, 2), "threads left": left,
                "book wait": ended}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["storms", "memory", "connect", "close"])
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--venue", choices=["o2", "tplus"], default="o2")
    parser.add_argument("--bound-mib", type=int, default=16)
    parser.add_argument("--fragment-mib", type=float, default=1.0)
    parser.add_argument("--cause", choices=["refused", "timed out"], default="refused")
    parser.add_argument("--patience", type=float, default=10.0)
    args = parser.parse_args()
    if args.what == "storms":
        out = storms(args.window)
    elif args.what == "memory":
        out = memory(args.venue, args.bound_mib * MIB, int(args.fragment_mib * MIB),
                     args.window)
    elif args.what == "connect":
        out = connect(args.venue, args.cause, args.patience)
    else:
        out = close(args.venue)
    print(json.dumps({"o2sync": o2sync.__file__, "what": args.what, **vars(args),
                      "figures": out}, indent=1))


if __name__ == "__main__":
    main()
