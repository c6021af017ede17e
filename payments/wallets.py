"""Where a stipend goes: a mobile-money wallet (a Thai or Myanmar mobile number, checked with
`phonenumbers` and kept in E.164) or a bank account number (6 to 20 digits). Cash needs
neither."""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _

from payments.models import PaymentMethod

WALLET_REGIONS = ("TH", "MM")
MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)
BANK_ACCOUNT = re.compile(r"^\d{6,20}$")


class AccountError(ValueError):
    """A wallet or account number that cannot be paid to, with a message people can read."""


def _wallet(text: str) -> str:
    candidates = set()
    for region in WALLET_REGIONS:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if (
            phonenumbers.is_valid_number(number)
            and phonenumbers.region_code_for_number(number) in WALLET_REGIONS
            and phonenumbers.number_type(number) in MOBILE_TYPES
        ):
            candidates.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if len(candidates) != 1:
        raise AccountError(
            _(
                "Give a Thai or Myanmar mobile number for the wallet, for example "
                "+66 81 234 5678 or +95 9 420 123 456."
            )
        )
    return candidates.pop()


def normalise_account(method: str, text: str | None) -> str:
    """The wallet or account number to store for `method`, or AccountError."""
    text = (text or "").strip()
    if method == PaymentMethod.MOBILE_MONEY:
        if not text:
            raise AccountError(_("Give the mobile-money wallet number."))
        return _wallet(text[:40])
    if method == PaymentMethod.BANK_TRANSFER:
        digits = re.sub(r"[\s-]", "", text)
        if not BANK_ACCOUNT.match(digits):
            raise AccountError(_("Give the bank account number: 6 to 20 digits."))
        return digits
    if method in ("", PaymentMethod.CASH):
        if text:
            raise AccountError(_("Cash needs no wallet or account number; leave it empty."))
        return ""
    raise AccountError(_("Choose how the stipend is paid out."))
