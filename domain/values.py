"""Value types and the input rules of SPEC section 3, checked before anything is appended."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from domain.errors import BadInput, echoed


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class SignalStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXECUTED = "EXECUTED"
    CANCELLED = "CANCELLED"


class OrderStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)


class PositionStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class MonitorStatus(StrEnum):
    ACTIVE = "ACTIVE"
    TRIGGERED = "TRIGGERED"
    DISARMED = "DISARMED"


class ReconciliationPolicy(StrEnum):
    ALERT = "ALERT"
    AUTO_CORRECT = "AUTO_CORRECT"


# Matched with fullmatch: `$` would also match before a trailing newline ("AAPL\n").
_SYMBOL = re.compile(r"[A-Za-z0-9.\-_/:]{1,32}", re.ASCII)
MAX_DIGITS = 18
# Plain ASCII decimal syntax: Decimal() itself also takes "1_000", " 5 ", "５" and "٥".
PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def check_symbol(value: str, field: str) -> str:
    """Instruments and accounts: 1-32 letters, digits and `.-_/:`."""
    if not isinstance(value, str) or not _SYMBOL.fullmatch(value):
        raise BadInput(
            f"{field} must be 1-32 characters of letters, digits and .-_/: (got {echoed(value)})",
            field=field,
        )
    return value


# UUID() itself also takes braces, "urn:uuid:", no hyphens, and (through int()) spaces,
# underscores and non-ASCII digits; an id is accepted in its canonical text only.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I | re.A)


def check_uuid(value: object, field: str) -> UUID:
    """An id: a UUID in its canonical 8-4-4-4-12 hexadecimal form."""
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise BadInput(f"{field} must be a UUID (got {echoed(value)})", field=field)
    return UUID(value)


def check_label(value: str, field: str, max_length: int = 64) -> str:
    """clientOrderId, fillId, strategy: 1-64 printable characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= max_length or not value.isprintable():
        raise BadInput(f"{field} must be 1-{max_length} printable characters", field=field)
    return value


def check_text(value: str | None, field: str, max_length: int = 500) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise BadInput(f"{field} must be at most {max_length} characters", field=field)
    if "\x00" in value or not _encodable(value):
        raise BadInput(f"{field} must not hold NUL or lone surrogate characters", field=field)
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def to_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, float):
        raise BadInput(f"{field} must be a decimal string, not a float", field=field)
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
        raise BadInput(
            f"{field} must be written in plain ASCII decimal syntax, e.g. 101.25 "
            f"(got {echoed(value)})",
            field=field,
        )
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise BadInput(f"{field} is not a decimal number: {echoed(value)}", field=field) from None
    if not result.is_finite():
        raise BadInput(f"{field} must be finite", field=field)
    sign, digits, exponent = result.as_tuple()
    assert isinstance(exponent, int)
    fraction = max(0, -exponent)
    whole = max(0, len(digits) + exponent)
    if whole > MAX_DIGITS or fraction > MAX_DIGITS:
        raise BadInput(
            f"{field} may have at most {MAX_DIGITS} digits before and after the point",
            field=field,
        )
    return result


def check_positive(value: object, field: str) -> Decimal:
    result = to_decimal(value, field)
    if result <= 0:
        raise BadInput(f"{field} must be greater than zero", field=field)
    return result


def check_non_negative(value: object, field: str) -> Decimal:
    result = to_decimal(value, field)
    if result < 0:
        raise BadInput(f"{field} must not be negative", field=field)
    return result


def check_optional_positive(value: object | None, field: str) -> Decimal | None:
    return None if value is None else check_positive(value, field)


def check_strength(value: object) -> Decimal:
    result = to_decimal(value, "strength")
    if not Decimal(0) <= result <= Decimal(1):
        raise BadInput("strength must be within 0..1", field="strength")
    return result


def check_aware(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise BadInput(f"{field} must carry a time zone", field=field)
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise BadInput(f"{field} is out of range in UTC", field=field) from None
    return value


E = TypeVar("E", bound=StrEnum)


def check_enum(enum: type[E], value: object, field: str) -> E:
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in enum)
    raise BadInput(f"{field} must be one of {allowed}", field=field)
