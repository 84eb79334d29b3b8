"""A real Redis server for the relay tests, started on a free loopback port in a
temporary directory, and stopped (or killed, restarted) by the test.

The server is the OS package (``redis-server``, installed by ``.ci/run``). A test that
needs it FAILS when it cannot start: a relay test that did not run is not a pass.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Optional

import redis

START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process; ``appendonly`` turns persistence (AOF) on."""

    def __init__(self, directory: Path, appendonly: bool = False,
                 extra: tuple[str, ...] = ()) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (.ci/run installs the OS "
                               "package: apt-get install redis-server)")
        self.binary = binary
        self.directory = directory
        self.appendonly = appendonly
        self.extra = extra
        self.port = _free_port()
        self.proc: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Any:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> RedisServer:
        """Start (again, on the same port and directory) and wait until it answers."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.directory), "--save", "",
                "--appendonly", "yes" if self.appendonly else "no",
                "--daemonize", "no", "--loglevel", "warning", *self.extra]
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        probe = self.client()
        try:
            while True:
                with contextlib.suppress(redis.ConnectionError):
                    if probe.ping():
                        return self
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited ({self.proc.returncode}): "
                                       f"{(self.directory / 'redis.log').read_text()[-500:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not answer in {START_TIMEOUT}s")
                # the process exits or answers; this wait only bounds how often we ask
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(0.05)
        finally:
            probe.close()

    def stop(self) -> None:
        """A clean shutdown (an AOF server keeps what it wrote)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the engine dies mid-stream."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
