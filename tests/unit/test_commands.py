"""Application commands on the in-memory store: idempotency, refusals, transitions."""

from decimal import Decimal as D
from uuid import uuid4

import pytest

from application.inputs import FillInput, MonitorInput, OrderInput, QuoteInput, SignalInput
from domain.errors import BadInput, Conflict, NotFound, Unavailable
from domain.values import MonitorStatus, OrderStatus, SignalStatus


def place(app, cid="c1", side="BUY", qty="10", **kw):
    return app.orders.place_order(
        OrderInput(client_order_id=cid, instrument="ACME", side=side, quantity=D(qty), **kw)
    ).order


def fill(app, order, fid, qty, price, commission="0"):
    return app.orders.record_fill(
        FillInput(
            order_id=order.id,
            fill_id=fid,
            quantity=D(qty),
            price=D(price),
            commission=D(commission),
        )
    )


def refused(app, call, error=Conflict):
    head = app.store.head_sequence()
    with pytest.raises(error) as caught:
        call()
    assert app.store.head_sequence() == head, "a rejected command appended events"
    return caught.value


def test_same_client_order_id_and_terms_returns_the_first_order(app):
    first = place(app)
    head = app.store.head_sequence()
    again = app.orders.place_order(
        OrderInput(client_order_id="c1", instrument="ACME", side="BUY", quantity=D("10.0"))
    )
    assert again.order.id == first.id and not again.appended
    assert app.store.head_sequence() == head


def test_same_client_order_id_with_other_terms_is_a_conflict(app):
    place(app)
    error = refused(app, lambda: place(app, qty="11"))
    assert error.code == "CONFLICT"


def test_replaying_a_fill_whose_commission_was_rounded_is_not_a_conflict(app):
    """The fill stores its commission rounded to the currency's places (8 without a
    spec); the identical replay compares against that, not against its own digits."""
    order = place(app)
    first = fill(app, order, "f1", "4", "100", "0.000000001")
    head = app.store.head_sequence()
    again = fill(app, order, "f1", "4", "100", "0.000000001")
    assert not again.appended and again.fill.id == first.fill.id
    assert app.store.head_sequence() == head
    assert refused(app, lambda: fill(app, order, "f1", "4", "100", "0.01")).code == "CONFLICT"


def test_fill_updates_order_and_position_in_one_result(app):
    order = place(app)
    result = fill(app, order, "f1", "4", "100", "1")
    assert result.order.status is OrderStatus.PARTIALLY_FILLED
    assert result.position.quantity == 4 and result.position.realized_pnl == D(-1)
    assert result.fill.realized_pnl == D(-1)
    result = fill(app, order, "f2", "6", "110")
    assert result.order.status is OrderStatus.FILLED
    assert result.order.average_fill_price == D(106)


def test_recording_a_fill_again_returns_the_first_result_and_appends_nothing(app):
    order = place(app)
    first = fill(app, order, "f1", "4", "100")
    head = app.store.head_sequence()
    second = fill(app, order, "f1", "4", "100")
    assert not second.appended and second.position.quantity == first.position.quantity
    assert app.store.head_sequence() == head


def test_a_fill_id_used_on_another_order_is_a_conflict(app):
    fill(app, place(app), "f1", "4", "100")
    other = place(app, cid="c2")
    refused(app, lambda: fill(app, other, "f1", "1", "100"))


def test_overfill_is_bad_input_and_closed_order_is_conflict(app):
    order = place(app, qty="5")
    assert refused(app, lambda: fill(app, order, "f1", "6", "1"), BadInput).field == "quantity"
    app.orders.cancel_order(order.id)
    refused(app, lambda: fill(app, order, "f2", "1", "1"), Conflict)
    refused(app, lambda: app.orders.cancel_order(order.id), Conflict)


def test_unknown_order_is_not_found(app):
    refused(app, lambda: app.orders.cancel_order(uuid4()), NotFound)


def test_accepting_a_signal_places_its_market_order_once(app):
    signal = app.signals.generate_signal(
        SignalInput("ma", "ACME", "BUY", D("0.8"), quantity=D(3))
    ).signal
    result = app.signals.accept_signal(signal.id)
    assert result.signal.status is SignalStatus.ACCEPTED
    assert result.order.client_order_id == f"signal-{signal.id}"
    assert result.order.quantity == 3 and result.order.signal_id == signal.id
    refused(app, lambda: app.signals.accept_signal(signal.id))
    executed = fill(app, result.order, "f1", "3", "10")
    assert executed.order.status is OrderStatus.FILLED
    assert app.store.repository.get(signal.id).status is SignalStatus.EXECUTED


def test_accept_quantity_falls_back_to_the_default_size(app):
    signal = app.signals.generate_signal(SignalInput("ma", "ACME", "SELL", D("0.5"))).signal
    assert app.signals.accept_signal(signal.id).order.quantity == D(1)
    other = app.signals.generate_signal(
        SignalInput("ma", "ACME", "SELL", D("0.5"), quantity=D(2))
    ).signal
    assert app.signals.accept_signal(other.id, D(7)).order.quantity == D(7)


def test_an_expired_signal_cannot_be_accepted_and_is_swept(app, clock):
    expires = clock.now.replace(minute=33)
    signal = app.signals.generate_signal(
        SignalInput("ma", "ACME", "BUY", D("0.9"), expires_at=expires)
    ).signal
    refused(app, lambda: app.signals.expire_signal(signal.id))
    clock.advance(120)
    refused(app, lambda: app.signals.accept_signal(signal.id))
    assert app.signals.expire_signal(signal.id).signal.status is SignalStatus.EXPIRED


def test_rejecting_records_the_reason(app):
    signal = app.signals.generate_signal(SignalInput("ma", "ACME", "BUY", D("0.2"))).signal
    rejected = app.signals.reject_signal(signal.id, "too weak").signal
    assert rejected.status is SignalStatus.REJECTED and rejected.reason == "too weak"


def open_long(app, qty="10", price="100"):
    order = place(app, cid=f"open-{uuid4()}", qty=qty)
    return fill(app, order, f"fill-{uuid4()}", qty, price).position


def test_monitor_needs_an_open_position(app):
    refused(app, lambda: app.monitors.arm_monitor(MonitorInput(instrument="ACME", stop_loss=D(90))))


def test_stop_loss_triggers_one_exit_order_exactly_once(app):
    open_long(app)
    monitor = app.monitors.arm_monitor(MonitorInput(instrument="ACME", stop_loss=D(95))).monitor
    assert app.monitors.evaluate_monitor(monitor.id, D(96)) is None
    triggered = app.monitors.evaluate_monitor(monitor.id, D(94))
    assert triggered.monitor.status is MonitorStatus.TRIGGERED
    assert triggered.monitor.trigger_reason == "STOP_LOSS"
    exit_order = triggered.exit_order
    assert exit_order.client_order_id == f"monitor-{monitor.id}"
    assert exit_order.side == "SELL" and exit_order.quantity == 10
    head = app.store.head_sequence()
    assert app.monitors.evaluate_monitor(monitor.id, D(90)) is None
    assert app.store.head_sequence() == head


def test_trailing_stop_stores_the_mark_only_when_it_moves_and_triggers_on_pullback(app):
    open_long(app)
    monitor = app.monitors.arm_monitor(
        MonitorInput(instrument="ACME", trailing_distance=D(5))
    ).monitor
    assert app.monitors.evaluate_monitor(monitor.id, D(100)) is not None  # first mark
    head = app.store.head_sequence()
    assert app.monitors.evaluate_monitor(monitor.id, D(99)) is None
    assert app.store.head_sequence() == head
    assert app.monitors.evaluate_monitor(monitor.id, D(110)).monitor.water_mark == D(110)
    assert app.monitors.evaluate_monitor(monitor.id, D(106)) is None
    result = app.monitors.evaluate_monitor(monitor.id, D(105))
    assert result.monitor.trigger_reason == "TRAILING_STOP"


def test_short_position_monitors_are_mirrored(app):
    order = place(app, cid="short", side="SELL", qty="4")
    fill(app, order, "s1", "4", "50")
    monitor = app.monitors.arm_monitor(
        MonitorInput(instrument="ACME", stop_loss=D(55), take_profit=D(40))
    ).monitor
    assert app.monitors.evaluate_monitor(monitor.id, D(45)) is None
    result = app.monitors.evaluate_monitor(monitor.id, D(39))
    assert result.monitor.trigger_reason == "TAKE_PROFIT"
    assert result.exit_order.side == "BUY" and result.exit_order.quantity == 4


def test_a_position_going_flat_disarms_its_monitors_in_the_same_commit(app):
    open_long(app, qty="2")
    monitor = app.monitors.arm_monitor(MonitorInput(instrument="ACME", stop_loss=D(1))).monitor
    closing = place(app, cid="close", side="SELL", qty="2")
    result = fill(app, closing, "close-1", "2", "101")
    assert result.position.monitor_ids == []
    assert app.store.repository.get(monitor.id).status is MonitorStatus.DISARMED


def test_reconcile_alert_records_and_auto_correct_adjusts(app, broker):
    open_long(app, qty="10")
    broker.book = {("default", "ACME"): D(7), ("default", "OTHER"): D(1)}
    alert = app.reconciliation.reconcile("ALERT").reconciliation
    assert {(m.instrument, m.local_quantity, m.broker_quantity) for m in alert.mismatches} == {
        ("ACME", D(10), D(7)),
        ("OTHER", D(0), D(1)),
    }
    assert not alert.corrected
    corrected = app.reconciliation.reconcile("AUTO_CORRECT").reconciliation
    assert corrected.corrected
    assert app.orders.position("default", "ACME").quantity == D(7)
    assert app.orders.position("default", "OTHER").quantity == D(1)
    assert app.reconciliation.reconcile("ALERT").reconciliation.mismatches == []


def test_reconcile_without_a_broker_is_unavailable(app):
    app.reconciliation.broker = None
    assert (
        refused(app, lambda: app.reconciliation.reconcile("ALERT"), Unavailable).code
        == "UNAVAILABLE"
    )


def test_quote_batches_are_capped_and_validated_whole(app):
    too_many = [QuoteInput("ACME", D(1))] * 10_001
    refused(app, lambda: app.quotes.ingest_quotes(too_many), BadInput)
    bad = [QuoteInput("ACME", D(1)), QuoteInput("ACME", D(-1))]
    assert refused(app, lambda: app.quotes.ingest_quotes(bad), BadInput).field == "quotes[1].last"
    assert app.quotes.ingest_quotes([QuoteInput("ACME", D("1.5"))] * 3).accepted == 3
