"""``from o2sync.api import O2Api``: the twin of ``o2_sdk.api`` (see :mod:`o2sync.o2.api`)."""

from .o2.api import O2Api

__all__ = ["O2Api"]
