"""Default market data of the simulator and the small helpers that read it.

The ids, decimals and precisions are those of ``o2_markets.json`` in the shared
protocol fixtures, so the simulator and the fixtures tell the same story.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

#: The simulated trading account (a ``ContractId``): owner of a share of the resting
#: orders, so its orders, balances and nonce streams change over time.
ACCOUNT_ID = "0x79bfe0c3410f7cc73bf245f2371632e89eaef45e846dade03a72c5b1eab9fe43"
#: The wallet that owns :data:`ACCOUNT_ID` (``GET /v1/accounts?owner=``).
ACCOUNT_OWNER = "0x65e3b7c031030a7e07020fcd93665d7a68dffc0547335cb95ec5c567eec59e58"
#: Other traders. The first is the counterparty of the fixtures; the rest are made up.
COUNTERPARTIES = (
    "0x93854ec991be293ba1bea0ae4992dc788d70dde77154fb8d87a485b016b79d4a",
    "0x2f1c4b9e0d6a53e8c7b41a9f6e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1",
    "0x5a7d3e9c1b2f4068a9e7c5d3b1f2e4a6c8d0b2f4e6a8c0d2b4f6e8a0c2d4b6f8",
    "0xc0ffee254729296a45a3885639ac7e10f9d54979aa6cbb2ea4e0bc1ee3f6d1e0",
    "0x0b1e2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
)

#: Top-level fields of ``GET /v1/markets`` besides ``markets``.
REGISTRY: Mapping[str, Any] = {
    "books_registry_id": "0x71efe6796865276e3c0a4f1887103b74e1a31fd0b4204194191b2f0678e000ba",
    "books_whitelist_id": "0x800082e6f51b30002143a697cd4be499cec3f562568b62fab0b2307ad3b6225b",
    "books_blacklist_id": "0x08507bec25598c4c39b91961756df27b715bed7b8ab57f8a27a8cc3d07c86c34",
    "accounts_registry_id": "0xa76e64739acd8aa95f53d0635d8aea7e1e59d7b7337e29ef7a660636f836e97c",
    "trade_account_oracle_id": "0xed0437b142dd78d50b8cd441e20639ed50aa7f1965730137e5dd53e994f153fa",
    "chain_id": "0x0000000000000000",
    "base_asset_id": "0xb1f47fcb048f9e556669ae310ca01cafad07a5be509b74de25aad4d92ed40e73",
}

_FUSDC = {
    "symbol": "fUSDC",
    "asset": "0x6eb5e1b66e24d4ce8543077f467b7df7f9c4bfd02bd4c9389d2ac53ff0a4c69f",
    "decimals": 9,
}

#: Fields both fixture markets share (kept in the fixture's key order).
_BOOK_TERMS = {
    "whitelist_id": None,
    "blacklist_id": None,
    "maker_fee": "0",
    "taker_fee": "100",
    "min_order": "1000000000",
    "dust": "1000",
    "price_window": 0,
}

#: Key of a custom market dict holding its initial mid price (raw quote units).
#: It is stripped from the REST output.
SIM_PRICE_KEY = "sim_price"

DEFAULT_MARKETS: Sequence[Mapping[str, Any]] = (
    {
        "contract_id": "0xf95183169121b6c892eec103d09d86eec19a8791a5bc577adbce35a5403ce470",
        "market_id": "0x43c8c52e49590d26ca6f72777a49c852ac83ab7b57a0950976ea4f21eff6586a",
        **_BOOK_TERMS,
        "base": {
            "symbol": "fFUEL",
            "asset": "0x9d8dd52332fe3cc3827a55d60d43e1a70b6544fe5b01f632d9d2e0b186ad055f",
            "decimals": 9,
            "max_precision": 3,
        },
        "quote": {**_FUSDC, "max_precision": 6},
        SIM_PRICE_KEY: 12_500_000,  # 0.0125 fUSDC, the fixtures' price
    },
    {
        "contract_id": "0xab9e952f24fa3fd38ff7912515aefd065deaef8e2e3e75c62e05cca58c95887c",
        "market_id": "0x41a04c18c561d349bb49eeca502f4853af7a6584bff6c242ac43b79a3bec7107",
        **_BOOK_TERMS,
        "base": {
            "symbol": "fETH",
            "asset": "0xb0bada05f912af5c564d41a889cf5eb9345b78619ec77eace4abe572c23c859c",
            "decimals": 9,
            "max_precision": 6,
        },
        "quote": {**_FUSDC, "max_precision": 2},
        SIM_PRICE_KEY: 3_000_000_000_000,  # 3000 fUSDC
    },
)


def normalize_id(value: str) -> str:
    """Return a hex id in the canonical form: ``0x`` prefix, lowercase."""
    value = value.strip().lower()
    return value if value.startswith("0x") else "0x" + value


def is_hex_id(value: object) -> bool:
    """True for a 32-byte hex id, with or without ``0x``, in any case."""
    if not isinstance(value, str):
        return False
    digits = normalize_id(value)[2:]
    return len(digits) == 64 and all(c in "0123456789abcdef" for c in digits)


@dataclass(frozen=True)
class MarketSpec:
    """One market: its REST dict plus the numbers the engine derives from it."""

    info: Mapping[str, Any]  # exactly as in GET /v1/markets
    market_id: str
    contract_id: str
    pair: str
    base_asset: str
    quote_asset: str
    base_decimals: int
    tick: int  # smallest price increment, raw quote units
    lot: int  # smallest quantity increment, raw base units
    initial_price: int  # raw quote units per whole base unit

    @property
    def base_scale(self) -> int:
        """``10 ** base.decimals``: divides ``price * quantity`` into quote units."""
        return int(10**self.base_decimals)

    def legs(self, is_buy: bool) -> tuple[str, str]:
        """(asset paid, asset received) by a buyer (``is_buy``) or a seller."""
        return (
            (self.quote_asset, self.base_asset) if is_buy else (self.base_asset, self.quote_asset)
        )

    def cost(self, is_buy: bool, price: int, quantity: int) -> int:
        """What a buyer (quote value) or a seller (base quantity) pays for ``quantity``."""
        return price * quantity // self.base_scale if is_buy else quantity


def make_spec(market: Mapping[str, Any]) -> MarketSpec:
    """Validate one market dict and derive its engine parameters."""
    info = {k: copy.deepcopy(v) for k, v in market.items() if k != SIM_PRICE_KEY}
    base, quote = info["base"], info["quote"]
    info["market_id"] = normalize_id(info["market_id"])
    info["contract_id"] = normalize_id(info["contract_id"])
    base["asset"] = normalize_id(base["asset"])
    quote["asset"] = normalize_id(quote["asset"])
    tick = 10 ** (int(quote["decimals"]) - int(quote["max_precision"]))
    lot = 10 ** (int(base["decimals"]) - int(base["max_precision"]))
    price = int(market.get(SIM_PRICE_KEY, 10 ** int(quote["decimals"])))
    return MarketSpec(
        info=info,
        market_id=info["market_id"],
        contract_id=info["contract_id"],
        pair=f"{base['symbol']}/{quote['symbol']}",
        base_asset=base["asset"],
        quote_asset=quote["asset"],
        base_decimals=int(base["decimals"]),
        tick=tick,
        lot=lot,
        initial_price=max(tick, price - price % tick),
    )


def make_specs(markets: Optional[Sequence[Mapping[str, Any]]]) -> list[MarketSpec]:
    """Specs for ``markets`` (default: :data:`DEFAULT_MARKETS`); ids must be unique."""
    specs = [make_spec(m) for m in (DEFAULT_MARKETS if markets is None else markets)]
    if not specs:
        raise ValueError("the simulator needs at least one market")
    ids = [s.market_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("market ids must be unique")
    return specs


def find_market(specs: Sequence[MarketSpec], key: str) -> Optional[MarketSpec]:
    """Look a market up by id (any case, with or without ``0x``) or by pair name."""
    for spec in specs:
        if key == spec.pair:
            return spec
    if is_hex_id(key):
        wanted = normalize_id(key)
        for spec in specs:
            if wanted in (spec.market_id, spec.contract_id):
                return spec
    return None
