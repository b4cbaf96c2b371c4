"""An independent model of SPEC section 3's position rules, for the properties.

Written from the SPEC text, not from domain/positions.py: a fill is split into
the part that closes the held side and the part that opens (or adds to) a
side. Arithmetic runs in a context wide enough to be exact; the only roundings
are the documented ones: the average price half-even to 18 places, and what a
fill realizes and its commission half-even to the currency's places (SPEC
section 13; 8 with no instrument spec), summed exactly afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

EXACT = Context(prec=400)
AVERAGE_STEP = Decimal("1e-18")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Book:
    """One position's state: signed quantity, average price (None when flat), realized P&L."""

    quantity: Decimal = ZERO
    average: Decimal | None = None
    realized: Decimal = ZERO

    @property
    def status(self) -> str:
        return "CLOSED" if self.quantity == 0 else "OPEN"


def _round_average(value: Decimal) -> Decimal:
    return value.quantize(AVERAGE_STEP, rounding=ROUND_HALF_EVEN, context=EXACT)


def _signed(direction: int, value: Decimal) -> Decimal:
    return value if direction > 0 else value.copy_negate()


def booked(amount: Decimal, places: int = 8) -> Decimal:
    """Money as the broker books it: half-even to the currency's places."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN, context=EXACT)


def apply(
    book: Book,
    side: str,
    quantity: Decimal,
    price: Decimal,
    commission: Decimal,
    places: int = 8,
    multiplier: Decimal = Decimal(1),
) -> Book:
    """The book after one fill."""
    direction = 1 if side == "BUY" else -1
    held = book.quantity.copy_abs()
    held_direction = (book.quantity > 0) - (book.quantity < 0)
    realized = EXACT.subtract(book.realized, booked(commission, places))
    if held_direction in (0, direction):
        paid = EXACT.multiply(held, book.average or ZERO)
        cost = EXACT.add(paid, EXACT.multiply(quantity, price))
        size = EXACT.add(held, quantity)
        return Book(_signed(direction, size), _round_average(EXACT.divide(cost, size)), realized)
    closing = min(held, quantity)
    opening = EXACT.subtract(quantity, closing)
    assert book.average is not None
    per_unit = _signed(held_direction, EXACT.subtract(price, book.average))
    gross = EXACT.multiply(EXACT.multiply(per_unit, closing), multiplier)
    realized = EXACT.add(realized, booked(gross, places))
    if opening > 0:
        return Book(_signed(direction, opening), price, realized)
    left = EXACT.subtract(held, closing)
    if left == 0:
        return Book(ZERO, None, realized)
    return Book(_signed(held_direction, left), book.average, realized)


def fold(fills: Iterable[tuple[str, Decimal, Decimal, Decimal]], book: Book = Book()) -> Book:
    """The book after (side, quantity, price, commission) fills, in order."""
    for side, quantity, price, commission in fills:
        book = apply(book, side, quantity, price, commission)
    return book
