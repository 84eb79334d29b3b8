"""The relay's log entries: one raw exchange frame (or a marker) in an envelope.

Every entry of a relay stream is a flat field map (what Redis Streams store):

* ``v``: schema version (:data:`SCHEMA`);
* ``type``: ``frame`` (a raw frame, byte for byte), ``snapshot`` (a book snapshot as
  a venue frame: the server's own, or one synthesized from the relay's book),
  ``gap`` (frames were lost before this entry: ``lost`` counts them, ``reason`` says
  why; ``made`` says who made a snapshot: ``server`` or ``relay``) or ``epoch``
  (a new writer or a new upstream connection starts here);
* ``venue``, ``kind``, ``target``: the o2sync topic; ``path``: the socket path;
* ``seq``: the relay sequence of the stream, +1 per entry, restarting at 1 with each
  epoch; ``epoch``: ``<relay instance>.<upstream connection generation>``;
* ``xseq``: the exchange's own sequence where the venue has one (else absent);
* ``t``: receive time (Unix seconds); ``data``: the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

#: Version of the envelope; a reader refuses entries of another major version.
SCHEMA = 1

FRAME, SNAPSHOT, GAP, EPOCH = "frame", "snapshot", "gap", "epoch"
TYPES = (FRAME, SNAPSHOT, GAP, EPOCH)

Fields = dict[Union[str, bytes], Union[str, bytes, int, float]]


@dataclass(frozen=True)
class Entry:
    """One entry of a relay stream, as written or read back."""

    type: str
    venue: str
    kind: str
    target: str
    path: str
    seq: int
    epoch: str
    t: float
    data: bytes = b""
    xseq: Optional[int] = None
    lost: int = 0
    reason: str = ""
    made: str = ""  # snapshots: "server" (the exchange's own) or "relay" (synthesized)

    def fields(self) -> Fields:
        """The field map written to the log."""
        out: Fields = {"v": SCHEMA, "type": self.type, "venue": self.venue,
                       "kind": self.kind, "target": self.target, "path": self.path,
                       "seq": self.seq, "epoch": self.epoch, "t": repr(self.t),
                       "data": self.data}
        if self.xseq is not None:
            out["xseq"] = self.xseq
        if self.type == SNAPSHOT:
            out["made"] = self.made
        if self.type == GAP:
            out["lost"] = self.lost
            out["reason"] = self.reason
        return out

    @classmethod
    def parse(cls, raw: dict[bytes, bytes]) -> Entry:
        """An entry from the field map read back; ValueError when it is not one."""
        try:
            version = int(raw[b"v"])
            if version != SCHEMA:
                raise ValueError(f"relay entry of schema {version}, this o2sync reads {SCHEMA}")
            kind = raw[b"type"].decode()
            if kind not in TYPES:
                raise ValueError(f"unknown relay entry type {kind!r}")
            xseq = raw.get(b"xseq")
            return cls(kind, raw[b"venue"].decode(), raw[b"kind"].decode(),
                       raw[b"target"].decode(), raw[b"path"].decode(), int(raw[b"seq"]),
                       raw[b"epoch"].decode(), float(raw[b"t"]), raw.get(b"data", b""),
                       None if xseq is None else int(xseq), int(raw.get(b"lost", 0)),
                       raw.get(b"reason", b"").decode(), raw.get(b"made", b"").decode())
        except KeyError as exc:
            raise ValueError(f"relay entry without field {exc.args[0]!r}") from None


def stream_name(prefix: str, venue: str, kind: str, target: str = "",
                precision: Optional[int] = None) -> str:
    """The stream of one topic: ``o2sync:o2:depth:fFUEL/fUSDC:p1``, ``o2sync:tplus:trades``."""
    name = f"{prefix}:{venue}:{kind}"
    if target:
        name += f":{target}"
    if precision is not None:
        name += f":p{precision}"
    return name


def meta_key(stream: str) -> str:
    """The hash beside a stream: the latest snapshot's id and seq, the writer, counters."""
    return f"{stream}:meta"
