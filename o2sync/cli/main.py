"""The ``o2sync`` command (also ``python -m o2sync``).

Each sub-command is a pair of functions: ``_add_<name>(subparsers)`` declares its
arguments and ``run_<name>(args) -> int`` runs it. Adding ``demo``, ``watch``,
``record`` or ``replay`` later means adding one such pair to :data:`_COMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any, Callable, Optional

from o2sync import __version__

logger = logging.getLogger(__name__)


# -- sim ----------------------------------------------------------------------------


def _add_sim(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="run the O2 Exchange (or tplus) simulator in the foreground",
        description=(
            "Serve the O2 REST API and WebSocket stream from a local, seeded market "
            "until Ctrl-C. Point any O2 client at the printed URLs. With --venue tplus, "
            "serve the tplus market-data (MDS) and order (OMS) services instead."
        ),
    )
    parser.add_argument(
        "--venue", choices=("o2", "tplus"), default="o2",
        help="which exchange to simulate (default: %(default)s)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="TCP port, 0 for any free one (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="market seed (default: %(default)s)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="engine events per second (default: %(default)s)"
    )
    tplus = parser.add_argument_group("tplus (--venue tplus)")
    tplus.add_argument("--mds-port", type=int, default=8011,
                       help="market-data service port, 0 for any (default: %(default)s, "
                            "tpluspy's default)")
    tplus.add_argument("--oms-port", type=int, default=3032,
                       help="order service port, 0 for any (default: %(default)s, "
                            "tpluspy's default)")
    tplus.add_argument("--user-seed", default=None,
                       help="32-byte hex seed of the simulated user (default: built in)")
    parser.set_defaults(func=run_sim)


def run_sim(args: argparse.Namespace) -> int:
    """Run the simulator until SIGINT/SIGTERM; exit code 0 on a clean stop."""
    if getattr(args, "venue", "o2") == "tplus":
        return _run_tplus_sim(args)
    try:
        from o2sync.testing import Simulator
    except ImportError as exc:  # websockets missing
        print(
            f"o2sync sim needs the simulator extra: pip install 'o2sync[sim]' ({exc})",
            file=sys.stderr,
        )
        return 1
    if args.rate < 0:
        print("--rate must be >= 0", file=sys.stderr)
        return 2
    sim = Simulator(args.host, args.port, seed=args.seed, rate=args.rate)
    try:
        sim.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"o2sync simulator (seed {args.seed}, {args.rate:g} events/s), Ctrl-C to stop")
        print(f"  WebSocket  {sim.ws_url}")
        print(f"  REST       {sim.api_url}")
        for market in sim.markets:
            pair = f"{market['base']['symbol']}/{market['quote']['symbol']}"
            print(f"  market     {pair:<12} {market['market_id']}")
        print(f"  account    {sim.account}", flush=True)
        _wait_for_signal()
    finally:
        sim.stop()
    print("simulator stopped", flush=True)
    return 0


def _run_tplus_sim(args: argparse.Namespace) -> int:
    try:
        from o2sync.testing import TplusSimulator
    except ImportError as exc:  # aiohttp or cryptography missing
        print(
            f"o2sync sim needs the simulator extra: pip install 'o2sync[sim]' ({exc})",
            file=sys.stderr,
        )
        return 1
    if args.rate < 0:
        print("--rate must be >= 0", file=sys.stderr)
        return 2
    options: dict[str, Any] = {"seed": args.seed, "rate": args.rate}
    if args.user_seed:
        options["user_seed"] = args.user_seed
    try:
        sim = TplusSimulator(args.host, args.mds_port, args.oms_port, **options)
    except ValueError as exc:
        print(f"--user-seed: {exc}", file=sys.stderr)
        return 2
    try:
        sim.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.mds_port}/{args.oms_port}: {exc}",
              file=sys.stderr)
        return 1
    try:
        print(f"o2sync tplus simulator (seed {args.seed}, {args.rate:g} events/s), "
              "Ctrl-C to stop")
        print(f"  MDS        {sim.mds_url}   (market data: REST + WebSocket)")
        print(f"  OMS        {sim.oms_url}   (orders, login: REST + WebSocket)")
        for market in sim.markets:
            print(f"  market     {market['asset_id']}  (price decimals "
                  f"{market['book_price_decimals']}, quantity decimals "
                  f"{market['book_quantity_decimals']})")
        print(f"  user seed  {sim.user_seed}")
        print(f"  user id    {sim.user_id}", flush=True)
        _wait_for_signal()
    finally:
        sim.stop()
    print("simulator stopped", flush=True)
    return 0


def _wait_for_signal() -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):  # a timed wait keeps the main thread responsive
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- shared: where the client connects ------------------------------------------------


def _add_endpoint_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--network", choices=("testnet", "mainnet", "devnet"),
                       help="a public O2 network (needs internet)")
    where.add_argument("--ws-url", help="WebSocket URL of a deployment or a running simulator")
    parser.add_argument("--api-url", help="REST base URL (derived from --ws-url if omitted)")
    parser.add_argument("--sim-rate", type=float, default=20.0,
                        help="events/s of the built-in simulator used when no URL or "
                             "network is given (default: %(default)s)")


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    """An O2Client for the endpoint options; starts a simulator when none is given."""
    from o2sync import Network, O2Client

    if args.network:
        with O2Client(Network(args.network)) as client:
            yield client
        return
    if args.ws_url or args.api_url:
        with O2Client(ws_url=args.ws_url, api_url=args.api_url) as client:
            yield client
        return
    from o2sync.testing import Simulator

    with Simulator(rate=args.sim_rate) as sim, \
            O2Client(ws_url=sim.ws_url, api_url=sim.api_url) as client:
        client.simulator = sim  # type: ignore[attr-defined]
        yield client


def _target(args: argparse.Namespace, client: Any) -> str:
    """``sim`` as an account target means the built-in simulator's trade account."""
    sim = getattr(client, "simulator", None)
    return str(sim.account) if args.target == "sim" and sim is not None else str(args.target)


# -- demo -----------------------------------------------------------------------------


def _add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="live terminal view of a market's order book and trades",
        description="Start the simulator (or connect where told) and show a live order "
                    "book and trade tape, refreshing in place, until Ctrl-C.")
    parser.add_argument("--market", default="fFUEL/fUSDC", help="pair name or market id")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="stop after this long (default: run until Ctrl-C)")
    _add_endpoint_options(parser)
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """The live view; exit code 0 on Ctrl-C or when --seconds ran out."""
    try:
        from o2sync.cli.demo import run_demo as show
    except ImportError as exc:  # rich missing
        print(f"o2sync demo needs the demo extra: pip install 'o2sync[demo]' ({exc})",
              file=sys.stderr)
        return 1
    try:
        with _client(args) as client:
            show(client, args.market, seconds=args.seconds)
    except KeyboardInterrupt:
        pass
    return 0


# -- watch ----------------------------------------------------------------------------


def _add_watch(subparsers: Any) -> None:
    from o2sync.cli.watch import STREAMS

    parser = subparsers.add_parser(
        "watch", help="print the events of one stream",
        description="Print each event of a stream as a line (or a JSON object per line).")
    parser.add_argument("stream", choices=STREAMS)
    parser.add_argument("target", help="market (depth, trades) or trade account id "
                                       "(orders, balances, nonce; 'sim' = the simulator's)")
    parser.add_argument("--precision", type=int, default=1, help="depth precision 1..18")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--events", type=int, default=0, help="stop after N events")
    _add_endpoint_options(parser)
    parser.set_defaults(func=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    from o2sync.cli.watch import watch

    try:
        with _client(args) as client:
            watch(client, args.stream, _target(args, client), as_json=args.json,
                  events=args.events, precision=args.precision)
    except KeyboardInterrupt:
        pass
    except (ValueError, LookupError) as exc:
        print(f"o2sync watch: {exc}", file=sys.stderr)
        return 2
    return 0


# -- record / replay ------------------------------------------------------------------


def _add_record(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "record", help="record the raw frames of streams to a JSON Lines file",
        description="Record every frame of the given streams, with receive times, in the "
                    "format described in o2sync/recording.py.")
    parser.add_argument("streams", nargs="+", metavar="KIND:TARGET",
                        help="e.g. depth:fFUEL/fUSDC trades:fFUEL/fUSDC nonce:0x...")
    parser.add_argument("--out", required=True, help="file to write (.jsonl)")
    parser.add_argument("--frames", type=int, default=0, help="stop after N frames")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after S seconds")
    _add_endpoint_options(parser)
    parser.set_defaults(func=run_record)


def run_record(args: argparse.Namespace) -> int:
    from o2sync.cli.recording import parse_stream_spec, record

    try:
        for spec in args.streams:
            parse_stream_spec(spec)
        with _client(args) as client, open(args.out, "w", encoding="utf-8") as out:
            sim = getattr(client, "simulator", None)
            specs = [s.replace(":sim", f":{sim.account}") if sim else s for s in args.streams]
            n = record(client, specs, out, frames=args.frames, seconds=args.seconds)
    except KeyboardInterrupt:
        return 0
    except (ValueError, LookupError) as exc:
        print(f"o2sync record: {exc}", file=sys.stderr)
        return 2
    print(f"recorded {n} frames to {args.out}", flush=True)
    return 0


def _add_replay(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="serve a recording through the simulator's WebSocket",
        description="Serve a recording's markets over REST and its frames over WebSocket "
                    "to the first client that connects, then exit.")
    parser.add_argument("recording", help="a file written by 'o2sync record'")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--speed", type=float, default=1.0,
                        help="pace multiplier; 0 = as fast as possible (default: %(default)s)")
    parser.set_defaults(func=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from o2sync.cli.recording import load, replay
    from o2sync.testing import Simulator

    try:
        recording = load(args.recording)
    except (OSError, ValueError) as exc:
        print(f"o2sync replay: {exc}", file=sys.stderr)
        return 2
    markets = recording.markets or None
    with Simulator(args.host, args.port, rate=0, start_flow=False, markets=markets,
                   passive=True) as sim:
        print(f"replaying {len(recording.frames)} frames of {args.recording}")
        print(f"  WebSocket  {sim.ws_url}")
        print(f"  REST       {sim.api_url}", flush=True)
        try:
            sent = replay(recording, sim, speed=args.speed)
        except KeyboardInterrupt:
            return 0
    print(f"sent {sent} frames", flush=True)
    return 0


# -- command line ---------------------------------------------------------------------

_COMMANDS: Sequence[Callable[[Any], None]] = (
    _add_demo, _add_watch, _add_record, _add_replay, _add_sim)


def build_parser() -> argparse.ArgumentParser:
    """The ``o2sync`` argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="o2sync", description="Synchronous O2 Exchange streams.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in _COMMANDS:
        add(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``o2sync`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from o2sync import O2SyncError

    try:
        return int(args.func(args))
    except O2SyncError as exc:  # unreachable exchange, API errors: a message, not a trace
        print(f"o2sync: {exc}", file=sys.stderr)
        return 1
