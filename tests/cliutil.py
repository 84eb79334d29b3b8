"""Running the real ``o2sync`` command in tests: to completion, or in the background."""

from __future__ import annotations

import subprocess
import sys
from typing import Optional


def o2sync(*args: str, timeout: float = 60, env: Optional[dict[str, str]] = None
           ) -> subprocess.CompletedProcess:
    """``python -m o2sync ARGS`` to completion, output captured as text."""
    return subprocess.run([sys.executable, "-m", "o2sync", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def popen(*args: str) -> subprocess.Popen:
    """``python -m o2sync ARGS`` in the background, stdout and stderr piped as text."""
    return subprocess.Popen([sys.executable, "-m", "o2sync", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen) -> None:
    """End a background command (if still running) and reap it."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
