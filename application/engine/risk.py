"""Risk rules of the signal handler, pure: a proposal and the exposure in, a decision out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from application.engine.strategy import SignalProposal
from domain.values import Side

FIXED = "fixed"
STRENGTH = "strength"


@dataclass(frozen=True)
class RiskLimits:
    min_strength: Decimal = Decimal(0)
    max_position: Decimal = Decimal(100)
    max_open_orders: int = 10
    cooldown: timedelta = timedelta(seconds=1)
    sizing: str = FIXED
    order_quantity: Decimal = Decimal(1)


@dataclass(frozen=True)
class Exposure:
    """What is already committed on the instrument when a proposal arrives."""

    position: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)  # signed remaining quantity of open orders
    open_orders: int = 0
    last_accepted_at: datetime | None = None  # same strategy, instrument and side


@dataclass(frozen=True)
class Decision:
    accepted: bool
    quantity: Decimal
    reason: str | None = None


def size(proposal: SignalProposal, limits: RiskLimits) -> Decimal:
    """The order quantity: the proposal's own, else fixed, else scaled by strength
    (rounded down to whole units of `order_quantity`'s precision, at least one step)."""
    if proposal.quantity is not None:
        return proposal.quantity
    if limits.sizing == STRENGTH:
        step = Decimal(1).scaleb(limits.order_quantity.as_tuple().exponent)  # type: ignore[arg-type]
        scaled = (limits.order_quantity * proposal.strength).quantize(step, rounding=ROUND_DOWN)
        return max(scaled, step)
    return limits.order_quantity


def assess(
    proposal: SignalProposal, quantity: Decimal, exposure: Exposure, limits: RiskLimits
) -> Decision:
    """Accept, or reject with the first rule the proposal breaks."""

    def reject(reason: str) -> Decision:
        return Decision(False, quantity, reason)

    if proposal.strength < limits.min_strength:
        return reject(f"strength {proposal.strength} is below the minimum {limits.min_strength}")
    last = exposure.last_accepted_at
    if last is not None and proposal.at - last < limits.cooldown:
        return reject(
            f"duplicate {proposal.side} signal on {proposal.instrument} within the "
            f"{limits.cooldown.total_seconds():g}s cooldown"
        )
    if exposure.open_orders >= limits.max_open_orders:
        return reject(
            f"{exposure.open_orders} open orders reach the maximum {limits.max_open_orders}"
        )
    signed = quantity if proposal.side is Side.BUY else -quantity
    projected = exposure.position + exposure.pending + signed
    if abs(projected) > limits.max_position:
        return reject(
            f"position on {proposal.instrument} would be {projected}, beyond the maximum "
            f"{limits.max_position}"
        )
    return Decision(True, quantity)
