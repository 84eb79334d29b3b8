"""The dispatcher thread: the only o2sync thread that runs user callbacks."""

from __future__ import annotations

import functools
import logging
import queue
import threading
from typing import Any, Callable, Optional

from . import threads
from .options import Scheduler

log = logging.getLogger(__name__)


_STOP = object()


class Dispatcher(threads.ThreadOwner):
    """Runs callbacks in arrival order on one named thread, or hands them to a hook.

    A callback that blocks delays only later callbacks; reading, pings, reconnects
    and queue delivery run on other threads. With a ``scheduler`` hook the thread
    still exists (so the reader never waits on the hook) and passes each callback
    to the hook in order.
    """

    def __init__(self, name: str, scheduler: Optional[Scheduler] = None,
                 on_hook_error: Optional[Callable[[BaseException], None]] = None) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._scheduler = scheduler
        self._on_hook_error = on_hook_error
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)


    @property
    def backlog(self) -> int:
        """Callbacks queued and not yet run (a slow callback makes this grow)."""
        return self._queue.qsize()

    def submit(self, fn: Callable[..., None], arg: Any) -> None:
        """Queue ``fn(arg)``; never blocks the caller."""
        self._queue.put((fn, arg))

    def stop(self) -> None:
        """Run what is already queued, then end the thread."""
        self._queue.put(_STOP)

    def _run(self) -> None:
        get = self._queue.get
        while True:
            item = get()
            if item is _STOP:
                return
            fn, arg = item
            if self._scheduler is None:
                fn(arg)  # fn reports its own exceptions (Subscription.run_callback)
                continue
            try:
                self._scheduler(functools.partial(fn, arg))
            except Exception as exc:  # e.g. the GUI loop is gone
                log.warning("dispatcher hook failed: %r", exc)
                if self._on_hook_error is not None:
                    self._on_hook_error(exc)
