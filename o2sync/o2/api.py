"""``O2Api``: o2-sdk's low-level REST client, blocking.

Same methods, parameters and return types as ``o2_sdk.api.O2Api`` for the reads a
streaming user needs (markets, depth, trades, orders, balances, accounts, bars,
ticker), over o2sync's REST layer: a total deadline per call, rate limits retried,
answers checked. ``O2Client.api`` is one, sharing the client's connection pool.
Arguments are checked before anything is sent; a bad one raises
:class:`~o2sync.errors.InvalidArgumentError` (an ``InvalidRequest`` and a
``ValueError``).
"""

from __future__ import annotations

from typing import Any, Optional

from ..errors import InvalidArgumentError
from ..models import Balance, Order, Trade
from .ids import Id
from .network import NetworkConfig
from .resources import AccountInfo, Bar, MarketsResponse, MarketTicker, OrdersResponse
from .rest import RestClient

TRADES_MAX = 50
ORDERS_MAX = 200


def hex_arg(value: Any, name: str) -> Id:
    """A hex id argument (``0x`` optional, any case) as an :class:`Id`."""
    try:
        return Id(value)
    except ValueError:
        raise InvalidArgumentError(f"{name} must be a hex id, got {value!r}") from None


def opt_hex_arg(value: Any, name: str) -> Optional[Id]:
    """:func:`hex_arg`, or None for None."""
    return None if value is None else hex_arg(value, name)


def count_arg(count: Any, high: int) -> int:
    """A page size 1..``high``."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= high:
        raise InvalidArgumentError(f"count must be an int from 1 to {high}, got {count!r}")
    return count


def cursor_args(start_timestamp: Any, start_id: Any, id_name: str
                ) -> tuple[Optional[int], Optional[Id]]:
    """A page cursor: the last item's timestamp and id, both or neither."""
    if (start_timestamp is None) != (start_id is None):
        raise InvalidArgumentError(f"start_timestamp and {id_name} go together (the last "
                                   f"item of the previous page)")
    if start_timestamp is not None and (isinstance(start_timestamp, bool)
                                        or not isinstance(start_timestamp, int)
                                        or start_timestamp < 0):
        raise InvalidArgumentError(f"start_timestamp must be an int >= 0, got "
                                   f"{start_timestamp!r}")
    return start_timestamp, opt_hex_arg(start_id, id_name)


def _direction(direction: Any) -> str:
    if direction not in ("asc", "desc"):
        raise InvalidArgumentError(f"direction must be 'asc' or 'desc', got {direction!r}")
    return str(direction)


def _level_of(precision: Any) -> int:
    """A wire precision (``10``, ``100``, ... ``10**18``) -> its level 1..18."""
    if not isinstance(precision, bool) and isinstance(precision, (int, str)):
        text = str(precision)
        if text[:1] == "1" and text[1:] == "0" * (len(text) - 1) and 1 <= len(text) - 1 <= 18:
            return len(text) - 1
    raise InvalidArgumentError(f"precision is the wire value 10**n, n in 1..18, got "
                               f"{precision!r}")


class O2Api:
    """Low-level O2 REST reads (blocking), with o2-sdk's call shapes.

    ``O2Api(config)`` builds its own HTTP pool from a
    :class:`~o2sync.o2.network.NetworkConfig`; ``session`` (o2-sdk's aiohttp session)
    has no meaning here and must be None; ``action_timeout_seconds`` is kept for
    write calls o2sync does not make. ``**options`` are the REST options of
    :class:`~o2sync.O2Client` (``rest_timeout``, ``rest_retries``, ...).
    """

    def __init__(self, config: NetworkConfig, session: Any = None,
                 action_timeout_seconds: float = 30.0, *, rest: Optional[RestClient] = None,
                 **options: Any) -> None:
        if session is not None:
            raise TypeError("o2sync's O2Api takes no aiohttp session (it is blocking)")
        if not action_timeout_seconds > 0:
            raise ValueError("action_timeout_seconds must be greater than zero")
        self._config = config
        self.action_timeout_seconds = float(action_timeout_seconds)
        self._owns_rest = rest is None
        if rest is None:
            rest = RestClient(config.api_base, **options)
        self.rest = rest

    def close(self) -> None:
        """Close the HTTP pool (when this O2Api made it)."""
        if self._owns_rest:
            self.rest.close()

    def __repr__(self) -> str:
        return f"<O2Api {self.rest!r}>"

    # ------------------------------------------------------------ market data

    def get_markets(self) -> MarketsResponse:
        """``GET /v1/markets``: registry ids and every market."""
        return self.rest.markets_response()

    def get_market_ticker(self, market_id: str) -> MarketTicker:
        """``GET /v1/markets/ticker`` of one market."""
        return self.rest.ticker(hex_arg(market_id, "market_id"))

    def get_depth(self, market_id: str, precision: int = 10, limit: Optional[int] = None
                  ) -> Any:
        """``GET /v1/depth``; ``precision`` is the WIRE value (``10`` = level 1)."""
        level = _level_of(precision)
        market = self.rest.resolve(hex_arg(market_id, "market_id"))
        return self.rest.depth(market, level, limit)

    def get_trades(self, market_id: str, direction: str = "desc", count: int = 50,
                   start_timestamp: Optional[int] = None, start_trade_id: Optional[str] = None,
                   contract: Optional[str] = None) -> list[Trade]:
        """``GET /v1/trades`` (``count`` 1..50)."""
        stamp, trade_id = cursor_args(start_timestamp, start_trade_id, "start_trade_id")
        return self.rest.trades(hex_arg(market_id, "market_id"), count_arg(count, TRADES_MAX),
                                direction=_direction(direction), start_timestamp=stamp,
                                start_trade_id=trade_id,
                                contract=opt_hex_arg(contract, "contract"))

    def get_trades_by_account(self, market_id: str, contract: str, direction: str = "desc",
                              count: int = 50, start_timestamp: Optional[int] = None,
                              start_trade_id: Optional[str] = None) -> list[Trade]:
        """``GET /v1/trades_by_account``: trades where ``contract`` was maker or taker
        (each with ``trader_side``)."""
        stamp, trade_id = cursor_args(start_timestamp, start_trade_id, "start_trade_id")
        return self.rest.trades(hex_arg(market_id, "market_id"), count_arg(count, TRADES_MAX),
                                account=hex_arg(contract, "contract"),
                                direction=_direction(direction), start_timestamp=stamp,
                                start_trade_id=trade_id)

    def get_bars(self, market_id: str, from_ts: int, to_ts: int, resolution: str = "1h"
                 ) -> list[Bar]:
        """``GET /v1/bars`` between two times in ms (note the order: times, then
        resolution). An unknown resolution raises ``ValueError`` before any call."""
        for name, value in (("from_ts", from_ts), ("to_ts", to_ts)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgumentError(f"{name} must be an int >= 0 (ms), got {value!r}")
        return self.rest.bars(hex_arg(market_id, "market_id"), from_ts, to_ts, resolution)

    # ------------------------------------------------------------ accounts

    def get_account(self, owner: Optional[str] = None, trade_account_id: Optional[str] = None
                    ) -> AccountInfo:
        """``GET /v1/accounts`` by wallet address (``owner``) or trade account id."""
        if not owner and not trade_account_id:
            raise InvalidArgumentError("give owner or trade_account_id")
        return self.rest.account(opt_hex_arg(owner or None, "owner"),
                                 opt_hex_arg(trade_account_id or None, "trade_account_id"))

    def get_balance(self, asset_id: str, contract: Optional[str] = None,
                    address: Optional[str] = None) -> Balance:
        """``GET /v1/balance``: one asset of a trade account (``contract``) or a wallet."""
        if not contract and not address:
            raise InvalidArgumentError("give contract or address")
        return self.rest.balance(opt_hex_arg(contract or None, "contract"),
                                 hex_arg(asset_id, "asset_id"),
                                 address=opt_hex_arg(address or None, "address"))

    # ------------------------------------------------------------ orders

    def get_orders(self, market_id: str, contract: Optional[str] = None,
                   account: Optional[str] = None, direction: str = "desc", count: int = 20,
                   is_open: Optional[bool] = None, start_timestamp: Optional[int] = None,
                   start_order_id: Optional[str] = None) -> OrdersResponse:
        """One page of ``GET /v1/orders`` (``count`` 1..200), newest first by default."""
        if not contract and not account:
            raise InvalidArgumentError("give contract (trade account) or account (wallet)")
        if is_open is not None and not isinstance(is_open, bool):
            raise InvalidArgumentError(f"is_open must be True, False or None, got {is_open!r}")
        stamp, order_id = cursor_args(start_timestamp, start_order_id, "start_order_id")
        return self.rest.orders_page(hex_arg(market_id, "market_id"),
                                     opt_hex_arg(contract or None, "contract"),
                                     opt_hex_arg(account or None, "account"),
                                     _direction(direction), count_arg(count, ORDERS_MAX),
                                     is_open, stamp, order_id)

    def get_order(self, market_id: str, order_id: str) -> Order:
        """``GET /v1/order``: one order."""
        return self.rest.order(hex_arg(market_id, "market_id"), hex_arg(order_id, "order_id"))
