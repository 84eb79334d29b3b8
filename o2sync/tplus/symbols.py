"""tplus markets by the names people use: the symbols the market endpoints give.

tplus names a market by its ``AssetIdentifier``: a registry index (``200``) or a
90-character ``address@chain``. The order service's ``GET /markets`` lists the
markets, and with ``include_symbol_map=true`` the canonical asset table, index ->
:class:`~o2sync.tplus.history.Asset` (``symbol``, ``name``...).
:class:`MarketNames` reads that once and names each market by its symbol when the
table has one (index assets), else by a short form of its id
(``82af49..bab1@a4b1``: the address without its right padding, shortened, and the
chain number in hex); :meth:`MarketNames.resolve` takes any of the id, the symbol
(any case) or that short form, and an unknown name raises ``LookupError`` listing
the known markets.

Only what the endpoints serve is used: no symbol is guessed for an address asset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Optional

from .asset import AssetIdentifier
from .history import Asset, MarketResponse, MarketsPage

__all__ = ["MarketNames", "short_asset"]

_EVM_HEX = 40


def short_asset(asset: Any) -> str:
    """A short, readable form of an asset id: an index as is, an ``address@chain``
    as ``82af49..bab1@a4b1`` (right padding dropped, chain number in hex)."""
    text = str(asset)
    if "@" not in text:
        return text
    address, chain = text.split("@", 1)
    stripped = address.rstrip("0")
    address = address[:_EVM_HEX] if len(stripped) <= _EVM_HEX else address
    chain = chain.lstrip("0") or "0"
    return f"{address[:6]}..{address[-4:]}@{chain}"


class MarketNames:
    """The markets of a tplus deployment, named by symbol (see the module doc).

    Build one from a :class:`~o2sync.tplus.history.MarketsPage` read with
    ``include_symbol_map=True`` (:meth:`of` does the read), or from nothing
    (``MarketNames()``: no markets known, every asset named by its short id).
    """

    def __init__(self, page: Optional[MarketsPage] = None) -> None:
        self.markets: dict[str, MarketResponse] = {}
        self.symbols: dict[int, Asset] = dict(page.symbol_map or {}) if page else {}
        for market in page or ():
            self.markets[str(market.asset_id)] = market
        self._by_name: dict[str, str] = {}
        for key in self.markets:
            for name in (key, self.label(key), short_asset(key)):
                self._by_name.setdefault(name.lower(), key)

    @classmethod
    def of(cls, client: Any) -> MarketNames:
        """Read the markets and their symbols from ``client`` (an ``OrderBookClient``,
        or a ``MarketDataClient`` whose ``get_markets`` can answer)."""
        page: MarketsPage = client.get_markets(include_symbol_map=True)
        return cls(page)

    def symbol(self, asset: Any) -> Optional[str]:
        """The asset table's symbol of ``asset`` (an index asset), or None."""
        text = str(asset)
        entry = self.symbols.get(int(text)) if text.isdigit() else None
        return entry.symbol if entry is not None and entry.symbol else None

    def label(self, asset: Any) -> str:
        """How to show ``asset``: its symbol, else its short id."""
        return self.symbol(asset) or short_asset(asset)

    def describe(self, asset: Any) -> str:
        """``ETH (200)``: the label and, when they differ, the id it stands for."""
        label, short = self.label(asset), short_asset(asset)
        return label if label == short else f"{label} ({short})"

    def known(self) -> list[str]:
        """Every listed market, described (:meth:`describe`), in the service's order."""
        return [self.describe(key) for key in self.markets]

    def market(self, asset: Any) -> Optional[MarketResponse]:
        """The listed market of ``asset`` (its decimals), or None."""
        return self.markets.get(str(asset))

    def resolve(self, name: Any, where: str = "") -> AssetIdentifier:
        """The asset a person named: an id (``200``, ``address@chain``), a symbol (any
        case) or a short id as :meth:`label` shows it. ``LookupError`` naming the
        known markets when it is none of them (``where``: the service, for the
        message); with no market list at all, any valid id is taken as is (a
        malformed one raises ``ValueError``)."""
        text = str(name).strip()
        key = self._by_name.get(text.lower())
        if key is not None:
            return AssetIdentifier(key)
        if not self.markets:  # nothing to check against: a malformed id says why
            return AssetIdentifier(text)
        try:
            asset: Optional[AssetIdentifier] = AssetIdentifier(text)
        except ValueError:
            asset = None
        if asset is not None and str(asset) in self.markets:
            return asset
        place = f" on {where}" if where else ""
        raise LookupError(f"no tplus market {text!r}{place}; known: {', '.join(self.known())}")

    def __iter__(self) -> Iterator[str]:
        """The listed markets' asset ids (as strings)."""
        return iter(self.markets)

    def __len__(self) -> int:
        return len(self.markets)

    def __repr__(self) -> str:
        return f"<MarketNames {', '.join(self.known()) or 'none'}>"
