"""The one shape of ``o2sync watch --json`` lines, on both venues.

Each event is one JSON object on one line, with these keys in this order::

    {"venue": "o2" | "tplus",
     "stream": the STREAM watched ("trades", "depth", ..., tplus "trade-events" ...),
     "type": the event's class in the Python API ("TradeUpdate", "OrderBookDiff" ...),
     "market": {"id": ..., "name": ...} or null,
     "received": Unix time in seconds (a float) when the command received the event,
     "event": the event's to_dict(), exact}

``market`` is what the event is about: on O2 ``id`` is the market id (``0x...``) and
``name`` its pair (``fFUEL/fUSDC``); on tplus ``id`` is the asset id (``200``,
``address@chain``) and ``name`` its symbol from the market list (``ETH``), else its
short id. It is null for events about no one market: O2 balances and nonce, an
O2 order update holding orders of several markets. ``event`` keeps every number
exact: O2 chain integers are JSON integers (unscaled; readers limited to 53-bit
floats need a big-integer parser), tplus decimals are strings.
"""

from __future__ import annotations

import json
from typing import Any, Optional

__all__ = ["KEYS", "json_line", "market_ref"]

#: The keys of every line, in order.
KEYS = ("venue", "stream", "type", "market", "received", "event")


def market_ref(market_id: Any, name: Optional[str]) -> Optional[dict[str, str]]:
    """The ``market`` value: ``{"id", "name"}``, or None without an id."""
    if market_id is None:
        return None
    ident = str(market_id)
    return {"id": ident, "name": name or ident}


def json_line(venue: str, stream: str, event: Any, market: Optional[dict[str, str]],
              received: float) -> str:
    """One line (without the newline) of the documented shape for ``event``."""
    line = {"venue": venue, "stream": stream, "type": type(event).__name__,
            "market": market, "received": round(received, 6),
            "event": event.to_dict(encode_json=True)}
    return json.dumps(line, default=str)
