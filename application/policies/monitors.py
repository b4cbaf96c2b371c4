"""The monitor policy: evaluate every ACTIVE monitor on every quote of its instrument.

It runs in every deployment (`serve`, `worker`, the demo engine alike), one
active copy per store (infrastructure/policies.py holds the store-wide lock);
a second copy would still be harmless, only wasteful: see below.

It follows QuotesIngested and the Monitor events in log order. The set of ACTIVE
monitors per instrument is rebuilt on start-up from the log's Monitor events;
following then resumes at the oldest still-ACTIVE monitor's arming, so quotes
that were logged while the process was down (or killed mid-evaluation) are
evaluated too. That is safe because `evaluate_monitor` is idempotent: a trigger
places its exit order exactly once, whatever is re-evaluated.

One refinement keeps re-evaluation honest for trailing stops: a monitor is only
evaluated on quotes logged after its latest water-mark move, since an older,
lower price must not be compared with a mark set later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import Notification

from application.commands import Commands
from application.engine import topics
from application.engine.log import head, read_log
from domain.values import MonitorStatus

log = logging.getLogger(__name__)


class MonitorPolicy:
    name = "monitor-policy"

    def __init__(self, commands: Commands) -> None:
        self.commands = commands
        self.store = commands.store
        self.topics: Sequence[str] = (topics.QUOTES, *topics.MONITORS)
        # instrument -> monitor id -> evaluate only quotes logged after this id
        self.active: dict[str, dict[UUID, int]] = {}
        self._floor: dict[UUID, int] = {}

    def recover(self) -> int:
        """Scan the Monitor events; resume at the oldest ACTIVE monitor's arming."""
        until = head(self.store.recorder)
        armed_at: dict[UUID, int] = {}
        floor: dict[UUID, int] = {}
        for notification in read_log(self.store.recorder, topics.MONITORS, 0, until):
            monitor_id = topics.originator(notification)
            if notification.topic == topics.MONITOR_ARMED:
                armed_at[monitor_id] = notification.id
            elif notification.topic == topics.MONITOR_MARK_MOVED:
                floor[monitor_id] = notification.id
            else:
                armed_at.pop(monitor_id, None)
        self._floor = {m: floor[m] for m in armed_at if m in floor}
        self.active = {}
        return min(armed_at.values()) - 1 if armed_at else until

    def handle(self, notification: Notification) -> None:
        topic = notification.topic
        if topic == topics.QUOTES:
            self._on_quotes(notification)
            return
        event = topics.decode(self.store, notification)
        if topic == topics.MONITOR_ARMED:
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
        event = topics.decode(self.store, notification)
        for row in event.quotes:
            monitors = self.active.get(row[0])
            if not monitors:
                continue
            last = Decimal(row[1])
            for monitor_id, after in list(monitors.items()):
                if notification.id <= after:
                    continue
                result = self.commands.monitors.evaluate_monitor(monitor_id, last)
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
