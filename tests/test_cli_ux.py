"""What a new user meets (issue 11): the ``o2sync`` commands run as a user runs them.

Terminal views run in a real terminal (tmux); connection trouble comes from the
simulator's faults; a plain install without the ``sim`` extra is a subprocess in
which ``websockets`` cannot be imported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clientutil import wait_until
from cliutil import o2sync, popen, stop

from o2sync.testing import Simulator

ROOT = Path(__file__).resolve().parent.parent


# -- a terminal: tmux ---------------------------------------------------------------


class Tmux:
    """One tmux server of our own (its own socket), one window running a command."""

    def __init__(self, command: list[str], width: int, height: int) -> None:
        self.socket = f"o2sync-test-{uuid.uuid4().hex[:8]}"
        env = " ".join(f"{k}={v}" for k, v in (("PYTHONPATH", os.environ.get("PYTHONPATH", "")),
                                                ("TERM", "xterm-256color")))
        # COLUMNS/LINES (pytest exports them) would pin rich to one size: drop them
        shell = (f"cd {ROOT} && env -u COLUMNS -u LINES {env} {' '.join(command)}; "
                 "echo EXITED $?; sleep 30")
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), shell)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=10, check=True).stdout

    def capture(self) -> str:
        return self.tmux("capture-pane", "-p", "-J")

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-x", str(width), "-y", str(height))

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, predicate, timeout: float = 20.0) -> str:  # type: ignore[no-untyped-def]
        screen = ""

        def check() -> bool:
            nonlocal screen
            screen = self.capture()
            return bool(predicate(screen))

        assert wait_until(check, timeout, 0.1), screen
        return screen

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=10)


@pytest.fixture
def terminal() -> Iterator:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    made: list[Tmux] = []

    def start(command: list[str], width: int, height: int) -> Tmux:
        t = Tmux(command, width, height)
        made.append(t)
        return t

    yield start
    for t in made:
        t.close()


PRICE = re.compile(r"\b0\.0125\d\d\b")


def demo_is_complete(screen: str) -> bool:
    """The status line at the bottom, book levels on both sides, trades on screen."""
    lines = screen.rstrip("\n").split("\n")
    status = lines[-1]
    return ("messages" in status and "drops" in status and "reconnects" in status
            and "connected" in status
            and "order book" in screen and "last trades" in screen
            and "taker" in screen and ("Buy" in screen or "Sell" in screen)
            and len(PRICE.findall(screen)) >= 6)


def demo_command() -> list[str]:
    return [sys.executable, "-m", "o2sync", "demo", "--sim-rate", "80"]


def test_demo_fits_80x24_and_follows_a_resize_to_160x48(terminal) -> None:  # type: ignore[no-untyped-def]
    t = terminal(demo_command(), 80, 24)
    small = t.wait_for(demo_is_complete)
    lines = small.rstrip("\n").split("\n")
    assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
    assert "spread" in small  # compact: asks over the spread over bids
    t.resize(160, 48)
    big = t.wait_for(lambda s: demo_is_complete(s) and "asks" in s and "bids" in s
                     and len(s.rstrip("\n").split("\n")) > 40)
    assert "█" in big  # wide: cumulative depth bars
    # the ladders use the height: far more levels than at 80x24
    assert len(PRICE.findall(big)) > len(PRICE.findall(small))
    captures = Path(os.environ.get("O2SYNC_CAPTURES", "/tmp/o2sync-captures"))
    captures.mkdir(exist_ok=True)
    (captures / "demo_80x24.txt").write_text(small)
    (captures / "demo_160x48.txt").write_text(big)
    t.keys("C-c")
    t.wait_for(lambda s: "EXITED 130" in s)  # Ctrl-C: 128 + SIGINT


def test_demo_starts_wide_at_160x48(terminal) -> None:  # type: ignore[no-untyped-def]
    t = terminal(demo_command(), 160, 48)
    screen = t.wait_for(lambda s: demo_is_complete(s) and "bids" in s and "asks" in s)
    assert screen.rstrip("\n").split("\n")[-1].lstrip().startswith("connected")


def test_demo_status_line_shows_a_lost_connection(terminal) -> None:  # type: ignore[no-untyped-def]
    with Simulator(rate=50) as sim:
        t = terminal([sys.executable, "-m", "o2sync", "demo", "--ws-url", sim.ws_url],
                     80, 24)
        t.wait_for(demo_is_complete)
        sim.refuse(3)
        sim.drop_connections()
        t.wait_for(lambda s: re.search(r"reconnect(ing|ed)|disconnected",
                                       s.rstrip("\n").split("\n")[-1]) is not None)
        t.wait_for(lambda s: "reconnects 1" in s, 15)
        t.keys("C-c")
        # the lifecycle lines come out on stderr once the screen is gone
        screen = t.wait_for(lambda s: "EXITED 130" in s)  # Ctrl-C: 128 + SIGINT
        assert "lost the connection" in screen and "connection back" in screen


# -- item 1: lifecycle lines and permanent failures ----------------------------------


def test_watch_says_when_it_loses_and_regains_the_connection() -> None:
    with Simulator(rate=100) as sim:
        proc = popen("watch", "trades", "fFUEL/fUSDC", "--ws-url", sim.ws_url)
        try:
            assert proc.stdout is not None and proc.stderr is not None
            assert "trades fFUEL/fUSDC" in proc.stdout.readline()
            assert "connected to" in proc.stderr.readline()
            sim.refuse(1.0)
            sim.drop_connections()
            lines = []
            while not lines or "connection back" not in lines[-1]:
                lines.append(proc.stderr.readline())
                assert lines[-1], lines
            assert any("lost the connection" in line for line in lines), lines
            assert any(re.search(r"reconnecting: attempt \d+, next try in \d+\.\d\ds", line)
                       for line in lines), lines
            assert all(line.startswith("o2sync watch: ") for line in lines), lines
            os.kill(proc.pid, signal.SIGINT)
            _out, err = proc.communicate(timeout=20)
            assert proc.returncode == 130, err  # 128 + SIGINT
        finally:
            stop(proc)


def test_watch_exits_non_zero_when_it_gives_up() -> None:
    with Simulator(rate=100) as sim:
        proc = popen("watch", "trades", "fFUEL/fUSDC", "--ws-url", sim.ws_url,
                     "--reconnect-attempts", "2")
        try:
            assert proc.stdout is not None
            proc.stdout.readline()  # streaming
            sim.refuse(60)
            sim.drop_connections()
            _out, err = proc.communicate(timeout=20)
        finally:
            stop(proc)
    assert proc.returncode == 1, err
    assert "gave up after 2 reconnect attempt(s)" in err.splitlines()[-1]
    assert "Traceback" not in err


def test_a_url_without_the_stream_path_fails_within_seconds() -> None:
    """`--ws-url ws://host:port` (no /v1/ws): the handshake 404s; the command says so."""
    with Simulator(rate=0) as sim:
        url = sim.ws_url.removesuffix("/v1/ws")
        started = time.monotonic()
        proc = o2sync("watch", "trades", "fFUEL/fUSDC", "--ws-url", url,
                      "--connect-timeout", "3", timeout=30)
        took = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert took < 10
    last = proc.stderr.strip().splitlines()[-1]
    # today: not connected within --connect-timeout, with a hint about the path; once
    # the engine reports the 404 as FAILED, the line names the URL and the status
    assert url in last and ("/v1/ws" in last or "404" in last), proc.stderr
    assert "Traceback" not in proc.stderr


def test_record_reports_the_connection_too(tmp_path: Path) -> None:
    with Simulator(rate=0) as sim:
        out = tmp_path / "r.jsonl"
        proc = o2sync("record", "trades:fFUEL/fUSDC", "--out", str(out), "--ws-url",
                      sim.ws_url.removesuffix("/v1/ws"), "--reconnect-attempts", "1")
    assert proc.returncode == 1
    # the handshake answers 404: a permanent failure, reported at once, not retried
    assert "o2sync record: " in proc.stderr and "cannot connect" in proc.stderr
    assert "404" in proc.stderr
    assert "Traceback" not in proc.stderr


class _LifecycleSource:
    """The two things LifecycleReporter uses of a client, driven by hand."""

    def __init__(self) -> None:
        self.callback = None
        self.closed = threading.Event()

    def on_lifecycle(self, callback):  # type: ignore[no-untyped-def]
        self.callback = callback
        return self

    def close(self) -> None:
        self.closed.set()


def test_reporter_treats_failed_and_closed_with_a_reason_as_the_end() -> None:
    """What the CLI does with the engine's FAILED state (and CLOSED after giving up)."""
    import io

    from o2sync import ConnectionEvent, ConnectionState
    from o2sync.cli.status import LifecycleReporter

    failed = getattr(ConnectionState, "FAILED", None)
    cases = [(ConnectionEvent(ConnectionState.CLOSED, 0, "gave up after 3 reconnect attempt(s)"),
              "gave up after 3 reconnect attempt(s)")]
    if failed is not None:
        cases.append((ConnectionEvent(failed, 0, "ws://h/x: HTTP 404 on the handshake"),
                      "cannot connect: ws://h/x: HTTP 404 on the handshake"))
    for event, line in cases:
        source, err = _LifecycleSource(), io.StringIO()
        reporter = LifecycleReporter(source, "o2sync watch", err)
        source.callback(ConnectionEvent(ConnectionState.RECONNECTING, 2, "attempt 2 in 0.50s"))
        source.callback(event)
        assert source.closed.wait(5)  # the command's loop ends
        assert reporter.finish() == line
        source.callback(ConnectionEvent(ConnectionState.CLOSED, 0, "closed by client"))
        lines = err.getvalue().splitlines()
        assert len(lines) == 2 and lines[0].endswith("reconnecting: attempt 2, next try in 0.50s")
        assert lines[1].endswith(line)
    # our own close() is not a failure and prints nothing
    source, err = _LifecycleSource(), io.StringIO()
    reporter = LifecycleReporter(source, "o2sync watch", err)
    source.callback(ConnectionEvent(ConnectionState.CLOSED, 0, "closed by client"))
    assert reporter.finish() is None and err.getvalue() == ""


# -- item 2: record never destroys data ---------------------------------------------


def test_record_with_a_typo_leaves_the_existing_file_alone(tmp_path: Path) -> None:
    keep = tmp_path / "keep.jsonl"
    keep.write_text("precious\n")
    for extra, message in (((), "exists; choose another --out or pass --force"),
                           (("--force",), "no market matches 'fFUEL/USDC'")):
        proc = o2sync("record", "depth:fFUEL/USDC", "--out", str(keep), *extra)
        assert proc.returncode == 2
        assert message in proc.stderr
        assert keep.read_text() == "precious\n"
    proc = o2sync("record", "orders:0x12", "--out", str(keep), "--force")
    assert proc.returncode == 2 and keep.read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["keep.jsonl"]  # no temporary file left behind


def test_record_into_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "no" / "x.jsonl"
    proc = o2sync("record", "trades:fFUEL/fUSDC", "--out", str(out))
    # a bad argument (exit 2), and the error names --out and its directory, not a temp file
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (f"o2sync record: cannot write {out}: there is no "
                                   f"directory {out.parent}")


def test_record_never_overwrites_without_force(tmp_path: Path) -> None:
    keep = tmp_path / "keep.jsonl"
    keep.write_text("precious\n")
    proc = o2sync("record", "trades:fFUEL/fUSDC", "--out", str(keep), "--frames", "3")
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert keep.read_text() == "precious\n"
    proc = o2sync("record", "trades:fFUEL/fUSDC", "--out", str(keep), "--frames", "3",
                  "--force", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(keep.read_text().splitlines()[0])["o2sync_recording"] == 1
    assert "recorded 3 frames" in proc.stdout


def test_record_ctrl_c_keeps_the_frames_and_says_how_many(tmp_path: Path) -> None:
    out = tmp_path / "session.jsonl"
    proc = popen("record", "depth:fFUEL/fUSDC", "trades:fFUEL/fUSDC", "--out", str(out),
                 "--sim-rate", "200")
    try:
        # the recording grows in a hidden temporary file next to --out
        assert wait_until(lambda: any(p.name.endswith(".part") and p.stat().st_size > 2000
                                      for p in tmp_path.iterdir()), 20)
        assert not out.exists()
        os.kill(proc.pid, signal.SIGINT)
        stdout, err = proc.communicate(timeout=20)
    finally:
        stop(proc)
    assert proc.returncode == 130, err  # 128 + SIGINT
    found = re.search(r"interrupted; recorded (\d+) frames to", stdout)
    assert found, stdout + err
    lines = out.read_text().splitlines()
    assert len(lines) - 1 == int(found.group(1)) > 0
    assert [p.name for p in tmp_path.iterdir()] == ["session.jsonl"]


def test_record_shows_live_progress_in_a_terminal(terminal, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "live.jsonl"
    t = terminal([sys.executable, "-m", "o2sync", "record", "depth:fFUEL/fUSDC",
                  "--out", str(out), "--sim-rate", "200"], 100, 10)
    screen = t.wait_for(lambda s: re.search(
        r"recording [1-9]\d* frames\s+\d+\.\d/s\s+00:0\d\s+\d+\.\d kB", s) is not None)
    assert "Ctrl-C" in screen
    t.keys("C-c")
    screen = t.wait_for(lambda s: "EXITED 130" in s)  # Ctrl-C: 128 + SIGINT
    assert re.search(r"interrupted; recorded \d+ frames to .*live\.jsonl", screen), screen


# -- item 6: replay of files that are no recordings ----------------------------------


@pytest.mark.parametrize("content, message", [
    ("", "empty file, not an o2sync recording"),
    ('{"o2sync_recording": 1, "markets": []}\n', "holds no frames"),
    ("hello world\n", "not an o2sync recording"),
    ('{"some": "json"}\n', "not an o2sync recording"),
])
def test_replay_of_an_empty_or_foreign_file_is_one_clear_line(
        tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    proc = o2sync("replay", str(path), "--port", "0", timeout=20)
    assert proc.returncode == 1
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Expecting value" not in proc.stderr


# -- item 3: a plain install without the sim extra -----------------------------------


@pytest.fixture
def no_websockets(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import websockets`` fails, as without o2sync[sim]."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "websockets.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'websockets'\", name='websockets')\n")
    path = os.pathsep.join(p for p in (str(shadow), os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path)


@pytest.mark.parametrize("argv", [
    ("sim", "--port", "0"),
    ("watch", "trades", "fFUEL/fUSDC"),
    ("record", "trades:fFUEL/fUSDC", "--out", "never.jsonl"),
    ("demo", "--seconds", "1"),
])
def test_without_the_sim_extra_commands_print_the_hint(
        no_websockets: dict[str, str], argv: tuple[str, ...], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "o2sync", *argv], capture_output=True,
                          text=True, timeout=30, env=no_websockets, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"o2sync {argv[0]} needs the simulator extra: pip install 'o2sync[sim]'" in lines[0]
    assert not (tmp_path / "never.jsonl").exists()


def test_without_the_sim_extra_replay_prints_the_hint(no_websockets: dict[str, str],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"o2sync_recording": 1, "markets": []}\n{"t": 0, "frame": "x"}\n')
    proc = subprocess.run([sys.executable, "-m", "o2sync", "replay", str(path)],
                          capture_output=True, text=True, timeout=30, env=no_websockets)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "o2sync replay needs the simulator extra: pip install 'o2sync[sim]'" in proc.stderr


def test_without_the_sim_extra_watch_works_with_a_url(no_websockets: dict[str, str]) -> None:
    with Simulator(rate=200) as sim:  # this process has websockets; the command has not
        proc = subprocess.run([sys.executable, "-m", "o2sync", "watch", "trades",
                               "fFUEL/fUSDC", "--ws-url", sim.ws_url, "--events", "2"],
                              capture_output=True, text=True, timeout=30, env=no_websockets)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 2


# -- item 5: watch speaks in prices ---------------------------------------------------

CLOCK = r"\d\d:\d\d:\d\d\.\d\d\d"


def test_watch_orders_and_balances_in_human_units() -> None:
    proc = o2sync("watch", "orders", "sim", "--events", "3", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        # 14:03:07.251 orders fFUEL/fUSDC 0xe7e3f5..d04b Sell open 0.000/25500.000 fFUEL @ ...
        assert re.fullmatch(
            CLOCK + r" orders (f\w+/fUSDC 0x[0-9a-f]{6}\.\.[0-9a-f]{4} (Buy|Sell) \w+ "
            r"\d+\.\d+/\d+\.\d+ f\w+ @ \d+\.\d+ fUSDC(; )?)+", line), line
    proc = o2sync("watch", "balances", "sim", "--events", "3", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        assert re.fullmatch(CLOCK + r" balances (f(FUEL|ETH|USDC) available=\d+\.\d+ "
                            r"locked=\d+\.\d+(; )?)+", line), line


def test_watch_depth_and_trades_lines_carry_time_and_market() -> None:
    proc = o2sync("watch", "trades", "fFUEL/fUSDC", "--events", "2", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        assert re.match(CLOCK + r" trades fFUEL/fUSDC taker (Buy|Sell) \d+\.\d+ @ 0\.01\d+",
                        line), line
    proc = o2sync("watch", "depth", "fFUEL/fUSDC", "--events", "8", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    level = r"\d+\.\d+@0\.01\d+"
    lines = proc.stdout.splitlines()
    assert re.fullmatch(CLOCK + rf" depth fFUEL/fUSDC snapshot bids=\d+ +asks=\d+ +"
                        rf"best bid={level} best ask={level}", lines[0]), lines[0]
    for line in lines[1:]:
        # a delta: its signed changes, and the best levels of the book after it
        assert re.fullmatch(CLOCK + rf" depth fFUEL/fUSDC delta +bids=\d+ +asks=\d+ +"
                            rf"best bid={level} best ask={level} "
                            rf"changes=[-+]{level}( [-+]{level})*( \+\d+)?", line), line


def test_watch_json_stays_exact() -> None:
    proc = o2sync("watch", "orders", "sim", "--json", "--events", "2", "--sim-rate", "300")
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        event = json.loads(line)["event"]
        for order in event["orders"]:
            assert re.fullmatch(r"\d+", str(order["quantity"]))  # chain integers, unscaled


# -- item 7: an unreachable exchange ---------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_exchange_is_one_short_line() -> None:
    port = free_port()
    started = time.monotonic()
    proc = o2sync("watch", "trades", "fFUEL/fUSDC", "--api-url", f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 5
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"o2sync watch: cannot reach 127.0.0.1:{port}: "
                                   "Connection refused")
    # a refused port is not retried (issue 22); -vv shows the failed call
    verbose = o2sync("watch", "trades", "fFUEL/fUSDC", "--api-url",
                     f"http://127.0.0.1:{port}", "-vv")
    assert f"DEBUG o2sync._http: GET http://127.0.0.1:{port}/v1/markets failed" \
        in verbose.stderr
    assert "Retrying" not in verbose.stderr


# -- item 10: small ones ----------------------------------------------------------------


def test_verbose_before_and_after_the_command() -> None:
    for argv in (("-v", "watch", "nonce", "sim"), ("watch", "nonce", "sim", "-v"),
                 ("watch", "-v", "nonce", "sim")):
        proc = o2sync(*argv, "--events", "1", "--sim-rate", "200")
        assert proc.returncode == 0, proc.stderr
        assert " INFO o2sync." in proc.stderr, argv


def test_negative_counts_are_rejected_by_argparse() -> None:
    for argv in (("watch", "trades", "fFUEL/fUSDC", "--events", "-1"),
                 ("record", "trades:fFUEL/fUSDC", "--out", "x.jsonl", "--frames", "-5"),
                 ("demo", "--seconds", "-1")):
        proc = o2sync(*argv)
        assert proc.returncode == 2
        assert "must be 0 or more" in proc.stderr.splitlines()[-1], proc.stderr


def test_demo_view_draws_a_decimal_book_too() -> None:
    """The demo's view reads the book API both venues offer; tplus books hold Decimals."""
    import collections
    import io
    from decimal import Decimal
    from types import SimpleNamespace

    from rich.console import Console

    from o2sync.cli.demo import TapeEntry, Units, View, render

    def lv(p: str, q: str) -> SimpleNamespace:
        return SimpleNamespace(price=Decimal(p), quantity=Decimal(q))

    class Book:  # the reading API of tplus's OrderBook (best_bid/best_ask/bids(n)/asks(n))
        bids_ = [lv("99.5", "2"), lv("99", "1.5")]
        asks_ = [lv("100.5", "1"), lv("101", "4")]
        best_bid, best_ask = bids_[0], asks_[0]

        def bids(self, n: int) -> list:
            return self.bids_[:n]

        def asks(self, n: int) -> list:
            return self.asks_[:n]

    trades = collections.deque([TapeEntry(0.0, "Sell", Decimal("100.5"), Decimal("0.25"))])
    stats = {"state": "connected", "messages": 7, "dropped": 0, "reconnects": 0}
    view = View(Book(), Units.plain("ETH/USDT", "ETH"), trades, lambda: stats,
                threading.Lock(), "ws://127.0.0.1:1/stream")
    for width, height in ((80, 24), (160, 48)):
        out = io.StringIO()
        Console(file=out, width=width, height=height).print(render(view, width, height))
        text = out.getvalue()
        assert "ETH/USDT" in text and "99.5" in text and "100.5" in text
        assert "spread 1.0" in text and "messages 7" in text.splitlines()[-1]
