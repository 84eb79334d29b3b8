"""Each example runs against a simulator it starts itself, and stops by itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str, env: dict | None = None, timeout: float = 60
                ) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=EXAMPLES, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def test_legacy_script_runs_every_guide_section() -> None:
    out = run_example("legacy_script.py", "--events", "10").stdout
    for section in ("Order book depth", "Trade feed", "Order updates", "Balance updates",
                    "Nonce monitoring"):
        assert f"== {section}" in out
    assert "Snapshot:" in out and "Nonce changed:" in out and " @ " in out


def test_multiple_streams_with_merge_and_callbacks() -> None:
    out = run_example("multiple_streams.py", "--events", "30").stdout
    assert "merge() handled 30 events" in out
    assert "callbacks handled" in out


def test_worker_queue_spreads_updates_over_workers() -> None:
    out = run_example("worker_queue.py", "--events", "40", "--workers", "3").stdout
    handled = [line for line in out.splitlines() if line.startswith("handled ")]
    assert handled and int(handled[0].split()[1]) >= 40


def test_reconnect_resync_resyncs_after_each_reconnect() -> None:
    out = run_example("reconnect_resync.py", "--events", "2").stdout
    assert out.count("re-synced:") == 2
    assert "done after 2 reconnect(s)" in out


@pytest.fixture
def display() -> Iterator[str]:
    """A virtual X display (Xvfb), or a skip saying why there can be none."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (.ci/run installs it: apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24",
                               "-nolisten", "tcp"], pass_fds=(write_fd,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as fh:
            number = fh.readline().strip()  # Xvfb writes the display number once ready
        if not number:
            pytest.skip("Xvfb could not start a display")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


TK_MARKETS = {"o2": ("fFUEL/fUSDC", "fETH/fUSDC"),
              # tplus markets by the symbols of the order service's market list
              "tplus": ("ETH", "82af49..bab1@a4b1")}


@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_tk_ticker_under_a_virtual_display(display: str, venue: str) -> None:
    pytest.importorskip("tkinter", reason="this Python was built without Tk")
    env = dict(os.environ, DISPLAY=display)
    out = run_example("tk_ticker.py", "--venue", venue, "--events", "60", "--switch-after",
                      "20", env=env).stdout
    shown: list[str] = [line for line in out.splitlines() if line.startswith("shown ")]
    assert shown and int(shown[0].split()[1]) >= 60
    # the market picker: the window follows the market picked next
    first, following = TK_MARKETS[venue]
    assert f"market {first}\n" in out and f"market {following}\n" in out


@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_tk_ticker_ends_quietly_on_ctrl_c(display: str, venue: str) -> None:
    """Ctrl-C in the terminal closes the window and the clients: no traceback, 130."""
    import signal

    pytest.importorskip("tkinter", reason="this Python was built without Tk")
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / "tk_ticker.py"), "--venue", venue,
                             "--screenshot-after", "5", "--events", "0"], cwd=EXAMPLES,
                            env=dict(os.environ, DISPLAY=display), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # "ready": the window shows live updates
            if line.strip() == "ready":
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "Exception" not in err, err[-3000:]
    assert re.search(r"interrupted after \d+ updates", out), out


def test_tplus_streams_runs_every_guide_block() -> None:
    out = run_example("tplus_streams.py", "--events", "4").stdout
    for section in ("Stream order book diffs", "Depth with the snapshot bootstrap",
                    "Stream finalized trades", "Stream klines", "Stream order events",
                    "Stream user trade events", "Several streams at once", "Error handling"):
        assert f"== {section}" in out
    assert "[Depth] Seq=" in out and "[Trade] ID:" in out and "verified=True" in out
    assert "[Lifecycle] reconnected /orders" in out and "[Order after reconnect]" in out
    resync = re.search(r"\[Resync\] (\d+) open orders on 200", out)  # from the OMS
    assert resync is not None and int(resync.group(1)) > 0, out
    for section in ("Stream tickers", "Stream positions, re-read on RECONNECTED",
                    "Stream account events", "Stream intent"):
        assert f"== {section}" in out
    assert "[Ticker] 200 last=" in out and "[Tickers] " in out and "[OpenInterest]" in out
    assert "[Lifecycle] reconnected /positions/ws: re-read 2 positions" in out
    assert out.count("[Position] ") == 2 and "[AccountEvent] " in out
    assert "[Margin] sub-account 1 equity=" in out and "[Intent] " in out and "watchers=" in out


def test_cross_venue_merges_o2_and_tplus_depth() -> None:
    out = run_example("cross_venue.py", "--events", "60").stdout
    assert "o2    moved" in out and "tplus moved" in out
    assert "done: 60 depth events from two venues in one loop" in out
    moved = [line for line in out.splitlines() if " moved | " in line]
    for line in moved:  # both books read in market units (book.scaled()): decimals
        assert re.fullmatch(r"(o2   |tplus) moved \| O2 fFUEL/fUSDC bid +0\.\d+ \| "
                            r"tplus 200 bid +\d+\.\d+", line), line


@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_tk_ticker_draws_ladder_chart_and_tape_in_colour(display: str, tmp_path: Path,
                                                         venue: str) -> None:
    """A real screenshot of the window: the bid and ask tints of the ladder and chart."""
    pytest.importorskip("tkinter", reason="this Python was built without Tk")
    xwd, convert = shutil.which("xwd"), shutil.which("convert")
    if xwd is None or convert is None or subprocess.run(
            [convert, "-version"], capture_output=True, text=True).stdout.find("ImageMagick") < 0:
        pytest.skip("needs xwd and ImageMagick (apt-get install x11-apps imagemagick)")
    env = dict(os.environ, DISPLAY=display)
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / "tk_ticker.py"),
                             "--venue", venue, "--screenshot-after", "40", "--events", "0"],
                            cwd=EXAMPLES,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "ready":
                break
        else:
            raise AssertionError(proc.stderr.read() if proc.stderr else "no output")
        shot = tmp_path / "tk.xwd"
        with open(shot, "wb") as fh:
            subprocess.run([xwd, "-root", "-silent", "-display", display], stdout=fh,
                           check=True, timeout=20)
        colours = subprocess.run([convert, str(shot), "-format", "%c", "histogram:info:-"],
                                 capture_output=True, text=True, check=True,
                                 timeout=60).stdout.upper()
    finally:
        proc.terminate()
        proc.wait(20)
    for tint in ("#C7E9C0", "#FCBBA1", "#1A9850", "#D73027"):  # bid/ask fills and lines
        assert tint in colours, tint


def test_readme_and_tk_example_agree_on_how_callbacks_reach_tk() -> None:
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    example = (EXAMPLES / "tk_ticker.py").read_text(encoding="utf-8")
    for text in (readme, example):
        assert "dispatcher=pending.put" in text
    assert "root.after(0, fn)" not in readme
    assert "ep.client(dispatcher=pending.put)" in example  # what it says is what it does
    for shot in ("docs/tk_ticker.png", "docs/tk_ticker_tplus.png"):
        assert shot in readme and (EXAMPLES.parent / shot).exists()
