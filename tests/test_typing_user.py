"""A user's script type-checks against the installed package (issue 22, item 11):
``mypy --strict`` finds o2sync in the README's editable install, and the live books'
read API and the tplus depth stream have real types, not ``Any``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_SCRIPT = textwrap.dedent('''
    """A user's script, outside the project's directory."""
    from __future__ import annotations

    from typing import TYPE_CHECKING, Optional, Union

    from o2sync import DepthLevel, O2Client, Subscription
    from o2sync.tplus import MarketDataClient, OrderBook, OrderBookDiff
    from o2sync.tplus.book import Level

    if TYPE_CHECKING:
        from typing_extensions import assert_type


    def o2_book(client: O2Client) -> None:
        with client.order_book("fFUEL/fUSDC") as book:
            assert_type(book.best_bid, Optional[DepthLevel])
            assert_type(book.asks(3), list[DepthLevel])
            assert_type(book.spread, Optional[int])


    def tplus_book(md: MarketDataClient) -> None:
        with md.order_book("200") as book:
            assert_type(book.best_ask, Optional[Level])
            assert_type(book.bids(), list[Level])


    def tplus_depth(md: MarketDataClient) -> None:
        sub = md.stream_depth("200")
        assert_type(sub, Subscription[Union[OrderBook, OrderBookDiff]])
        for event in sub:
            if isinstance(event, OrderBookDiff):
                print(event.sequence_number)
            else:
                print("snapshot", event.sequence_number)
''')


def mypy(script: Path) -> subprocess.CompletedProcess:
    # from the script's own directory: o2sync must come from the install, not the cwd
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--python-version", f"{sys.version_info[0]}.{sys.version_info[1]}",
                           script.name], cwd=script.parent, capture_output=True, text=True,
                          timeout=300)


def test_mypy_strict_sees_the_installed_package_and_its_types(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT, encoding="utf-8")
    proc = mypy(script)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found in 1 source file" in proc.stdout


def test_a_wrong_type_is_reported(tmp_path: Path) -> None:
    """The check above can fail: mypy does see o2sync's types (not Any)."""
    script = tmp_path / "wrong.py"
    script.write_text("from o2sync import O2Client\n\n\ndef f(c: O2Client) -> str:\n"
                      "    return c.order_book('fFUEL/fUSDC').best_bid\n", encoding="utf-8")
    proc = mypy(script)
    assert proc.returncode == 1
    assert 'Incompatible return value type (got "DepthLevel | None", expected "str")' \
        in proc.stdout or 'Incompatible return value type (got "Optional[DepthLevel]", ' \
        'expected "str")' in proc.stdout, proc.stdout
