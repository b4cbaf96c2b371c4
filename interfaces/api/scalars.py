"""Scalars of the contract: Decimal as a string, DateTime as ISO 8601 with a zone.

A value that does not parse is a GraphQL error coded BAD_USER_INPUT (see
errors.py: errors raised while coercing inputs carry no path).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import strawberry
from graphql import GraphQLError


def _decimal_out(value: Decimal) -> str:
    return format(value, "f")


def _decimal_in(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise GraphQLError(
            'Decimal values are sent as strings, e.g. "101.25" (a JSON number would '
            "lose precision)",
            extensions={"code": "BAD_USER_INPUT"},
        )
    try:
        result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise GraphQLError(
            f"{value!r} is not a decimal number", extensions={"code": "BAD_USER_INPUT"}
        ) from None
    if not result.is_finite():
        raise GraphQLError("Decimal values must be finite", extensions={"code": "BAD_USER_INPUT"})
    return result


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
            f"{value!r} is not an ISO 8601 date-time", extensions={"code": "BAD_USER_INPUT"}
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise GraphQLError(
            f"{value!r} has no time zone; add one, e.g. Z or +02:00",
            extensions={"code": "BAD_USER_INPUT"},
        )
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        # Year 1 at +14:00 parses, but no store or read model can hold it in UTC.
        raise GraphQLError(
            f"{value!r} is out of range once converted to UTC",
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
