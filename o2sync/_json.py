"""JSON decoding for the hot path: orjson when installed (``o2sync[fast]``), else stdlib."""

from __future__ import annotations

import json
from typing import Any, Callable

try:  # pragma: no cover - depends on the environment
    import orjson

    loads: Callable[[Any], Any] = orjson.loads
    BACKEND = "orjson"
except ImportError:  # pragma: no cover
    loads = json.loads
    BACKEND = "json"

JSONDecodeError = ValueError  # both backends raise a subclass of ValueError


def dumps(obj: Any) -> str:
    """Compact JSON text (used for the few frames a client sends)."""
    return json.dumps(obj, separators=(",", ":"))
