"""Order and fill commands."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, OperationalError

from application.inputs import FillInput, OrderInput
from application.instruments import InstrumentCommands
from application.ports import NotificationLookup
from application.positions import disarm_all, position_of
from application.results import FillResult, OrderResult
from application.retry import retrying
from application.served import served_sequences
from application.store import Store
from domain.errors import DomainError, NotFound
from domain.fills import Fill, FillTerms
from domain.ids import fill_id as derive_fill_id
from domain.money import round_money
from domain.orders import Order
from domain.positions import Position
from domain.signals import Signal
from domain.values import OrderStatus, OrderType, Side


def new_order(spec: OrderInput) -> Order:
    """The Order `spec` places (unsaved); its id derives from the clientOrderId."""
    return Order(
        client_order_id=spec.client_order_id,
        account=spec.account,
        instrument=spec.instrument,
        side=Side(spec.side).value,
        order_type=OrderType(spec.type).value,
        quantity=spec.quantity,
        limit_price=spec.limit_price,
        signal_id=spec.signal_id,
    )


class OrderCommands:
    def __init__(self, store: Store, instruments: InstrumentCommands) -> None:
        self.store = store
        self.instruments = instruments

    def place_order(self, order: OrderInput) -> OrderResult:
        """Place an order; the same clientOrderId and terms again returns the first."""
        checked = order.validated()
        self.instruments.check_increments(
            checked.instrument,
            prices={"limitPrice": checked.limit_price},
            sizes={"quantity": checked.quantity},
        )
        return retrying(lambda: self._place(checked))

    def _place(self, spec: OrderInput) -> OrderResult:
        # Optimistic: the order id is unique in the store, so a repeated
        # clientOrderId fails the save and only then is the first order read.
        new = new_order(spec)
        try:
            if spec.signal_id is not None:
                self.store.load(Signal, spec.signal_id)
            return OrderResult(new, self.store.commit(new))
        except (IntegrityError, NotFound):
            existing = self.store.find(Order, new.id)
            if existing is None:
                raise
        existing.check_same_terms(new.terms())
        as_of = self.store.served_as_of(existing)
        return OrderResult(existing, self.store.head_sequence(), appended=False, as_of=as_of)

    def cancel_order(self, order_id: UUID, reason: str | None = None) -> OrderResult:
        def cancel() -> OrderResult:
            order = self.store.load(Order, order_id)
            order.cancel(reason)
            return OrderResult(order, self.store.commit(order))

        return retrying(cancel)

    def reject_order(self, order_id: UUID, reason: str) -> OrderResult:
        """The broker refused the order."""

        def reject() -> OrderResult:
            order = self.store.load(Order, order_id)
            order.reject(reason)
            return OrderResult(order, self.store.commit(order))

        return retrying(reject)

    def record_fill(self, fill: FillInput) -> FillResult:
        """Record an execution: the fill, its order, its position (and any signal
        it executes, any monitor it disarms) commit in one transaction.
        Recording the same fillId again returns the first result."""
        checked = fill.validated()
        try:
            # First on cached state without a query; any refusal is decided again
            # on the store's state: a race, a repeated fillId, or a stale cache.
            return self._new_fill(checked, cached=True)
        except (IntegrityError, OperationalError, DomainError):
            pass
        return retrying(lambda: self._fill(checked))

    def _fill(self, spec: FillInput) -> FillResult:
        # Optimistic: the Fill's id is unique in the store, so a repeated fillId
        # fails (at the save, or earlier on the order it already filled) and
        # only then is the first fill read.
        try:
            return self._new_fill(spec)
        except (IntegrityError, DomainError):
            previous = self.store.find(Fill, derive_fill_id(spec.fill_id))
            if previous is None:
                raise
        return self._previous_fill(previous, spec)

    def _new_fill(self, spec: FillInput, *, cached: bool = False) -> FillResult:
        order = (cached and self.store.take_cached(Order, spec.order_id)) or self.store.load(
            Order, spec.order_id
        )
        position = position_of(self.store, order.account, order.instrument, cached=cached)
        timestamp = spec.timestamp or self.store.clock()
        assert spec.commission is not None
        instrument = self.instruments.check_increments(
            order.instrument, prices={"price": spec.price}, sizes={"quantity": spec.quantity}
        )
        terms = FillTerms(
            fill_id=spec.fill_id,
            order_id=order.id,
            side=order.side,
            quantity=spec.quantity,
            price=spec.price,
            commission=spec.commission,
            timestamp=timestamp,
        )
        order.fill(terms)
        before = position.quantity
        netting = position.apply_fill(
            terms, multiplier=instrument.multiplier, places=instrument.places
        )
        recorded = Fill.record(
            terms,
            position_id=position.id,
            account=order.account,
            instrument=order.instrument,
            commission=round_money(spec.commission, instrument.places),
            realized_pnl=netting.realized_delta,
        )
        touched: list[object] = [order, position, recorded]
        if order.status is OrderStatus.FILLED and order.signal_id is not None:
            signal = self.store.find(Signal, order.signal_id)
            if signal is not None:
                signal.execute()
                touched.append(signal)
        if position.closes_or_flips(before):
            touched.extend(disarm_all(self.store, position, "position closed"))
        recordings = self.store.save(*touched)
        sequence = max(r.notification.id for r in recordings)
        fill_sequence = next(
            r.notification.id for r in recordings if r.domain_event.originator_id == recorded.id
        )
        as_of = served_sequences(recordings)
        return FillResult(order, recorded, position, sequence, fill_sequence, as_of=as_of)

    def _previous_fill(self, previous: Fill, spec: FillInput) -> FillResult:
        assert spec.commission is not None
        # The first recording stored its commission rounded to the currency's places.
        commission = round_money(
            spec.commission, self.instruments.spec_for(previous.instrument).places
        )
        previous.check_same_terms(
            spec.order_id, spec.quantity, spec.price, commission, spec.timestamp
        )
        order = self.store.load(Order, previous.order_id)
        position = self.store.load(Position, previous.position_id)
        lookup = cast(NotificationLookup, self.store.recorder)
        first = lookup.first_sequence(previous.id) if hasattr(lookup, "first_sequence") else None
        head = self.store.head_sequence()
        as_of = self.store.served_as_of(order, position)
        return FillResult(
            order, previous, position, head, first or head, appended=False, as_of=as_of
        )

    def position(self, account: str, instrument: str) -> Position:
        """The position of the pair, new (unsaved) when it has never had a fill."""
        return position_of(self.store, account, instrument)
