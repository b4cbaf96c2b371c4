"""Instrument specs from settings: each currency's places from ISO 4217 (the
`iso4217` package) unless configured (crypto), resolved into the domain's table."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from iso4217 import Currency
from pydantic import BaseModel, Field

from domain.instruments import InstrumentSpec, SpecTable
from domain.money import NO_SPEC_PLACES


class InstrumentSetting(BaseModel):
    """One entry of `instruments`: keyed by an instrument name or a glob pattern."""

    currency: str | None = None
    price_increment: Decimal | None = Field(default=None, gt=0)
    size_increment: Decimal | None = Field(default=None, gt=0)
    multiplier: Decimal = Field(default=Decimal(1), gt=0)


class UnknownCurrency(ValueError):
    """A spec names a currency that is neither in ISO 4217 nor configured."""


def currency_places(currency: str, configured: Mapping[str, int]) -> int:
    """Decimal places of `currency`: configured first, then ISO 4217's minor unit."""
    if currency in configured:
        return configured[currency]
    try:
        exponent = Currency(currency.upper()).exponent
    except ValueError:
        exponent = None
    if exponent is None:
        raise UnknownCurrency(
            f"currency {currency!r} has no ISO 4217 minor unit; set its places in "
            "currency_places (e.g. TRADESTATE_CURRENCY_PLACES='{\"" + currency + "\": 8}')"
        )
    return int(exponent)


def spec_table(
    instruments: Mapping[str, InstrumentSetting], places: Mapping[str, int]
) -> SpecTable:
    """The settings' specs in their order (an exact name wins over a pattern)."""
    specs = []
    for pattern, setting in instruments.items():
        currency = setting.currency
        specs.append(
            InstrumentSpec(
                pattern=pattern,
                currency=currency,
                price_increment=setting.price_increment,
                size_increment=setting.size_increment,
                multiplier=setting.multiplier,
                places=NO_SPEC_PLACES if currency is None else currency_places(currency, places),
            )
        )
    return SpecTable(tuple(specs))
