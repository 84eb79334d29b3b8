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
            f"o2sync sim needs the simulator extra: pip install 'o2sync[sim]' ({_missing(exc)})",
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
            f"o2sync sim needs the simulator extra: pip install 'o2sync[sim]' ({_missing(exc)})",
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


# -- shared: argument types, endpoints, errors ----------------------------------------

SIM_HINT = "needs the simulator extra: pip install 'o2sync[sim]'"
#: Exit status of demo, watch, record and replay stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _url_type(check: Callable[[object, str], str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        try:
            return check(text, "URL")
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "URL"  # argparse names the type in some of its messages
    return parse


def ws_url(text: str) -> str:
    """argparse type: a ``ws://`` or ``wss://`` URL (checked as the clients check it)."""
    from o2sync.endpoints import check_ws_url

    return _url_type(check_ws_url)(text)


def http_url(text: str) -> str:
    """argparse type: an ``http://`` or ``https://`` URL."""
    from o2sync.endpoints import check_http_url

    return _url_type(check_http_url)(text)


class CommandError(Exception):
    """A one-line failure of a sub-command; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _missing(exc: ImportError) -> str:
    """What is missing, short: o2sync.testing's own message already names the extra."""
    return f"no module named {exc.name!r}" if exc.name else str(exc)


def _need_simulator(command: str, exc: ImportError) -> CommandError:
    return CommandError(f"o2sync {command} {SIM_HINT} ({_missing(exc)}); or connect to an "
                        "exchange with --ws-url/--api-url or --network")


def _add_endpoint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--venue", choices=("o2", "tplus"), default="o2",
                        help="which exchange to talk to (default: %(default)s)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--network", choices=("testnet", "mainnet", "devnet"),
                       help="a public O2 network (needs internet; env O2SYNC_O2_NETWORK)")
    where.add_argument("--ws-url", type=ws_url,
                       help="WebSocket URL of a deployment or a running simulator, "
                            "e.g. ws://127.0.0.1:8765/v1/ws (env O2SYNC_O2_WS_URL)")
    parser.add_argument("--api-url", type=http_url,
                        help="REST base URL (derived from --ws-url if omitted; env "
                             "O2SYNC_O2_API_URL)")
    parser.add_argument("--from", dest="from_relay", metavar="redis://HOST:PORT[/DB]",
                        help="read the streams from an 'o2sync relay' in Redis instead of "
                             "the exchange (O2; with --relay-prefix)")
    parser.add_argument("--relay-prefix", default="o2sync",
                        help="prefix of the relay's streams (default: %(default)s)")
    parser.add_argument("--sim-rate", type=non_negative_float, default=20.0,
                        help="events/s of the built-in simulator used when no URL or "
                             "network is given (default: %(default)s)")
    parser.add_argument("--connect-timeout", type=non_negative_float, default=10.0,
                        help="give up if the stream is not connected after this many "
                             "seconds (default: %(default)s)")
    parser.add_argument("--reconnect-attempts", type=non_negative_int, default=None,
                        metavar="N", help="give up after N failed reconnect attempts in a "
                                          "row (default: keep trying)")
    tplus = parser.add_argument_group("tplus (--venue tplus; with neither URL, a built-in "
                                      "tplus simulator)")
    tplus.add_argument("--mds-url", type=http_url,
                       help="market-data service base URL, e.g. http://127.0.0.1:8011 "
                            "(env O2SYNC_TPLUS_MDS_URL)")
    tplus.add_argument("--oms-url", type=http_url,
                       help="order service base URL, e.g. http://127.0.0.1:3032 (for "
                            "orders and user-trades; env O2SYNC_TPLUS_OMS_URL)")
    tplus.add_argument("--user-seed", help="the user's 32-byte Ed25519 seed, 64 hex digits "
                                           "(orders, user-trades; default: the built-in "
                                           "simulator's user)")


#: REST settings of the CLI's clients: a user waits for the first answer, so an
#: unreachable host is reported after about a second, not after seven.
_CLI_REST = {"rest_retries": 1, "rest_backoff": 0.25}


@contextlib.contextmanager
def _client(args: argparse.Namespace, command: str = "watch") -> Iterator[Any]:
    """An O2Client for the endpoint options; starts a simulator when none is given."""
    from o2sync import Network, O2Client

    options: dict[str, Any] = dict(_CLI_REST)
    if getattr(args, "reconnect_attempts", None) is not None:
        options["max_reconnect_attempts"] = args.reconnect_attempts
    if getattr(args, "from_relay", None):
        if command == "relay":
            raise CommandError("o2sync relay: --from reads a relay; relay from the exchange", 2)
        with O2Client.from_relay(args.from_relay, args.relay_prefix,
                                 api_url=args.api_url, **options) as client:
            yield client
        return
    if args.network:
        with O2Client(Network(args.network), **options) as client:
            yield client
        return
    if args.ws_url or args.api_url:
        with O2Client(ws_url=args.ws_url, api_url=args.api_url, **options) as client:
            yield client
        return
    from o2sync.endpoints import o2_from_env

    if any(o2_from_env()):  # O2SYNC_O2_*: the client reads (and checks) them itself
        with O2Client(**options) as client:
            yield client
        return
    try:
        from o2sync.testing import Simulator
    except ImportError as exc:  # websockets missing: a plain install without [sim]
        raise _need_simulator(command, exc) from None

    with Simulator(rate=args.sim_rate) as sim, \
            O2Client(ws_url=sim.ws_url, api_url=sim.api_url, **options) as client:
        client.simulator = sim  # type: ignore[attr-defined]
        yield client


@contextlib.contextmanager
def _tplus(args: argparse.Namespace, command: str = "watch") -> Iterator[Any]:
    """A TplusSession for the tplus options; starts a tplus simulator when no URL is given."""
    if args.network or args.ws_url or args.api_url:
        raise CommandError(f"o2sync {command}: --network/--ws-url/--api-url are O2 options; "
                           "with --venue tplus use --mds-url and --oms-url", 2)
    options: dict[str, Any] = dict(_CLI_REST)
    if getattr(args, "reconnect_attempts", None) is not None:
        options["max_reconnect_attempts"] = args.reconnect_attempts
    from o2sync.cli.tplus import TplusSession
    from o2sync.endpoints import (
        ENV_TPLUS_MDS_URL,
        ENV_TPLUS_OMS_URL,
        check_http_url,
        tplus_mds_from_env,
        tplus_oms_from_env,
    )

    if not (args.mds_url or args.oms_url):  # the environment, checked and named
        mds, oms = tplus_mds_from_env(), tplus_oms_from_env()
        args.mds_url = check_http_url(mds, ENV_TPLUS_MDS_URL) if mds else None
        args.oms_url = check_http_url(oms, ENV_TPLUS_OMS_URL) if oms else None
    if args.mds_url or args.oms_url:
        if not args.mds_url:
            raise CommandError(f"o2sync {command}: --venue tplus needs --mds-url (the "
                               "market-data service, or O2SYNC_TPLUS_MDS_URL) too", 2)
        try:
            session = TplusSession(args.mds_url, args.oms_url, args.user_seed, options)
        except ValueError as exc:
            raise CommandError(f"o2sync {command}: {exc}", 2) from None
        with session:
            yield session
        return
    try:
        from o2sync.testing import TplusSimulator  # imports aiohttp and cryptography
    except ImportError as exc:  # aiohttp missing: a plain install without [sim]
        raise CommandError(f"o2sync {command} {SIM_HINT} ({_missing(exc)}); or connect to a tplus "
                           "deployment with --mds-url/--oms-url") from None
    sim_options: dict[str, Any] = {"rate": args.sim_rate}
    if args.user_seed:
        sim_options["user_seed"] = args.user_seed
    try:
        sim = TplusSimulator(mds_port=0, oms_port=0, **sim_options)
    except ValueError as exc:
        raise CommandError(f"o2sync {command}: --user-seed: {exc}", 2) from None
    with sim, TplusSession(sim.mds_url, sim.oms_url, args.user_seed or sim.user_seed,
                           options, simulator=sim) as session:
        yield session


def _target(args: argparse.Namespace, client: Any) -> str:
    """``sim`` as an account target means the built-in simulator's trade account."""
    sim = getattr(client, "simulator", None)
    return str(sim.account) if args.target == "sim" and sim is not None else str(args.target)


def _host_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc or url


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost reason below requests/urllib3 wrappers (MaxRetryError.reason ...)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            exc = reason
            continue
        if exc.args and isinstance(exc.args[0], BaseException):
            exc = exc.args[0]
            continue
        if exc.__cause__ is not None:
            exc = exc.__cause__
            continue
        break
    return exc


def describe_connect_error(exc: BaseException, url: str) -> str:
    """``cannot reach HOST: CAUSE`` in one short line."""
    import re

    named = getattr(exc, "cause", None)  # o2sync's REST errors name their cause
    if isinstance(named, str) and named:
        return f"cannot reach {_host_of(url)}: {named[0].upper()}{named[1:]}"
    cause = _root_cause(exc)
    if cause is exc or not str(cause):
        return str(exc)
    text = re.sub(r"^<[^>]*>:\s*", "", str(cause))  # urllib3's "<...Connection object>: "
    text = re.sub(r"^Failed to establish a new connection:\s*", "", text)
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text)
    name = type(cause).__name__
    if "timed out" in text.lower() or "Timeout" in name:
        text = "timed out"
    return f"cannot reach {_host_of(url)}: {text.strip() or name}"


def _path_hint(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme in ("ws", "wss") and parts.path in ("", "/"):
        return " (the URL has no path; O2 serves its stream at /v1/ws)"
    return ""


@contextlib.contextmanager
def _command(command: str, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Run a sub-command body; map its failures to one stderr line and an exit code.

    The body gets a dict to put the ``client`` and its ``reporter`` in; ``code`` in it
    is the exit status on return.
    """
    from o2sync import ConnectError, O2SyncError

    state: dict[str, Any] = {"code": 0}

    def failed_already() -> bool:
        """True if the lifecycle reporter has already said why (and says no more)."""
        reporter = state.get("reporter")
        return reporter is not None and reporter.finish() is not None

    def say(text: str) -> None:
        if not failed_already():
            print(text, file=sys.stderr, flush=True)

    try:
        yield state
        if failed_already():
            state["code"] = 1
    except KeyboardInterrupt:  # 128 + SIGINT, the shell's convention for Ctrl-C
        state["code"] = 1 if failed_already() else EXIT_INTERRUPTED
    except CommandError as exc:
        print(str(exc), file=sys.stderr, flush=True)
        state["code"] = exc.code
    except ConnectError as exc:
        client = state.get("client")
        if "GET " in str(exc):  # REST: name the host and the innermost cause
            say(f"o2sync {command}: "
                f"{describe_connect_error(exc, getattr(client, 'api_url', ''))}")
        else:  # the stream: the engine's message names the URL (and the status)
            say(f"o2sync {command}: {exc}{_path_hint(getattr(client, 'ws_url', ''))}")
        state["code"] = 1
    except (ValueError, LookupError) as exc:  # bad arguments (market names, ids)
        print(f"o2sync {command}: {exc}", file=sys.stderr, flush=True)
        state["code"] = 2
    except O2SyncError as exc:
        say(f"o2sync {command}: {exc}")
        state["code"] = 1
    except OSError as exc:  # the output file: a missing directory, no permission
        detail = f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc)
        print(f"o2sync {command}: {detail}", file=sys.stderr, flush=True)
        state["code"] = 1


def _report(state: dict[str, Any], client: Any, command: str) -> Any:
    from o2sync.cli.status import LifecycleReporter

    state["client"] = client
    _log_frames(client)
    reporter = LifecycleReporter(client, f"o2sync {command}")
    state["reporter"] = reporter
    return reporter


# -- demo -----------------------------------------------------------------------------

DEMO_MARKET = "fFUEL/fUSDC"


def _add_demo(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="live terminal view of a market's order book and trades",
        description="Start the simulator (or connect where told) and show a live order "
                    "book and trade tape, refreshing in place, until Ctrl-C.")
    parser.add_argument("--market", default=DEMO_MARKET,
                        help="pair name or market id (tplus: asset id or symbol, default "
                             "200)")
    parser.add_argument("--seconds", type=non_negative_float, default=0.0,
                        help="stop after this long (default: run until Ctrl-C)")
    _add_endpoint_options(parser)
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """The live view; exit code 0 when --seconds ran out, 130 on Ctrl-C."""
    try:
        from o2sync.cli.demo import run_demo as show
    except ImportError as exc:  # rich missing
        print(f"o2sync demo needs the demo extra: pip install 'o2sync[demo]' ({exc})",
              file=sys.stderr)
        return 1
    if args.venue == "tplus":
        from o2sync.cli.demo import run_tplus_demo

        with _command("demo", args) as state, _tplus(args, "demo") as session:
            reporter = _report(state, session, "demo")
            asset = args.market if args.market != DEMO_MARKET else "200"
            run_tplus_demo(session, asset, seconds=args.seconds,
                           connect_timeout=args.connect_timeout, reporter=reporter)
        return int(state["code"])
    with _command("demo", args) as state, _client(args, "demo") as client:
        reporter = _report(state, client, "demo")
        show(client, args.market, seconds=args.seconds, connect_timeout=args.connect_timeout,
             reporter=reporter)
    return int(state["code"])


# -- watch ----------------------------------------------------------------------------


def _add_watch(subparsers: Any) -> None:
    from o2sync.cli.tplus import STREAMS as TPLUS_STREAMS
    from o2sync.cli.watch import STREAMS

    parser = subparsers.add_parser(
        "watch", help="print the events of one stream",
        description="Print each event of a stream as a line: local time, then prices and "
                    "amounts scaled to the market's units (or, with --json, one exact "
                    "JSON object per line). Connection events go to stderr. "
                    f"O2 streams: {', '.join(STREAMS)}. tplus streams (--venue tplus): "
                    f"{', '.join(TPLUS_STREAMS)}.")
    parser.add_argument("stream", choices=tuple(dict.fromkeys((*STREAMS, *TPLUS_STREAMS))),
                        metavar="STREAM", help="the stream to print (listed above)")
    parser.add_argument("target", nargs="?", default=None,
                        help="O2: market (depth, trades) or trade account id (orders, "
                             "balances, nonce; 'sim' = the simulator's). tplus: the asset, "
                             "by id or symbol (depth, klines; optional filter for trades)")
    parser.add_argument("--precision", type=int, default=1, help="depth precision 1..18")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--events", type=non_negative_int, default=0,
                        help="stop after N events (default 0: until Ctrl-C)")
    _add_endpoint_options(parser)
    parser.set_defaults(func=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    from o2sync.cli.watch import STREAMS, watch

    if args.venue == "tplus":
        from o2sync.cli.tplus import STREAMS as TPLUS_STREAMS
        from o2sync.cli.tplus import watch as watch_tplus

        if args.stream not in TPLUS_STREAMS:
            print(f"o2sync watch: {args.stream!r} is not a tplus stream; choose from "
                  f"{', '.join(TPLUS_STREAMS)}", file=sys.stderr)
            return 2
        with _command("watch", args) as state, _tplus(args, "watch") as session:
            _report(state, session, "watch")
            watch_tplus(session, args.stream, args.target, as_json=args.json,
                        events=args.events, connect_timeout=args.connect_timeout)
        return int(state["code"])
    if args.stream not in STREAMS:
        print(f"o2sync watch: {args.stream!r} is not an O2 stream; choose from "
              f"{', '.join(STREAMS)} (or pass --venue tplus)", file=sys.stderr)
        return 2
    if args.target is None:
        print(f"o2sync watch: {args.stream} needs a TARGET (a market or a trade account id)",
              file=sys.stderr)
        return 2
    with _command("watch", args) as state, _client(args, "watch") as client:
        _report(state, client, "watch")
        watch(client, args.stream, _target(args, client), as_json=args.json,
              events=args.events, precision=args.precision,
              connect_timeout=args.connect_timeout)
    return int(state["code"])


# -- record / replay ------------------------------------------------------------------


def _add_record(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "record", help="record the raw frames of streams to a JSON Lines file",
        description="Record every frame of the given streams, with receive times, in the "
                    "format described in o2sync/cli/recording.py. The file appears when the "
                    "recording ends (also on Ctrl-C); an existing file is kept unless "
                    "--force is given.")
    parser.add_argument("streams", nargs="+", metavar="KIND:TARGET",
                        help="e.g. depth:fFUEL/fUSDC trades:fFUEL/fUSDC nonce:0x...; "
                             "tplus: KIND[:ASSET], e.g. depth:200 trades orders")
    parser.add_argument("--out", required=True, help="file to write (.jsonl)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument("--frames", type=non_negative_int, default=0,
                        help="stop after N frames")
    parser.add_argument("--seconds", type=non_negative_float, default=0.0,
                        help="stop after S seconds")
    _add_endpoint_options(parser)
    parser.set_defaults(func=run_record)


def run_record(args: argparse.Namespace) -> int:
    import os

    from o2sync.cli.recording import Progress, parse_stream_spec, record_to_file

    progress = Progress(args.out)
    with _command("record", args) as state:
        for spec in args.streams:
            parse_stream_spec(spec, args.venue)
        if os.path.exists(args.out) and not args.force:
            raise CommandError(f"o2sync record: {args.out} exists; choose another --out or "
                               "pass --force to replace it", 2)
        directory = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(directory):  # before any connection: nothing to lose yet
            raise CommandError(f"o2sync record: cannot write {args.out}: there is no "
                               f"directory {directory}", 2)
        try:
            if args.venue == "tplus":
                with _tplus(args, "record") as session:
                    _report(state, session, "record")
                    record_to_file(session, args.streams, args.out, frames=args.frames,
                                   seconds=args.seconds, force=args.force,
                                   progress=progress, connect_timeout=args.connect_timeout)
                return _record_done(progress, state)
            with _client(args, "record") as client:
                _report(state, client, "record")
                sim = getattr(client, "simulator", None)
                specs = [s.replace(":sim", f":{sim.account}") if sim else s
                         for s in args.streams]
                record_to_file(client, specs, args.out, frames=args.frames,
                               seconds=args.seconds, force=args.force, progress=progress,
                               connect_timeout=args.connect_timeout)
        finally:
            progress.stop()
    return _record_done(progress, state)


def _record_done(progress: Any, state: dict[str, Any]) -> int:
    if progress.saved:  # also after Ctrl-C or a lost exchange: what was recorded is kept
        print(progress.summary(), flush=True)
    return int(state["code"])


def _add_replay(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="serve a recording through the simulator's WebSocket",
        description="Serve a recording's markets over REST and its frames over WebSocket "
                    "to the first client that connects, then exit.")
    parser.add_argument("recording", help="a file written by 'o2sync record'")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765,
                        help="TCP port of an O2 recording, 0 for any free one "
                             "(default: %(default)s)")
    parser.add_argument("--speed", type=non_negative_float, default=1.0,
                        help="pace multiplier; 0 = as fast as possible (default: %(default)s)")
    tplus = parser.add_argument_group("tplus recordings (the venue is read from the file)")
    tplus.add_argument("--mds-port", type=int, default=8011,
                       help="market-data service port, 0 for any (default: %(default)s)")
    tplus.add_argument("--oms-port", type=int, default=3032,
                       help="order service port, 0 for any (default: %(default)s)")
    tplus.add_argument("--user-seed", default=None,
                       help="seed of the user who may log in for the user streams "
                            "(default: the simulator's built-in user)")
    tplus.add_argument("--wait", type=non_negative_float, default=5.0,
                       help="seconds a recorded path waits for its subscriber after the "
                            "first client connected (default: %(default)s)")
    parser.set_defaults(func=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from o2sync.cli.recording import load, replay

    try:
        recording = load(args.recording)
    except (OSError, ValueError) as exc:
        print(f"o2sync replay: {exc}", file=sys.stderr)
        return 1
    if not recording.frames:
        print(f"o2sync replay: {args.recording} holds no frames (an empty recording); "
              "nothing to replay", file=sys.stderr)
        return 1
    if recording.venue == "tplus":
        return _replay_tplus(args, recording)
    try:
        from o2sync.testing import Simulator
    except ImportError as exc:
        print(_need_simulator("replay", exc).args[0].split("; or")[0], file=sys.stderr)
        return 1
    markets = recording.markets or None
    try:
        sim = Simulator(args.host, args.port, rate=0, start_flow=False, markets=markets,
                        passive=True).start()
    except OSError as exc:
        print(f"o2sync replay: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        return 1
    with sim:
        print(f"replaying {len(recording.frames)} frames of {args.recording}")
        print(f"  WebSocket  {sim.ws_url}")
        print(f"  REST       {sim.api_url}", flush=True)
        try:
            sent = replay(recording, sim, speed=args.speed)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    print(f"sent {sent} frames", flush=True)
    return 0


def _replay_tplus(args: argparse.Namespace, recording: Any) -> int:
    from o2sync.cli.recording import replay_tplus

    try:
        from o2sync.sim.tplus import TplusSimulator
        from o2sync.sim.tplus.markets import DEFAULT_MARKETS, MarketSpec, normalise_asset
    except ImportError as exc:  # aiohttp or cryptography missing
        print(f"o2sync replay {SIM_HINT} ({exc})", file=sys.stderr)
        return 1
    specs = list(DEFAULT_MARKETS)
    known = {normalise_asset(m.asset_id) for m in specs}
    for m in recording.markets:  # recorded markets the simulator does not know: serve them
        try:
            key = normalise_asset(str(m["asset_id"]))
            if key not in known:
                known.add(key)
                specs.append(MarketSpec(key, int(m["book_price_decimals"]),
                                        int(m["book_quantity_decimals"]),
                                        10 ** (int(m["book_price_decimals"]) + 3), 0.0))
        except (KeyError, TypeError, ValueError):
            continue
    options: dict[str, Any] = {"rate": 0, "start_flow": False, "control_interval": None,
                               "markets": specs}
    if args.user_seed:
        options["user_seed"] = args.user_seed
    try:
        sim = TplusSimulator(args.host, args.mds_port, args.oms_port, **options)
    except ValueError as exc:
        print(f"o2sync replay: --user-seed: {exc}", file=sys.stderr)
        return 2
    try:
        sim.start()
    except OSError as exc:
        print(f"o2sync replay: cannot listen on {args.host}:{args.mds_port}/{args.oms_port}: "
              f"{exc}", file=sys.stderr)
        return 1
    with sim:
        paths = ", ".join(dict.fromkeys(recording.paths or []))
        print(f"replaying {len(recording.frames)} tplus frames of {args.recording}")
        print(f"  MDS        {sim.mds_url}")
        print(f"  OMS        {sim.oms_url}")
        print(f"  paths      {paths}", flush=True)
        try:
            sent = replay_tplus(recording, sim, speed=args.speed, grace=args.wait,
                                out=sys.stderr)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    print(f"sent {sent} frames", flush=True)
    return 0


# -- command line ---------------------------------------------------------------------

# -- relay ------------------------------------------------------------------------------


def _add_relay(subparsers: Any) -> None:
    from o2sync.cli.relay import add_relay

    add_relay(subparsers, _add_endpoint_options, run_relay)


def run_relay(args: argparse.Namespace) -> int:
    from o2sync.cli import relay
    from o2sync.cli.recording import parse_stream_spec

    with _command("relay", args) as state:
        if args.streams == ["status"]:
            relay.print_status(relay.status(args.to, args.prefix), args.json)
            return int(state["code"])
        for spec in args.streams:
            parse_stream_spec(spec, args.venue)
        with _client(args, "relay") as client:
            _report(state, client, "relay")
            stats, interrupted = relay.relay_until_stopped(client, args)
            print(f"relayed {stats['frames']} frames ({stats['entries']} entries, "
                  f"dropped {stats['dropped']}, engine lost {stats['engine_lost']})",
                  flush=True)
            if interrupted:
                state["code"] = EXIT_INTERRUPTED
    return int(state["code"])


_COMMANDS: Sequence[Callable[[Any], None]] = (
    _add_demo, _add_watch, _add_record, _add_replay, _add_sim, _add_relay)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage block is in ``--help``)."""

    def error(self, message: str) -> Any:  # argparse's own signature: NoReturn
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``o2sync`` argument parser with every sub-command."""
    parser = _Parser(
        prog="o2sync",
        description="Synchronous, threaded streams of the O2 Exchange and of tplus: a live "
                    "terminal demo, watch, record and replay, and the venues' simulators. "
                    "Without a URL or --network, demo, watch and record start a simulator "
                    "of their own; --venue tplus picks tplus.",
        epilog="Environment: O2SYNC_O2_NETWORK, O2SYNC_O2_WS_URL, O2SYNC_O2_API_URL, "
               "O2SYNC_TPLUS_MDS_URL, O2SYNC_TPLUS_OMS_URL (arguments win). "
               "See README.md, 'Going live'.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0,
        help="more logging: -v the client's INFO, -vv DEBUG (subscriptions, frames, "
             "heartbeats), -vvv also the built-in simulator's; also accepted after the command"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in _COMMANDS:
        add(subparsers)
    for sub in subparsers.choices.values():  # `o2sync watch ... -v` works too
        sub.add_argument("-v", "--verbose", dest="verbose_after", action="count", default=0,
                         help="more logging (-vv: debug, -vvv: the simulator's too)")
    return parser


#: Loggers of the simulator a command may start for itself (and of its server
#: libraries): quiet unless asked for with -vvv, so -v and -vv show the client.
SIM_LOGGERS = ("o2sync.sim", "websockets", "aiohttp", "asyncio")
#: Each raw frame a command's client receives, at DEBUG (-vv), from a tap.
FRAMES_LOGGER = "o2sync.frames"


def configure_logging(verbose: int) -> None:
    """WARNING and up by default, INFO with -v, DEBUG with -vv; -vvv adds the
    built-in simulator's own logs.

    urllib3's retry warnings ("Retrying (Retry(total=2...)) after connection broken")
    are noise for someone at a terminal: the command says in one line what failed.
    They show again with -v.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.ERROR if verbose == 0 else logging.NOTSET)
    # the command reports connection trouble itself, one line each (LifecycleReporter)
    logging.getLogger("o2sync.engine").setLevel(logging.ERROR if verbose == 0 else logging.NOTSET)
    for name in SIM_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose >= 3 else logging.WARNING)


def _log_frames(client: Any) -> None:
    """At DEBUG, log every frame ``client`` receives (a tap: off the decode path)."""
    frames = logging.getLogger(FRAMES_LOGGER)
    if not frames.isEnabledFor(logging.DEBUG):
        return
    from o2sync.engine.venue import url_path
    from o2sync.redact import redact_text

    def tap(url: str, data: bytes) -> None:
        text = data[:300].decode("utf-8", "replace")
        more = f" ... ({len(data)} bytes)" if len(data) > 300 else ""
        frames.debug("%s <- %s%s", url_path(url), redact_text(text), more)

    client.add_tap(tap)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``o2sync`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    configure_logging(args.verbose + getattr(args, "verbose_after", 0))
    from o2sync import O2SyncError

    try:
        return int(args.func(args))
    except O2SyncError as exc:  # unreachable exchange, API errors: a message, not a trace
        print(f"o2sync: {exc}", file=sys.stderr)
        return 1
