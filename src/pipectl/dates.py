"""Dates and durations as people type them.

Accepted everywhere a date is asked for: ISO dates and date-times, `today`,
`tomorrow`, `yesterday`, weekday names (`friday` is the next one, `last friday`
the one before), offsets from now (`3d`, `2w`, `1m`, `1y`, `-5d`, `12h`,
`3d ago`), each optionally followed by a time (`tomorrow 10:00`).
"""

import re
import time as clocks
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
        raise UsageError(f"Cannot read the duration {text!r}; use a number and a unit: 12h, 7d, 2w, 1m, 1y.")
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
    per_unit = {
        "h": timedelta(hours=1),
        "d": timedelta(days=1),
        "w": timedelta(weeks=1),
        "m": timedelta(days=30),
        "y": timedelta(days=365),
    }
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
            text, direction = text[len(prefix) :], sign
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


# ---- instants as stored (epoch seconds) straight to text ------------------------------------------


class LocalInstants:
    """Stored instants (epoch seconds) as `iso` writes them, for streams of many rows.

    Streaming a million leads formats five or six instants per lead. `iso(from_timestamp(s))` builds
    two datetimes and asks the C library for the zone twice; `text(s)` gives the same characters
    from the integer: the UTC offset is looked up once per hour of time met (it cannot change inside
    an hour whose two ends have the same offset), the date and hour once per local hour, and the
    minutes and seconds are one of 3,600 texts. Make one per stream: what it learnt of the zone is
    not carried over to a later change of `TZ`.
    """

    REMEMBERED = 100_000  # entries each cache keeps at most, so memory stays flat on any data
    _MINUTES_SECONDS: tuple[str, ...] = ()  # "00:00" … "59:59", made by the first instance

    def __init__(self) -> None:
        self._offsets: dict[int, tuple[int, str]] = {}  # UTC hour since the epoch → (offset, "+01:00")
        self._hours: dict[int, str] = {}  # local hour since the epoch → "2026-03-01T09:"
        self._pairs: dict[int, tuple[int, str]] = {}  # offset → its (offset, text), shared by the hours
        if not LocalInstants._MINUTES_SECONDS:
            LocalInstants._MINUTES_SECONDS = tuple(
                f"{minute:02d}:{second:02d}" for minute in range(60) for second in range(60)
            )
        self._minutes_seconds = LocalInstants._MINUTES_SECONDS

    def text(self, seconds: int | None) -> str | None:
        """`iso(from_timestamp(seconds))`, to the character."""
        if seconds is None:
            return None
        offset, suffix = self._offsets.get(seconds // 3600) or self._offset_at(seconds)
        wall = seconds + offset
        hour = self._hours.get(wall // 3600) or self._hour_text(wall // 3600)
        return f"{hour}{self._minutes_seconds[wall % 3600]}{suffix}"

    def wall(self, seconds: int) -> int:
        """The instant as seconds on the local wall clock: the difference of two is what subtracting
        their naive local datetimes gives (`from_timestamp(b) - from_timestamp(a)`)."""
        return seconds + (self._offsets.get(seconds // 3600) or self._offset_at(seconds))[0]

    def _offset_at(self, seconds: int) -> tuple[int, str]:
        hour = seconds // 3600
        start, end = clocks.localtime(hour * 3600).tm_gmtoff, clocks.localtime(hour * 3600 + 3599).tm_gmtoff
        if start != end:  # the hour of a change to or from summer time: this very second's offset
            offset = clocks.localtime(seconds).tm_gmtoff
            return offset, _offset_text(offset)
        if len(self._offsets) >= self.REMEMBERED:
            self._offsets.clear()
        pair = self._pairs.get(start) or self._pairs.setdefault(start, (start, _offset_text(start)))
        self._offsets[hour] = pair
        return pair

    def _hour_text(self, hour: int) -> str:
        if len(self._hours) >= self.REMEMBERED:
            self._hours.clear()
        day, hour_of_day = divmod(hour, 24)
        text = self._hours[hour] = f"{date.fromordinal(_EPOCH_DAY + day).isoformat()}T{hour_of_day:02d}:"
        return text


_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _offset_text(offset: int) -> str:
    """A UTC offset as `datetime.isoformat` writes it: `+05:30`, with seconds only when it has some."""
    hours, rest = divmod(abs(offset), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{'-' if offset < 0 else '+'}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")
