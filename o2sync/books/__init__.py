"""Live order books: the sorted-levels core and reading API every venue's book shares."""

from .levels import SortedLevels
from .live import LiveBook

__all__ = ["LiveBook", "SortedLevels"]
