"""Test DATA: frames and REST bodies of the tplus account, ticker and intent shapes.

Sources (kept as data, unchanged except where noted):

* tpluslabs/tpluspy ``tests/client/test_user_margin.py`` (``MARGIN_RESPONSE``),
  ``tests/model/test_position.py`` (the position row, the page envelope, the row
  without optional fields, the bare list), ``tests/model/test_position_basis.py``
  (both rows), ``tests/client/test_sub_account.py`` (the names body),
  ``tests/client/test_position_stream.py`` (the empty position frame; its
  ``user_id`` is a random key there, a fixed one here);
* ``shared/fixtures/tplus_ticker.json``, ``tplus_tickers.json``,
  ``tplus_position_update.json``, ``tplus_account_event.json`` (this project's
  hand-made fixtures, loaded from disk by the test);
* the remaining event variants, the intent update and the open-interest rows are
  written here from the field lists of tpluspy 0.6.0's models
  (``tplus/model/user_event.py``, ``intent.py``, ``open_interest.py``).

Each entry is ``(parser, frame)``; the parser names the tpluspy function the driver
applies and the o2sync decoder the test applies.
"""

from __future__ import annotations

from typing import Any

USER = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"

# tests/client/test_user_margin.py
MARGIN_RESPONSE: dict[str, Any] = {
    "accounts": {
        "1": {
            "account_equity": "15000.0",
            "available_margin": "3000.0",
            "utilized_margin": "12000.0",
            "maintenance_margin_surplus": "10000.0",
            "mm_requirement": "5000.0",
            "account_leverage": "4.0",
            "is_solvent": True,
            "is_liquidatable": False,
            "total_upnl": "250.0",
            "im_surplus": None,
            "net_apy": None,
            "positions": [
                {
                    "asset_id": "2",
                    "side": "long",
                    "size": "10.0",
                    "notional_value": "60000.0",
                    "margin": "5000.0",
                }
            ],
        }
    },
    "warnings": [
        {
            "sub_account": 1,
            "code": "SPOT_PRICE_UNAVAILABLE",
            "message": "No price for asset 3",
            "asset": "3",
        }
    ],
}


# tests/model/test_position.py
def _position(sub_account_index: int, name: str) -> dict[str, Any]:
    return {
        "asset_id": "1",
        "sub_account_index": sub_account_index,
        "name": name,
        "side": "long",
        "size": "1.5",
        "entry_price": "100",
        "mark_price": "101",
        "unrealized_pnl": "1.5",
        "margin": "10",
        "leverage": "4",
        "liquidation_price": "90",
        "base_credits": "1.5",
        "base_liabilities": "0",
        "quote_credits": "0",
        "quote_liabilities": "150",
    }


POSITION_MINIMAL = {
    "asset_id": "1",
    "sub_account_index": 1,
    "name": "Margin",
    "side": "short",
    "size": "2",
    "base_credits": "0",
    "base_liabilities": "2",
    "quote_credits": "200",
    "quote_liabilities": "0",
}

POSITIONS_PAGE = {
    "positions": [_position(1, "Margin"), _position(2, "Iso")],
    "page": 0,
    "limit": 1,
    "total_positions": 2,
    "total_pages": 2,
    "cursor_size": 1,
    "has_next_page": True,
    "next_page": 1,
}

# tests/model/test_position_basis.py
BASIS = [
    {
        "sub_account": 0,
        "asset_id": "1",
        "domain": "spot",
        "side": None,
        "quantity": "1.500000000000000001",
        "cost": "225.00000000000000015",
        "entry_price": None,
        "avg_acquisition_price": "150.0000000000000001",
        "mark_price": "160.25",
        "unrealized_pnl": "15.37499999999999985",
    },
    {
        "sub_account": 1,
        "asset_id": "2",
        "domain": "margin",
        "side": "short",
        "quantity": "2",
        "cost": "300",
        "entry_price": "150",
        "avg_acquisition_price": None,
        "mark_price": None,
        "unrealized_pnl": None,
    },
]

# tests/client/test_sub_account.py
SUB_ACCOUNT_NAMES = {"names": [{"account_index": 2, "name": "First"},
                               {"account_index": 7, "name": "Second"}]}

# written from tplus/model/user_event.py, intent.py, open_interest.py (0.6.0)
EVENTS = [
    {"WithdrawalCompleted": {"user": USER, "asset": "200", "amount": "5000000000000000000",
                             "chain_id": "00000000000000a4b1", "withdrawal_nonce": 3,
                             "timestamp_ns": 1767225700000000000}},
    {"PositionCleared": {"user": USER, "sub_account_index": 1, "asset": "200",
                         "timestamp_ns": 1767225800000000000}},
    {"SubAccountAssetTransferred": {"user": USER, "source_sub_account_index": 0,
                                    "target_sub_account_index": 1, "asset": "200",
                                    "amount": "1", "timestamp_ns": 1767225900000000000}},
    {"MarginCallUpdated": {"user": USER, "sub_account_index": 1,
                           "called_venues": [{"venue": 3, "deadline_ns": 1767226000000000000},
                                             {"venue": 4, "deadline_ns": 1767226100000000000}],
                           "timestamp_ns": 1767225950000000000}},
    {"MarginCallUpdated": {"user": USER, "sub_account_index": 1,
                           "timestamp_ns": 1767225960000000000}},  # cleared: list defaults
]
INTENT = {"asset_id": "200", "watchers_delta": -2, "quantity_delta": "-1.25", "watchers": 7,
          "quantity": "12.5", "window_end_ns": 1767225601100000000}
OPEN_INTEREST = [{"asset_id": "200", "long": "152.3", "short": "149.8",
                  "timestamp_ns": 1767225601000000000},
                 {"asset_id": "201", "long": None, "short": None, "timestamp_ns": None},
                 {"asset_id": "202"}]
SOLVENCY = {"accounts": {"1": {"is_solvent": True, "distance_from_liquidation": "400000.000000"}}}

#: Frames both libraries must decode to the same values.
ACCEPTED: list[tuple[str, Any]] = [
    ("margin", MARGIN_RESPONSE),
    ("positions_page", POSITIONS_PAGE),
    ("positions_page", [_position(1, "Margin")]),
    ("positions_page", []),
    ("position_update", {"user_id": USER, "positions": [POSITION_MINIMAL],
                         "timestamp_ns": 123}),
    ("position_update", {"user_id": USER, "positions": [], "timestamp_ns": 123}),
    ("basis", BASIS),
    ("sub_account_names", SUB_ACCOUNT_NAMES),
    ("sub_account_names", {}),
    *[("user_event", e) for e in EVENTS],
    ("intent", INTENT),
    ("open_interests", OPEN_INTEREST),
    ("open_interest", OPEN_INTEREST[0]),
    ("solvency", SOLVENCY),
    ("solvency", {"accounts": {}}),
    ("ticker", {"asset_id": "200", "volume_24h": "0", "timestamp_ns": 1}),
]

#: Frames both libraries must refuse.
REFUSED: list[tuple[str, Any]] = [
    ("user_event", {"Liquidated": {"user": USER}}),  # unknown variant
    ("user_event", {**EVENTS[0], **EVENTS[1]}),  # two variants in one frame
    ("user_event", {"DepositLanded": {"user": USER}}),  # required fields missing
    ("user_event", {"DepositLanded": {**EVENTS[0]["WithdrawalCompleted"],
                                      "deposit_nonce": 1, "amount": 5}}),  # amount not text
    ("position_update", {"user_id": USER, "positions": [{**POSITION_MINIMAL,
                                                          "side": "flat"}],
                         "timestamp_ns": 1}),  # side not long/short/closed
    ("position_update", {"user_id": USER, "timestamp_ns": 1}),  # no positions
    ("intent", {**INTENT, "watchers": 2.5}),  # a fractional integer
    ("ticker", {"asset_id": "200", "timestamp_ns": 1}),  # volume_24h is required
    ("tickers", {"asset_id": "200", "volume_24h": "1", "timestamp_ns": 1}),  # not a list
    ("basis", [{**BASIS[1], "domain": "perp"}]),
]
