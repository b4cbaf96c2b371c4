"""The signal handler: record a proposal as a signal, check risk, accept or reject it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from application.commands import Commands
from application.engine.orders import OpenOrders
from application.engine.risk import Decision, Exposure, RiskLimits, assess, size
from application.engine.strategy import SignalProposal
from application.inputs import SignalInput
from domain.errors import DomainError
from domain.values import Side

log = logging.getLogger(__name__)

CooldownKey = tuple[str, str, Side]


class SignalHandler:
    """Every proposal becomes a PENDING signal (so rejections are on the record too),
    then ACCEPTED (its MARKET order placed) when the risk rules pass, else REJECTED
    with the reason. Blocking: call it from a worker thread."""

    def __init__(
        self,
        commands: Commands,
        limits: RiskLimits,
        orders: OpenOrders,
        *,
        account: str,
        signal_ttl_seconds: float,
    ) -> None:
        self.commands = commands
        self.store = commands.store
        self.limits = limits
        self.orders = orders
        self.account = account
        self.signal_ttl_seconds = signal_ttl_seconds
        self._accepted_at: dict[CooldownKey, datetime] = {}

    def handle(self, proposal: SignalProposal) -> Decision | None:
        """The decision taken, or None when the signal could not be settled."""
        quantity = size(proposal, self.limits)
        expires_at = self.store.clock() + timedelta(seconds=self.signal_ttl_seconds)
        signal = self.commands.signals.generate_signal(
            SignalInput(
                strategy=proposal.strategy,
                instrument=proposal.instrument,
                side=proposal.side,
                strength=proposal.strength,
                quantity=quantity,
                reason=proposal.reason,
                expires_at=expires_at,
            )
        ).signal
        decision = assess(proposal, quantity, self.exposure(proposal), self.limits)
        try:
            if decision.accepted:
                order = self.commands.signals.accept_signal(signal.id).order
                assert order is not None
                self.orders.note(order.id, order.instrument, order.side, order.quantity)
                key = (proposal.strategy, proposal.instrument, proposal.side)
                self._accepted_at[key] = proposal.at
            else:
                assert decision.reason is not None
                self.commands.signals.reject_signal(signal.id, decision.reason)
        except DomainError as error:
            log.warning("signal %s could not be settled: %s", signal.id, error)
            return None
        return decision

    def exposure(self, proposal: SignalProposal) -> Exposure:
        """The position (from its aggregate) plus the open orders (from the log and this
        handler's own placements). An order filled a moment ago may be counted in both
        until the log follower sees its fill, which errs on the side of rejecting."""
        position = self.commands.orders.position(self.account, proposal.instrument)
        return Exposure(
            position=position.quantity,
            pending=self.orders.pending(proposal.instrument),
            open_orders=self.orders.count(),
            last_accepted_at=self._accepted_at.get(
                (proposal.strategy, proposal.instrument, proposal.side)
            ),
        )
