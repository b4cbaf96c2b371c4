"""Scalars of the contract: Decimal as a string, DateTime as ISO 8601 with a zone.

A value that does not parse is a GraphQL error coded BAD_USER_INPUT (see
errors.py: errors raised while coercing inputs carry no path).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import strawberry
from graphql import GraphQLError

from domain.errors import echoed
from domain.values import MAX_DIGITS, PLAIN_DECIMAL


def _decimal_out(value: Decimal) -> str:
    return format(value, "f")


def _decimal_in(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise GraphQLError(
            'Decimal values are sent as strings, e.g. "101.25" (a JSON number would '
            "lose precision)",
            extensions={"code": "BAD_USER_INPUT"},
        )
    text = str(value) if isinstance(value, int) else value
    # Checked before Decimal() parses, which would take "1_000", " 5 " and "５".
    if not PLAIN_DECIMAL.fullmatch(text):
        raise GraphQLError(
            f"{echoed(text)} is not a decimal number in plain ASCII syntax, e.g. "
            '"101.25" (no spaces, digit separators, exponents or non-ASCII digits)',
            extensions={"code": "BAD_USER_INPUT"},
        )
    digits = text.lstrip("+-").split(".")
    if (
        len(digits[0].lstrip("0")) > MAX_DIGITS
        or len(digits[-1] if len(digits) > 1 else "") > MAX_DIGITS
    ):
        raise GraphQLError(
            f"Decimal values have at most {MAX_DIGITS} digits before and after the point",
            extensions={"code": "BAD_USER_INPUT"},
        )
    return Decimal(text)


def _datetime_out(value: datetime) -> str:
    return value.isoformat()


def _datetime_in(value: object) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError(
            'DateTime values are ISO 8601 strings with a time zone, e.g. "2024-05-01T12:00:00Z"',
            extensions={"code": "BAD_USER_INPUT"},
        )
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise GraphQLError(
            f"{echoed(value)} is not an ISO 8601 date-time", extensions={"code": "BAD_USER_INPUT"}
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise GraphQLError(
            f"{echoed(value)} has no time zone; add one, e.g. Z or +02:00",
            extensions={"code": "BAD_USER_INPUT"},
        )
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        # Year 1 at +14:00 parses, but no store or read model can hold it in UTC.
        raise GraphQLError(
            f"{echoed(value)} is out of range once converted to UTC",
            extensions={"code": "BAD_USER_INPUT"},
        ) from None
    return parsed


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number, sent as a string: "101.25". Never a float.',
    serialize=_decimal_out,
    parse_value=_decimal_in,
)

DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description='An ISO 8601 date-time with a time zone: "2024-05-01T12:00:00+00:00".',
    serialize=_datetime_out,
    parse_value=_datetime_in,
)

SCALAR_OVERRIDES = {Decimal: DecimalScalar, datetime: DateTimeScalar}
