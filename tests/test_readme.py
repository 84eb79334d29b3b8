"""Every ```python block of the README runs, in order, in one namespace."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    test_command = re.search(r"Run the tests.*?```bash\n(.*?)\n```", text, re.S).group(1)
    assert test_command in ci  # .ci/run runs exactly the README's test command
    assert "o2sync demo" in text


def test_readme_python_blocks_run(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 8
    script = tmp_path / "readme_tour.py"
    script.write_text("\n\n".join(textwrap.dedent(b) for b in blocks), encoding="utf-8")
    # a separate interpreter, so a leaked thread would keep it alive and fail the timeout
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=90)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "Snapshot:" in proc.stdout and "reconnected" in proc.stdout
