"""Describe the installed tpluspy's public surface as JSON (run in its own virtualenv).

Run by ``tests/test_tplus_parity.py`` inside ``<repo>/.venv-tpluspy``, never imported
by the main suite::

    python tplus_introspect.py  >  surface.json

For every client method: its parameters (name, kind, default). For every model: its
pydantic fields (required, default, annotation), properties and, for enums, members.
For every exception: its bases and ``__init__`` parameters. Plus which import paths
exist. Only names are read; nothing connects anywhere.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import sys
from typing import Any

CLIENTS = {
    "tplus.client.market_data": ["MarketDataClient"],
    "tplus.client.orderbook": ["OrderBookClient"],
    "tplus.client.api": ["TplusApiClient"],
}
MODEL_MODULES = [
    "tplus.model.trades", "tplus.model.orderbook", "tplus.model.klines", "tplus.model.market",
    "tplus.model.order", "tplus.model.pagination", "tplus.model.ticker",
    "tplus.model.open_interest", "tplus.model.position", "tplus.model.user_event",
    "tplus.model.intent", "tplus.model.user_margin", "tplus.model.user_solvency",
    "tplus.model.position_basis", "tplus.model.sub_account",
]


def _default(value: Any) -> Any:
    if value is inspect.Parameter.empty:
        return {"required": True}
    if isinstance(value, enum.Enum):
        return {"value": value.value}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    return {"repr": repr(value)}


def _signature(fn: Any) -> list[dict[str, Any]]:
    params = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self":
            continue
        params.append({"name": p.name, "kind": p.kind.name, **_default(p.default)})
    return params


def _methods(cls: type) -> dict[str, Any]:
    out = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") and name != "__init__":
            continue
        if inspect.isfunction(member) or inspect.isasyncgenfunction(member) \
                or inspect.iscoroutinefunction(member):
            out[name] = {"params": _signature(member),
                         "async_gen": inspect.isasyncgenfunction(member)}
    return out


def _model(cls: type) -> dict[str, Any]:
    fields = {}
    for name, info in getattr(cls, "model_fields", {}).items():
        required = info.is_required()
        entry: dict[str, Any] = {"required": required, "annotation": str(info.annotation)}
        if not required:
            default = info.get_default(call_default_factory=True)
            entry.update(_default(default if not hasattr(default, "model_dump")
                                  else default.model_dump(mode="json")))
        fields[name] = entry
    props = sorted(n for n, m in inspect.getmembers(cls) if isinstance(m, property)
                   and not n.startswith("_") and not n.startswith("model_"))
    dunder = sorted(n for n in ("__iter__", "__len__", "__getitem__", "__bool__",
                                "__contains__") if n in vars(cls) or any(
        n in vars(b) for b in cls.__mro__[1:-1] if b.__module__.startswith("tplus")))
    return {"kind": "model", "fields": fields, "properties": props, "sequence": dunder}


def main() -> dict[str, Any]:
    surface: dict[str, Any] = {"clients": {}, "models": {}, "errors": {}, "imports": []}
    for module_name, names in CLIENTS.items():
        module = importlib.import_module(module_name)
        for name in names:
            surface["clients"][name] = _methods(getattr(module, name))
    for module_name in MODEL_MODULES:
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isclass(obj) or \
                    obj.__module__ != module_name:
                continue
            surface["imports"].append([module_name, name])
            if issubclass(obj, enum.Enum):
                surface["models"][name] = {"kind": "enum", "module": module_name,
                                           "members": {m.name: m.value for m in obj}}
            elif hasattr(obj, "model_fields"):
                surface["models"][name] = {**_model(obj), "module": module_name}
    exceptions = importlib.import_module("tplus.exceptions")
    for name, obj in vars(exceptions).items():
        if inspect.isclass(obj) and issubclass(obj, Exception) and \
                obj.__module__ == "tplus.exceptions":
            surface["errors"][name] = {
                "bases": [b.__name__ for b in obj.__mro__[1:] if b.__module__ ==
                          "tplus.exceptions"],
                "init": _signature(obj.__init__),
                "properties": sorted(n for n, m in vars(obj).items() if isinstance(m, property)),
            }
            surface["imports"].append(["tplus.exceptions", name])
    for module_name, names in (("tplus", ["TplusApiClient", "OmsError", "AuthError"]),
                               ("tplus.client", ["MarketDataClient", "OrderBookClient",
                                                 "TplusApiClient"])):
        module = importlib.import_module(module_name)
        surface["imports"] += [[module_name, n] for n in names if hasattr(module, n)]
    import importlib.metadata as metadata

    surface["version"] = metadata.version("tpluspy")
    return surface


if __name__ == "__main__":
    json.dump(main(), sys.stdout)
