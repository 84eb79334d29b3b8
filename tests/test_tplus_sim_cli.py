"""`o2sync sim --venue tplus`: serves both services in the foreground until SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import requests
from tplus_util import Login, TWs


def test_cli_serves_tplus_until_sigint() -> None:
    seed = "33" * 32
    process = subprocess.Popen(
        [sys.executable, "-m", "o2sync", "sim", "--venue", "tplus", "--mds-port", "0",
         "--oms-port", "0", "--rate", "200", "--user-seed", seed],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        found: dict[str, str] = {}
        for line in process.stdout:  # blocking reads: the lines arrive once it listens
            match = re.match(r"\s+(MDS|OMS|user seed|user id)\s+(\S+)", line)
            if match:
                found[match.group(1)] = match.group(2)
            if len(found) == 4:
                break
        assert found["user seed"] == seed
        assert found["user id"] == Login(seed).user_id
        assert requests.get(found["OMS"] + "/market/200", timeout=5).status_code == 200
        ws = TWs(found["MDS"], "/marketdepth/diff/200")
        assert "sequence_number" in ws.data()
        ws.close()
        os.kill(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_cli_rejects_a_bad_seed() -> None:
    done = subprocess.run([sys.executable, "-m", "o2sync", "sim", "--venue", "tplus",
                           "--user-seed", "abc"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "--user-seed" in done.stderr
