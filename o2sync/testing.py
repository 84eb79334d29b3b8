"""Test helpers for o2sync users: local O2 Exchange and tplus simulators.

>>> from o2sync.testing import Simulator, TplusSimulator
>>> with Simulator(start_flow=False) as sim:   # doctest: +SKIP
...     sim.step(10)
>>> with TplusSimulator(start_flow=False) as tplus:   # doctest: +SKIP
...     tplus.step(10)

Needs the simulator extra (``pip install "o2sync[sim]"``): ``websockets`` for the
O2 simulator, ``aiohttp`` and ``cryptography`` for the tplus one (imported only
when ``TplusSimulator`` is first used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

#: The packages of the ``sim`` extra; without one, importing a simulator says so.
_EXTRA = ("websockets", "aiohttp", "cryptography")


def _needs_the_extra(exc: ModuleNotFoundError) -> ModuleNotFoundError:
    """``exc`` retold: which module is missing, and the extra that brings it."""
    return ModuleNotFoundError(
        f"o2sync.testing needs the simulator extra: pip install 'o2sync[sim]' "
        f"(no module named {exc.name!r})", name=exc.name)


try:
    from o2sync.sim import ConnectionRecord, Simulator
except ModuleNotFoundError as exc:
    if exc.name not in _EXTRA:
        raise
    raise _needs_the_extra(exc) from exc

if TYPE_CHECKING:
    from o2sync.sim.tplus import TplusSimulator

__all__ = ["ConnectionRecord", "Simulator", "TplusSimulator"]


def __getattr__(name: str) -> Any:
    if name == "TplusSimulator":
        try:
            from o2sync.sim.tplus import TplusSimulator
        except ModuleNotFoundError as exc:
            if exc.name not in _EXTRA:
                raise
            raise _needs_the_extra(exc) from exc
        return TplusSimulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
