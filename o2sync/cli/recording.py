"""``o2sync record`` and ``o2sync replay``: raw frames to a file, and back to a client.

Recording format (JSON Lines, UTF-8), version 1:

* line 1, the header::

    {"o2sync_recording": 1, "ws_url": "...", "api_url": "...",
     "started_at": "2026-11-21T17:45:00Z", "streams": ["depth:fFUEL/fUSDC", ...],
     "markets": [ <the GET /v1/markets "markets" list> ]}

* every further line, one frame as the server sent it::

    {"t": 0.012345, "frame": "<raw text frame>"}

  ``t`` is seconds since the recording started (monotonic clock, receive time).
  Frames are stored verbatim, including ones o2sync could not decode; the text
  heartbeat answer ``PONG`` is left out.

Replay serves the header's markets over REST and the frames over the simulator's
WebSocket (which then generates no market activity of its own), either at the
recorded pace (scaled by ``speed``) or as fast as possible.

tplus recordings (``o2sync record --venue tplus``), version 2: tplus has one socket
per stream path, so every frame line also names its path, and the header names
the venue and both services::

    {"o2sync_recording": 2, "venue": "tplus", "mds_url": "...", "oms_url": "...",
     "user_id": "<hex or null>", "started_at": "...", "streams": ["depth:200", "trades"],
     "paths": ["/marketdepth/diff/200", "/trades"],
     "markets": [{"asset_id": "200", "book_price_decimals": 2, ...}]}
    {"t": 0.012345, "path": "/marketdepth/diff/200", "frame": "<raw text frame>"}

Control frames (``{"type": "ping"}``...) are kept too. Replay serves each path's
frames, in recorded order and pace, to the clients subscribed to that path on a
quiet tplus simulator; O2 recordings (version 1, no ``venue``) load and replay as
before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, Optional

from ..o2 import protocol
from .watch import STREAMS, open_stream

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: Version of recordings whose header names a venue and whose frames name a path (tplus).
TPLUS_FORMAT_VERSION = 2
VERSIONS = (FORMAT_VERSION, TPLUS_FORMAT_VERSION)


@dataclass
class Recording:
    """A recording read back: its header, its (time, frame) pairs and, for tplus,
    each frame's path (``paths[i]`` is the path of ``frames[i]``)."""

    header: dict[str, Any]
    frames: list[tuple[float, str]]
    paths: Optional[list[str]] = None

    @property
    def markets(self) -> list[dict[str, Any]]:
        return list(self.header.get("markets") or [])

    @property
    def venue(self) -> str:
        """``"o2"`` or ``"tplus"``."""
        return str(self.header.get("venue") or "o2")


def parse_stream_spec(spec: str, venue: str = "o2") -> tuple[str, str]:
    """``"depth:fFUEL/fUSDC"`` -> ``("depth", "fFUEL/fUSDC")``; ValueError otherwise.

    tplus (``venue="tplus"``): ``KIND`` or ``KIND:ASSET`` (``trades``, ``depth:200``).
    """
    if venue == "tplus":
        from .tplus import NEEDS_ASSET
        from .tplus import STREAMS as TPLUS_STREAMS

        kind, _, target = spec.partition(":")
        if kind not in TPLUS_STREAMS:
            raise ValueError(f"unknown tplus stream kind {kind!r} in {spec!r}; "
                             f"choose from {', '.join(TPLUS_STREAMS)}")
        if kind in NEEDS_ASSET and not target:
            raise ValueError(f"{kind} needs an asset: {kind}:ASSET (e.g. {kind}:200), "
                             f"got {spec!r}")
        return kind, target
    kind, sep, target = spec.partition(":")
    if not sep or not target:
        raise ValueError(
            f"stream must look like KIND:TARGET (e.g. trades:fFUEL/fUSDC), got {spec!r}")
    if kind not in STREAMS:
        raise ValueError(f"unknown stream kind {kind!r} in {spec!r}; "
                         f"choose from {', '.join(STREAMS)}")
    return kind, target


def validate_specs(client: Any, specs: Sequence[str]) -> None:
    """Raise ValueError/LookupError for the first spec that cannot be subscribed.

    Markets must resolve on the exchange (REST), account ids must be well formed.
    Nothing is sent on the WebSocket and no file is touched.
    """
    if getattr(client, "venue", "o2") == "tplus":
        for spec in specs:
            kind, target = parse_stream_spec(spec, "tplus")
            client.check(kind, target or None)
        return
    for spec in specs:
        kind, target = parse_stream_spec(spec)
        if kind in ("depth", "trades"):
            client.get_market(target)
        else:
            protocol.require_account_id(target)


class Progress:
    """Live progress of a recording on stderr: frames, rate, elapsed time, file size.

    Drawn with rich when stderr is a terminal (and rich is installed); otherwise
    silent until :meth:`summary`. :meth:`update` is cheap (reader thread).
    """

    def __init__(self, path: str, stream: Optional[IO[str]] = None,
                 live: Optional[bool] = None) -> None:
        self.path = path
        self.frames = 0
        self.bytes = 0
        self.started = time.monotonic()
        self.ended: Optional[float] = None
        self.saved = False
        self.interrupted = False
        self._stream = stream if stream is not None else sys.stderr
        isatty = getattr(self._stream, "isatty", lambda: False)()
        self._want_live = isatty if live is None else live
        self._live: Any = None

    def start(self) -> None:
        self.started = time.monotonic()
        if not self._want_live:
            return
        try:
            from rich.console import Console
            from rich.live import Live
        except ImportError:  # no [demo] extra: no live line, the summary still comes
            return
        console = Console(file=self._stream)
        self._live = Live(console=console, refresh_per_second=4, transient=True,
                          get_renderable=self._render, redirect_stdout=False,
                          redirect_stderr=False)
        self._live.start()

    def update(self, frames: int, size: int) -> None:
        self.frames, self.bytes = frames, size

    def _render(self) -> Any:
        from rich.text import Text

        return Text.assemble(("recording ", "bold"), self.line(), (" (Ctrl-C to stop)", "dim"))

    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    def line(self) -> str:
        elapsed = self.elapsed()
        rate = self.frames / elapsed if elapsed > 0 else 0.0
        return (f"{self.frames} frames  {rate:.1f}/s  {_clock(elapsed)}  "
                f"{_size(self.bytes)}  -> {self.path}")

    def stop(self) -> None:
        if self.ended is None:
            self.ended = time.monotonic()
        if self._live is not None:
            self._live.stop()
            self._live = None

    def summary(self) -> str:
        elapsed = self.elapsed()
        rate = self.frames / elapsed if elapsed > 0 else 0.0
        how = "interrupted; " if self.interrupted else ""
        return (f"{how}recorded {self.frames} frames to {self.path} "
                f"({_size(self.bytes)}, {elapsed:.1f}s, {rate:.1f} frames/s)")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _umask() -> int:
    """The process's umask (read by setting it, so set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def record_to_file(client: Any, specs: Sequence[str], path: str, *, frames: int = 0,
                   seconds: float = 0.0, force: bool = False,
                   progress: Optional[Progress] = None,
                   connect_timeout: Optional[float] = None) -> int:
    """Record into ``path`` without ever destroying data.

    Every spec is validated first; frames go to a temporary file next to ``path``,
    which is renamed to ``path`` when the recording ends, also by Ctrl-C (the
    KeyboardInterrupt propagates after the rename). An existing ``path`` is replaced
    only with ``force``; on any other error the temporary file is removed and
    ``path`` is left as it was. Returns the number of frames written.
    """
    validate_specs(client, specs)
    if not force and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass force=True (--force) to replace it")
    progress = progress if progress is not None else Progress(path, live=False)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part",
                                   dir=directory)
    except OSError as exc:  # name ``path``, not the hidden temporary file
        raise type(exc)(exc.errno, exc.strerror, path) from None
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a recording is a normal file
    keep = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            progress.start()
            try:
                n = record(client, specs, out, frames=frames, seconds=seconds,
                           progress=progress, connect_timeout=connect_timeout)
            except KeyboardInterrupt:
                progress.interrupted = True
                keep = True
                raise
            keep = True
        return n
    finally:
        progress.stop()
        if keep:
            if force or not os.path.exists(path):
                os.replace(tmp, path)
                progress.saved = True
            else:  # appeared meanwhile: keep both, say where ours went
                log.warning("%s appeared while recording; the recording is in %s", path, tmp)
        else:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def record(client: Any, specs: Sequence[str], out: IO[str], *, frames: int = 0,
           seconds: float = 0.0, progress: Optional[Progress] = None,
           connect_timeout: Optional[float] = None) -> int:
    """Record the raw frames of the given streams into ``out``.

    Stops after ``frames`` frames or ``seconds`` seconds (0 = neither), or when the
    client closes. Returns the number of frames written. On KeyboardInterrupt the
    frames so far are flushed and ``progress`` holds their count.
    """
    if getattr(client, "venue", "o2") == "tplus":
        return _record_tplus(client, specs, out, frames=frames, seconds=seconds,
                             progress=progress, connect_timeout=connect_timeout)
    parsed = [parse_stream_spec(s) for s in specs]
    markets = [m.to_dict() for m in client.get_markets()]
    header = {"o2sync_recording": FORMAT_VERSION, "ws_url": client.ws_url,
              "api_url": client.api_url, "streams": list(specs),
              "started_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "markets": [_wire_market(m) for m in markets]}
    line = json.dumps(header) + "\n"
    out.write(line)
    size = len(line.encode())
    written = 0
    done = threading.Event()
    lock = threading.Lock()
    start = time.monotonic()

    def tap(data: bytes) -> None:
        nonlocal written, size
        if data == b"PONG" or done.is_set():
            return
        text = data.decode("utf-8", "replace")
        with lock:
            if done.is_set():
                return
            entry = json.dumps({"t": round(time.monotonic() - start, 6), "frame": text}) + "\n"
            out.write(entry)
            written += 1
            size += len(entry.encode())
            if progress is not None:
                progress.update(written, size)
            if frames and written >= frames:
                done.set()

    client._engine.add_tap(tap)
    subs: list[Any] = []
    try:
        for kind, target in parsed:
            subs.append(open_stream(client, kind, target))
        if connect_timeout:
            client.connect(timeout=connect_timeout)
        deadline = start + seconds if seconds else None
        while not done.is_set() and not client._engine.closing:
            if deadline is not None and time.monotonic() >= deadline:
                break
            done.wait(0.2)
    finally:
        done.set()
        for sub in subs:
            sub.close()
        with lock:
            out.flush()
    return written


def _record_tplus(session: Any, specs: Sequence[str], out: IO[str], *, frames: int,
                  seconds: float, progress: Optional[Progress],
                  connect_timeout: Optional[float]) -> int:
    """:func:`record` for a TplusSession: every frame with its socket's path."""
    from .tplus import path_of

    parsed = []
    for spec in specs:
        kind, target = parse_stream_spec(spec, "tplus")
        parsed.append((kind, session.check(kind, target or None)))
    urls = [session.stream_url(kind, asset) for kind, asset in parsed]
    markets: list[dict[str, Any]] = []
    for asset in dict.fromkeys(a for _, a in parsed if a is not None):
        info = session.market(asset)
        if info is not None:
            markets.append({"asset_id": str(info.asset_id),
                            "book_price_decimals": info.book_price_decimals,
                            "book_quantity_decimals": info.book_quantity_decimals})
    header = {"o2sync_recording": TPLUS_FORMAT_VERSION, "venue": "tplus",
              "mds_url": session.mds_url, "oms_url": session.oms_url,
              "user_id": session.user.user_id if session.user is not None else None,
              "streams": list(specs),
              "started_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "paths": list(dict.fromkeys(path_of(u) for u in urls)), "markets": markets}
    line = json.dumps(header) + "\n"
    out.write(line)
    size = len(line.encode())
    written = 0
    done = threading.Event()
    lock = threading.Lock()
    start = time.monotonic()

    def tap(url: str, data: bytes) -> None:
        nonlocal written, size
        if done.is_set():
            return
        text = data.decode("utf-8", "replace")
        with lock:
            if done.is_set():
                return
            entry = json.dumps({"t": round(time.monotonic() - start, 6), "path": path_of(url),
                                "frame": text}) + "\n"
            out.write(entry)
            written += 1
            size += len(entry.encode())
            if progress is not None:
                progress.update(written, size)
            if frames and written >= frames:
                done.set()

    session.add_tap(tap)
    subs: list[Any] = []
    try:
        for kind, asset in parsed:
            subs.append(session.open_stream(kind, asset))
        if connect_timeout:
            for kind, asset in parsed:
                session.connect(kind, asset, connect_timeout)
        deadline = start + seconds if seconds else None
        while not done.is_set() and not session.closing:
            if deadline is not None and time.monotonic() >= deadline:
                break
            done.wait(0.2)
    finally:
        done.set()
        session.remove_tap(tap)
        for sub in subs:
            sub.close()
        with lock:
            out.flush()
    return written


def _wire_market(m: dict[str, Any]) -> dict[str, Any]:
    """A Market's dict in the shape of ``GET /v1/markets`` (what replay serves back)."""
    return {"market_id": m["market_id"], "contract_id": m["contract_id"],
            "maker_fee": m["maker_fee"], "taker_fee": m["taker_fee"],
            "min_order": m["min_order"], "dust": m["dust"], "price_window": m["price_window"],
            "whitelist_id": None, "blacklist_id": None, "base": m["base"], "quote": m["quote"]}


def load(path: str) -> Recording:
    """Read a recording; ValueError with the line number if it is not one."""
    with open(path, encoding="utf-8") as fh:
        lines = iter(enumerate(fh, 1))
        try:
            _, first = next(lines)
        except StopIteration:
            raise ValueError(f"{path}: empty file, not an o2sync recording") from None
        try:
            header = json.loads(first)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("o2sync_recording") not in VERSIONS:
            raise ValueError(f"{path}: not an o2sync recording (its first line is not an "
                             f"o2sync_recording {FORMAT_VERSION} or {TPLUS_FORMAT_VERSION} "
                             "header)")
        tplus = header.get("venue") == "tplus"
        if header.get("venue", "o2") not in ("o2", "tplus"):
            raise ValueError(f"{path}: a recording of an unknown venue "
                             f"{header.get('venue')!r}")
        frames = []
        paths: list[str] = []
        for number, line in lines:
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                frames.append((float(item["t"]), str(item["frame"])))
                if tplus:
                    paths.append(str(item["path"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: bad frame line ({exc})") from None
    return Recording(header, frames, paths if tplus else None)


def paced(frames: Sequence[tuple[float, str]], speed: float) -> Iterator[str]:
    """Yield frames at their recorded times divided by ``speed`` (0 = no waiting)."""
    start = time.monotonic()
    for t, frame in frames:
        if speed > 0:
            delay = start + t / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing a replay, not synchronising threads
        yield frame


def replay(recording: Recording, sim: Any, *, speed: float = 1.0,
           wait_for_client: Optional[float] = None, subscribed_timeout: float = 10.0) -> int:
    """Send the recording's frames through ``sim`` to its connected clients.

    Waits for a first client (``wait_for_client`` seconds, None = forever) and for
    its first subscribe frame, then sends every frame. Returns how many were sent.
    """
    if not sim.wait_for(lambda s: s.open_connections > 0,
                        wait_for_client if wait_for_client is not None else 10**9):
        raise TimeoutError("no client connected to the replay")
    sim.wait_for(lambda s: bool(s.client_frames()), subscribed_timeout)
    sent = 0
    for frame in paced(recording.frames, speed):
        sim.inject(frame)
        sent += 1
    return sent


def replay_tplus(recording: Recording, sim: Any, *, speed: float = 1.0,
                 wait_for_client: Optional[float] = None, grace: float = 5.0,
                 out: Optional[IO[str]] = None) -> int:
    """Serve a tplus recording through a quiet TplusSimulator; how many frames were sent.

    Waits for a first client on any recorded path (``wait_for_client`` seconds, None
    = forever), then sends the frames in recorded order and pace (``speed``), each
    on its path (``sim.inject(path, frame)``). A path that has no subscriber by
    ``grace`` seconds after the first client connected gets none of its frames;
    ``out`` is told how many were left out.
    """
    paths = recording.paths or []
    wanted = list(dict.fromkeys(paths))

    def any_client(s: Any) -> bool:
        return any(s.open_connections(p) > 0 for p in wanted)

    if not sim.wait_for(any_client, wait_for_client if wait_for_client is not None else 10**9):
        raise TimeoutError("no client connected to the replay")
    first = time.monotonic()
    start = first  # the replay clock: recorded time t is due at start + t / speed
    ready: set[str] = set()
    missing: dict[str, int] = {}
    sent = 0
    for path, (t, frame) in zip(paths, recording.frames):
        if path not in ready:
            if path in missing:
                missing[path] += 1
                continue
            left = max(grace - (time.monotonic() - first), 0.0)
            waited_from = time.monotonic()
            found = sim.wait_for(lambda s, p=path: s.open_connections(p) > 0, left)
            # waiting for a subscriber is not recorded time: without this the other
            # paths' frames of that span would go out at once, in a burst
            start += time.monotonic() - waited_from
            if not found:
                missing[path] = 1
                continue
            ready.add(path)
        if speed > 0:
            delay = start + t / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing a replay, not synchronising threads
        sim.inject(path, frame)
        sent += 1
    if out is not None:
        for path, count in missing.items():
            out.write(f"o2sync replay: no client subscribed to {path}; left out its "
                      f"{count} frame(s)\n")
    return sent
