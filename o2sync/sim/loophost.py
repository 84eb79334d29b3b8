"""What both simulators share: a server on an asyncio loop in one named daemon thread,
started, stopped and called into from any other thread, and the switch of its
background order flow."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable
from typing import Any, Callable, Optional, TypeVar

from .flow import Flow, check_rate

logger = logging.getLogger(__name__)

T = TypeVar("T")
H = TypeVar("H", bound="LoopHost")
#: Longest wait for the loop thread to run a control call.
CALL_TIMEOUT = 30.0


class LoopHost:
    """Base of a simulator's public front. Subclasses name the thread
    (``thread_name``), build the server (``_make_server``: an object with async
    ``start()`` and ``shutdown()``) and keep what its start returned (``_started``).
    Every method may be called from any thread; state lives on the loop thread."""

    thread_name = "o2sync-sim"
    label = "simulator"  # for log lines
    _flow: Flow  # the background order flow; the server is told when it changes

    def __init__(self) -> None:
        self._lifecycle = threading.RLock()  # serialises start/stop/restart
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._server: Any = None

    def _make_server(self) -> Any:
        raise NotImplementedError

    def _started(self, result: Any) -> None:
        """Keep what the server's ``start()`` returned (the bound port or ports)."""

    def start(self: H) -> H:
        """Start serving; returns once the ports listen. No-op if running."""
        with self._lifecycle:
            if self._thread is not None:
                return self
            loop = asyncio.new_event_loop()
            # any executor thread (e.g. name resolution) is ours too, and named so
            loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(
                2, thread_name_prefix=self.thread_name + "-executor"))
            thread = threading.Thread(target=_run_loop, args=(loop,), name=self.thread_name,
                                      daemon=True)
            thread.start()
            server = self._make_server()
            try:
                result = asyncio.run_coroutine_threadsafe(server.start(), loop).result(
                    CALL_TIMEOUT)
            except BaseException:
                try:
                    asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(5)
                finally:
                    loop.call_soon_threadsafe(loop.stop)
                    thread.join(CALL_TIMEOUT)
                raise
            self._started(result)
            self._loop, self._thread, self._server = loop, thread, server
            return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close every connection (code 1001) and the ports, and end the thread.

        Idempotent; safe to call when never started.
        """
        with self._lifecycle:
            loop, thread, server = self._loop, self._thread, self._server
            if loop is None or thread is None or server is None:
                return
            self._loop = self._thread = self._server = None
            try:
                asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(timeout)
            except Exception:
                logger.exception("%s: unclean shutdown", self.label)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout)
            if thread.is_alive():
                logger.warning("%s thread still alive after %.1fs", self.label, timeout)

    def restart(self) -> None:
        """Stop and start again on the same ports: open connections die, the market
        carries on where it was."""
        with self._lifecycle:
            self.stop()
            self.start()

    def __enter__(self: H) -> H:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is started."""
        return self._thread is not None

    # -- background order flow ------------------------------------------------------

    @property
    def rate(self) -> float:
        """Background engine events per second."""
        return self._flow.rate

    @property
    def paused(self) -> bool:
        """Whether background flow is paused."""
        return self._flow.paused

    def set_rate(self, events_per_second: float) -> None:
        """Change the background rate (0 stops background events)."""
        self._call(self._set_flow, check_rate(events_per_second), self._flow.paused)

    def pause(self) -> None:
        """Stop background events; when this returns, none is running or will run."""
        self._call(self._set_flow, self._flow.rate, True)

    def resume(self) -> None:
        """Restart background events at the current rate."""
        self._call(self._set_flow, self._flow.rate, False)

    def _set_flow(self, rate: float, paused: bool) -> None:
        self._flow.rate, self._flow.paused = rate, paused
        if self._server is not None:
            self._server.flow_changed()

    # -- calls into the loop ----------------------------------------------------------

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the loop thread (where all state lives) and return its result."""
        loop = self._loop
        if loop is None or threading.current_thread() is self._thread:
            return fn(*args)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(CALL_TIMEOUT)

    def _call_async(self, coro: Awaitable[T]) -> T:
        loop = self._loop
        if loop is None:
            raise RuntimeError(f"the {self.label} is not running")
        return asyncio.run_coroutine_threadsafe(_as_coroutine(coro), loop).result(CALL_TIMEOUT)


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Body of the simulator thread: run the loop, then clean up everything."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
