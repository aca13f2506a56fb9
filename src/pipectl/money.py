"""Amounts of money, kept exact as whole cents.

Values are stored as integer cents so that sums in SQL never drift, and read
from what people type or what spreadsheets export: `20000`, `20,000`,
`$22,700.00`, `€1.200,50`, `20k`, `1.5m`.

A lone separator that could be either mark is refused rather than guessed:
`12.000` (twelve, or twelve thousand?) and `12,50` (twelve and a half, or a
mistyped 1,250?). `PIPECTL_DECIMAL=,` (or `.`) says which mark is the
decimal one, once, for every command and import.
"""

import os
import re
from decimal import Decimal, InvalidOperation
from typing import overload

from pipectl.errors import UsageError

# A value beyond this is a typo (a pasted phone number), and it keeps sums inside 64 bits.
MAX_CENTS = 10**15
DECIMAL_ENV = "PIPECTL_DECIMAL"
DECIMAL_MARKS = {".": ".", "dot": ".", "point": ".", "period": ".", ",": ",", "comma": ","}

_SUFFIXES = {"k": 10**3, "m": 10**6, "mm": 10**6, "bn": 10**9, "b": 10**9}
_CURRENCY = re.compile(r"^(?:[$€£¥]|usd|eur|gbp|chf|inr|rs\.?)\s*|\s*(?:[$€£¥]|usd|eur|gbp|chf|inr)$")
_NUMBER = re.compile(r"^(?P<digits>[0-9][0-9.,' \u00a0\u202f]*)(?P<suffix>k|m|mm|bn|b)?$")
_MINUS = re.compile(r"^[-\u2212]|^\(.*\)$")
HOW = "use a number such as 12000, 12,000.50 or 12k"


def parse_amount(text: str, *, decimal_mark: str | None = None) -> int:
    """Whole cents from a typed amount; raises UsageError for anything that is not money.

    `decimal_mark` ("." or ",") settles a lone separator; by default it comes from
    `PIPECTL_DECIMAL`, and without it an ambiguous amount is refused.
    """
    original = str(text)
    cleaned = _CURRENCY.sub("", original.strip().lower()).strip()
    if _MINUS.search(cleaned):
        raise UsageError(f"The amount {original!r} is negative; amounts cannot be negative.")
    match = _NUMBER.match(cleaned)
    if not match:
        raise UsageError(f"Cannot read the amount {original!r}; {HOW}.")
    number = _normalise_separators(match["digits"], original, decimal_mark, match["suffix"] or "")
    try:
        amount = Decimal(number) * _SUFFIXES.get(match["suffix"] or "", 1)
    except InvalidOperation:
        raise UsageError(f"Cannot read the amount {original!r}; {HOW}.") from None
    return _cents(amount, original)


def cents_from_number(value: float | Decimal, shown: str | None = None) -> int:
    """Whole cents from a number a file holds (JSON, a spreadsheet cell), with the checks of `parse_amount`."""
    shown = shown if shown is not None else str(value)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise UsageError(f"Cannot read the amount {shown!r}; {HOW}.") from None
    if not amount.is_finite():
        raise UsageError(f"Cannot read the amount {shown!r}; {HOW}.")
    if amount < 0:
        raise UsageError(f"The amount {shown!r} is negative; amounts cannot be negative.")
    return _cents(amount, shown)


def _cents(amount: Decimal, original: str) -> int:
    if amount >= MAX_CENTS / 100:
        raise UsageError(
            f"The amount {original!r} is too large: amounts stop below {MAX_CENTS // 100:,} (is it a phone number?)."
        )
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise UsageError(f"The amount {original!r} has more than two decimals.")
    return int(cents)


def decimal_mark_setting() -> str | None:
    """The decimal mark the user set in `PIPECTL_DECIMAL` ("." or ","), or None."""
    value = os.environ.get(DECIMAL_ENV, "").strip().lower()
    if not value:
        return None
    if value not in DECIMAL_MARKS:
        raise UsageError(f"{DECIMAL_ENV} is . (12,000.50) or , (12.000,50), not {value!r}.")
    return DECIMAL_MARKS[value]


def _normalise_separators(digits: str, original: str, setting: str | None, suffix: str = "") -> str:
    """Decide which of `,` and `.` is the decimal mark, and drop the thousands marks."""
    digits = re.sub(r"[ '\u00a0\u202f]", "", digits)
    setting = setting if setting is not None else decimal_mark_setting()
    mark = _decimal_mark(digits, original, setting, suffix)
    thousands_mark = {",": ".", ".": ",", None: ",."}[mark]
    integer, _, fraction = digits.rpartition(mark) if mark else (digits, "", "")
    groups = re.split(f"[{re.escape(thousands_mark)}]", integer)
    if len(groups) > 1 and (not groups[0] or any(len(group) != 3 for group in groups[1:])):
        why = f" ({DECIMAL_ENV}={setting} makes {setting!r} the decimal mark)" if setting else ""
        raise UsageError(f"Cannot read the amount {original!r}: the digit groups look wrong{why}.")
    if mark and not fraction:
        raise UsageError(f"Cannot read the amount {original!r}: nothing after the decimal mark.")
    return "".join(groups) + ("." + fraction if fraction else "")


def _decimal_mark(digits: str, original: str, setting: str | None, suffix: str) -> str | None:
    """The decimal mark of `digits`, or None for a whole number; refuses to guess."""
    commas, dots = digits.count(","), digits.count(".")
    if commas and dots:
        # Both marks: the last one is the decimal mark (1,200.50 and 1.200,50), whatever the setting.
        return "," if digits.rfind(",") > digits.rfind(".") else "."
    if commas + dots != 1:
        return None  # no mark, or one mark repeated: it groups thousands (1,000,000 or 1.000.000)
    mark = "," if commas else "."
    if setting is not None:
        return mark if mark == setting else None
    after = len(digits) - digits.rfind(mark) - 1
    if mark == "," and after == 3:
        return None  # 20,000: thousands, as nearly everyone writes them
    if mark == "." and after != 3:
        return "."  # 12.5 and 0.01: decimals
    if mark == ",":
        raise UsageError(
            f"The amount {original!r} has a decimal comma: write it with a dot ({digits.replace(',', '.')}{suffix}), "
            f"or set {DECIMAL_ENV}=, once to read decimal commas everywhere."
        )
    whole, fraction = digits.split(".")
    thousands, decimal = Decimal(whole + fraction), Decimal(digits)
    if thousands == decimal:
        return "."  # 0.000 is nothing either way
    if decimal != decimal.quantize(Decimal("0.01")):
        raise UsageError(
            f"The amount {original!r} has more than two decimals: write {thousands}{suffix} if the dot groups "
            f"thousands, or set {DECIMAL_ENV}=, once to read dots as thousands everywhere."
        )
    readings = f"{format_money(int(decimal * 100))}{suffix} or {thousands:,}{suffix}"
    raise UsageError(
        f"The amount {original!r} is ambiguous ({readings}?): write {thousands}{suffix} or "
        f"{format_money(int(decimal * 100))}{suffix} instead, or set {DECIMAL_ENV}=. or {DECIMAL_ENV}=, "
        "to say which mark is the decimal one."
    )


@overload
def to_decimal(cents: int) -> Decimal: ...
@overload
def to_decimal(cents: None) -> None: ...
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
