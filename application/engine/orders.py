"""The open orders, per instrument, kept from the log for the risk checks."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from application.engine import topics
from application.engine.log import head, read_log
from domain.values import Side

RECENTLY_CLOSED = 10_000


@dataclass
class OpenOrder:
    instrument: str
    side: Side
    remaining: Decimal

    @property
    def signed(self) -> Decimal:
        return self.remaining if self.side is Side.BUY else -self.remaining


class OpenOrders:
    """A log consumer: SUBMITTED/PARTIALLY_FILLED orders and their remaining quantity.

    The signal handler also notes the orders it places at once (`note`), so a burst
    of signals sees its own orders before the log follower does; recently closed
    ids are remembered so a late `note` cannot resurrect a filled order.
    """

    name = "open-orders"
    topics: Sequence[str] = topics.ORDERS

    def __init__(self, app: Application) -> None:
        self.app = app
        self._open: dict[UUID, OpenOrder] = {}
        self._closed: OrderedDict[UUID, None] = OrderedDict()
        self._lock = threading.Lock()

    def recover(self) -> int:
        until = head(self.app.recorder)
        for notification in read_log(self.app.recorder, self.topics, 0, until):
            self.handle(notification)
        return until

    def handle(self, notification: Notification) -> None:
        event = topics.decode(self.app, notification)
        order_id = event.originator_id
        with self._lock:
            if notification.topic == topics.ORDER_PLACED:
                if order_id not in self._closed:
                    self._open[order_id] = OpenOrder(
                        event.instrument, Side(event.side), event.quantity
                    )
            elif notification.topic == topics.ORDER_FILLED and event.status != "FILLED":
                known = self._open.get(order_id)
                if known is not None:
                    known.remaining -= event.quantity
            else:
                self._close(order_id)

    def _close(self, order_id: UUID) -> None:
        self._open.pop(order_id, None)
        self._closed[order_id] = None
        if len(self._closed) > RECENTLY_CLOSED:
            self._closed.popitem(last=False)

    def note(self, order_id: UUID, instrument: str, side: Side, quantity: Decimal) -> None:
        with self._lock:
            if order_id not in self._closed:
                self._open.setdefault(order_id, OpenOrder(instrument, side, quantity))

    def count(self) -> int:
        with self._lock:
            return len(self._open)

    def pending(self, instrument: str) -> Decimal:
        """Signed remaining quantity of the open orders on `instrument`."""
        with self._lock:
            return sum(
                (o.signed for o in self._open.values() if o.instrument == instrument), Decimal(0)
            )
