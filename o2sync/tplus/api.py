"""TplusApiClient: tpluspy's one client for the single-origin gateway, for blocking code.

``TplusApiClient(base_url, **kwargs)`` holds an :class:`~o2sync.tplus.client.OrderBookClient`
as ``.oms`` and a :class:`~o2sync.tplus.client.MarketDataClient` as ``.mds`` on the
same origin, each with its own login (the MDS one under ``/market-data``, as the
gateway routes it), and is a drop-in for either: a public attribute it does not
have itself is looked up on ``.oms``, then on ``.mds`` (so ``api.get_user_orders``
is the order service's; use ``api.mds.get_user_orders`` for the history).

o2sync superset: ``market_data_url=`` points ``.mds`` at a separate MDS origin
(then its login is unprefixed), for the two-origin layout o2sync targets. Unlike
tpluspy's, the two sub-clients have their own HTTP sessions and stream engines.
"""

from __future__ import annotations

from typing import Any, Optional

from ..redact import redact_url
from .auth import User
from .client import MarketDataClient, OrderBookClient

__all__ = ["DEFAULT_BASE_URL", "TplusApiClient"]

DEFAULT_BASE_URL = "http://localhost:8080"
MDS_AUTH_PREFIX = "/market-data"


class TplusApiClient:
    """Both tplus services behind one origin: ``.oms`` and ``.mds``.

    Args:
        base_url: the gateway (tpluspy's default ``http://localhost:8080``).
        default_user: the :class:`~o2sync.tplus.auth.User` of both sub-clients.
        market_data_url: a separate MDS origin instead of the gateway (o2sync only).
        **kwargs: the keyword options of both clients (``queue_size=``...).
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *,
                 default_user: Optional[User] = None, market_data_url: Optional[str] = None,
                 **kwargs: Any) -> None:
        kwargs.pop("auth_path_prefix", None)  # each sub-client gets its own
        self.base_url = base_url
        self.oms = OrderBookClient(base_url, default_user, **kwargs)
        try:
            if market_data_url is None:
                self.mds = MarketDataClient(base_url, default_user,
                                            auth_path_prefix=MDS_AUTH_PREFIX, **kwargs)
            else:
                self.mds = MarketDataClient(market_data_url, default_user, **kwargs)
        except BaseException:
            self.oms.close()
            raise

    def __getattr__(self, name: str) -> Any:
        # reached only when normal lookup fails: proxy to .oms, then .mds
        if name.startswith("_"):
            raise AttributeError(name)
        for sub in ("oms", "mds"):
            client = self.__dict__.get(sub)
            if client is not None and hasattr(client, name):
                return getattr(client, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def set_default_user(self, user: Optional[User]) -> None:
        """Replace the default user of both sub-clients."""
        self.oms.set_default_user(user)
        self.mds.set_default_user(user)

    def close(self, timeout: float = 5.0) -> bool:
        """Close both sub-clients; True when every thread of both ended in time."""
        oms = self.oms.close(timeout)
        mds = self.mds.close(timeout)
        return oms and mds

    def __enter__(self) -> TplusApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TplusApiClient {redact_url(self.base_url)} oms={self.oms!r} mds={self.mds!r}>"
