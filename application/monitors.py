"""Monitor commands: arm, disarm, and evaluate a price (trigger → exit order, once)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from application.inputs import MonitorInput, OrderInput
from application.orders import new_order
from application.ports import MarketPrices
from application.positions import disarm_all, position_of
from application.results import MonitorResult
from application.retry import retrying
from application.store import Store
from domain.errors import Conflict
from domain.ids import monitor_order_client_id
from domain.money import CONTEXT
from domain.monitors import LONG, SHORT, Monitor
from domain.orders import Order
from domain.positions import Position
from domain.values import MonitorStatus, OrderType, PositionStatus, Side


class MonitorCommands:
    def __init__(self, store: Store, market_prices: MarketPrices | None = None) -> None:
        self.store = store
        #: Where a trailing stop takes its first water mark (None: no mark at arming).
        self.market_prices = market_prices

    def arm_monitor(self, monitor: MonitorInput) -> MonitorResult:
        """Arm a stop-loss / take-profit / trailing stop on an OPEN position."""
        spec = monitor.validated()

        def arm() -> MonitorResult:
            position = position_of(self.store, spec.account, spec.instrument)
            if position.status is not PositionStatus.OPEN:
                raise Conflict(
                    f"there is no OPEN position for {spec.account}/{spec.instrument}",
                    field="instrument",
                )
            last = self.market_prices.last_price(spec.instrument) if self.market_prices else None
            armed = Monitor(
                account=spec.account,
                instrument=spec.instrument,
                position_id=position.id,
                direction=LONG if position.quantity > 0 else SHORT,
                stop_loss=spec.stop_loss,
                take_profit=spec.take_profit,
                trailing_distance=spec.trailing_distance,
                water_mark=last if spec.trailing_distance is not None else None,
            )
            position.attach_monitor(armed.id)
            sequence, as_of = self.store.commit_served(armed, position)
            return MonitorResult(armed, sequence, as_of=as_of)

        return retrying(arm)

    def disarm_monitor(
        self, monitor_id: UUID, reason: str = "disarmed by request"
    ) -> MonitorResult:
        def disarm() -> MonitorResult:
            monitor = self.store.load(Monitor, monitor_id)
            monitor.disarm(reason)
            position = self.store.load(Position, monitor.position_id)
            if monitor_id in position.monitor_ids:
                position.detach_monitor(monitor_id)
            sequence, as_of = self.store.commit_served(monitor, position)
            return MonitorResult(monitor, sequence, as_of=as_of)

        return retrying(disarm)

    def evaluate_monitor(self, monitor_id: UUID, last: Decimal) -> MonitorResult | None:
        """Evaluate one price. A trigger appends MonitorTriggered and one MARKET exit
        order (clientOrderId monitor-<id>) in one transaction; the monitor's state
        makes a second evaluation of the same price a no-op, so re-processing after
        a crash never places a second exit order."""
        return retrying(lambda: self._evaluate(monitor_id, last))

    def _evaluate(self, monitor_id: UUID, last: Decimal) -> MonitorResult | None:
        monitor = self.store.find(Monitor, monitor_id)
        if monitor is None or monitor.status is not MonitorStatus.ACTIVE:
            return None
        evaluation = monitor.evaluate(last)
        if evaluation.trigger is None:
            if not evaluation.mark_moved:
                return None
            assert evaluation.water_mark is not None
            monitor.move_water_mark(evaluation.water_mark)
            return MonitorResult(monitor, self.store.commit(monitor))
        position = self.store.load(Position, monitor.position_id)
        if position.quantity == 0:
            monitor.disarm("position closed")
            return MonitorResult(monitor, self.store.commit(monitor))
        exit_order = new_order(
            OrderInput(
                client_order_id=monitor_order_client_id(monitor.id),
                account=monitor.account,
                instrument=monitor.instrument,
                side=Side.SELL if position.quantity > 0 else Side.BUY,
                quantity=CONTEXT.abs(position.quantity),
                type=OrderType.MARKET,
            )
        )
        if self.store.find(Order, exit_order.id) is not None:
            raise Conflict(f"monitor {monitor.id} has placed its exit order already")
        monitor.trigger(
            reason=evaluation.trigger.reason,
            price=evaluation.trigger.price,
            exit_order_id=exit_order.id,
        )
        others = disarm_all(
            self.store, position, f"superseded by monitor {monitor.id}", keep=monitor.id
        )
        sequence, as_of = self.store.commit_served(monitor, exit_order, position, *others)
        return MonitorResult(monitor, sequence, exit_order, as_of=as_of)
