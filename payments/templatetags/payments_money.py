"""Amounts as staff read them: digits grouped, the currency's minor unit, and the ISO code
("1,000.00 THB", "96,667 MMK"). Decimal all the way; a float never appears."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from payments.money import MINOR_UNITS, Currency

register = template.Library()


def format_amount(amount: Decimal | int | str | None, currency: str) -> str:
    """The number alone, grouped, with the currency's decimals: "1,000.00"."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    places = MINOR_UNITS[Currency(currency)] if currency in Currency.values else 2
    return f"{value:,.{places}f}"


def format_money(amount: Decimal | int | str | None, currency: str) -> str:
    """The number and the currency code: "1,000.00 THB"."""
    number = format_amount(amount, currency)
    return f"{number} {currency}" if number else ""


@register.filter(name="amount")
def amount_filter(amount: Decimal | None, currency: str) -> str:
    """{{ total|amount:"THB" }}: the number without the code (for tables with a currency column)."""
    return format_amount(amount, currency)


@register.filter(name="money")
def money_filter(amount: Decimal | None, currency: str) -> str:
    """{{ line.amount|money:line.currency }}"""
    return format_money(amount, currency)
