"""The O2 live order book, importable from here as before (it lives in :mod:`o2sync.o2.book`)."""

from .o2.book import LiveOrderBook

__all__ = ["LiveOrderBook"]
