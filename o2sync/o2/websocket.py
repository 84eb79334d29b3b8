"""``O2WebSocket``: o2-sdk's low-level stream client, blocking.

The same constructor, methods and parameters as ``o2_sdk.websocket.O2WebSocket``:
markets by id, depth by WIRE precision (``"10"`` = level 1), account streams by a
list of identity dicts. Each ``stream_*`` returns an o2sync
:class:`~o2sync.engine.subscription.Subscription` (iterate it with ``for``), over one
:class:`~o2sync.O2Client` that this object owns; ``disconnect()`` closes it and ends
every stream.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from ..engine.lifecycle import ConnectionEvent, ConnectionState
from ..engine.subscription import Subscription
from ..errors import InvalidArgumentError
from .api import _level_of
from .client import O2Client
from .models import BalanceUpdate, DepthUpdate, NonceUpdate, OrderUpdate, TradeUpdate
from .network import NetworkConfig
from .protocol import normalize_id, require_account_id

__all__ = ["ConnectionEvent", "ConnectionState", "O2WebSocket"]


def _one_account(identities: Any) -> str:
    """The trade account of ``[{"ContractId": "0x..."}]``.

    o2sync keeps one subscription per account (each stream gets only its own
    account's items), so a stream takes exactly one identity: call once per account.
    """
    if not isinstance(identities, list) or len(identities) != 1 \
            or not isinstance(identities[0], dict):
        raise InvalidArgumentError(
            f"identities must be a list of one identity dict like [{{'ContractId': '0x...'}}] "
            f"(o2sync streams one account per call), got {identities!r}")
    ident = identities[0]
    value = ident.get("ContractId", ident.get("Address"))
    return require_account_id(value)


class O2WebSocket:
    """Low-level O2 streams with o2-sdk's call shapes (blocking).

    ``max_reconnect_attempts=0`` means no limit, as in o2-sdk. Other keyword
    ``options`` go to the :class:`~o2sync.O2Client` underneath (``queue_size``,
    ``overflow``, ``backoff_initial``...).
    """

    def __init__(self, config: NetworkConfig, ping_interval: float = 30.0,
                 pong_timeout: float = 60.0, max_reconnect_attempts: int = 10,
                 **options: Any) -> None:
        if not isinstance(config, NetworkConfig):
            raise TypeError(f"config must be a NetworkConfig, got {config!r}")
        if isinstance(max_reconnect_attempts, bool) or not isinstance(
                max_reconnect_attempts, int) or max_reconnect_attempts < 0:
            raise InvalidArgumentError(f"max_reconnect_attempts must be an int >= 0, got "
                                       f"{max_reconnect_attempts!r}")
        self._config = config
        self._options = dict(options, ping_interval=ping_interval, pong_timeout=pong_timeout,
                             max_reconnect_attempts=max_reconnect_attempts or None)
        self._client: Optional[O2Client] = None
        self._lock = threading.Lock()
        self._subs: dict[tuple[str, str], list[Subscription[Any]]] = {}

    @property
    def client(self) -> O2Client:
        """The O2Client underneath (made on first use)."""
        with self._lock:
            if self._client is None:
                self._client = O2Client(custom_config=self._config, **self._options)
            return self._client

    def connect(self, timeout: Optional[float] = 10.0) -> O2WebSocket:
        """Connect now (streams also connect by themselves); returns self."""
        self.client.connect(timeout)
        return self

    def disconnect(self) -> None:
        """Close the socket and end every stream (a lifecycle stream ends after CLOSED)."""
        with self._lock:
            client, self._client = self._client, None
            self._subs.clear()
        if client is not None:
            client.close()

    def __enter__(self) -> O2WebSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def __repr__(self) -> str:
        return f"<O2WebSocket {self._config.ws_url} client={self._client!r}>"

    def _keep(self, kind: str, key: str, sub: Subscription[Any]) -> Subscription[Any]:
        with self._lock:
            self._subs.setdefault((kind, key), []).append(sub)
        return sub

    def _drop(self, kind: str, key: Optional[str] = None) -> None:
        with self._lock:
            keys = [k for k in self._subs if k[0] == kind and (key is None or k[1] == key)]
            subs = [s for k in keys for s in self._subs.pop(k)]
        for sub in subs:
            sub.close()

    # ------------------------------------------------------------ streams

    def stream_lifecycle(self) -> Subscription[ConnectionEvent]:
        """Connection lifecycle events; ends after CLOSED."""
        return self.client.stream_lifecycle()

    def stream_depth(self, market_id: str, wire_precision: str = "10"
                     ) -> Subscription[DepthUpdate]:
        """Depth of a market by id; ``wire_precision`` is the wire value (``"10"`` = 1)."""
        level = _level_of(wire_precision)
        sub = self.client.stream_depth(market_id, level)
        return self._keep("depth", normalize_id(str(market_id)), sub)

    def stream_trades(self, market_id: str) -> Subscription[TradeUpdate]:
        """Trades of a market by id."""
        sub = self.client.stream_trades(market_id)
        return self._keep("trades", normalize_id(str(market_id)), sub)

    def stream_orders(self, identities: list[dict[str, str]]) -> Subscription[OrderUpdate]:
        """Order changes of ``[{"ContractId": trade_account_id}]``."""
        account = _one_account(identities)
        return self._keep("orders", account, self.client.stream_orders(account))

    def stream_balances(self, identities: list[dict[str, str]]
                        ) -> Subscription[BalanceUpdate]:
        """Balance changes of ``[{"ContractId": trade_account_id}]``."""
        account = _one_account(identities)
        return self._keep("balances", account, self.client.stream_balances(account))

    def stream_nonce(self, identities: list[dict[str, str]]) -> Subscription[NonceUpdate]:
        """Nonce changes of ``[{"ContractId": trade_account_id}]``."""
        account = _one_account(identities)
        return self._keep("nonce", account, self.client.stream_nonce(account))

    # ------------------------------------------------------------ unsubscribe

    def unsubscribe_depth(self, market_id: str) -> None:
        """End this object's depth streams of the market (and unsubscribe)."""
        self._drop("depth", normalize_id(str(market_id)))

    def unsubscribe_trades(self, market_id: str) -> None:
        """End this object's trades streams of the market (and unsubscribe)."""
        self._drop("trades", normalize_id(str(market_id)))

    def unsubscribe_orders(self) -> None:
        """End every orders stream of this object (the protocol's unsubscribe is global)."""
        self._drop("orders")

    def unsubscribe_balances(self, identities: list[dict[str, str]]) -> None:
        """End this object's balances streams (every one, as o2-sdk forgets them all)."""
        self._drop("balances")

    def unsubscribe_nonce(self, identities: list[dict[str, str]]) -> None:
        """End this object's nonce streams (every one, as o2-sdk forgets them all)."""
        self._drop("nonce")
