"""o2sync: a synchronous, threaded client for the O2 Exchange real-time streams."""

__version__ = "0.1.0"
