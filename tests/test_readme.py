"""Every ```python block of the README runs, in order, in one namespace."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    test_command = re.search(r"Run the tests.*?```bash\n(.*?)\n```", text, re.S).group(1)
    assert test_command in ci  # .ci/run runs exactly the README's test command
    assert "o2sync demo" in text


HEX = r"0x[0-9a-f]{64}"
NUM = r"\d+(\.\d+)?"
SIDE = r"(Buy|Sell)"

#: What each ```python block of the tour prints, found by a line of the block: every
#: pattern must match a line of that block's own output (re.fullmatch), in any order;
#: (pattern, n) asks for at least n such lines. A block that prints and has no entry
#: here fails the test, so a new snippet comes with the output its text promises.
EXPECTED: dict[str, list[Any]] = {
    'sim = Simulator(rate=200).start()': [],
    'for update in client.stream_depth("fFUEL/fUSDC", precision=1):': [
        r"Snapshot: \d+ bids, \d+ asks",
        rf"Best bid: {NUM}",
        rf"\[(OPEN|CLOSED)\] {SIDE} {HEX}: \d+/\d+",
        rf"{SIDE} {NUM} @ {NUM}",
        rf"Balance change: {HEX} available=\d+",
        rf"Nonce changed: \d+ \(account={HEX}\)",
    ],
    "depth = client.get_depth(market, precision=1)": [rf"{NUM} fUSDC per fFUEL"],
    "positions, life = ob.stream_user_positions(), ob.stream_lifecycle()": [
        r"tickers: [1-9]\d* first change: [1-9]\d*",
        r"positions: \{'\S+': '(long|short) \S+'(, '\S+': '(long|short) \S+')*\}"],
    "local = DepthBook()": [r"after 6 updates: best bid \d+ best ask \d+"],
    "page = client.get_orders(market, account, is_open=True, count=20)": [
        r"\d+ \d+", r"\d+ bars; last price \S+"],
    "for n, (sub, event) in enumerate(merge(depth, orders, trades)):": [
        (r"(depth:\S+ DepthUpdate|orders:\S+ OrderUpdate|trades:\S+ TradeUpdate)", 21),
    ],
    '@client.on_trades("fFUEL/fUSDC")': [r"trades: [1-9]\d*"],
    "def worker():": [(r"worker-[0-2] got [1-9]\d* trade\(s\)", 5), r"dropped: 0"],
    'book = client.order_book("fFUEL/fUSDC", precision=1)': [
        r"best bid \d+\.\d+ best ask \d+\.\d+ spread \d+\.\d+", (r"\d+\.\d+ \d+\.\d+", 3),
        r"raw DepthLevel\(price=\d+, quantity=\d+\)"],
    "events = client.stream_lifecycle()": [
        r"disconnected .+", r"reconnected .+", r"\{'messages': \d+, .*'reconnects': 1, .*\}"],
    "with Simulator(seed=1, rate=0, start_flow=False) as quiet:": [
        r"nonce \d+", rf"\[\{{'action': 'subscribe_nonce', 'identities': "
                      rf"\[\{{'ContractId': '{HEX}'\}}\]\}}\]"],
    "with MarketDataClient(tp.mds_url) as md:": [
        r"\[Depth\] Seq=\d+, Asks=\d+, Bids=\d+",
        rf"\[Trade\] ID: \d+, Price: {NUM}, Qty: {NUM}", rf"kline close {NUM}"],
    "md.order_book(example_asset) as tbook:": [
        rf"seq \d+ best bid {NUM}", r"gaps healed: 1 ready: True"],
    "with OrderBookClient(tp.oms_url, default_user=user": [
        r"order event: Order\w+Event", r"reconnected \S*/orders\S* open orders: \d+",
        r"merged: \w+"],
    "client.close()                          # bounded time": [],
}


def _key(block: str) -> str:
    found = [key for key in EXPECTED if key in block]
    assert len(found) == 1, f"give this README block one entry in EXPECTED:\n{block}"
    return found[0]


def test_readme_python_blocks_run(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 8
    keys = [_key(b) for b in blocks]
    assert sorted(keys) == sorted(EXPECTED), "an EXPECTED entry matches no README block"
    script = tmp_path / "readme_tour.py"
    # a marker line before each block splits the output by block
    script.write_text("\n\n".join(f"print('@@ block {i}', flush=True)\n" + textwrap.dedent(b)
                                   for i, b in enumerate(blocks)), encoding="utf-8")
    # a separate interpreter, so a leaked thread would keep it alive and fail the timeout
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=90)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    parts = re.split(r"^@@ block \d+\n", proc.stdout, flags=re.M)[1:]
    assert len(parts) == len(blocks), proc.stdout[-2000:]
    for key, output in zip(keys, parts):
        lines = output.splitlines()
        if not EXPECTED[key]:
            assert lines == [], f"block {key!r} prints what its text does not say:\n{output}"
        for want in EXPECTED[key]:
            pattern, count = want if isinstance(want, tuple) else (want, 1)
            hits = [line for line in lines if re.fullmatch(pattern, line)]
            assert len(hits) >= count, (
                f"block {key!r}: {count} line(s) like {pattern!r} expected, got:\n{output}")
