"""The O2 venue: one socket multiplexing every subscription by ``action``.

:class:`O2Venue` tells the engine what O2 is: a text ``PING`` heartbeat (the server
drops a silent client after 60 s; any frame proves liveness), unsubscribe frames
(``unsubscribe_orders`` is connection-global), resync by resubscribing (the server
answers with a fresh snapshot), and the reader-thread routing of frames to topics.

Every problem with a frame (not JSON, not an object, unknown or missing action,
missing or mistyped fields, numbers that are not strict) is counted and reported,
and the frame is dropped: a consumer never sees a half-built event, and the reader
never dies. A depth frame dropped that way also resynchronises its stream.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from .._json import dumps, loads
from ..engine.registry import Topic
from ..engine.stream import StreamEngine
from ..engine.subscription import Subscription
from ..engine.venue import Venue
from ..errors import DecodeError, ServerError
from . import protocol
from .decode import DECODERS, market_key
from .depth import DepthTopic, TopicBook
from .models import BalanceUpdate, Identity, OrderUpdate
from .protocol import PONG, is_hex_id, normalize_id

_DECODE_FAILURES = (DecodeError, KeyError, TypeError, AttributeError, ValueError)
_LOG_FIRST = 10  # book inconsistencies logged one by one, then one line in _LOG_EVERY
_LOG_EVERY = 1000

log = logging.getLogger(__name__)


def _owner_id(identity: Any) -> Any:
    if isinstance(identity, Identity):
        return normalize_id(identity.value) if is_hex_id(identity.value) else None
    if isinstance(identity, dict) and identity:
        value = identity.get("ContractId") or next(iter(identity.values()))
        if isinstance(value, str):
            return normalize_id(value)
    return None


class O2Venue(Venue):
    """The O2 protocol object of one client's engine."""

    keep_sockets_open = True  # O2Client.connect() is meaningful without subscriptions
    joiners_start_from_snapshot = True  # an O2 depth stream is snapshot + deltas

    def bind(self, engine: StreamEngine) -> None:
        super().bind(engine)
        self._engine = engine
        self._topics = engine.topics
        self._counters = engine.counters
        # changes that took a book level below zero (see _market_scoped)
        self._counters.setdefault("depth_inconsistencies", 0)

    def heartbeat_text(self, url: str) -> str:
        return protocol.PING

    def joined(self, topic: Topic, sub: Subscription[Any]) -> None:
        """A depth consumer joining a running stream needs a snapshot to start from
        (the engine made it skip deltas until one). It gets one made from the
        engine's copy of the book, which follows every depth topic, and nobody else
        notices; only while that copy is not ready does it cost a wire resync."""
        if sub.is_depth:
            self._snapshot_for(topic)

    def resync(self, topic: Topic) -> None:
        """A consumer lost deltas (overflow): hand it a local snapshot when the
        engine keeps the book, else ask the server for one."""
        self._snapshot_for(topic)

    def _snapshot_for(self, topic: Topic) -> None:
        info: DepthTopic = topic.info
        book = info.book
        with book.lock:
            if book.ready and not topic.awaiting_snapshot:
                snapshot = book.snapshot(cast(tuple[str, str], topic.key)[1])
                for sub in topic.subscribers:
                    if sub.needs_snapshot:
                        sub.offer(snapshot)
                return
        if not topic.awaiting_snapshot:
            self._engine.resubscribe(topic)
        # else: a snapshot is on its way; every consumer that needs one takes it

    def unsubscribe_frames(self, topic: Topic, remaining: Sequence[Topic]) -> list[str]:
        kind, ident = cast(tuple[str, str], topic.key)
        if kind == "depth":
            return [dumps(protocol.unsubscribe_depth(ident))]
        if kind == "trades":
            return [dumps(protocol.unsubscribe_trades(ident))]
        frames = [dumps(protocol.unsubscribe_account(kind, ident))]
        if kind == "orders":
            # unsubscribe_orders is connection-global: put the other accounts back
            frames += [f for t in remaining
                       if t is not topic and cast(tuple[str, str], t.key)[0] == "orders"
                       for f in t.subscribe_frames]
        return frames

    def route(self, url: str, data: bytes) -> None:
        counters = self._counters
        if data == PONG:
            counters["pongs"] += 1
            return
        counters["messages"] += 1
        try:
            msg = loads(data)
        except ValueError:
            return self._bad("frame is not JSON", data)
        if msg.__class__ is not dict:
            return self._bad("frame is not a JSON object", data)
        action = msg.get("action")
        entry = DECODERS.get(action)  # type: ignore[arg-type]
        if entry is None:
            return self._unroutable(action, msg, data)
        if msg.get("turbo") is True:  # the Turbo (margin) venue: not ours
            counters["ignored"] += 1
            return None
        kind, decoder = entry
        if kind in ("depth", "trades"):
            return self._market_scoped(kind, decoder, msg, data)
        try:
            event = decoder(msg)
        except _DECODE_FAILURES as exc:
            return self._bad(f"malformed {action} message ({exc!r})", data)
        if kind == "nonce":
            return self._deliver_to(("nonce", event.contract_id), event)
        if kind == "orders":
            return self._split(event, "orders", "orders", lambda o: o.owner or o.account)
        return self._split(event, "balances", "balance", lambda b: b.identity)

    def _unroutable(self, action: Any, msg: dict[str, Any], data: bytes) -> None:
        if action == "error":
            if msg.get("turbo") is True:
                self._counters["ignored"] += 1
                return
            self._counters["server_errors"] += 1
            self._engine.report(ServerError(msg))
            return
        reason = "frame has no action" if action is None else f"unknown action {action!r}"
        self._bad(reason, data)

    def _market_scoped(self, kind: str, decoder: Any, msg: dict[str, Any], data: bytes) -> None:
        market_id = msg.get("market_id")
        if not isinstance(market_id, str):
            return self._bad(f"{msg.get('action')} message without market_id", data)
        topic = self._topics.get((kind, market_key(market_id)))
        if topic is None:
            self._counters["ignored"] += 1  # e.g. in flight after an unsubscribe
            return
        is_snapshot = msg["action"] == "subscribe_depth"
        if kind == "depth" and topic.awaiting_snapshot and not is_snapshot:
            self._engine.skip_until_snapshot(topic)  # from before the (re)subscription
            return
        try:
            event = decoder(msg)
        except _DECODE_FAILURES as exc:
            self._bad(f"malformed {msg['action']} message ({exc!r})", data)
            if kind == "depth":
                topic.info.book.ready = False  # the engine's copy missed it too
                self._engine.lost_event(topic)  # a hole in the book: heal from a snapshot
            return None
        if kind != "depth":
            self._engine.deliver(topic, event)
            return None
        book: TopicBook = topic.info.book
        with book.lock:  # joiners take their snapshot between two deltas, never inside one
            if is_snapshot:
                topic.awaiting_snapshot = False
                book.load(event.changes)
            else:
                bad = book.apply(event.changes)
                if bad:
                    self._inconsistent(topic, bad)
            self._engine.deliver(topic, event)
        return None

    def _inconsistent(self, topic: Topic, count: int) -> None:
        """Changes took book levels below zero: more was removed than the book held, so
        a message was lost or doubled upstream. o2-sdk drops such levels silently;
        o2sync drops them too (the rule is the same), counts them and logs the first
        ones. No resubscribe: the stream itself is fine, and the next snapshot heals
        the book."""
        counters = self._counters
        before = counters["depth_inconsistencies"]
        counters["depth_inconsistencies"] = total = before + count
        if before < _LOG_FIRST or total // _LOG_EVERY != before // _LOG_EVERY:
            log.warning("%s: %d depth change(s) took a level of %s below zero "
                        "(%d so far; stats()['depth_inconsistencies'])",
                        self._engine.name, count, cast(tuple[str, str], topic.key)[1], total)

    def _deliver_to(self, key: Any, event: Any) -> None:
        topic = self._topics.get(key)
        if topic is None:
            self._counters["ignored"] += 1
        else:
            self._engine.deliver(topic, event)

    def _split(self, event: Any, kind: str, field: str, owner_of: Any) -> None:
        """Account streams carry no subscription key: route each item by its owner.

        Items without an owner go to every subscribed account of that kind.
        """
        items: list[Any] = getattr(event, field)
        by_topic: dict[int, tuple[Topic, list[Any]]] = {}
        for item in items:
            owner = _owner_id(owner_of(item))
            if owner is None:
                targets = [t for t in tuple(self._topics.values())
                           if isinstance(t.key, tuple) and t.key[0] == kind]
            else:
                topic = self._topics.get((kind, owner))
                targets = [topic] if topic is not None else []
            for topic in targets:
                by_topic.setdefault(id(topic), (topic, []))[1].append(item)
        if not by_topic:
            self._counters["ignored"] += 1
            return
        for topic, mine in by_topic.values():
            self._engine.deliver(topic, event if len(mine) == len(items)
                                 else _with_items(event, field, mine))

    def _bad(self, reason: str, data: bytes) -> None:
        self._counters["decode_errors"] += 1
        self._engine.report(DecodeError(reason, data.decode("utf-8", "replace")))


def _with_items(event: Any, field: str, items: list[Any]) -> Any:
    if isinstance(event, OrderUpdate):
        return OrderUpdate(items, event.onchain_timestamp, event.seen_timestamp)
    assert isinstance(event, BalanceUpdate) and field == "balance"
    return BalanceUpdate(items, event.onchain_timestamp, event.seen_timestamp)

