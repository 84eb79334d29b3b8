"""The ``o2sync`` command (also ``python -m o2sync``).

Each sub-command is a pair of functions: ``_add_<name>(subparsers)`` declares its
arguments and ``run_<name>(args) -> int`` runs it. Adding ``demo``, ``watch``,
``record`` or ``replay`` later means adding one such pair to :data:`_COMMANDS`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, Callable, Optional

from o2sync import __version__

logger = logging.getLogger(__name__)


# -- sim ----------------------------------------------------------------------------


def _add_sim(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="run the O2 Exchange simulator in the foreground",
        description=(
            "Serve the O2 REST API and WebSocket stream from a local, seeded market "
            "until Ctrl-C. Point any O2 client at the printed URLs."
        ),
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
    parser.set_defaults(func=run_sim)


def run_sim(args: argparse.Namespace) -> int:
    """Run the simulator until SIGINT/SIGTERM; exit code 0 on a clean stop."""
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


# -- command line ---------------------------------------------------------------------

_COMMANDS: Sequence[Callable[[Any], None]] = (_add_sim,)


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
    return int(args.func(args))
