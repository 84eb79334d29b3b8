"""The one rule every o2sync thread is joined by."""

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
