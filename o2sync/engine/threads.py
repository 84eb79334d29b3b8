"""How o2sync threads are owned: started, joined with a timeout, exposed for tests."""

from __future__ import annotations

import threading
from typing import Optional


def join(thread: threading.Thread, timeout: Optional[float]) -> bool:
    """Wait up to ``timeout`` for ``thread`` to end; True if it has (or never started).

    A thread cannot join itself: from its own thread (``close()`` inside a callback)
    this returns True at once, and the thread ends when the current work returns.
    """
    if thread.ident is None or thread is threading.current_thread():
        return True
    thread.join(timeout)
    return not thread.is_alive()


class ThreadOwner:
    """Base of the objects that own one named thread (reader, watchdog, dispatcher)."""

    _thread: threading.Thread

    def start(self) -> None:
        """Start the thread (once)."""
        self._thread.start()

    def join(self, timeout: Optional[float]) -> bool:
        """Wait for the thread to end; True if it did (or never started)."""
        return join(self._thread, timeout)

    @property
    def thread(self) -> threading.Thread:
        return self._thread


#: Longest single wait on the main thread, so Ctrl-C (delivered only to the main
#: thread, and only between waits there) gets through promptly.
MAIN_THREAD_SLICE = 0.2


def wait_slice(deadline: Optional[float], now: float) -> Optional[float]:
    """How long one wait may block: until ``deadline`` (None: forever), but in slices
    of :data:`MAIN_THREAD_SLICE` on the main thread only. Worker threads never get
    signals, so they block in one piece and cost no wake-ups while idle.

    Returns a number <= 0 when the deadline has passed.
    """
    left = None if deadline is None else deadline - now
    if threading.current_thread() is threading.main_thread():
        return MAIN_THREAD_SLICE if left is None else min(MAIN_THREAD_SLICE, left)
    return left
