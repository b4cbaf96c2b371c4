from datetime import UTC, datetime, timedelta
from decimal import Decimal

from application.engine.risk import Exposure, RiskLimits, assess, size
from application.engine.strategy import SignalProposal
from domain.values import Side

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
LIMITS = RiskLimits(
    min_strength=Decimal("0.3"),
    max_position=Decimal(25),
    max_open_orders=3,
    cooldown=timedelta(seconds=5),
    order_quantity=Decimal(10),
)


def proposal(side=Side.BUY, strength="0.5", quantity=None, at=NOW):
    return SignalProposal(
        "test",
        "AAPL",
        side,
        Decimal(strength),
        at,
        quantity=None if quantity is None else Decimal(quantity),
    )


def decide(p, exposure=Exposure(), limits=LIMITS):
    return assess(p, size(p, limits), exposure, limits)


def test_a_proposal_within_every_limit_is_accepted_at_the_fixed_size():
    decision = decide(proposal())
    assert decision.accepted and decision.quantity == Decimal(10) and decision.reason is None


def test_a_weak_signal_is_rejected_naming_the_minimum():
    decision = decide(proposal(strength="0.29"))
    assert not decision.accepted
    assert "strength 0.29 is below the minimum 0.3" in decision.reason


def test_a_duplicate_within_the_cooldown_is_rejected_and_accepted_after_it():
    recent = Exposure(last_accepted_at=NOW - timedelta(seconds=4))
    assert "cooldown" in decide(proposal(), recent).reason
    old = Exposure(last_accepted_at=NOW - timedelta(seconds=5))
    assert decide(proposal(), old).accepted


def test_too_many_open_orders_are_rejected():
    assert "open orders" in decide(proposal(), Exposure(open_orders=3)).reason
    assert decide(proposal(), Exposure(open_orders=2)).accepted


def test_position_limit_counts_the_position_and_pending_orders():
    assert decide(proposal(), Exposure(position=Decimal(10), pending=Decimal(5))).accepted
    breach = decide(proposal(), Exposure(position=Decimal(10), pending=Decimal(6)))
    assert not breach.accepted and "would be 26" in breach.reason


def test_a_sell_reducing_a_long_position_is_within_the_limit():
    assert decide(proposal(Side.SELL), Exposure(position=Decimal(25))).accepted
    assert not decide(proposal(Side.SELL), Exposure(position=Decimal(-20))).accepted


def test_sizing_by_strength_rounds_down_to_the_quantity_precision():
    limits = RiskLimits(sizing="strength", order_quantity=Decimal(10))
    assert size(proposal(strength="0.57"), limits) == Decimal(5)
    assert size(proposal(strength="0.01"), limits) == Decimal(1)
    fractional = RiskLimits(sizing="strength", order_quantity=Decimal("2.50"))
    assert size(proposal(strength="0.5"), fractional) == Decimal("1.25")


def test_a_proposal_with_its_own_quantity_keeps_it():
    assert size(proposal(quantity="3"), LIMITS) == Decimal(3)
