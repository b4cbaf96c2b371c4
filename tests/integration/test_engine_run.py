"""A seeded engine run: signals, orders, fills and positions agree with the aggregates
and with the paper broker's book."""

from __future__ import annotations

import time
from collections import defaultdict
from decimal import Decimal

from eventsourcing.utils import get_topic

from domain.ids import order_id, signal_order_client_id
from domain.orders import Order
from domain.positions import Position
from domain.signals import Signal
from domain.values import OrderStatus, Side, SignalStatus
from interfaces.composition import build_system
from tests.integration.engine_support import engine_settings, started_policies, stored

DECIDED = {SignalStatus.ACCEPTED, SignalStatus.EXECUTED, SignalStatus.REJECTED}


def test_a_seeded_engine_trades_and_everything_agrees(database_url):
    settings = engine_settings(
        database_url,
        engine_tick_interval_seconds=0.04,
        engine_signal_cooldown_seconds=0.5,
        reconcile_interval_seconds=0.5,
    )
    system = build_system(settings, trading=True)
    engine = started_policies(system)
    try:
        engine.start()
        time.sleep(3.0)
        engine.stop()
        app = system.commands

        generated = stored(app, get_topic(Signal.Generated))
        placed = stored(app, get_topic(Order.Placed))
        fills = stored(app, get_topic(Position.FillApplied))
        assert engine.counters.quotes > 100
        assert len(generated) >= 3 and len(placed) >= 2 and len(fills) >= 1
        assert stored(app, get_topic(Signal.Rejected)) or len(generated) == len(placed)

        for event in generated:
            signal = app.store.repository.get(event.originator_id)
            assert signal.status in DECIDED  # a clean stop leaves no signal half-handled
            if signal.status in (SignalStatus.ACCEPTED, SignalStatus.EXECUTED):
                order = app.store.repository.get(order_id(signal_order_client_id(signal.id)))
                assert order.signal_id == signal.id and order.quantity == Decimal(10)
                assert (order.status is OrderStatus.FILLED) == (
                    signal.status is SignalStatus.EXECUTED
                )

        filled_by_order: dict = defaultdict(Decimal)
        net: dict = defaultdict(Decimal)
        for fill in fills:
            filled_by_order[fill.order_id] += fill.quantity
            net[fill.originator_id] += fill.quantity if fill.side == Side.BUY else -fill.quantity
        for event in placed:
            order = app.store.repository.get(event.originator_id)
            assert order.filled_quantity == filled_by_order[order.id]

        book = engine.broker.positions()
        for position_id, quantity in net.items():
            position = app.store.repository.get(position_id)
            assert position.quantity == quantity
            assert book.get((position.account, position.instrument), Decimal(0)) == quantity
        assert stored(app, get_topic(Position.Adjusted)) == []
    finally:
        engine.stop()
        engine.close()
        system.close()
