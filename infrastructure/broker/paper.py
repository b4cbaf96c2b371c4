"""The paper broker: a simulated broker that fills the store's orders against the
store's quotes, keeps its own book, and reports its fills through `record_fill`.

It follows the event log from the position its book has persisted: an
OrderPlaced submits the order to the book, OrderCancelled/OrderRejected (or a
fill recorded by someone else) takes it out, and each QuotesIngested batch is
matched against the open orders placed before it — MARKET orders at the next
quote of their instrument, LIMIT orders when the price crosses (see
`pricing.py`). The log is its clock, so a replay of the same log fills the same
orders at the same prices.

Exactly once, across crashes: for one notification, the fills are first
recorded in the store with a fillId derived from the order (`paper-<order id>`;
recording it again returns the first result and appends nothing), then the
book's positions, open orders, fills and log position change in one book
transaction. A crash between the two re-processes the notification from the
unchanged book: the store ignores the repeated fills, the book applies them once.
A fill the store refuses (the order was cancelled first) is dropped from the book.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from application.engine import topics
from application.engine.broker import BrokerFill, BrokerOrder
from application.inputs import FillInput
from application.ports import PositionKey
from domain.errors import DomainError
from domain.quotes import Quote, Quotes
from domain.values import OrderType, Side
from infrastructure.broker.book import BookOrder, PaperBook
from infrastructure.broker.pricing import PaperPricing

log = logging.getLogger(__name__)

FillSink = Callable[[FillInput], object]
IDLE_CURSOR_WRITES = 200  # persist the position after this many no-op notifications


def paper_fill_id(order_id: UUID) -> str:
    """A paper order always fills completely in one execution: one fillId per order."""
    return f"paper-{order_id}"


class PaperBroker:
    """A `BrokerAdapter` and a log consumer (run it with a `ConsumerFollower`)."""

    name = "paper-broker"
    topics: Sequence[str] = (topics.QUOTES, *topics.ORDERS)

    def __init__(
        self,
        book: PaperBook,
        app: Application,
        record_fill: FillSink,
        pricing: PaperPricing | None = None,
    ) -> None:
        self.book = book
        self.app = app
        self.record_fill = record_fill
        self.pricing = pricing or PaperPricing()
        self._open: dict[UUID, BookOrder] = {}
        self._position = 0
        self._unsaved = 0
        self._lock = threading.Lock()
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[BrokerFill]]] = []

    # -- the adapter protocol ------------------------------------------------------

    def submit(self, order: BrokerOrder, placed_at_sequence: int | None = None) -> None:
        entry = BookOrder(
            order, self._position if placed_at_sequence is None else placed_at_sequence
        )
        with self.book.transaction() as connection:
            self.book.add_order(connection, entry)
            if placed_at_sequence is not None:
                self.book.set_cursor(connection, placed_at_sequence)
        with self._lock:
            self._open.setdefault(order.order_id, entry)

    def cancel(self, order_id: UUID, at_sequence: int | None = None) -> None:
        with self.book.transaction() as connection:
            self.book.remove_order(connection, order_id)
            if at_sequence is not None:
                self.book.set_cursor(connection, at_sequence)
        with self._lock:
            self._open.pop(order_id, None)

    async def fills(self) -> AsyncIterator[BrokerFill]:
        queue: asyncio.Queue[BrokerFill] = asyncio.Queue()
        listener = (asyncio.get_running_loop(), queue)
        self._listeners.append(listener)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.remove(listener)

    def positions(self) -> dict[PositionKey, Decimal]:
        return self.book.positions()

    # -- the log consumer ----------------------------------------------------------

    def recover(self) -> int:
        with self._lock:
            self._open = {entry.order.order_id: entry for entry in self.book.open_orders()}
        self._position = self.book.cursor()
        return self._position

    def handle(self, notification: Notification) -> None:
        topic = notification.topic
        event = topics.decode(self.app, notification)
        if topic == topics.QUOTES:
            self._match(notification.id, event)
        elif topic == topics.ORDER_PLACED:
            self.submit(
                BrokerOrder(
                    order_id=event.originator_id,
                    client_order_id=event.client_order_id,
                    account=event.account,
                    instrument=event.instrument,
                    side=Side(event.side),
                    order_type=OrderType(event.order_type),
                    quantity=event.quantity,
                    limit_price=event.limit_price,
                ),
                placed_at_sequence=notification.id,
            )
        elif topic == topics.ORDER_FILLED:
            self._filled_elsewhere(notification.id, event)
        else:
            self.cancel(event.originator_id, at_sequence=notification.id)
        self._position = notification.id

    def _filled_elsewhere(self, sequence: int, event: Any) -> None:
        """A fill not made here (or one made here, already out of the book)."""
        order_id: UUID = event.originator_id
        entry = self._open.get(order_id)
        if entry is None:
            self._idle(sequence)
            return
        if event.status == "FILLED":
            self.cancel(order_id, at_sequence=sequence)
            return
        remaining = entry.order.quantity - event.quantity
        with self.book.transaction() as connection:
            self.book.resize_order(connection, order_id, remaining)
            self.book.set_cursor(connection, sequence)
        order = entry.order
        resized = BrokerOrder(
            order.order_id,
            order.client_order_id,
            order.account,
            order.instrument,
            order.side,
            order.order_type,
            remaining,
            order.limit_price,
        )
        with self._lock:
            self._open[order_id] = BookOrder(resized, entry.placed_at_sequence)

    def _match(self, sequence: int, batch: Quotes) -> None:
        fills: list[BrokerFill] = []
        refused: list[UUID] = []
        done: set[UUID] = set()
        for quote in (Quote.from_row(row) for row in batch.quotes):
            for entry in self._candidates(quote.instrument, sequence, done):
                price = self.pricing.fill_price(entry.order, quote)
                if price is None:
                    continue
                done.add(entry.order.order_id)
                fill = self._execution(entry.order, price, quote.timestamp)
                try:
                    self.record_fill(fill.as_input())
                except DomainError as error:
                    log.warning("order %s not filled: %s", entry.order.client_order_id, error)
                    refused.append(entry.order.order_id)
                    continue
                fills.append(fill)
        if not fills and not refused:
            self._idle(sequence)
            return
        with self.book.transaction() as connection:
            for fill in fills:
                self.book.record_fill(connection, fill, sequence)
            for order_id in refused:
                self.book.remove_order(connection, order_id)
            self.book.set_cursor(connection, sequence)
        self._unsaved = 0
        with self._lock:
            for order_id in done:
                self._open.pop(order_id, None)
        for fill in fills:
            self._publish(fill)

    def _candidates(self, instrument: str, sequence: int, done: set[UUID]) -> list[BookOrder]:
        with self._lock:
            entries = list(self._open.values())
        return [
            entry
            for entry in entries
            if entry.order.instrument == instrument
            and entry.placed_at_sequence < sequence
            and entry.order.order_id not in done
        ]

    def _execution(self, order: BrokerOrder, price: Decimal, when: datetime) -> BrokerFill:
        return BrokerFill(
            fill_id=paper_fill_id(order.order_id),
            order_id=order.order_id,
            account=order.account,
            instrument=order.instrument,
            side=order.side,
            quantity=order.quantity,
            price=price,
            commission=self.pricing.commission(order.quantity, price),
            timestamp=when,
        )

    def _idle(self, sequence: int) -> None:
        """Nothing changed: re-processing this notification would change nothing either,
        so the position is only persisted now and then."""
        self._unsaved += 1
        if self._unsaved >= IDLE_CURSOR_WRITES:
            self.save_position(sequence)

    def save_position(self, sequence: int | None = None) -> None:
        with self.book.transaction() as connection:
            self.book.set_cursor(connection, self._position if sequence is None else sequence)
        self._unsaved = 0

    def _publish(self, fill: BrokerFill) -> None:
        for loop, queue in list(self._listeners):
            loop.call_soon_threadsafe(queue.put_nowait, fill)
