"""Parity: the names and call shapes of the installed tpluspy 0.6.0 exist in o2sync.

tpluspy is introspected in its own virtualenv (``tests/tplus_introspect.py`` runs
there and prints JSON: every client method's parameters, every model's fields,
properties and sequence behaviour, every enum's members, every exception's bases
and ``__init__``). Each test below checks one part of PARITY.md §2 against it:

* a method has tpluspy's positional order, keyword names and defaults (extra
  keyword arguments with defaults are an allowed superset);
* a model has every tpluspy field (same default when tpluspy has one, a type of
  the same family), every property, sequence behaviour where tpluspy's page has it,
  and pydantic's ``model_dump`` / ``model_dump_json`` / ``model_validate`` (rule 5);
* an enum has every member with its value; an exception exists with tpluspy's bases
  and ``__init__``; every import path tpluspy users write exists under ``o2sync.``.

The deliberate exceptions (PARITY "Deliberate exceptions", also in README.md) are
the explicit :data:`DELIBERATE` list; nothing else may differ.

The streams and account calls of issue 17 part A (tickers, positions, user events,
intent, margin, solvency, open interest, position basis, sub-account names, per-call
``user=`` on the streams) are checked by the ``test_streams_*`` functions: another
branch builds them, and until it is merged those functions fail here, by design.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import json
import re
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
from test_tplus_sdk_faithful import tpluspy_python  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.tpluspy

INTROSPECT = Path(__file__).resolve().parent / "tplus_introspect.py"

# --------------------------------------------------------------------------- scope

#: PARITY §2 rows built on this branch: client -> methods.
REST_METHODS = {
    "MarketDataClient": ["__init__", "get_orderbook_snapshot", "get_klines", "iter_klines",
                         "get_trades", "get_trades_for_asset", "get_user_trades",
                         "get_user_trades_for_asset", "get_user_orders",
                         "get_user_orders_for_asset", "set_default_user", "close",
                         "stream_finalized_trades", "stream_depth", "stream_klines"],
    "OrderBookClient": ["__init__", "get_market", "get_markets", "get_open_orders_for_book",
                        "get_user_orders_for_book", "get_user_orders", "set_default_user",
                        "close"],
    "TplusApiClient": ["__init__"],
}
#: ... and the models of those rows (plus every model o2sync already had).
REST_MODELS = [
    "Trade", "UserTrade", "HistoricalUserTrade", "UserTradesPage", "TradePendingEvent",
    "TradeConfirmedEvent", "TradeRollbackedEvent", "OrderBook", "OrderBookDiff", "Interval",
    "Timebar", "KlinesPage", "Market", "Asset", "FeeTierConfig", "MarketFeeSchedule",
    "MarketResponse", "MarketsPage", "TradeTarget", "Side", "Order", "OrderResponse",
    "HistoricalUserOrder", "UserOrdersPage", "OrderCreatedEvent", "OrderUpdatedEvent",
    "OrderCancelledEvent", "OrderRemovedEvent", "OrderReplacedEvent", "OrderAmendedEvent",
    "OrderTriggeredEvent", "OrderCreateFailedEvent", "OrderReplaceFailedEvent",
    "OrderAmendFailedEvent", "OrderCancelFailedEvent", "PageMeta", "PageContinuation",
]

#: Issue 17 part A, built on the tplus-streams branch (these fail until it is merged).
STREAM_METHODS = {
    "MarketDataClient": ["stream_ticker", "stream_tickers", "get_ticker", "get_tickers",
                         "get_open_interest", "get_all_open_interest",
                         "get_user_position_basis", "get_user_position_basis_for_asset",
                         "get_sub_account_names"],
    "OrderBookClient": ["stream_orders", "stream_user_trade_events",
                        "stream_user_finalized_trades", "stream_user_trades",
                        "stream_user_positions", "stream_user_events", "stream_intent",
                        "get_user_positions", "get_user_positions_page",
                        "get_user_position_for_asset", "get_user_inventory",
                        "get_user_margin_info", "get_user_solvency"],
}
STREAM_MODELS = [
    "BookLevel", "TickerOpenInterest", "Ticker", "OpenInterest", "PositionResponse",
    "UserPositionsPage", "PositionUpdate", "DepositLanded", "WithdrawalCompleted",
    "PositionCleared", "SubAccountAssetTransferred", "CalledVenue", "MarginCallUpdated",
    "IntentAggregateUpdate", "PositionSide", "PositionMarginInfo", "MarginWarning",
    "AssetNettingInfo", "MarginCallInfo", "AccountMarginInfo", "UserMarginInfo",
    "AccountSolvency", "UserSolvency", "PositionBasisResponse", "SubAccountNameEntry",
    "SubAccountNamesResponse",
]

#: tpluspy models that are no PARITY row (order entry and admin, not a streaming
#: user's surface); listed so that a new tpluspy model cannot go unnoticed.
NOT_IN_PARITY = {"BaseTradeEvent", "PriceLevelUpdate", "CreateOrderRequest", "BaseOrderEvent",
                 "OperationStatus", "OrderOperationResponse", "IntentReport",
                 "RenameSubAccountResponse"}

#: The deliberate exceptions of PARITY.md (and README.md), each with its reason.
DELIBERATE: dict[tuple[str, str], str] = {
    # 1. Exact numbers: depth levels are exact (Decimal, Decimal) pairs, not float
    #    lists; level[0], level[1], str(), float() and comparisons still work.
    ("OrderBook", "asks"): "exact numbers",
    ("OrderBook", "bids"): "exact numbers",
    ("OrderBookDiff", "asks"): "exact numbers",
    ("OrderBookDiff", "bids"): "exact numbers",
    # 2. stream_klines yields one KlineUpdate per candle (the seed guide), where
    #    tpluspy 0.6.0 yields each frame's list; KlineUpdate is Timebar (an alias,
    #    importable where tpluspy has it). The call shape is the same, so only the
    #    item type differs, which no signature shows: test_timebar_is_importable
    #    checks the alias.
    ("MarketDataClient", "stream_klines"): "one KlineUpdate per candle",
}


# --------------------------------------------------------------------------- surface


@pytest.fixture(scope="module")
def surface(tpluspy_python: Path) -> dict[str, Any]:  # noqa: F811
    done = subprocess.run([str(tpluspy_python), str(INTROSPECT)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["version"] == "0.6.0"
    return result


def _ours(name: str) -> Any:
    from o2sync.tplus import api, client

    return {"MarketDataClient": client.MarketDataClient,
            "OrderBookClient": client.OrderBookClient,
            "TplusApiClient": api.TplusApiClient}[name]


def _model_class(surface: dict[str, Any], name: str) -> Any:
    module = "o2sync." + surface["models"][name]["module"]
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise AssertionError(f"{module}.{name} is missing ({exc})") from None


# --------------------------------------------------------------------------- methods


def _params(fn: Any) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def _default_matches(ours: Any, theirs: dict[str, Any]) -> bool:
    if "required" in theirs:
        return True  # we may add a default (superset)
    if "value" in theirs:
        value = ours.value if isinstance(ours, enum.Enum) else ours
        return bool(value == theirs["value"] and type(value) is type(theirs["value"]))
    return True  # an object default (an httpx client, a logger level...): not comparable


def _call_shape_problems(cls_name: str, method: str, theirs: list[dict[str, Any]]) -> list[str]:
    cls = _ours(cls_name)
    fn = getattr(cls, method, None)
    if fn is None:
        return [f"{cls_name}.{method} is missing"]
    mine = _params(fn)
    by_name = {p.name: p for p in mine}
    problems = []
    positional = [p["name"] for p in theirs if p["kind"] == "POSITIONAL_OR_KEYWORD"]
    my_positional = [p.name for p in mine if p.kind == p.POSITIONAL_OR_KEYWORD]
    if my_positional[:len(positional)] != positional:
        problems.append(f"{cls_name}.{method}: positional {my_positional} != tpluspy {positional}")
    for param in theirs:
        name, kind = param["name"], param["kind"]
        if kind == "VAR_KEYWORD":
            if not any(p.kind == p.VAR_KEYWORD for p in mine):
                problems.append(f"{cls_name}.{method}: no **{name}")
            continue
        if kind == "VAR_POSITIONAL":
            continue
        ours = by_name.get(name)
        if ours is None:
            if not any(p.kind == p.VAR_KEYWORD for p in mine) or "required" in param:
                problems.append(f"{cls_name}.{method}: no parameter {name!r}")
            continue
        if ours.kind == ours.POSITIONAL_ONLY:
            problems.append(f"{cls_name}.{method}: {name!r} cannot be passed by keyword")
        if "required" in param and ours.default is not ours.empty and kind != "KEYWORD_ONLY":
            pass  # a default where tpluspy has none: a superset
        if ours.default is ours.empty and "required" not in param:
            problems.append(f"{cls_name}.{method}: {name!r} is required here, "
                            f"optional in tpluspy")
        elif ours.default is not ours.empty and not _default_matches(ours.default, param):
            problems.append(f"{cls_name}.{method}: {name}={ours.default!r}, tpluspy "
                            f"{param.get('value', param.get('repr'))!r}")
    known = {p["name"] for p in theirs}
    for p in mine:  # extra parameters must be optional
        if p.name not in known and p.default is p.empty and p.kind in (
                p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            problems.append(f"{cls_name}.{method}: extra required parameter {p.name!r}")
    return problems


def _methods_problems(surface: dict[str, Any], scope: dict[str, list[str]]) -> list[str]:
    problems = []
    for cls_name, methods in scope.items():
        theirs = surface["clients"][cls_name]
        for method in methods:
            assert method in theirs, f"tpluspy has no {cls_name}.{method}: fix the scope list"
            problems += _call_shape_problems(cls_name, method, theirs[method]["params"])
    return problems


def test_rest_call_shapes(surface: dict[str, Any]) -> None:
    assert _methods_problems(surface, REST_METHODS) == []


def test_tplus_api_client_falls_through_to_oms_then_mds() -> None:
    from o2sync.tplus import MarketDataClient, OrderBookClient, TplusApiClient

    with TplusApiClient("http://127.0.0.1:9") as api:
        assert isinstance(api.oms, OrderBookClient) and isinstance(api.mds, MarketDataClient)
        assert api.get_user_orders == api.oms.get_user_orders  # OMS first, as tpluspy
        assert api.get_klines == api.mds.get_klines  # then MDS
        assert api.mds.rest.auth_path_prefix == "/market-data"  # the gateway's MDS login
        with pytest.raises(AttributeError):
            api.no_such_call  # noqa: B018


# --------------------------------------------------------------------------- models


_MODULE = re.compile(r"\b(?:[a-z_][\w]*\.)+(?=[A-Za-z_])")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
#: type names of one family (a str subclass is a str, a Literal of strings is a str)
_FAMILY = {"UserPublicKey": "str", "UserOrderId": "str", "Literal": "str", "NoneType": "None",
           "Optional": "None", "Union": "", "List": "list", "Dict": "dict", "Tuple": "list",
           "tuple": "list", "class": "", "Timebar": "KlineUpdate", "KlineUpdate": "KlineUpdate",
           "Market": "MarketInfo", "MarketInfo": "MarketInfo"}


def _family(annotation: str) -> set[str]:
    text = _QUOTED.sub(" str ", _MODULE.sub("", annotation.replace("<class '", "")))
    names = {_FAMILY.get(n, n) for n in re.findall(r"[A-Za-z_]\w*", text)} - {""}
    return {"Any"} if "Any" in names else names  # Any | None is still Any


def _annotation(cls: Any, name: str) -> str:
    hints = typing.get_type_hints(cls)
    return str(hints[name]) if name in hints else ""


def _model_problems(surface: dict[str, Any], names: list[str]) -> list[str]:
    problems = []
    for name in names:
        spec = surface["models"][name]
        try:
            ours = _model_class(surface, name)
        except AssertionError as exc:
            problems.append(str(exc))
            continue
        if spec["kind"] == "enum":
            for member, value in spec["members"].items():
                if getattr(ours, member, None) is None or getattr(ours, member).value != value:
                    problems.append(f"{name}.{member} is not {value!r}")
            continue
        fields = {f.name: f for f in dataclasses.fields(ours)} if \
            dataclasses.is_dataclass(ours) else {}
        for field_name, theirs in spec["fields"].items():
            if (name, field_name) in DELIBERATE:
                continue
            if field_name not in fields:
                if not hasattr(ours, field_name):
                    problems.append(f"{name}.{field_name} is missing")
                continue  # a property (event_type): present, no default to compare
            field = fields[field_name]
            has_default = (field.default is not dataclasses.MISSING
                           or field.default_factory is not dataclasses.MISSING)
            if not theirs["required"] and not has_default:
                problems.append(f"{name}.{field_name} is required here, optional in tpluspy")
            if not theirs["required"] and "value" in theirs and \
                    field.default is not dataclasses.MISSING and \
                    not _default_matches(field.default, theirs):
                problems.append(f"{name}.{field_name} defaults to {field.default!r}, "
                                f"tpluspy {theirs['value']!r}")
            mine, their_types = _family(_annotation(ours, field_name)), \
                _family(theirs["annotation"])
            if mine != their_types:
                problems.append(f"{name}.{field_name}: {sorted(mine)} vs tpluspy "
                                f"{sorted(their_types)}")
        for prop in spec["properties"]:
            if not hasattr(ours, prop):
                problems.append(f"{name}.{prop} (property) is missing")
        for dunder in spec["sequence"]:
            if getattr(ours, dunder, None) is getattr(object, dunder, None):
                problems.append(f"{name} does not implement {dunder}")
        for call in ("model_dump", "model_dump_json", "model_validate"):  # rule 5
            if not callable(getattr(ours, call, None)):
                problems.append(f"{name}.{call} is missing")
    return problems


def test_every_tpluspy_model_is_in_a_scope_list(surface: dict[str, Any]) -> None:
    listed = set(REST_MODELS) | set(STREAM_MODELS) | NOT_IN_PARITY
    assert set(surface["models"]) - listed == set()


def test_rest_models_fields_properties_and_conveniences(surface: dict[str, Any]) -> None:
    assert _model_problems(surface, REST_MODELS) == []


def test_timebar_is_importable_and_is_kline_update() -> None:
    from o2sync.tplus import KlineUpdate, Timebar
    from o2sync.tplus.model.klines import Timebar as TwinTimebar

    assert Timebar is KlineUpdate is TwinTimebar


def test_every_o2sync_tplus_model_has_the_pydantic_conveniences() -> None:
    """Rule 5 on every model class o2sync exports, not only tpluspy's names."""
    import o2sync.tplus as tplus
    from o2sync.tplus import history, models

    classes = {obj for module in (tplus, models, history) for obj in vars(module).values()
               if inspect.isclass(obj) and dataclasses.is_dataclass(obj)}
    assert len(classes) > 30
    missing = sorted(c.__name__ for c in classes
                     if not all(callable(getattr(c, m, None)) for m in
                                ("model_dump", "model_dump_json", "model_validate")))
    assert missing == []
    from o2sync.tplus import AssetIdentifier  # a pydantic root model in tpluspy

    asset = AssetIdentifier.model_validate("200")
    assert (asset.model_dump(), asset.model_dump_json()) == ("200", '"200"')


# --------------------------------------------------------------------------- errors, imports


def test_errors(surface: dict[str, Any]) -> None:
    exceptions = importlib.import_module("o2sync.tplus.exceptions")
    problems = []
    for name, spec in surface["errors"].items():
        ours = getattr(exceptions, name, None)
        if ours is None:
            problems.append(f"{name} is missing")
            continue
        for base in spec["bases"]:
            if not issubclass(ours, getattr(exceptions, base)):
                problems.append(f"{name} is not a {base}")
        problems += _call_shape_problems_of(ours, name, spec["init"])
        problems += [f"{name}.{p} is missing" for p in spec["properties"] if not hasattr(ours, p)]
    assert problems == []


def _call_shape_problems_of(cls: Any, name: str, theirs: list[dict[str, Any]]) -> list[str]:
    mine = {p.name: p for p in _params(cls.__init__)}
    positional = [p["name"] for p in theirs if p["kind"] == "POSITIONAL_OR_KEYWORD"]
    my_positional = [p.name for p in mine.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
    problems = []
    if my_positional[:len(positional)] != positional:
        problems.append(f"{name}(): positional {my_positional} != tpluspy {positional}")
    problems += [f"{name}(): no {p['name']!r}" for p in theirs if p["name"] not in mine]
    return problems


REST_IMPORTS = {"tplus", "tplus.client", "tplus.exceptions", "tplus.model.trades",
                "tplus.model.orderbook", "tplus.model.klines", "tplus.model.market",
                "tplus.model.order", "tplus.model.pagination"}


def test_import_paths(surface: dict[str, Any]) -> None:
    missing = []
    for module, name in surface["imports"]:
        if module not in REST_IMPORTS or name in NOT_IN_PARITY:
            continue
        try:
            getattr(importlib.import_module("o2sync." + module), name)
        except (ImportError, AttributeError):
            missing.append(f"o2sync.{module}.{name}")
    assert missing == []


# --------------------------------------------------------------------------- part A


def test_streams_call_shapes(surface: dict[str, Any]) -> None:
    """Issue 17 part A (tplus-streams branch): fails until that branch is merged."""
    assert _methods_problems(surface, STREAM_METHODS) == []


def test_streams_models(surface: dict[str, Any]) -> None:
    """Issue 17 part A (tplus-streams branch): fails until that branch is merged."""
    assert _model_problems(surface, STREAM_MODELS) == []


def test_streams_import_paths(surface: dict[str, Any]) -> None:
    """Issue 17 part A (tplus-streams branch): fails until that branch is merged."""
    missing = []
    for module, name in surface["imports"]:
        if name not in STREAM_MODELS:
            continue
        try:
            getattr(importlib.import_module("o2sync." + module), name)
        except (ImportError, AttributeError):
            missing.append(f"o2sync.{module}.{name}")
    assert missing == []
