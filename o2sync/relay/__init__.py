"""Past one machine: relay a client's streams through Redis Streams, read them back
with the same API (``O2Client.from_relay``). Needs ``pip install 'o2sync[relay]'``.

* :class:`~o2sync.relay.publisher.Relay` taps the raw frames of chosen topics of an
  existing client and logs them, one stream per topic, in an envelope
  (:mod:`o2sync.relay.envelope`), with book snapshots, gaps and epochs as entries.
* :class:`~o2sync.relay.source.RelaySource` reads them back into a client's engine.
"""

from __future__ import annotations

from .envelope import SCHEMA, Entry, stream_name
from .publisher import Relay

__all__ = ["SCHEMA", "Entry", "Relay", "stream_name"]
