"""What the server does with each text frame a client sends (WS §4, §11, §13).

Error frames (``{"action": "error", "code", "message"}``) are the simulator's
choice: the real frame shape is undocumented. Codes follow the protocol's catalogue:
1001 InvalidRequest, 1002 ParseError, 2000 MarketNotFound, 6000 AlreadySubscribed
(subscribing an identity that this socket already follows for that stream).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional

from . import messages
from .depth import parse_wire_precision
from .hub import Hub
from .markets import find_market, is_hex_id, normalize_id
from .peer import Peer

logger = logging.getLogger(__name__)

MAX_IDENTITIES = 10
_PONG = b"PONG"


class RequestError(Exception):
    """A client request the server answers with an error frame."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def handle_frame(hub: Hub, peer: Peer, text: str, now: float) -> None:
    """Apply one client text frame; answer errors with an error frame."""
    if text == "PING":
        peer.send(_PONG)
        return
    try:
        request = json.loads(text)
    except ValueError:
        peer.send(messages.ws_error(1002, "ParseError: not JSON").encode())
        return
    try:
        if not isinstance(request, dict):
            raise RequestError(1001, "InvalidRequest: expected a JSON object")
        action = request.get("action")
        handler = _HANDLERS.get(action) if isinstance(action, str) else None
        if handler is None:
            raise RequestError(1001, f"InvalidRequest: unknown action {action!r}")
        handler(hub, peer, request, now)
    except RequestError as exc:
        logger.debug("connection #%d: %s", peer.record.id, exc.message)
        peer.send(messages.ws_error(exc.code, exc.message).encode())


def _market(hub: Hub, request: dict[str, Any]) -> str:
    key = request.get("market_id")
    if not isinstance(key, str) or not key:
        raise RequestError(1001, "InvalidRequest: market_id is required")
    spec = find_market(hub.exchange.specs, key)
    if spec is None:
        raise RequestError(2000, "MarketNotFound")
    return spec.market_id


def _identities(request: dict[str, Any], required: bool = True) -> Optional[list[str]]:
    raw = request.get("identities")
    if raw is None and not required:
        return None
    if not isinstance(raw, list) or not raw:
        raise RequestError(1001, "InvalidRequest: identities must be a non-empty list")
    if len(raw) > MAX_IDENTITIES:
        raise RequestError(1001, f"InvalidRequest: at most {MAX_IDENTITIES} identities")
    ids = []
    for identity in raw:
        if not (isinstance(identity, dict) and len(identity) == 1):
            raise RequestError(1001, 'InvalidRequest: an identity is {"ContractId": "0x…"}')
        ((kind, value),) = identity.items()
        if kind not in ("ContractId", "Address") or not is_hex_id(value):
            raise RequestError(1001, f"InvalidRequest: bad identity {identity!r}")
        ids.append(normalize_id(value))
    return ids


def _subscribe_depth(hub: Hub, peer: Peer, request: dict[str, Any], now: float) -> None:
    market_id = _market(hub, request)
    if "precision" not in request:
        raise RequestError(1001, "InvalidRequest: precision is required")
    hub.subscribe_depth(peer, market_id, parse_wire_precision(request["precision"]), now)


def _unsubscribe_depth(hub: Hub, peer: Peer, request: dict[str, Any], now: float) -> None:
    hub.unsubscribe_depth(peer, _market(hub, request))


def _subscribe_trades(hub: Hub, peer: Peer, request: dict[str, Any], now: float) -> None:
    hub.subscribe("trades", peer, _market(hub, request))  # twice is harmless: one stream


def _unsubscribe_trades(hub: Hub, peer: Peer, request: dict[str, Any], now: float) -> None:
    hub.unsubscribe("trades", peer, _market(hub, request))


def _identity_subscriber(kind: str) -> Callable[[Hub, Peer, dict[str, Any], float], None]:
    def subscribe(hub: Hub, peer: Peer, request: dict[str, Any], now: float) -> None:
        ids = _identities(request) or []
        already = [i for i in ids if i in getattr(peer, kind)]
        for identity in ids:
            hub.subscribe(kind, peer, identity)
        if already:
            raise RequestError(6000, "AlreadySubscribed")

    return subscribe


def _identity_unsubscriber(kind: str) -> Callable[[Hub, Peer, dict[str, Any], float], None]:
    def unsubscribe(hub: Hub, peer: Peer, request: dict[str, Any], now: float) -> None:
        # orders: connection-global, no identities; balances/nonce: the listed ones
        # (or all of them when the list is missing, to be lenient)
        ids = None if kind == "orders" else _identities(request, required=False)
        for identity in list(getattr(peer, kind)) if ids is None else ids:
            hub.unsubscribe(kind, peer, identity)

    return unsubscribe


_HANDLERS: dict[str, Callable[[Hub, Peer, dict[str, Any], float], None]] = {
    "subscribe_depth": _subscribe_depth,
    "unsubscribe_depth": _unsubscribe_depth,
    "subscribe_trades": _subscribe_trades,
    "unsubscribe_trades": _unsubscribe_trades,
    "subscribe_orders": _identity_subscriber("orders"),
    "unsubscribe_orders": _identity_unsubscriber("orders"),
    "subscribe_balances": _identity_subscriber("balances"),
    "unsubscribe_balances": _identity_unsubscriber("balances"),
    "subscribe_nonce": _identity_subscriber("nonce"),
    "unsubscribe_nonce": _identity_unsubscriber("nonce"),
}
