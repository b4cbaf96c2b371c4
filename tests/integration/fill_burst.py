"""A writer process for the fill crash tests: N orders of 0.1 on one position, each
filled, plus every tenth a fill id shared by all writers; it can kill itself (SIGKILL).

    python -m tests.integration.fill_burst URL NAME N [POINT:I]

POINT is `placed` (order I placed, not yet filled) or `filled` (fill I committed).
Run again with the same NAME, it redoes the same commands: each is idempotent.
"""

from __future__ import annotations

import os
import signal
import sys
from decimal import Decimal

from application.inputs import FillInput, OrderInput
from infrastructure.settings import load_settings
from interfaces.composition import build_system

INSTRUMENT = "BURST"
QUANTITY = Decimal("0.1")
SHARED_EVERY = 10


def expected_quantity(writers: int, count: int) -> Decimal:
    """The position after `writers` complete runs of `count` orders each."""
    return writers * count * QUANTITY + len(range(0, count, SHARED_EVERY)) * QUANTITY


def buy_and_fill(app, client_order_id: str, fill_id: str, crash: tuple[str, int] | None, i: int):
    order = app.orders.place_order(
        OrderInput(client_order_id=client_order_id, instrument=INSTRUMENT, side="BUY",
                   quantity=QUANTITY)
    ).order  # fmt: skip
    if crash == ("placed", i):
        os.kill(os.getpid(), signal.SIGKILL)
    app.orders.record_fill(
        FillInput(order_id=order.id, fill_id=fill_id, quantity=QUANTITY, price=Decimal("10.01"))
    )
    if crash == ("filled", i):
        os.kill(os.getpid(), signal.SIGKILL)


def main(url: str, name: str, count: int, crash: tuple[str, int] | None) -> None:
    system = build_system(load_settings(database_url=url), check=False)
    print("WRITER-READY", flush=True)
    for i in range(count):
        buy_and_fill(system.commands, f"{name}-{i}", f"{name}-fill-{i}", crash, i)
        if i % SHARED_EVERY == 0:
            buy_and_fill(system.commands, f"shared-{i}", f"shared-fill-{i}", None, i)
    system.close()


if __name__ == "__main__":
    point = None
    if len(sys.argv) > 4:
        where, index = sys.argv[4].split(":")
        point = (where, int(index))
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), point)
