"""Twin of ``tplus.model.pagination``."""

from ..history import PageContinuation, PageMeta

__all__ = ["PageContinuation", "PageMeta"]
