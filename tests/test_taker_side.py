"""A tape shows the aggressor's side on both venues (issue 22 item 1).

O2 sends the maker's side (o2-sdk 0.5.0's ``Trade.side`` docstring; protocol notes
§8), tplus ``buyer_is_maker``; the models keep both as sent, ``taker_side`` reads
the aggressor's, and ``watch``/the demo print it labelled ``taker``.
"""

from __future__ import annotations

import io
import json
import re
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from o2sync import O2Client
from o2sync.cli.tplus import format_event as tplus_line
from o2sync.cli.watch import watch
from o2sync.o2.decode import decode_trades
from o2sync.testing import Simulator
from o2sync.tplus.models import Trade as TplusTrade

FIXTURES = Path("/work/shared/fixtures")


def _with_side(side: Any) -> dict[str, Any]:
    """The protocol notes' trades sample (as o2-sdk's own fixtures send it) with its
    trade's ``side`` replaced (None: left out, as a Rust SDK test sends it)."""
    frame: dict[str, Any] = json.loads((FIXTURES / "o2_trades.json").read_text())
    frame["trades"][0].pop("side")
    if side is not None:
        frame["trades"][0]["side"] = side
    return frame


@pytest.mark.parametrize("sent, taker", [("Sell", "Buy"), ("Buy", "Sell"), ("buy", "Sell"),
                                         ("SELL", "Buy"), ("", None), (None, None)])
def test_o2_taker_side_is_the_opposite_of_the_makers_side_as_sent(sent: Any,
                                                                  taker: Any) -> None:
    trade = decode_trades(_with_side(sent)).trades[0]
    assert trade.side == (sent if sent is not None else "")  # the model keeps it as sent
    assert trade.taker_side == taker
    assert "taker_side" not in trade.to_dict()  # not a field: o2-sdk's fields only


@pytest.mark.parametrize("buyer_is_maker, taker", [(True, "Sell"), (False, "Buy")])
def test_tplus_taker_side_and_line(buyer_is_maker: bool, taker: str) -> None:
    raw = json.loads((FIXTURES / "tplus_trade.json").read_text())
    raw = raw.get("frame", raw) if isinstance(raw, dict) else raw
    raw["buyer_is_maker"] = buyer_is_maker
    trade = TplusTrade.model_validate(raw)
    assert trade.buyer_is_maker is buyer_is_maker and trade.taker_side == taker
    assert "taker_side" not in trade.model_dump()
    assert re.fullmatch(rf"trade \S+ #\d+ taker {taker} \S+ @ \S+ \w+", tplus_line(trade))


def test_o2_watch_labels_the_takers_side() -> None:
    """Frames as o2-sdk's fixtures send them go through the real decode and socket."""
    with Simulator(rate=0, start_flow=False) as sim, \
            O2Client(ws_url=sim.ws_url, api_url=sim.api_url) as client:
        out = io.StringIO()
        done = threading.Thread(target=watch, args=(client, "trades", "fFUEL/fUSDC"),
                                kwargs={"events": 3, "out": out}, name="test-watch")
        done.start()
        assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 10)
        for sent in ("Sell", "buy", None):
            sim.inject(json.dumps(_with_side(sent)))
        done.join(10)
        assert not done.is_alive()
    lines = out.getvalue().splitlines()
    assert [line.split(" trades fFUEL/fUSDC ")[1].split(" @ ")[0] for line in lines] == [
        "taker Buy 640.000", "taker Sell 640.000", "taker ? 640.000"], lines


def test_demo_tape_heading_names_the_taker() -> None:
    import collections
    from types import SimpleNamespace

    from rich.console import Console

    from o2sync.cli.demo import TapeEntry, Units, View, render

    level = SimpleNamespace(price=Decimal("99.5"), quantity=Decimal("1"))
    book = SimpleNamespace(best_bid=level, best_ask=level, bids=lambda n: [level],
                           asks=lambda n: [level])
    tape = collections.deque([TapeEntry(0.0, "Sell", Decimal("99.5"), Decimal("1"))])
    stats = {"state": "connected", "messages": 1, "dropped": 0, "reconnects": 0}
    view = View(book, Units.plain("X/Y", "X"), tape, lambda: stats, threading.Lock())
    out = io.StringIO()
    Console(file=out, width=80, height=12).print(render(view, 80, 12))
    assert re.search(r"│ taker +price +qty │", out.getvalue()), out.getvalue()
