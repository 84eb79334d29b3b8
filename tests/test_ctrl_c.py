"""Ctrl-C reaches a main thread blocked in iteration or run_forever(), and closes cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import threading
    import time
    from o2sync import O2Client
    from o2sync.testing import Simulator

    def announce_when_blocked(function_name):
        # say "blocking" only once the main thread is inside that function, so the
        # parent's SIGINT cannot land before the code under test is running
        main = threading.main_thread().ident
        while True:
            frame = sys._current_frames().get(main)
            while frame is not None and frame.f_code.co_name != function_name:
                frame = frame.f_back
            if frame is not None:
                print("blocking", flush=True)
                return
            time.sleep(0.01)

    with Simulator(rate=0, start_flow=False) as sim:
        client = O2Client(ws_url=sim.ws_url, api_url=sim.api_url)
        sub = client.stream_trades("fFUEL/fUSDC")
        client.connect(10)
        waiting_in = "get" if MODE == "iterate" else "run_forever"
        threading.Thread(target=announce_when_blocked, args=(waiting_in,), daemon=True).start()
        if MODE == "iterate":
            try:
                for event in sub:
                    pass
            except KeyboardInterrupt:
                print("interrupted", flush=True)
            client.close()
        else:
            client.run_forever()  # closes the client itself on Ctrl-C
        left = [t.name for t in threading.enumerate() if t.name.startswith("o2sync-")
                and not t.name.startswith("o2sync-sim")]
        print("threads left:", left, flush=True)
""")


@pytest.mark.parametrize("mode", ["iterate", "run_forever"])
def test_ctrl_c_interrupts_and_closes(mode: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", f"MODE = {mode!r}\n" + SCRIPT],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "blocking"
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "threads left: []" in out
    if mode == "iterate":
        assert "interrupted" in out
