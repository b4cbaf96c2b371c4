"""The demo engine's protection: when a fill opens (or flips) a position that has
no monitor, arm a stop-loss and take-profit at fixed fractions of the opening price.

Only fills logged after start-up are protected (the policy starts at the head);
the monitors it arms are evaluated by the monitor policy, as every monitor is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import Notification

from application.commands import Commands
from application.engine import topics
from application.engine.log import head
from application.inputs import MonitorInput
from domain.errors import DomainError
from domain.money import sign
from domain.positions import Position
from domain.values import Side

log = logging.getLogger(__name__)

PRICE_STEP = Decimal("0.00000001")


@dataclass(frozen=True)
class Protection:
    stop_loss_fraction: Decimal | None = None
    take_profit_fraction: Decimal | None = None

    @property
    def enabled(self) -> bool:
        return self.stop_loss_fraction is not None or self.take_profit_fraction is not None

    def levels(self, quantity: Decimal, price: Decimal) -> tuple[Decimal | None, Decimal | None]:
        """(stop loss, take profit) around `price` for a position of `quantity`."""
        direction = Decimal(sign(quantity))

        def level(fraction: Decimal | None, towards: Decimal) -> Decimal | None:
            if fraction is None:
                return None
            return (price * (1 + towards * direction * fraction)).quantize(PRICE_STEP)

        return level(self.stop_loss_fraction, Decimal(-1)), level(
            self.take_profit_fraction, Decimal(1)
        )


class ProtectionPolicy:
    name = "protection-policy"

    def __init__(self, commands: Commands, protection: Protection) -> None:
        self.commands = commands
        self.store = commands.store
        self.protection = protection
        self.topics: Sequence[str] = (topics.POSITION_FILL_APPLIED,)

    def recover(self) -> int:
        return head(self.store.recorder)

    def handle(self, notification: Notification) -> None:
        if self.protection.enabled:
            self._protect(topics.decode(self.store, notification))

    def _protect(self, event: Any) -> None:
        after: Decimal = event.quantity_after
        side = Side(event.side)
        before = after - (event.quantity if side is Side.BUY else -event.quantity)
        if after == 0 or (before != 0 and sign(before) == sign(after)):
            return
        position = self.store.find(Position, event.originator_id)
        if position is None or position.monitor_ids or sign(position.quantity) != sign(after):
            return
        stop, target = self.protection.levels(after, event.price)
        try:
            self.commands.monitors.arm_monitor(
                MonitorInput(
                    instrument=position.instrument,
                    account=position.account,
                    stop_loss=stop,
                    take_profit=target,
                )
            )
        except DomainError as error:
            log.info("could not protect %s: %s", position.instrument, error)
