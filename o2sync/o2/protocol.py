"""O2 wire conventions: ids, precision, and the frames a client sends.

See ``shared/protocol/o2-websocket.md`` sections 3, 4 and 6.4.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..errors import InvalidArgumentError

log = logging.getLogger(__name__)

_HEX64 = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")
MIN_PRECISION = 1
MAX_PRECISION = 18
DOCUMENTED_MAX_PRECISION = 9

PING = "PING"
PONG = b"PONG"  # compared with the raw frame bytes


def is_hex_id(value: object) -> bool:
    """True for a 32-byte hex id, with or without ``0x``, any case."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def normalize_id(value: str) -> str:
    """Lowercase, ``0x``-prefixed form; compare ids only in this form."""
    v = value.lower()
    return v if v.startswith("0x") else "0x" + v


def require_account_id(account: object) -> str:
    """Validate a trade-account id argument and return it normalised.

    Raises ``ValueError`` for anything that is not a 32-byte hex id. Objects with a
    ``trade_account_id`` attribute (the SDK's AccountInfo) are accepted too.
    """
    account = getattr(account, "trade_account_id", account)
    if not is_hex_id(account):
        raise InvalidArgumentError(
            f"account must be a trade account id: 0x followed by 64 hex digits, got {account!r}"
        )
    return normalize_id(str(account))


def wire_precision(precision: object) -> str:
    """User precision level 1..18 -> the wire string ``str(10 ** level)``.

    Raises ``ValueError`` outside 1..18 (level 0 / ``"1"`` subscribes to a channel
    that never emits). Levels above 9 are not documented by the exchange.
    """
    if isinstance(precision, bool) or not isinstance(precision, int):
        raise InvalidArgumentError(f"precision must be an int from 1 to 18, got {precision!r}")
    if not MIN_PRECISION <= precision <= MAX_PRECISION:
        raise InvalidArgumentError(f"precision must be from 1 to 18, got {precision}")
    if precision > DOCUMENTED_MAX_PRECISION:
        log.warning("precision %d is above the documented maximum of 9", precision)
    return str(10**precision)


def identities(account_id: str) -> list[dict[str, str]]:
    """The ``identities`` list for an account subscription."""
    return [{"ContractId": account_id}]


def subscribe_depth(market_id: str, precision: int) -> dict[str, Any]:
    return {"action": "subscribe_depth", "market_id": market_id,
            "precision": wire_precision(precision)}


def unsubscribe_depth(market_id: str) -> dict[str, Any]:
    return {"action": "unsubscribe_depth", "market_id": market_id}


def subscribe_trades(market_id: str) -> dict[str, Any]:
    return {"action": "subscribe_trades", "market_id": market_id}


def unsubscribe_trades(market_id: str) -> dict[str, Any]:
    return {"action": "unsubscribe_trades", "market_id": market_id}


def subscribe_account(kind: str, account_id: str) -> dict[str, Any]:
    """``subscribe_orders`` / ``subscribe_balances`` / ``subscribe_nonce``."""
    return {"action": f"subscribe_{kind}", "identities": identities(account_id)}


def unsubscribe_account(kind: str, account_id: str) -> dict[str, Any]:
    """The unsubscribe frame; ``unsubscribe_orders`` carries no identities."""
    if kind == "orders":
        return {"action": "unsubscribe_orders"}
    return {"action": f"unsubscribe_{kind}", "identities": identities(account_id)}
