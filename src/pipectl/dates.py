"""Dates and durations as people type them.

Accepted everywhere a date is asked for: ISO dates and date-times, `today`,
`tomorrow`, `yesterday`, weekday names (`friday` is the next one, `last friday`
the one before), offsets from now (`3d`, `2w`, `1m`, `1y`, `-5d`, `12h`,
`3d ago`), each optionally followed by a time (`tomorrow 10:00`).
"""

import re
from datetime import date, datetime, time, timedelta

from pipectl.errors import UsageError

ACCEPTED_FORMS = (
    "an ISO date or date-time (2026-12-03, 2026-12-03 10:00), today, tomorrow, "
    "yesterday, a weekday (friday, last friday), or an offset (3d, 2w, 1m, 1y, -5d, 3d ago)"
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_OFFSET = re.compile(
    r"^(?P<sign>[+-]?)\s*(?P<count>\d{1,6})\s*"
    r"(?P<unit>h|hours?|d|days?|w|weeks?|m|months?|y|years?)"
    r"(?:\s+(?P<ago>ago))?$"
)
_TIME_SUFFIX = re.compile(r"^(?P<head>.*?)\s+(?P<time>\d{1,2}:\d{2}(?::\d{2})?)$")


def parse_date(text: str, now: datetime) -> datetime:
    """Read a date typed by a person, relative to `now`; date-only forms mean midnight."""
    cleaned = " ".join(str(text).strip().lower().split())
    if not cleaned:
        raise UsageError(f"An empty date; use {ACCEPTED_FORMS}.")
    if cleaned == "now":
        return now
    moment = _parse_iso(cleaned) or _parse_offset(cleaned, now)
    if moment is not None:
        return _within_range(moment, text)
    head, at_time = cleaned, None
    match = _TIME_SUFFIX.match(cleaned)
    if match:
        head, at_time = match["head"], _parse_time(match["time"], text)
    day = _parse_named_day(head, now.date())
    if day is None:
        raise UsageError(f"Cannot read the date {text!r}; use {ACCEPTED_FORMS}.")
    return _within_range(datetime.combine(day, at_time or time()), text)


EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def _within_range(moment: datetime, text: str) -> datetime:
    # Outside these years a date is a typo, and timestamps stop being portable.
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise UsageError(f"The date {text!r} is out of range ({EARLIEST_YEAR}-{LATEST_YEAR}).")
    return moment


def parse_duration(text: str) -> timedelta:
    """Read a length of time such as `7d`, `2w`, `1m` (30 days) or `1y` (365 days)."""
    cleaned = " ".join(str(text).strip().lower().split())
    match = _OFFSET.match(cleaned)
    if not match or match["sign"] == "-" or match["ago"]:
        raise UsageError(
            f"Cannot read the duration {text!r}; use a number and a unit: 12h, 7d, 2w, 1m, 1y."
        )
    return _unit_delta(int(match["count"]), match["unit"])


def _parse_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _parse_offset(text: str, now: datetime) -> datetime | None:
    match = _OFFSET.match(text)
    if not match:
        return None
    from dateutil.relativedelta import relativedelta

    count, unit = int(match["count"]), match["unit"][0]
    if (match["sign"] == "-") != bool(match["ago"]):
        count = -count
    # Months and years are calendar ones here: "1m" from 31 January is the end of February.
    calendar = {"m": relativedelta(months=count), "y": relativedelta(years=count)}
    try:
        moment = now + calendar.get(unit, _unit_delta(count, unit))
    except (OverflowError, ValueError):
        raise UsageError(f"{text!r} is too far away.") from None
    # Whole days keep the calendar day only: "3d" is a date, not a time to the second.
    if not match["unit"].startswith("h"):
        moment = datetime.combine(moment.date(), time())
    return moment


def _unit_delta(count: int, unit: str) -> timedelta:
    per_unit = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1),
                "m": timedelta(days=30), "y": timedelta(days=365)}
    try:
        return count * per_unit[unit[0]]
    except OverflowError:
        raise UsageError(f"{count}{unit} is too far away.") from None


def _parse_time(text: str, original: str) -> time:
    try:
        return time.fromisoformat(text.zfill(5) if len(text) == 4 else text)
    except ValueError:
        raise UsageError(f"Cannot read the time in {original!r}; use HH:MM.") from None


def _parse_named_day(text: str, today: date) -> date | None:
    named = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if text in named:
        return today + timedelta(days=named[text])
    direction = 1
    for prefix, sign in (("next ", 1), ("last ", -1)):
        if text.startswith(prefix):
            text, direction = text[len(prefix):], sign
    weekday = _weekday_index(text)
    if weekday is None:
        return None
    if direction > 0:
        ahead = (weekday - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    behind = (today.weekday() - weekday - 1) % 7 + 1
    return today - timedelta(days=behind)


def _weekday_index(word: str) -> int | None:
    """`fri`, `frid` and `friday` all name Friday; fewer than three letters name nothing."""
    if len(word) < 3:
        return None
    for index, name in enumerate(WEEKDAYS):
        if name.startswith(word):
            return index
    return None


def to_timestamp(moment: datetime) -> int:
    """Seconds since the epoch for a naive local datetime: how instants are stored."""
    return int(moment.timestamp())


def from_timestamp(seconds: int) -> datetime:
    """The naive local datetime of a stored instant."""
    return datetime.fromtimestamp(seconds)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 with the local offset, the form of every date in machine output."""
    if moment is None:
        return None
    return moment.astimezone().isoformat()
