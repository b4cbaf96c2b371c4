"""A mixed workload through the command API, shared by the projection tests."""

from __future__ import annotations

import random
from decimal import Decimal as D

from application.commands import Commands
from application.inputs import FillInput, MonitorInput, OrderInput, QuoteInput, SignalInput
from domain.errors import DomainError

INSTRUMENTS = ("ACME", "BOLT", "CRAN")


def run_workload(app: Commands, seed: int = 7, rounds: int = 40, tag: str = "w") -> None:
    """Orders, fills (long, short, crossing zero, fractional), signals, monitors, quotes."""
    rng = random.Random(seed)
    for i in range(rounds):
        instrument = rng.choice(INSTRUMENTS)
        price = D(rng.randint(9000, 11000)) / 100
        app.quotes.ingest_quotes(
            [QuoteInput(instrument, price, bid=price - D("0.01"), ask=price + D("0.01"))]
        )
        quantity = D(rng.randint(1, 40)) / 4
        side = rng.choice(("BUY", "SELL"))
        order = app.orders.place_order(
            OrderInput(
                client_order_id=f"{tag}-{i}", instrument=instrument, side=side, quantity=quantity
            )
        ).order
        half = (quantity / 2).quantize(D("0.01"))
        app.orders.record_fill(
            FillInput(
                order_id=order.id,
                fill_id=f"{tag}-{i}-a",
                quantity=half,
                price=price,
                commission=D("0.1"),
            )
        )
        if rng.random() < 0.7:
            app.orders.record_fill(
                FillInput(
                    order_id=order.id,
                    fill_id=f"{tag}-{i}-b",
                    quantity=quantity - half,
                    price=price + D("0.05"),
                )
            )
        else:
            app.orders.cancel_order(order.id)
        signal = app.signals.generate_signal(
            SignalInput("ma", instrument, side, D(rng.randint(0, 100)) / 100)
        ).signal
        if rng.random() < 0.5:
            app.signals.accept_signal(signal.id, D(1))
        else:
            app.signals.reject_signal(signal.id, "risk")
        if rng.random() < 0.3:
            try:
                monitor = app.monitors.arm_monitor(
                    MonitorInput(instrument=instrument, stop_loss=D(95), trailing_distance=D(3))
                ).monitor
                app.monitors.evaluate_monitor(monitor.id, price + D(1))
                app.monitors.evaluate_monitor(monitor.id, D(94))
            except DomainError:
                pass
