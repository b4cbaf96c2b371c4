"""The monitor policy: evaluate every ACTIVE monitor on every quote of its instrument.

It follows QuotesIngested and the Monitor events in log order. The set of ACTIVE
monitors per instrument is rebuilt on start-up from the log's Monitor events;
following then resumes at the oldest still-ACTIVE monitor's arming, so quotes
that were logged while the process was down (or killed mid-evaluation) are
evaluated too. That is safe because `evaluate_monitor` is idempotent: a trigger
places its exit order exactly once, whatever is re-evaluated.

One refinement keeps re-evaluation honest for trailing stops: a monitor is only
evaluated on quotes logged after its latest water-mark move, since an older,
lower price must not be compared with a mark set later.

Optionally it also protects positions: when a fill opens (or flips) a position
that has no monitor, it arms a stop-loss and take-profit at fixed fractions of
the opening price.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from application.engine import topics
from application.engine.log import head, read_log
from application.inputs import MonitorInput
from application.trading import TradingApplication
from domain.errors import DomainError
from domain.money import sign
from domain.positions import Position
from domain.values import MonitorStatus, Side

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


class MonitorPolicy:
    name = "monitor-policy"

    def __init__(self, app: TradingApplication, protection: Protection | None = None) -> None:
        self.app = app
        self.protection = protection or Protection()
        self.topics: Sequence[str] = (
            topics.QUOTES,
            *topics.MONITORS,
            *((topics.POSITION_FILL_APPLIED,) if self.protection.enabled else ()),
        )
        # instrument -> monitor id -> evaluate only quotes logged after this id
        self.active: dict[str, dict[UUID, int]] = {}
        self._floor: dict[UUID, int] = {}
        self._live_after = 0

    def recover(self) -> int:
        """Scan the Monitor events; resume at the oldest ACTIVE monitor's arming."""
        until = head(self.app.recorder)
        armed_at: dict[UUID, int] = {}
        floor: dict[UUID, int] = {}
        for notification in read_log(self.app.recorder, topics.MONITORS, 0, until):
            monitor_id = topics.originator(notification)
            if notification.topic == topics.MONITOR_ARMED:
                armed_at[monitor_id] = notification.id
            elif notification.topic == topics.MONITOR_MARK_MOVED:
                floor[monitor_id] = notification.id
            else:
                armed_at.pop(monitor_id, None)
        self._floor = {m: floor[m] for m in armed_at if m in floor}
        self._live_after = until
        self.active = {}
        return min(armed_at.values()) - 1 if armed_at else until

    def handle(self, notification: Notification) -> None:
        topic = notification.topic
        if topic == topics.QUOTES:
            self._on_quotes(notification)
            return
        event = topics.decode(self.app, notification)
        if topic == topics.POSITION_FILL_APPLIED:
            if notification.id > self._live_after:
                self._protect(event)
        elif topic == topics.MONITOR_ARMED:
            after = max(notification.id, self._floor.pop(event.originator_id, 0))
            self.active.setdefault(event.instrument, {})[event.originator_id] = after
        elif topic == topics.MONITOR_MARK_MOVED:
            for monitors in self.active.values():
                if event.originator_id in monitors:
                    monitors[event.originator_id] = notification.id
        else:
            self._forget(event.originator_id)

    def _forget(self, monitor_id: UUID) -> None:
        for instrument, monitors in list(self.active.items()):
            monitors.pop(monitor_id, None)
            if not monitors:
                del self.active[instrument]

    def _on_quotes(self, notification: Notification) -> None:
        event = topics.decode(self.app, notification)
        for row in event.quotes:
            monitors = self.active.get(row[0])
            if not monitors:
                continue
            last = Decimal(row[1])
            for monitor_id, after in list(monitors.items()):
                if notification.id <= after:
                    continue
                result = self.app.evaluate_monitor(monitor_id, last)
                if result is not None and result.monitor.status is not MonitorStatus.ACTIVE:
                    if result.exit_order is not None:
                        log.info(
                            "monitor %s triggered (%s at %s): exit order %s",
                            monitor_id,
                            result.monitor.trigger_reason,
                            last,
                            result.exit_order.client_order_id,
                        )
                    self._forget(monitor_id)

    def _protect(self, event: Any) -> None:
        after: Decimal = event.quantity_after
        side = Side(event.side)
        before = after - (event.quantity if side is Side.BUY else -event.quantity)
        if after == 0 or (before != 0 and sign(before) == sign(after)):
            return
        position = self.app.find(Position, event.originator_id)
        if position is None or position.monitor_ids or sign(position.quantity) != sign(after):
            return
        stop, target = self.protection.levels(after, event.price)
        try:
            self.app.arm_monitor(
                MonitorInput(
                    instrument=position.instrument,
                    account=position.account,
                    stop_loss=stop,
                    take_profit=target,
                )
            )
        except DomainError as error:
            log.info("could not protect %s: %s", position.instrument, error)
