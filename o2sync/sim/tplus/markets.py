"""The markets the tplus simulator trades, and its default simulated user.

A market is an asset id (``AssetIdentifier`` string, §8 of ``tplus-streams.md``)
with the book's price and quantity decimals (``GET /market/{asset_id}``) and a
starting mid price in book price units.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The registry-index asset of the fixtures (book price decimals 2, quantity decimals 4).
ASSET_INDEX = "200"
#: An ``address@chain`` asset: WETH on Arbitrum One, address padded on the right.
ASSET_ADDRESS = (
    "82af49447d8a07e3bd95bd0d56f35241523fbab1000000000000000000000000@00000000000000a4b1"
)
#: Seed of the default simulated user (32 bytes, hex); anything else may be passed.
DEFAULT_USER_SEED = "5e" * 32


@dataclass(frozen=True)
class MarketSpec:
    """One market: identity, decimals and where the engine starts its mid price."""

    asset_id: str
    price_decimals: int
    quantity_decimals: int
    start_mid: int  # book price units (integer)
    weight: float  # share of engine events on this market
    #: False: a market that never traded: empty book, no history, sequence_number 0
    seeded: bool = True
    #: The asset table's symbol and name (``GET /markets?include_symbol_map=true``),
    #: served for registry-index assets only, as the table is keyed by index
    symbol: str = ""
    name: str = ""

    @property
    def info(self) -> dict[str, object]:
        """The ``GET /market/{asset_id}`` body."""
        return {
            "asset_id": self.asset_id,
            "book_price_decimals": self.price_decimals,
            "book_quantity_decimals": self.quantity_decimals,
        }


DEFAULT_MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec(ASSET_INDEX, 2, 4, 387125, 0.7, symbol="ETH", name="Ether (simulated)"),
    MarketSpec(ASSET_ADDRESS, 1, 3, 38700, 0.3),
)


def normalise_asset(asset: str) -> str:
    """Compare asset ids as tpluspy does: lowercase both halves, drop ``0x``."""
    text = str(asset).strip()
    if "@" in text:
        address, chain = text.split("@", 1)
        address = address.lower().removeprefix("0x")
        chain = chain.lower().removeprefix("0x")
        return f"{address}@{chain}"
    return text
