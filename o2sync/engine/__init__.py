"""Venue-agnostic machinery: connection and reader thread, watchdog, dispatcher,
subscriptions and their registry. Venues (``o2sync.o2``, ``o2sync.tplus``) plug a
router and their frames into :class:`~o2sync.engine.stream.StreamEngine`."""
