"""Reconnect delays: exponential, capped, with jitter."""

from __future__ import annotations

import random
from typing import Optional

_MAX_EXPONENT = 1000  # 2.0 ** 1000 is still a float; the cap applies long before


class Backoff:
    """Delay before reconnect attempt ``n`` (1-based).

    ``initial * 2**(n-1)``, capped at ``maximum``, then scaled by a random factor in
    ``[1 - jitter, 1]`` so that many clients dropped at once do not reconnect in
    lockstep. The first retry is fast by design (``initial`` defaults small).

    :meth:`first_delay` is the wait before reconnecting a link that was up a moment
    ago: a server that drops a socket is usually back at once, so it is short
    (``FIRST_RETRY``, at most ``initial``), and still jittered.
    """

    #: Longest wait before the first reconnect after a loss.
    FIRST_RETRY = 0.05

    def __init__(self, initial: float = 0.25, maximum: float = 30.0, jitter: float = 0.5,
                 rng: Optional[random.Random] = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError(f"need 0 < backoff_initial <= backoff_max, got {initial}, {maximum}")
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {jitter}")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self._rng = rng or random.Random()

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt``."""
        # capped exponent: 2 ** 1024 is an int no float can hold (OverflowError), and
        # attempt numbers grow without bound when max_reconnect_attempts is None
        exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
        base = min(self.maximum, self.initial * 2.0 ** exponent)
        return base * (1.0 - self.jitter * self._rng.random())

    def first_delay(self) -> float:
        """Seconds to wait before reconnecting a link that was just lost."""
        base = min(self.FIRST_RETRY, self.initial)
        return base * (1.0 - self.jitter * self._rng.random())

    def __repr__(self) -> str:
        return f"Backoff(initial={self.initial}, maximum={self.maximum}, jitter={self.jitter})"
