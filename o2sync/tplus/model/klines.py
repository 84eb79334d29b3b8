"""Twin of ``tplus.model.klines``."""

from ..history import Interval
from ..models import KlinesPage, KlineUpdate, Timebar

__all__ = ["Interval", "KlineUpdate", "KlinesPage", "Timebar"]
