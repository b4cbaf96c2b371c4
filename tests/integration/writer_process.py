"""A separate writer process for concurrency tests: place+fill N orders on one position."""

import sys
from decimal import Decimal

from application.inputs import FillInput, OrderInput
from infrastructure.settings import load_settings
from interfaces.composition import build_system


def main(url: str, name: str, count: int) -> None:
    system = build_system(load_settings(database_url=url), check=False)
    app = system.commands
    for i in range(count):
        order = app.orders.place_order(
            OrderInput(
                client_order_id=f"{name}-{i}",
                instrument="SHARED",
                side="BUY",
                quantity=Decimal("0.5"),
            )
        ).order
        app.orders.record_fill(
            FillInput(
                order_id=order.id,
                fill_id=f"{name}-fill-{i}",
                quantity=Decimal("0.5"),
                price=Decimal("10"),
            )
        )
        # Every writer also replays one fill id of the shared pool: applied once overall.
        if i % 10 == 0:
            shared = app.orders.place_order(
                OrderInput(
                    client_order_id=f"shared-{i}",
                    instrument="SHARED",
                    side="BUY",
                    quantity=Decimal("1"),
                )
            ).order
            app.orders.record_fill(
                FillInput(
                    order_id=shared.id,
                    fill_id=f"shared-fill-{i}",
                    quantity=Decimal("1"),
                    price=Decimal("10"),
                )
            )
    system.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
