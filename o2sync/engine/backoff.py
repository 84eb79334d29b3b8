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


class ResyncLimiter:
    """When a topic's next resync (a resubscription, a REST snapshot) may run.

    The first resync of a run runs at once, so an isolated bad frame or gap heals at
    once. Resyncs in a run are spaced ``initial * 2**(n-1)`` apart, capped at
    ``maximum``: a server that breaks every snapshot it sends costs a handful of
    resyncs a minute instead of thousands a second. A run ends (the next resync is
    immediate again) when the stream proved healthy since the last resync: at least
    ``healthy_events`` events went through (``progress``, a count the caller keeps),
    or it was quiet for ``quiet`` seconds (twice the current spacing, if longer).
    """

    def __init__(self, initial: float = 0.25, maximum: float = 30.0,
                 quiet: float = 10.0, healthy_events: int = 10) -> None:
        if initial <= 0 or maximum < initial or quiet <= 0:
            raise ValueError(f"need 0 < initial <= maximum and quiet > 0, got "
                             f"{initial}, {maximum}, {quiet}")
        self.initial = initial
        self.maximum = maximum
        self.quiet = quiet
        self.healthy_events = healthy_events
        self._run = 0  # resyncs in the current run
        self._last = 0.0  # when the last one ran (or is planned to)
        self._progress = 0  # the caller's event count at the last resync

    def _spacing(self) -> float:
        exponent = min(max(self._run - 1, 0), _MAX_EXPONENT)
        return min(self.maximum, self.initial * 2.0 ** exponent)

    def next_delay(self, now: float, progress: int = 0) -> float:
        """Seconds to wait before a resync asked for at ``now``, when the stream has
        carried ``progress`` events in all; records it as planned."""
        if self._run and (progress - self._progress >= self.healthy_events
                          or now - self._last >= max(self.quiet, 2 * self._spacing())):
            self._run = 0
        delay = 0.0 if not self._run else max(0.0, self._last + self._spacing() - now)
        self._run += 1
        self._last = now + delay
        self._progress = progress
        return delay

    def __repr__(self) -> str:
        return f"ResyncLimiter(run={self._run}, initial={self.initial}, maximum={self.maximum})"
