"""The REST records o2-sdk returns next to its streams: the markets answer with its
registry ids, accounts, order pages, the ticker and bars.

Names, fields, field order and defaults are o2-sdk 0.5.0's (``models.py``); a nonce
is an exact ``int`` where o2-sdk keeps the digit string (README, deliberate
exception 1). Bars and the ticker keep o2-sdk's text values: the exchange does not
say whether they are chain integers or human decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from dataclasses_json import DataClassJsonMixin

from .ids import Id
from .models import _IDENTITY_JSON, Identity, Market, Order

_ZERO_ID = Id("0" * 64)


@dataclass
class MarketsResponse(DataClassJsonMixin):
    """``GET /v1/markets``: the registry ids of the deployment and its markets."""

    books_registry_id: Id
    accounts_registry_id: Id
    trade_account_oracle_id: Id
    chain_id: str
    base_asset_id: Id
    markets: list[Market] = field(default_factory=list)

    @property
    def chain_id_int(self) -> int:
        """``chain_id`` as an integer (``0x`` hex or decimal text)."""
        text = self.chain_id
        return int(text, 16) if text[:2] in ("0x", "0X") else int(text)


@dataclass
class TradeAccount(DataClassJsonMixin):
    """The on-chain trade account record of ``GET /v1/accounts``."""

    last_modification: int
    nonce: int
    owner: Identity = field(metadata=_IDENTITY_JSON)
    synced_with_network: Optional[bool] = None
    sync_state: Union[dict[str, Any], str, None] = None

    @property
    def sync_generation(self) -> int:
        """The indexer's sync generation from ``sync_state`` (``{"V3": ...}`` -> 3,
        absent -> 0). It says nothing about what the account's contract supports."""
        state = self.sync_state
        if isinstance(state, dict):
            for key in state:
                if len(key) >= 2 and key[0] == "V" and key[1:].isdigit():
                    return int(key[1:])
        return 0


@dataclass
class AccountInfo(DataClassJsonMixin):
    """``GET /v1/accounts``: ``trade_account_id`` and ``trade_account`` are None for an
    account that does not exist."""

    trade_account_id: Optional[Id]
    trade_account: Optional[TradeAccount]
    session: Optional[dict[str, Any]] = None

    @property
    def exists(self) -> bool:
        """True when the account exists."""
        return self.trade_account_id is not None

    @property
    def nonce(self) -> int:
        """The account's nonce (0 when it does not exist)."""
        return 0 if self.trade_account is None else int(self.trade_account.nonce)

    @property
    def sync_generation(self) -> int:
        """:attr:`TradeAccount.sync_generation`, 0 without an account."""
        return 0 if self.trade_account is None else self.trade_account.sync_generation


@dataclass
class OrdersResponse(DataClassJsonMixin):
    """One page of ``GET /v1/orders``."""

    identity: Optional[Identity] = field(metadata=_IDENTITY_JSON)
    market_id: Id
    orders: list[Order]


@dataclass
class MarketTicker(DataClassJsonMixin):
    """``GET /v1/markets/ticker``: ``data`` is the ticker object as sent (with
    ``market_id`` set to the market asked for when the answer has none)."""

    market_id: Id
    data: dict[str, Any]


@dataclass
class Bar(DataClassJsonMixin):
    """One candle of ``GET /v1/bars`` (values as sent, as in o2-sdk)."""

    time: int = 0
    open: str = "0"
    high: str = "0"
    low: str = "0"
    close: str = "0"
    volume: str = "0"


#: resolutions ``GET /v1/bars`` takes (``1m`` a minute, ``1M`` a month), as o2-sdk checks them
BAR_RESOLUTIONS = frozenset({"1s", "1m", "2m", "3m", "5m", "15m", "30m", "1h", "2h", "4h",
                             "6h", "8h", "12h", "1d", "3d", "1w", "1M", "3M"})


def check_resolution(resolution: object) -> str:
    """``resolution`` if ``GET /v1/bars`` takes it, else ``ValueError`` (before any call)."""
    if not isinstance(resolution, str) or resolution not in BAR_RESOLUTIONS:
        raise ValueError(f"bar resolution must be one of {sorted(BAR_RESOLUTIONS)}, "
                         f"got {resolution!r}")
    return resolution
