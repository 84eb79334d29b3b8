"""The ``o2sync`` command: demo, watch, record, replay and sim (see ``o2sync --help``)."""

from .main import main

__all__ = ["main"]
