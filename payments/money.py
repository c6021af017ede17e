"""Money is a Decimal and an ISO 4217 currency code, rounded to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Currency(models.TextChoices):
    THB = "THB", gettext_lazy("Thai baht")
    MMK = "MMK", gettext_lazy("Myanmar kyat")
    USD = "USD", gettext_lazy("US dollar")


# Kyat are paid in whole kyat (pyas have long gone out of use); baht and dollars to the cent.
MINOR_UNITS = {Currency.THB: 2, Currency.MMK: 0, Currency.USD: 2}


class MoneyError(ValueError):
    """An amount that is not money in the given currency."""


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[Currency(currency)])


def validate_amount(amount: Decimal | str | int, currency: str) -> Decimal:
    """A positive amount with no more decimals than the currency has; else MoneyError."""
    if currency not in Currency.values:
        raise MoneyError(_("Unknown currency %(currency)s.") % {"currency": currency})
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as error:
        raise MoneyError(_("%(amount)s is not an amount of money.") % {"amount": amount}) from error
    if not value.is_finite():
        raise MoneyError(_("%(amount)s is not an amount of money.") % {"amount": amount})
    if value <= 0:
        raise MoneyError(_("An amount must be more than zero."))
    if value != value.quantize(quantum(currency)):
        raise MoneyError(
            _("%(currency)s amounts have at most %(places)d decimal places.")
            % {"currency": currency, "places": MINOR_UNITS[Currency(currency)]}
        )
    if value >= Decimal("1e12"):
        raise MoneyError(_("That amount is too large."))
    return value


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
