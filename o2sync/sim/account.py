"""Balances and nonce of the simulated trading account.

Per asset the account holds a ``trading_account_balance`` (free funds in the
trading-account contract) and, per order-book contract, ``locked`` funds (backing
open orders) and ``unlocked`` funds (fill proceeds and released locks not yet
settled back). ``total_unlocked`` includes ``trading_account_balance``, as the
protocol documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .markets import MarketSpec

#: Initial free funds, in whole quote units, of the quote asset / worth of each base asset.
_QUOTE_FUNDS = 5_000_000
_BASE_FUNDS_WORTH = 2_000_000


class AssetBalance:
    """One asset of the account."""

    __slots__ = ("books", "trading")

    def __init__(self, contracts: Sequence[str]) -> None:
        self.trading = 0
        # contract id -> [locked, unlocked]
        self.books: dict[str, list[int]] = {c: [0, 0] for c in contracts}

    @property
    def total_locked(self) -> int:
        return sum(v[0] for v in self.books.values())

    @property
    def total_unlocked(self) -> int:
        return self.trading + sum(v[1] for v in self.books.values())

    def rest_dict(self) -> dict[str, Any]:
        """The ``GET /v1/balance`` body for this asset."""
        return {
            "order_books": {
                c: {"locked": str(v[0]), "unlocked": str(v[1]), "fee": "0"}
                for c, v in self.books.items()
            },
            "total_locked": str(self.total_locked),
            "total_unlocked": str(self.total_unlocked),
            "trading_account_balance": str(self.trading),
        }


class Account:
    """The simulated account: funds per asset and the session nonce."""

    def __init__(self, account_id: str, owner: str, specs: Sequence[MarketSpec]) -> None:
        self.account_id = account_id
        self.owner = owner
        self.nonce = 43  # the fixtures' value; any start would do
        self.last_modification = 18_235_541
        self.assets: dict[str, AssetBalance] = {}
        for spec in specs:
            for asset in (spec.base_asset, spec.quote_asset):
                contracts = [s.contract_id for s in specs if asset in (s.base_asset, s.quote_asset)]
                self.assets.setdefault(asset, AssetBalance(contracts))
        for spec in specs:
            quote_unit = 10 ** int(spec.info["quote"]["decimals"])
            self.assets[spec.quote_asset].trading += _QUOTE_FUNDS * quote_unit
            base = _BASE_FUNDS_WORTH * quote_unit * spec.base_scale // spec.initial_price
            self.assets[spec.base_asset].trading += base - base % spec.lot

    def bump_nonce(self) -> None:
        """One more session transaction."""
        self.nonce += 1
        self.last_modification += 1

    def can_spend(self, asset: str, amount: int) -> bool:
        """Whether the free balance covers ``amount``."""
        return self.assets[asset].trading >= amount

    def lock(self, spec: MarketSpec, asset: str, amount: int) -> None:
        """Move free funds into an order book as locked (a new resting order)."""
        bal = self.assets[asset]
        bal.trading -= amount
        bal.books[spec.contract_id][0] += amount

    def unlock(self, spec: MarketSpec, asset: str, amount: int) -> None:
        """Locked -> unlocked in the same book (a cancel, or rounding left-over)."""
        book = self.assets[asset].books[spec.contract_id]
        book[0] -= amount
        book[1] += amount

    def consume_locked(self, spec: MarketSpec, asset: str, amount: int) -> None:
        """Locked funds leave the account (paid to a counterparty on a fill)."""
        self.assets[asset].books[spec.contract_id][0] -= amount

    def spend(self, asset: str, amount: int) -> None:
        """Free funds leave the account (a taker's payment)."""
        self.assets[asset].trading -= amount

    def credit(self, spec: MarketSpec, asset: str, amount: int) -> None:
        """Fill proceeds arrive as unlocked funds in the order book."""
        self.assets[asset].books[spec.contract_id][1] += amount

    def has_unlocked(self) -> bool:
        """Whether a settle would move anything."""
        return any(v[1] for bal in self.assets.values() for v in bal.books.values())

    def settle(self) -> list[str]:
        """Move every unlocked amount back to the trading account; changed assets."""
        changed = []
        for asset, bal in self.assets.items():
            moved = sum(v[1] for v in bal.books.values())
            if moved:
                for v in bal.books.values():
                    v[1] = 0
                bal.trading += moved
                changed.append(asset)
        return changed

    def account_dict(self) -> dict[str, Any]:
        """The ``GET /v1/accounts`` body."""
        return {
            "trade_account_id": self.account_id,
            "trade_account": {
                "last_modification": self.last_modification,
                "nonce": str(self.nonce),
                "owner": {"Address": self.owner},
                "synced_with_network": True,
            },
            "session": None,
        }
