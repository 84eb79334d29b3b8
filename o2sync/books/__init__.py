"""Live order books: the sorted-levels core and reading API every venue's book shares."""

from .levels import SortedLevels
from .live import LiveBook
from .scaled import BookReader, Level, ScaledBook

__all__ = ["BookReader", "Level", "LiveBook", "ScaledBook", "SortedLevels"]
