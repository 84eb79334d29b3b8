"""Test helpers for o2sync users: a local O2 Exchange simulator.

>>> from o2sync.testing import Simulator
>>> with Simulator(start_flow=False) as sim:   # doctest: +SKIP
...     sim.step(10)

Needs the ``websockets`` package (``pip install "o2sync[sim]"``).
"""

from __future__ import annotations

from o2sync.sim import ConnectionRecord, Simulator

__all__ = ["ConnectionRecord", "Simulator"]
