"""Subscription registry and fan-out: engine events in, per-peer frames out.

Each message is built once per event (per market and bucket width for depth) and
the same bytes are queued to every subscribed peer. Depth deltas come from a
:class:`DepthView` per (market, width) that lives while someone subscribes to it,
so every delta is the exact difference between two consecutive aggregated books:
applying all of them to the snapshot a peer got gives what a fresh snapshot shows.
"""

from __future__ import annotations

from typing import Any, Optional

from . import messages
from .depth import DepthView
from .engine import Event, Exchange
from .peer import Peer

_Subscribers = dict[Peer, None]  # an ordered set: deterministic fan-out order


class Hub:
    """Who listens to what, and the live depth views they need."""

    def __init__(self, exchange: Exchange, passive: bool = False) -> None:
        self.exchange = exchange
        self.passive = passive  # replay mode: subscriptions get no snapshot of ours
        self.views: dict[str, dict[int, tuple[DepthView, _Subscribers]]] = {}
        self.trades: dict[str, _Subscribers] = {}
        self.orders: dict[str, _Subscribers] = {}
        self.balances: dict[str, _Subscribers] = {}
        self.nonce: dict[str, _Subscribers] = {}

    # -- subscribe / unsubscribe --------------------------------------------------

    def subscribe_depth(self, peer: Peer, market_id: str, width: Optional[int], now: float) -> None:
        """(Re)subscribe a peer to a market's depth and queue its snapshot.

        One depth subscription per market per socket: a second subscribe replaces
        the first (``unsubscribe_depth`` carries no precision to tell them apart).
        """
        self.unsubscribe_depth(peer, market_id)
        peer.depth[market_id] = width
        if width is None:
            return  # an invalid precision: a channel that never emits
        per_market = self.views.setdefault(market_id, {})
        if width not in per_market:
            per_market[width] = (DepthView(self.exchange.book(market_id), width), {})
        view, subscribers = per_market[width]
        subscribers[peer] = None
        if self.passive:
            return
        bids, asks = view.levels()
        peer.send(messages.depth_snapshot(market_id, bids, asks, now).encode())

    def unsubscribe_depth(self, peer: Peer, market_id: str) -> None:
        if market_id not in peer.depth:
            return
        width = peer.depth.pop(market_id)
        per_market = self.views.get(market_id, {})
        if width in per_market:
            subscribers = per_market[width][1]
            subscribers.pop(peer, None)
            if not subscribers:
                del per_market[width]  # nobody left: stop maintaining this view

    def subscribe(self, kind: str, peer: Peer, key: str) -> None:
        """Add a trades (key: market id) or orders/balances/nonce (key: identity) stream."""
        getattr(peer, kind).add(key)
        getattr(self, kind).setdefault(key, {})[peer] = None

    def unsubscribe(self, kind: str, peer: Peer, key: str) -> None:
        getattr(peer, kind).discard(key)
        table: dict[str, _Subscribers] = getattr(self, kind)
        subscribers = table.get(key)
        if subscribers is not None:
            subscribers.pop(peer, None)
            if not subscribers:
                del table[key]

    def drop(self, peer: Peer) -> None:
        """Forget every subscription of a peer that went away."""
        for market_id in list(peer.depth):
            self.unsubscribe_depth(peer, market_id)
        for kind in ("trades", "orders", "balances", "nonce"):
            for key in list(getattr(peer, kind)):
                self.unsubscribe(kind, peer, key)

    # -- publish ------------------------------------------------------------------

    def publish(self, ev: Event) -> None:
        """Queue the frames of one engine event to every subscribed peer."""
        market_id = ev.spec.market_id
        if ev.levels and market_id in self.views:
            for view, subscribers in self.views[market_id].values():
                bids, asks = view.apply(ev.levels)
                if bids or asks:
                    _fan_out(subscribers, messages.depth_update(market_id, bids, asks, ev.time))
        if ev.trades and market_id in self.trades:
            _fan_out(self.trades[market_id], messages.trades_message(market_id, ev.trades, ev.time))
        if ev.orders and self.orders:
            self._publish_orders(ev)
        account = self.exchange.account
        if ev.balances and account.account_id in self.balances:
            entries = [
                messages.balance_entry(account.account_id, asset, account.assets[asset])
                for asset in sorted(ev.balances)
            ]
            _fan_out(self.balances[account.account_id], messages.balances_message(entries, ev.time))
        if ev.nonce and account.account_id in self.nonce:
            text = messages.nonce_message(account.account_id, account.nonce, ev.time)
            _fan_out(self.nonce[account.account_id], text)

    def publish_depth_changes(self, market_id: str, buys: list[tuple[int, int]],
                              sells: list[tuple[int, int]], now: float) -> int:
        """Send one hand-made signed delta to every depth subscriber of a market (any
        precision), without touching the market: for changes the engine never makes
        (a change on an unknown level, a 0, more removed than a level holds).
        Returns how many peers it was queued to."""
        text = messages.depth_update(market_id, buys, sells, now)
        peers = 0
        for _view, subscribers in self.views.get(market_id, {}).values():
            _fan_out(subscribers, text)
            peers += len(subscribers)
        return peers

    def _publish_orders(self, ev: Event) -> None:
        by_owner: dict[str, list[Any]] = {}
        for order in ev.orders:
            if order.owner in self.orders:
                by_owner.setdefault(order.owner, []).append(order)
        for owner, orders in by_owner.items():
            _fan_out(self.orders[owner], messages.orders_message(orders, ev.time))


def _fan_out(subscribers: _Subscribers, text: str) -> None:
    data = text.encode()
    for peer in subscribers:
        peer.send(data)
