"""Mobile numbers, stored in E.164 so one number typed five ways is one contact."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from app.normalization.digits import to_ascii_digits
from app.normalization.errors import NormalizationError
from app.normalization.text import strip_invisible

DEFAULT_REGION = "SA"
_MAX_RAW_LENGTH = 32
# Only digits, an optional leading "+", and common visual separators.  Letters are refused
# up front because phonenumbers would otherwise read them as vanity-number digits.
_ALLOWED = re.compile(r"\+?[0-9 ()\-./\u00a0\u2010-\u2015\u2212]+")
_ACCEPTED_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def _invalid(raw: str, why: str) -> NormalizationError:
    """Build the one error callers see, naming the cause but never echoing the number (it is personal data).

    The message ends up in API error bodies (ingestion, call-center lookup) and possibly in logs.
    """
    del raw
    return NormalizationError("invalid_mobile", f"The mobile number is not valid: {why}.")


def normalize_mobile(raw: str) -> str:
    """Return the mobile number as E.164 (``+9665XXXXXXXX``), or raise ``invalid_mobile``.

    Saudi numbers may be typed nationally (05…, 5…), with 00966/966/+966, with separators
    and Eastern digits.  Foreign numbers need an international prefix, otherwise they
    would be read as Saudi.  Landlines are refused because we send SMS to this number.
    """
    value = strip_invisible(to_ascii_digits(raw)).strip()
    if not value:
        raise _invalid(raw, "it is empty")
    if len(value) > _MAX_RAW_LENGTH or not _ALLOWED.fullmatch(value):
        raise _invalid(raw, "it may contain only digits, an optional leading +, spaces and dashes")
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except NumberParseException as exc:
        raise _invalid(raw, "it cannot be read as a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid(raw, "it has the wrong number of digits or an unknown prefix")
    if phonenumbers.number_type(number) not in _ACCEPTED_TYPES:
        raise _invalid(raw, "it is not a mobile number (Saudi mobiles look like 05XXXXXXXX)")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
