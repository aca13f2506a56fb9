"""Amounts of money, kept exact as whole cents.

Values are stored as integer cents so that sums in SQL never drift, and read
from what people type or what spreadsheets export: `20000`, `20,000`,
`$22,700.00`, `€1.200,50`, `20k`, `1.5m`.
"""

import re
from decimal import Decimal, InvalidOperation

from pipectl.errors import UsageError

# A value beyond this is a typo (a pasted phone number), and it keeps sums inside 64 bits.
MAX_CENTS = 10**15

_SUFFIXES = {"k": 10**3, "m": 10**6, "mm": 10**6, "bn": 10**9, "b": 10**9}
_CURRENCY = re.compile(r"^(?:[$€£¥]|usd|eur|gbp|chf|inr|rs\.?)\s*|\s*(?:[$€£¥]|usd|eur|gbp|chf|inr)$")
_NUMBER = re.compile(r"^(?P<digits>[0-9][0-9.,' \u00a0\u202f]*)(?P<suffix>k|m|mm|bn|b)?$")


def parse_amount(text: str) -> int:
    """Whole cents from a typed amount; raises UsageError for anything that is not money."""
    original = str(text)
    cleaned = _CURRENCY.sub("", original.strip().lower()).strip()
    match = _NUMBER.match(cleaned)
    if not match:
        raise UsageError(f"Cannot read the amount {original!r}; use a number such as 12000, 12,000.50 or 12k.")
    number = _normalise_separators(match["digits"], original)
    try:
        amount = Decimal(number) * _SUFFIXES.get(match["suffix"] or "", 1)
    except InvalidOperation:
        raise UsageError(f"Cannot read the amount {original!r}.") from None
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise UsageError(f"The amount {original!r} has more than two decimals.")
    if cents >= MAX_CENTS:
        raise UsageError(f"The amount {original!r} is too large.")
    return int(cents)


def _normalise_separators(digits: str, original: str) -> str:
    """Decide which of `,` and `.` is the decimal mark, and drop the thousands marks."""
    digits = re.sub(r"[ '\u00a0\u202f]", "", digits)
    last_comma, last_dot = digits.rfind(","), digits.rfind(".")
    if last_comma >= 0 and last_dot >= 0:
        decimal_mark = "," if last_comma > last_dot else "."
    elif last_comma >= 0:
        # "1,200" groups thousands; "12,5" and "1200,50" are decimals.
        decimal_mark = "," if digits.count(",") == 1 and len(digits) - last_comma - 1 in (1, 2) else None
    elif digits.count(".") == 1:
        decimal_mark = "."
    else:
        decimal_mark = None
    thousands_mark = {",": ".", ".": ",", None: ",."}[decimal_mark]
    integer, _, fraction = digits.rpartition(decimal_mark) if decimal_mark else (digits, "", "")
    groups = re.split(f"[{re.escape(thousands_mark)}]", integer)
    if len(groups) > 1 and (not groups[0] or any(len(group) != 3 for group in groups[1:])):
        raise UsageError(f"Cannot read the amount {original!r}: the digit groups look wrong.")
    if decimal_mark and not fraction:
        raise UsageError(f"Cannot read the amount {original!r}: nothing after the decimal mark.")
    return "".join(groups) + ("." + fraction if fraction else "")


def to_decimal(cents: int | None) -> Decimal | None:
    """The exact amount of whole cents."""
    return None if cents is None else Decimal(cents).scaleb(-2)


def to_number(cents: int | None) -> float | None:
    """The amount as a JSON number (exact: floats print their shortest round-tripping form)."""
    return None if cents is None else float(to_decimal(cents))


def format_money(cents: int | None) -> str:
    """`22,700` or `22,700.50` for people; empty for no value."""
    if cents is None:
        return ""
    amount = to_decimal(cents)
    return f"{amount:,.0f}" if cents % 100 == 0 else f"{amount:,.2f}"
