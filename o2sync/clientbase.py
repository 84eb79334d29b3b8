"""What every o2sync client has, whatever the venue: lifecycle and error streams,
callback registration, run_forever, stats, close, context manager."""

from __future__ import annotations

import itertools
import logging
from typing import Any, Callable, Optional, TypeVar, overload

from .engine.lifecycle import ConnectionEvent
from .engine.stream import ERRORS, LIFECYCLE, StreamEngine
from .engine.subscription import Subscription
from .errors import ClientClosedError

log = logging.getLogger(__name__)

E = TypeVar("E")
Callback = Callable[[E], Any]
#: ``on_x()`` without a callback: a decorator that registers the function it decorates.
Decorator = Callable[[Callback[E]], "Subscription[E]"]
#: What an ``on_x`` implementation returns: the Subscription (callback given) or a
#: :data:`Decorator` (callback omitted); each ``on_x`` is overloaded on the two.
Registration = Any
_client_ids = itertools.count(1)  # names threads o2sync-1-reader, o2sync-2-...


def next_client_name() -> str:
    """``o2sync-N``: the prefix of a new client's thread names."""
    return f"o2sync-{next(_client_ids)}"


def register(callback: Optional[Callable[..., Any]],
             make: Callable[[Callable[..., Any]], Subscription[Any]]) -> Registration:
    """``make(callback)`` now, or a decorator that does it when ``callback`` is None."""
    if callback is None:
        def decorator(fn: Callable[..., Any]) -> Subscription[Any]:
            if not callable(fn):
                raise TypeError(f"callback must be callable, got {fn!r}")
            return make(fn)
        return decorator
    if not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    return make(callback)


class StreamingClient:
    """Base of the venue clients; subclasses set ``self._engine`` and open their REST."""

    _engine: StreamEngine

    @property
    def is_connected(self) -> bool:
        """True while every socket in use is up and its subscriptions are replayed."""
        return self._engine.is_connected

    def stream_lifecycle(self) -> Subscription[ConnectionEvent]:
        """Connection events: CONNECTED, DISCONNECTED, RECONNECTING, RECONNECTED,
        FAILED (a socket that can never connect) and CLOSED; ``event.stream`` names
        the socket."""
        return self._engine.local(LIFECYCLE, "lifecycle", None)

    def stream_errors(self) -> Subscription[Exception]:
        """Reports of dropped frames, overflows and failed callbacks, as exceptions."""
        return self._engine.local(ERRORS, "errors", None)

    @overload
    def on_lifecycle(self, callback: Callback[ConnectionEvent]
                     ) -> Subscription[ConnectionEvent]: ...

    @overload
    def on_lifecycle(self, callback: None = None
                     ) -> Decorator[ConnectionEvent]: ...

    def on_lifecycle(self, callback: Optional[Callback[ConnectionEvent]] = None
                     ) -> Registration:
        """Call ``callback(event)`` on each connection event; decorator when omitted."""
        return register(callback, lambda cb: self._engine.local(LIFECYCLE, "lifecycle", cb))

    @overload
    def on_error(self, callback: Callback[Exception]) -> Subscription[Exception]: ...

    @overload
    def on_error(self, callback: None = None) -> Decorator[Exception]: ...

    def on_error(self, callback: Optional[Callback[Exception]] = None) -> Registration:
        """Call ``callback(error)`` for each reported problem (decode errors, overflow,
        callback exceptions, server error frames, failed streams); decorator when omitted."""
        return register(callback, lambda cb: self._engine.local(ERRORS, "errors", cb))

    def add_tap(self, tap: Callable[[str, bytes], None]) -> None:
        """Hand every raw frame to ``tap(url, data)`` as it arrives: ``url`` is the
        socket's WebSocket URL, ``data`` the frame's UTF-8 bytes (control frames and
        ones o2sync cannot decode included). For recorders: runs on the reader
        thread before routing, so it must be quick and must not raise."""
        if not callable(tap):
            raise TypeError(f"tap must be callable, got {tap!r}")
        self._engine.add_socket_tap(tap)

    def remove_tap(self, tap: Callable[[str, bytes], None]) -> None:
        """Stop calling ``tap`` (no-op if it was never added)."""
        self._engine.remove_tap(tap)

    def run_forever(self) -> None:
        """Block until ``close()`` (from any thread or a callback) or Ctrl-C, then close."""
        try:
            self._engine.start()
            self._engine.wait_closed(None)
        except ClientClosedError:
            pass  # closed (by a callback, say) before we got here: nothing to run
        except KeyboardInterrupt:
            log.info("interrupted; closing")
        finally:
            self.close()

    def close(self, timeout: float = 5.0) -> bool:
        """Close in bounded time (idempotent, any thread, also from a callback).

        Emits CLOSED, ends every iterator, stops every o2sync thread of this client.
        Returns True if every thread ended within ``timeout``.
        """
        ok = self._engine.close(timeout)
        self._close_rest()
        return ok

    def _close_rest(self) -> None:
        """Subclasses close their REST sessions here."""

    def stats(self) -> dict[str, Any]:
        """Counters: messages, events, decode_errors, server_errors, ignored,
        control_frames, unknown_kinds, resync_skipped (deltas skipped until a fresh
        snapshot), resyncs (fresh snapshots asked for), dropped, callback_errors,
        callback_backlog, reconnects, connect_failures (failed connect attempts,
        links that died right after their handshake included), pings_sent, pongs,
        subscriptions, sockets, state."""
        return self._engine.stats()

    def __enter__(self: E) -> E:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
