"""Twin of ``tplus.model.klines``."""

from ..models import KlinesPage, KlineUpdate, Timebar

__all__ = ["KlineUpdate", "KlinesPage", "Timebar"]
