"""Files and imports a new user meets (issue 22, item 12): a recording is an ordinary
file (0644 under the usual umask 022), and the simulators without the ``sim`` extra
say which extra to install."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def test_a_recording_gets_the_mode_of_any_new_file(tmp_path: Path) -> None:
    out = tmp_path / "session.jsonl"
    plain = tmp_path / "plain.txt"
    script = (f"open({str(plain)!r}, 'w').close()\n"
              "from o2sync.cli import main\n"
              f"raise SystemExit(main(['record', 'trades:fFUEL/fUSDC', '--out', {str(out)!r}, "
              "'--frames', '2', '--sim-rate', '300']))\n")
    for umask in (0o022, 0o077):
        out.unlink(missing_ok=True)
        plain.unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=60, preexec_fn=lambda m=umask: os.umask(m))  # type: ignore[misc]
        assert proc.returncode == 0, proc.stderr
        mode = stat.S_IMODE(out.stat().st_mode)
        assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask, oct(mode)


@pytest.mark.parametrize(("blocked", "name"), [("websockets", "Simulator"),
                                               ("aiohttp", "TplusSimulator")])
def test_the_simulators_without_the_extra_name_it(tmp_path: Path, blocked: str,
                                                   name: str) -> None:
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / f"{blocked}.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{blocked}'\", name='{blocked}')\n")
    path = os.pathsep.join(p for p in (str(shadow), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-c", f"from o2sync.testing import {name}"],
                          capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=path))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: o2sync.testing needs the simulator extra: pip install "
        f"'o2sync[sim]' (no module named '{blocked}')")
