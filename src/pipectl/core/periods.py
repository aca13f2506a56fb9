"""Periods and portable SQL date arithmetic for the views (metrics, forecast, review).

Instants are integer epoch seconds, so durations are plain integer math that
SQLite and PostgreSQL run alike; months are boundaries computed here in
Python and compared in SQL, never `strftime` or `date_trunc`.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, ColumnElement, Integer, and_, case, cast, func, literal, type_coerce

from pipectl.dates import to_timestamp
from pipectl.errors import UsageError

DAY = 86400
PERIODS = ("month", "quarter")


def raw(column):
    """A Timestamp column as its stored integer, so arithmetic on it stays integer in SQL."""
    return type_coerce(column, BigInteger)


def ts(moment: datetime):
    """An instant as a bound integer parameter."""
    return literal(to_timestamp(moment), BigInteger)


@dataclass(frozen=True)
class Window:
    """A half-open range of instants [start, end); either bound may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, column):
        """SQL: the column lies in the window (always true for an unbounded window)."""
        terms = []
        if self.start is not None:
            terms.append(raw(column) >= ts(self.start))
        if self.end is not None:
            terms.append(raw(column) < ts(self.end))
        return and_(True, *terms)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_bounds(as_of: datetime, period: str) -> tuple[datetime, datetime]:
    """The month or quarter containing `as_of`, as [start, end) local midnights."""
    if period not in PERIODS:
        raise UsageError(f"--period is month or quarter, not {period!r}.")
    first = month_start(as_of.date())
    if period == "quarter":
        first = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    end = add_months(first, 1 if period == "month" else 3)
    return datetime.combine(first, datetime.min.time()), datetime.combine(end, datetime.min.time())


def month_label(day: date) -> str:
    return f"{day:%Y-%m}"


def iso_date_at(text, start: int | ColumnElement[int]):
    """SQL: true when `text` holds an ISO date (YYYY-MM-DD) beginning at character `start` (1-based)."""
    digits = [start + offset for offset in (0, 1, 2, 3, 5, 6, 8, 9)]
    terms: list[ColumnElement[bool]] = [func.substr(text, position, 1).between("0", "9") for position in digits]
    terms += [func.substr(text, start + 4, 1) == "-", func.substr(text, start + 7, 1) == "-"]
    terms += [func.substr(text, start + 5, 2).between("01", "12"), func.substr(text, start + 8, 2).between("01", "31")]
    return and_(*terms)


def iso_date_timestamp(text, start):
    """SQL: the epoch seconds of noon (UTC) on the ISO date at `start` of `text`.

    Days from the civil date by integer arithmetic (the proleptic Gregorian
    formula), so no date function is needed; noon keeps the local calendar day
    whatever the time zone, which is all a month grouping needs.
    """

    def number(offset: int, length: int):
        return cast(func.substr(text, start + offset, length), Integer)

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    shifted_year = year - case((month <= 2, 1), else_=0)
    march_month = month + case((month > 2, -3), else_=9)
    days = (
        365 * shifted_year
        + shifted_year // 4
        - shifted_year // 100
        + shifted_year // 400
        + (153 * march_month + 2) // 5
        + day
        - 1
        - 719468
    )
    return cast(days, BigInteger) * DAY + DAY // 2


def date_in_text(text):
    """SQL: epoch seconds of an ISO date that starts or ends `text`, else NULL."""
    tail = func.length(text) - 9
    return case(
        (iso_date_at(text, 1), iso_date_timestamp(text, 1)),
        (and_(func.length(text) >= 10, iso_date_at(text, tail)), iso_date_timestamp(text, tail)),
        else_=None,
    )
