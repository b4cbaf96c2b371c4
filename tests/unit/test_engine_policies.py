"""The engine's policies on the in-memory store: handler, sweeper, monitor policy."""

from datetime import timedelta
from decimal import Decimal

from application.engine.expiry import ExpirySweeper
from application.engine.handler import SignalHandler
from application.engine.log import read_log
from application.engine.orders import OpenOrders
from application.engine.protection import Protection, ProtectionPolicy
from application.engine.risk import RiskLimits
from application.engine.strategy import SignalProposal
from application.inputs import FillInput, MonitorInput, OrderInput, QuoteInput, SignalInput
from application.policies.monitors import MonitorPolicy
from domain.ids import monitor_order_client_id, order_id
from domain.monitors import Monitor
from domain.orders import Order
from domain.signals import Signal
from domain.values import MonitorStatus, OrderStatus, Side, SignalStatus

LIMITS = RiskLimits(
    min_strength=Decimal("0.3"), max_position=Decimal(15), order_quantity=Decimal(10)
)


def handler(app):
    orders = OpenOrders(app.store)
    orders.recover()
    return SignalHandler(app, LIMITS, orders, account="default", signal_ttl_seconds=30), orders


def proposal(clock, strength="0.5", side=Side.BUY):
    return SignalProposal("test", "AAPL", side, Decimal(strength), clock(), reason="because")


def signals(app):
    found = [app.store.mapper.to_domain_event(n) for n in read_log(app.store.recorder, ())]
    return [
        app.store.repository.get(e.originator_id) for e in found if isinstance(e, Signal.Generated)
    ]


def test_a_passing_proposal_is_accepted_and_its_order_placed(app, clock):
    signal_handler, orders = handler(app)
    decision = signal_handler.handle(proposal(clock))
    assert decision.accepted
    [signal] = signals(app)
    assert signal.status is SignalStatus.ACCEPTED and signal.quantity == Decimal(10)
    assert signal.expires_at == clock() + timedelta(seconds=30)
    order = app.store.repository.get(order_id(f"signal-{signal.id}"))
    assert order.quantity == Decimal(10) and order.side is Side.BUY
    assert orders.count() == 1 and orders.pending("AAPL") == Decimal(10)


def test_a_failing_proposal_is_recorded_and_rejected_with_the_reason(app, clock):
    signal_handler, _ = handler(app)
    decision = signal_handler.handle(proposal(clock, strength="0.1"))
    assert not decision.accepted
    [signal] = signals(app)
    assert signal.status is SignalStatus.REJECTED and "below the minimum" in signal.reason


def test_the_second_order_would_breach_the_position_limit(app, clock):
    signal_handler, _ = handler(app)
    assert signal_handler.handle(proposal(clock)).accepted
    clock.advance(5)
    second = signal_handler.handle(proposal(clock))
    assert not second.accepted and "would be 20" in second.reason


def test_the_sweeper_expires_pending_signals_past_their_expiry(app, clock):
    pending = app.signals.generate_signal(
        SignalInput(
            "test", "AAPL", "BUY", Decimal("0.5"), expires_at=clock() + timedelta(seconds=10)
        )
    ).signal
    forever = app.signals.generate_signal(
        SignalInput("test", "AAPL", "SELL", Decimal("0.5"))
    ).signal
    sweeper = ExpirySweeper(app)
    sweeper.recover()
    assert sweeper.sweep() == 0
    clock.advance(11)
    assert sweeper.sweep() == 1
    assert app.store.repository.get(pending.id).status is SignalStatus.EXPIRED
    assert app.store.repository.get(forever.id).status is SignalStatus.PENDING
    assert sweeper.sweep() == 0


def open_long(app):
    order = app.orders.place_order(OrderInput("buy-1", "AAPL", "BUY", Decimal(10))).order
    app.orders.record_fill(FillInput(order.id, "fill-1", Decimal(10), Decimal(100)))
    return app.monitors.arm_monitor(MonitorInput("AAPL", stop_loss=Decimal(95))).monitor


def follow(policy, app):
    start = policy.recover()
    for notification in read_log(app.store.recorder, policy.topics, start):
        policy.handle(notification)


def test_a_restarted_policy_evaluates_quotes_logged_while_it_was_down(app):
    monitor = open_long(app)
    app.quotes.ingest_quotes([QuoteInput("AAPL", Decimal(94))])  # nobody was evaluating
    follow(MonitorPolicy(app), app)
    assert app.store.repository.get(monitor.id).status is MonitorStatus.TRIGGERED
    exit_order = app.store.repository.get(order_id(monitor_order_client_id(monitor.id)))
    assert exit_order.side is Side.SELL and exit_order.quantity == Decimal(10)
    follow(MonitorPolicy(app), app)  # and again: still one trigger, one exit order
    triggered = [
        n for n in read_log(app.store.recorder, ()) if n.topic.endswith("Monitor.Triggered")
    ]
    placed = [n for n in read_log(app.store.recorder, ()) if n.originator_id == exit_order.id]
    assert len(triggered) == 1 and len(placed) == 1


def test_quotes_before_the_arming_are_not_evaluated(app):
    app.quotes.ingest_quotes([QuoteInput("AAPL", Decimal(90))])
    monitor = open_long(app)
    follow(MonitorPolicy(app), app)
    assert app.store.repository.get(monitor.id).status is MonitorStatus.ACTIVE


def test_protection_arms_a_stop_and_target_on_an_opened_position(app):
    policy = ProtectionPolicy(app, Protection(Decimal("0.01"), Decimal("0.02")))
    start = policy.recover()
    order = app.orders.place_order(OrderInput("sell-1", "AAPL", "SELL", Decimal(5))).order
    app.orders.record_fill(FillInput(order.id, "fill-s", Decimal(5), Decimal(200)))
    for notification in read_log(app.store.recorder, policy.topics, start):
        policy.handle(notification)
    position = app.orders.position("default", "AAPL")
    [monitor_id] = position.monitor_ids
    monitor = app.store.repository.get(monitor_id)
    assert isinstance(monitor, Monitor)
    assert monitor.stop_loss == Decimal(202) and monitor.take_profit == Decimal(196)
    assert app.store.repository.get(order.id).status is OrderStatus.FILLED
    assert isinstance(app.store.repository.get(order.id), Order)
