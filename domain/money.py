"""Exact Decimal arithmetic helpers for the money path."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

# Prices and quantities have at most 18+18 digits; products need up to 72.
CONTEXT = Context(prec=80, rounding=ROUND_HALF_EVEN)
_PRICE_STEP = Decimal("1e-18")
_UNIT = Decimal(1)
ZERO = Decimal(0)


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation."""
    if value == value.to_integral_value():
        return value.quantize(_UNIT, context=CONTEXT)
    return value.normalize(CONTEXT)


def average_price(notional: Decimal, quantity: Decimal) -> Decimal:
    """A volume-weighted average, rounded half-even to 18 places."""
    return tidy(CONTEXT.divide(notional, quantity).quantize(_PRICE_STEP, context=CONTEXT))


def sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


#: Places money is rounded to where no currency is known (no instrument spec).
NO_SPEC_PLACES = 8
_STEPS = {places: Decimal(1).scaleb(-places) for places in range(19)}


def round_money(value: Decimal, places: int = NO_SPEC_PLACES) -> Decimal:
    """An amount as a broker books it: half-even to the currency's places, no tail."""
    step = _STEPS.get(places) or Decimal(1).scaleb(-places)
    return tidy(value.quantize(step, rounding=ROUND_HALF_EVEN, context=CONTEXT))
