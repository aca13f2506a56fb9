"""Dates and lengths of time as people type them: the one date parser of the program.

Every command and the import read dates here, so a form means the same thing
everywhere. Accepted:

- ISO dates and date-times: `2026-12-03`, `2026-12-03 10:00`, `2026-12-03T10:00:00+01:00`;
- month names: `Jan 5`, `5 Jan 2027`, `15 Apr, 2027`, `January 5th, 2027` (a date without a
  year is the nearest one: `Jan 5` in November is next January);
- numeric dates: `31/12/2026` (the day is plain when one number is above 12); `03/04/2026`
  needs `PIPECTL_DATE_ORDER=dmy` (day first) or `mdy` (month first);
- words: `now`, `today`, `tomorrow`, `yesterday`, weekdays (`friday` is the next one,
  `last friday` the one before), `next week` (its Monday), `next month` (its 1st),
  `end of month`;
- offsets: `3d`, `2w`, `1m`, `1y`, `12h`, `-5d`, `3d ago`, `in 3 days`; months and years
  are calendar ones (`1m` from 31 January is the end of February);
- any of the days above followed by a time: `fri 10am`, `tomorrow 9`, `tomorrow at 9:30`,
  `15 Apr, 2021 00:02:00`; a time alone is today (`noon`, `4pm`).

A length of time (`7d`, `2w`, `1m`) is a `Span`: where a command looks back
(`--since`, `--older-than`, a scoring rule's `within`) it counts back from now,
where it looks ahead (`next --within`) forward, always in calendar months.
"""

import os
import re
import time as clocks
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pipectl.errors import UsageError

ORDER_ENV = "PIPECTL_DATE_ORDER"
ORDERS = {"dmy": "day first, 31/12/2026", "mdy": "month first, 12/31/2026"}
EXAMPLES = (
    '2026-12-03, "2026-12-03 10:00", 31/12/2026, "5 Jan 2027", "Jan 5", today, friday, '
    '"fri 10am", "tomorrow 9", noon, "next week", "end of month", 3d, "in 2 weeks", "3d ago"'
)
ACCEPTED_FORMS = f"use a date such as {EXAMPLES}"
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
UNITS = {
    "h": "h",
    "hour": "h",
    "hours": "h",
    "hr": "h",
    "hrs": "h",
    "d": "d",
    "day": "d",
    "days": "d",
    "w": "w",
    "wk": "w",
    "wks": "w",
    "week": "w",
    "weeks": "w",
    "m": "m",
    "mo": "m",
    "month": "m",
    "months": "m",
    "y": "y",
    "yr": "y",
    "yrs": "y",
    "year": "y",
    "years": "y",
}

_UNIT = "|".join(sorted(UNITS, key=len, reverse=True))
_OFFSET = re.compile(
    rf"^(?:(?P<in>in)\s+)?(?P<sign>[+-]?)\s*(?P<count>\d{{1,6}})\s*(?P<unit>{_UNIT})"
    r"(?:\s+(?P<ago>ago))?$"
)
_TIME = re.compile(
    r"^(?P<head>.*?)(?:^|\s+)(?:at\s+)?(?:(?P<word>noon|midday|midnight)|(?P<hour>\d{1,2})"
    r"(?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?(?:\s*(?P<half>[ap])\.?m\.?)?)$"
)
_NUMERIC = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?:(?P=sep)(?P<year>\d{4}|\d{2}))?$")
_YEAR_FIRST = re.compile(r"^(?P<year>\d{4})(?P<sep>[/.\-])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})$")
_WORDS = re.compile(r"[a-z]+|\d+")
_ORDINAL = ("st", "nd", "rd", "th")


class DateError(UsageError):
    """A date pipectl cannot read, or can read more than one way."""


@dataclass(frozen=True)
class Span:
    """A length of time as typed: a count of hours, days, weeks, or calendar months or years."""

    count: int
    unit: str  # "h", "d", "w", "m" or "y"

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def before(self, moment: datetime) -> datetime:
        """The instant this long before `moment` (`1m` before 31 March is 28 or 29 February)."""
        return _shift(moment, -self.count, self.unit)

    def after(self, moment: datetime) -> datetime:
        return _shift(moment, self.count, self.unit)

    def back_from(self, moment: datetime) -> timedelta:
        """This length measured back from `moment`, for code that subtracts a timedelta."""
        return moment - self.before(moment)

    def ahead_of(self, moment: datetime) -> timedelta:
        return self.after(moment) - moment


def parse_duration(text: str) -> Span:
    """Read a length of time: `12h`, `7d`, `2w`, `1m` (a calendar month), `1y`; never negative."""
    cleaned = _clean(text)
    match = _OFFSET.match(cleaned)
    if not match or match["sign"] == "-" or match["ago"] or match["in"]:
        raise UsageError(
            f"Cannot read the duration {str(text)!r}; use a number and a unit: 12h, 7d, 2w, 1m (a calendar month), 1y."
        )
    return Span(int(match["count"]), UNITS[match["unit"]])


def parse_look_back(text: str, now: datetime) -> datetime:
    """A start date as people type it for a look-back: `7d` and `1m` count back from today, a date is itself."""
    try:
        span = parse_duration(text)
    except UsageError:
        return parse_date(text, now)
    return datetime.combine(span.before(now).date(), time())


def parse_date(text: str, now: datetime, *, order: str | None = None) -> datetime:
    """Read a date typed by a person, relative to `now`; date-only forms mean midnight.

    `order` is "dmy" or "mdy" for numeric dates such as 03/04/2026; by default it comes
    from `PIPECTL_DATE_ORDER`, and without it such a date is refused as ambiguous.
    """
    original = str(text)
    cleaned = _clean(original)
    if not cleaned:
        raise DateError(f"An empty date; {ACCEPTED_FORMS}.")
    try:
        moment = _moment(cleaned, now, order)
    except (OverflowError, ValueError):
        # Only date arithmetic runs here: it fails past year 9999, far outside the range below.
        moment = datetime(LATEST_YEAR + 1, 1, 1)
    if moment is None:
        raise DateError(f"Cannot read the date {original!r}; {ACCEPTED_FORMS}.")
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise DateError(f"The date {original!r} is out of range ({EARLIEST_YEAR}-{LATEST_YEAR}).")
    return moment


def _clean(text) -> str:
    return " ".join(str(text).strip().lower().split())


def _moment(text: str, now: datetime, order: str | None) -> datetime | None:
    if text == "now":
        return now
    iso_moment = _iso(text)
    if iso_moment is not None:
        return iso_moment
    match = _offset(text)
    if match and UNITS[match["unit"]] == "h":
        return _shift(now, _signed(match), "h")
    day = _day(text, now.date(), order)
    if day is not None:
        return datetime.combine(day, time())
    match = _TIME.match(text)
    if match is None:
        return None
    head = match["head"].strip()
    # A bare number is an hour only after a day ("tomorrow 9"); alone it is no date at all.
    if not head and match["hour"] and match["minute"] is None and not match["half"]:
        return None
    day = _day(head, now.date(), order) if head else now.date()
    return None if day is None else datetime.combine(day, _time_of(match, text))


def _iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.upper() if "t" in text or "z" in text else text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _offset(text: str) -> re.Match | None:
    match = _OFFSET.match(text)
    # "in 3 days ago" and "in -3d" say two things at once.
    if match and match["in"] and (match["ago"] or match["sign"]):
        return None
    return match


def _signed(match: re.Match) -> int:
    count = int(match["count"])
    return -count if (match["sign"] == "-") != bool(match["ago"]) else count


def _time_of(match: re.Match, text: str) -> time:
    word = match["word"]
    if word:
        return time(0) if word == "midnight" else time(12)
    hour, minute, second = int(match["hour"]), int(match["minute"] or 0), int(match["second"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise DateError(f"Cannot read the time in {text!r}: with am or pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if match["half"] == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise DateError(f"Cannot read the time in {text!r}; use 9, 9:30, 14:00, 2pm or noon.")
    return time(hour, minute, second)


def _day(text: str, today: date, order: str | None) -> date | None:
    """The calendar day a text names, or None when it names none; raises when it names one badly."""
    named = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if text in named:
        return today + timedelta(days=named[text])
    match = _offset(text)
    if match:
        unit = UNITS[match["unit"]]
        return None if unit == "h" else _shift(datetime.combine(today, time()), _signed(match), unit).date()
    for reader in (_relative_day, _numeric_day, _named_month_day):
        day = reader(text, today, order)
        if day is not None:
            return day
    return None


def _relative_day(text: str, today: date, order: str | None) -> date | None:
    words = text.replace("the ", "").split()
    if words in (["end", "of", "month"], ["eom"]):
        return _month_shift(today.replace(day=1), 1) - timedelta(days=1)
    if words == ["end", "of", "next", "month"]:
        return _month_shift(today.replace(day=1), 2) - timedelta(days=1)
    if len(words) == 2 and words[0] in ("next", "last", "this"):
        step = {"next": 1, "last": -1, "this": 0}[words[0]]
        if words[1] == "week":
            return today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        if words[1] == "month":
            return _month_shift(today.replace(day=1), step)
        if words[1] == "year":
            return date(today.year + step, 1, 1)
    direction = 1
    if len(words) == 2 and words[0] in ("next", "last", "this", "on"):
        direction = -1 if words[0] == "last" else 1
        words = words[1:]
    weekday = _index(words[0], WEEKDAYS) if len(words) == 1 else None
    if weekday is None:
        return None
    if direction > 0:
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)


def _numeric_day(text: str, today: date, order: str | None) -> date | None:
    match = _YEAR_FIRST.match(text)
    if match:
        return _calendar_day(int(match["year"]), int(match["month"]), int(match["day"]), text)
    match = _NUMERIC.match(text)
    # Without a year only 31/12 is a date: "3-4" and "3.4" are more likely typos than days.
    if match is None or (match["year"] is None and match["sep"] != "/"):
        return None
    first, second = int(match["a"]), int(match["b"])
    year = _full_year(match["year"], today) if match["year"] else None
    readings = {order_name: (first, second) if order_name == "dmy" else (second, first) for order_name in ORDERS}
    # A reading is possible when its day exists in that month (of some year, when none is given).
    possible = {
        name: (day, month)
        for name, (day, month) in readings.items()
        if 1 <= month <= 12 and 1 <= day <= _days_in(year or 2028, month)
    }
    if len(set(possible.values())) > 1:
        chosen = order or date_order()
        if chosen is None:
            shown = year or today.year
            raise DateError(
                f"The date {text!r} is ambiguous ({_spelled(possible['dmy'])} or {_spelled(possible['mdy'])}): "
                f"set {ORDER_ENV}=dmy (day first) or {ORDER_ENV}=mdy (month first), or write {shown}-MM-DD."
            )
        possible = {chosen: possible[chosen]}
    if not possible:
        raise DateError(f"The date {text!r} does not exist: no reading of it as day and month is a calendar day.")
    day, month = next(iter(possible.values()))
    if year is None:
        return _nearest(month, day, today, text)
    return _calendar_day(year, month, day, text)


def _days_in(year: int, month: int) -> int:
    from calendar import monthrange

    return monthrange(year, month)[1]


def date_order() -> str | None:
    """The order of numeric dates the user set in `PIPECTL_DATE_ORDER`, or None."""
    value = os.environ.get(ORDER_ENV, "").strip().lower()
    if not value:
        return None
    if value not in ORDERS:
        raise UsageError(f"{ORDER_ENV} is dmy ({ORDERS['dmy']}) or mdy ({ORDERS['mdy']}), not {value!r}.")
    return value


def _spelled(day_month: tuple[int, int]) -> str:
    day, month = day_month
    return f"{day} {MONTHS[month - 1].title()}"


def _full_year(digits: str, today: date) -> int:
    if len(digits) == 4:
        return int(digits)
    # Two digits: the year of that century within 50 years of today, as spreadsheets read them.
    year = today.year // 100 * 100 + int(digits)
    return year - 100 if year > today.year + 50 else year


def _named_month_day(text: str, today: date, order: str | None) -> date | None:
    """`jan 5`, `5 jan`, `5th of january, 2027`, `thu, 15 apr 2021`: one month name, a day, maybe a year."""
    if not re.fullmatch(r"[a-z0-9 ,.\-]+", text):
        return None
    words = [word for word in _WORDS.findall(text) if word != "of"]
    weekday = _index(words[0], WEEKDAYS) if words and not words[0].isdigit() else None
    if weekday is not None:
        words = words[1:]
    words = [
        word for index, word in enumerate(words) if not (word in _ORDINAL and index and words[index - 1].isdigit())
    ]
    months = [index for index, word in enumerate(words) if not word.isdigit()]
    if len(months) != 1 or len(words) not in (2, 3):
        return None
    month = _index(words[months[0]], MONTHS)
    numbers = [word for word in words if word.isdigit()]
    if month is None or len(numbers[0]) > 2 or (len(numbers) == 2 and len(numbers[1]) != 4):
        return None
    if months[0] == 2:  # "5 2027 jan" is not a way of writing a date
        return None
    day = int(numbers[0])
    found = (
        _nearest(month + 1, day, today, text)
        if len(numbers) == 1
        else _calendar_day(int(numbers[1]), month + 1, day, text)
    )
    if weekday is not None and found.weekday() != weekday:
        raise DateError(
            f"{text!r}: {found.day} {found:%B %Y} is a {WEEKDAYS[found.weekday()].title()}, "
            f"not a {WEEKDAYS[weekday].title()}."
        )
    return found


def _nearest(month: int, day: int, today: date, text: str) -> date:
    """The date of that day and month nearest to today (a tie goes to the future)."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return _calendar_day(today.year, month, day, text)  # raises, saying why
    return min(candidates, key=lambda candidate: (abs((candidate - today).days), candidate < today))


def _calendar_day(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        pass
    if not 1 <= month <= 12:
        raise DateError(f"The date {text!r} has no month {month}.")
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise DateError(f"The date {text!r} is out of range ({EARLIEST_YEAR}-{LATEST_YEAR}).")
    raise DateError(f"The date {text!r} does not exist: {MONTHS[month - 1].title()} {year} has no day {day}.")


def _index(word: str, names: tuple[str, ...]) -> int | None:
    """`fri`, `frid` and `friday` all name Friday (`sept.` September); fewer than three letters name nothing."""
    word = word.rstrip(".")
    if len(word) < 3:
        return None
    for index, name in enumerate(names):
        if name.startswith(word):
            return index
    return None


def _shift(moment: datetime, count: int, unit: str) -> datetime:
    """`moment` moved by whole units; months and years are calendar ones, clamped to the month's end."""
    try:
        if unit in ("m", "y"):
            months = count * (12 if unit == "y" else 1)
            return datetime.combine(_month_shift(moment.date(), months, keep_day=True), moment.time())
        per_unit = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}[unit]
        return moment + count * per_unit
    except (OverflowError, ValueError):
        raise UsageError(f"{abs(count)}{unit} is too far away.") from None


def _month_shift(day: date, months: int, *, keep_day: bool = False) -> date:
    """The first of the month `months` after `day`'s, or the same day there (clamped) with `keep_day`."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    if not keep_day:
        return date(year, month, 1)
    return date(year, month, min(day.day, _days_in(year, month)))


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

    def fill(self, cells: list, positions: list[int]) -> None:
        """Each instant of `cells` at `positions` as `text` gives it, and "" for None (a CSV cell), in place.
        The loop is `text`'s own body: a method call per instant was a tenth of a large CSV export."""
        offsets, hours, minutes_seconds = self._offsets, self._hours, self._minutes_seconds
        for position in positions:
            seconds = cells[position]
            if seconds is None:
                cells[position] = ""
                continue
            offset, suffix = offsets.get(seconds // 3600) or self._offset_at(seconds)
            wall = seconds + offset
            hour = hours.get(wall // 3600) or self._hour_text(wall // 3600)
            cells[position] = f"{hour}{minutes_seconds[wall % 3600]}{suffix}"

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
