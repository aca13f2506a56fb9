"""The date and duration parsers: every form the README promises, and garbage refused cleanly."""

import contextlib
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from pipectl.dates import parse_date, parse_duration, parse_look_back
from pipectl.errors import UsageError

NOW = datetime(2026, 11, 23, 9, 30)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03", datetime(2026, 12, 3)),
        ("2026-12-03 10:00", datetime(2026, 12, 3, 10, 0)),
        ("2026-12-03T10:00:00", datetime(2026, 12, 3, 10, 0)),
        ("today", datetime(2026, 11, 23)),
        ("Tomorrow", datetime(2026, 11, 24)),
        ("yesterday", datetime(2026, 11, 22)),
        ("now", NOW),
        ("friday", datetime(2026, 11, 27)),
        ("fri", datetime(2026, 11, 27)),
        ("monday", datetime(2026, 11, 30)),  # the next one, not today
        ("last friday", datetime(2026, 11, 20)),
        ("tomorrow 10:00", datetime(2026, 11, 24, 10, 0)),
        ("friday 9:15", datetime(2026, 11, 27, 9, 15)),
        ("3d", datetime(2026, 11, 26)),
        ("+3d", datetime(2026, 11, 26)),
        ("-5d", datetime(2026, 11, 18)),
        ("3d ago", datetime(2026, 11, 20)),
        ("2w", datetime(2026, 12, 7)),
        ("1m", datetime(2026, 12, 23)),
        ("1y", datetime(2027, 11, 23)),
        ("12h", datetime(2026, 11, 23, 21, 30)),
        ("  3 days  ", datetime(2026, 11, 26)),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_date(text, NOW) == expected


def test_calendar_months_clamp_to_the_month_end():
    assert parse_date("1m", datetime(2027, 1, 31, 8, 0)) == datetime(2027, 2, 28)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "blah",
        "fr",
        "2026-13-01",
        "32d3",
        "next",
        "0001-01-01",
        "3000-01-01",
        "tomorrow 25:00",
        "--3d",
        "9",
        "2026",
        "tomorrow 10m",
        "13pm",
        "31 Feb 2027",
        "13/14/2026",
        "in 3 days ago",
        "3.4",
    ],
)
def test_unreadable_dates_are_usage_errors_naming_the_forms(text):
    with pytest.raises(UsageError) as error:
        parse_date(text, NOW)
    assert error.value.exit_code == 2
    assert "date" in str(error.value) or "time" in str(error.value)


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_any_text_parses_or_is_a_usage_error(text):
    try:
        result = parse_date(text, NOW)
    except UsageError:
        return
    assert isinstance(result, datetime)
    assert 1900 <= result.year <= 2999


@given(st.integers(min_value=0, max_value=3000), st.sampled_from(["d", "w", "h"]))
@settings(max_examples=200, deadline=None)
def test_offsets_forward_and_back_are_symmetric(count, unit):
    ahead, behind = parse_date(f"{count}{unit}", NOW), parse_date(f"-{count}{unit}", NOW)
    if unit == "h":
        assert ahead - NOW == NOW - behind
    else:
        assert (ahead.date() - NOW.date()) == (NOW.date() - behind.date())


@pytest.mark.parametrize(
    ("text", "back_from_now"),
    [
        ("7d", datetime(2026, 11, 16, 9, 30)),
        ("2w", datetime(2026, 11, 9, 9, 30)),
        ("12h", datetime(2026, 11, 22, 21, 30)),
        # Months and years are calendar ones, as in a date: one meaning of `1m` everywhere (it was 30 days here).
        ("1m", datetime(2026, 10, 23, 9, 30)),
        ("1 month", datetime(2026, 10, 23, 9, 30)),
        ("1y", datetime(2025, 11, 23, 9, 30)),
    ],
)
def test_durations_count_back_in_calendar_units(text, back_from_now):
    assert parse_duration(text).before(NOW) == back_from_now


def test_a_month_is_the_same_calendar_month_in_dates_and_durations():
    end_of_january = datetime(2027, 1, 31, 8, 0)
    assert parse_duration("1m").after(end_of_january) == datetime(2027, 2, 28, 8, 0)
    assert parse_date("1m", end_of_january).date() == parse_duration("1m").after(end_of_january).date()
    assert parse_duration("1m").before(datetime(2027, 3, 31)) == datetime(2027, 2, 28)
    assert parse_duration("1m").back_from(datetime(2027, 3, 31)) == timedelta(days=31)


@pytest.mark.parametrize("text", ["", "-7d", "7d ago", "in 7d", "seven days", "7"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        parse_duration(text)


# --- The forms people type (issue 13), all through the one parser ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jan 5", datetime(2027, 1, 5)),  # the nearest Jan 5: in November that is next January
        ("sept 3", datetime(2026, 9, 3)),  # ... and the nearest Sep 3 is the one just past
        ("5 Jan 2027", datetime(2027, 1, 5)),
        ("15 Apr, 2027", datetime(2027, 4, 15)),
        ("15 Apr, 2021 00:02:00", datetime(2021, 4, 15, 0, 2)),  # the Zoho export form
        ("January 5th, 2027", datetime(2027, 1, 5)),
        ("5th of January", datetime(2027, 1, 5)),
        ("Thu, 15 Apr 2021", datetime(2021, 4, 15)),
        ("15-Apr-2021", datetime(2021, 4, 15)),
        ("next week", datetime(2026, 11, 30)),  # its Monday
        ("this week", datetime(2026, 11, 23)),
        ("last week", datetime(2026, 11, 16)),
        ("next month", datetime(2026, 12, 1)),
        ("last month", datetime(2026, 10, 1)),
        ("end of month", datetime(2026, 11, 30)),
        ("end of the month", datetime(2026, 11, 30)),
        ("in 3 days", datetime(2026, 11, 26)),
        ("in 2 weeks", datetime(2026, 12, 7)),
        ("in 2 hours", datetime(2026, 11, 23, 11, 30)),
        ("2h ago", datetime(2026, 11, 23, 7, 30)),
        ("fri 10am", datetime(2026, 11, 27, 10, 0)),
        ("friday 2:30pm", datetime(2026, 11, 27, 14, 30)),
        ("tomorrow 9", datetime(2026, 11, 24, 9, 0)),
        ("tomorrow at 9:30", datetime(2026, 11, 24, 9, 30)),
        ("noon", datetime(2026, 11, 23, 12, 0)),
        ("4pm", datetime(2026, 11, 23, 16, 0)),
        ("12am", datetime(2026, 11, 23, 0, 0)),
        ("2026-12-03 10am", datetime(2026, 12, 3, 10, 0)),
        ("5 Jan 2027 9:15", datetime(2027, 1, 5, 9, 15)),
        ("31/12/2026", datetime(2026, 12, 31)),  # 31 cannot be a month: not ambiguous
        ("12/31/2026", datetime(2026, 12, 31)),
        ("31.12.2026", datetime(2026, 12, 31)),
        ("04/04/2026", datetime(2026, 4, 4)),  # both readings are the same day
        ("2026/12/03", datetime(2026, 12, 3)),
        ("4/15/21", datetime(2021, 4, 15)),
        ("31/12", datetime(2026, 12, 31)),
        ("2021-04-15T00:02:00Z", datetime(2021, 4, 15, 0, 2)),  # TZ=UTC in the tests
    ],
)
def test_forms_people_type(text, expected, monkeypatch):
    monkeypatch.delenv("PIPECTL_DATE_ORDER", raising=False)
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize(("order", "expected"), [("dmy", datetime(2026, 4, 3)), ("mdy", datetime(2026, 3, 4))])
def test_the_date_order_setting_reads_ambiguous_numeric_dates(monkeypatch, order, expected):
    monkeypatch.setenv("PIPECTL_DATE_ORDER", order)
    assert parse_date("03/04/2026", NOW) == expected
    assert parse_date("03/04/2026", NOW, order=order) == expected
    # An unambiguous date is read as it is, whatever the setting.
    assert parse_date("31/12/2026", NOW) == datetime(2026, 12, 31)


def test_an_ambiguous_numeric_date_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.delenv("PIPECTL_DATE_ORDER", raising=False)
    with pytest.raises(UsageError) as error:
        parse_date("03/04/2026", NOW)
    assert error.value.exit_code == 2
    assert "ambiguous (3 April or 4 March)" in str(error.value)
    assert "PIPECTL_DATE_ORDER=dmy" in str(error.value) and "PIPECTL_DATE_ORDER=mdy" in str(error.value)


def test_a_bad_date_order_setting_says_what_it_takes(monkeypatch):
    monkeypatch.setenv("PIPECTL_DATE_ORDER", "ymd")
    with pytest.raises(UsageError, match=r"PIPECTL_DATE_ORDER is dmy .* or mdy"):
        parse_date("03/04/2026", NOW)


def test_an_unreadable_date_names_the_forms_that_work():
    with pytest.raises(UsageError) as error:
        parse_date("someday", NOW)
    for form in ("2026-12-03", "31/12/2026", "5 Jan 2027", "fri 10am", "next week", "end of month", "in 2 weeks"):
        assert form in str(error.value)


def test_a_weekday_that_contradicts_the_date_is_refused():
    with pytest.raises(UsageError, match="is a Thursday, not a Friday"):
        parse_date("Fri, 15 Apr 2021", NOW)


def test_dates_far_in_the_future_are_refused_not_crashed():
    for now in (datetime(9999, 12, 31, 23, 0), datetime(2999, 12, 31)):
        for text in ("tomorrow", "next month", "end of month", "1y", "next year", "Jan 5", "999999w"):
            with contextlib.suppress(UsageError):
                parse_date(text, now)


def test_look_backs_count_back_and_dates_are_themselves():
    assert parse_look_back("7d", NOW) == datetime(2026, 11, 16)
    assert parse_look_back("1m", NOW) == datetime(2026, 10, 23)
    assert parse_look_back("last month", NOW) == datetime(2026, 10, 1)
    assert parse_look_back("2026-11-01", NOW) == datetime(2026, 11, 1)


# --- Properties: never a traceback, every accepted form reads back, ambiguity refused ---------------

DAYS = st.dates(min_value=date(1950, 1, 1), max_value=date(2950, 12, 31))
TIMES = st.times().map(lambda moment: moment.replace(second=0, microsecond=0))
WRITTEN = {
    "iso": lambda day: f"{day:%Y-%m-%d}",
    "day month year": lambda day: f"{day.day} {day:%b %Y}",
    "day month, year": lambda day: f"{day.day} {day:%b}, {day.year}",
    "month day, year": lambda day: f"{day:%B} {day.day}, {day.year}",
    "weekday, day month year": lambda day: f"{day:%a}, {day.day} {day:%B %Y}",
    "slashes, year first": lambda day: f"{day:%Y/%m/%d}",
}


@given(st.text(max_size=40))
@settings(max_examples=500, deadline=None)
def test_any_text_is_a_date_or_a_usage_error_never_a_traceback(text):
    for order in (None, "dmy", "mdy"):
        try:
            result = parse_date(text, NOW, order=order)
        except UsageError:
            continue
        assert isinstance(result, datetime) and 1900 <= result.year <= 2999


@given(
    st.lists(
        st.sampled_from(
            [
                "in",
                "3",
                "d",
                "next",
                "fri",
                "10am",
                "jan",
                "5",
                "2027",
                ",",
                "/",
                "12",
                ":",
                "30",
                "noon",
                "ago",
                "end",
                "of",
                "month",
                "-",
                "at",
                "week",
                "th",
                "pm",
                ".",
            ]
        ),
        max_size=6,
    )
)
@settings(max_examples=500, deadline=None)
def test_jumbles_of_date_words_are_dates_or_usage_errors(words):
    for separator in (" ", ""):
        with contextlib.suppress(UsageError):
            parse_date(separator.join(words), NOW)


@given(DAYS, TIMES, st.sampled_from(sorted(WRITTEN)))
@settings(max_examples=400, deadline=None)
def test_every_written_form_reads_back_to_its_day(day, at, form):
    text = WRITTEN[form](day)
    assert parse_date(text, NOW) == datetime.combine(day, time())
    assert parse_date(f"{text} {at:%H:%M}", NOW) == datetime.combine(day, at)


@given(DAYS, st.sampled_from(["dmy", "mdy"]))
@settings(max_examples=300, deadline=None)
def test_numeric_dates_read_back_in_the_order_set(day, order):
    text = f"{day:%d/%m/%Y}" if order == "dmy" else f"{day:%m/%d/%Y}"
    assert parse_date(text, NOW, order=order) == datetime.combine(day, time())


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=12), st.integers(1950, 2950))
@settings(max_examples=300, deadline=None)
def test_two_numbers_that_could_both_be_the_month_are_refused_without_a_setting(first, second, year):
    text = f"{first:02d}/{second:02d}/{year}"
    if first == second:
        assert parse_date(text, NOW) == datetime(year, first, first)
        return
    with pytest.raises(UsageError, match="PIPECTL_DATE_ORDER"):
        parse_date(text, NOW)


@given(st.integers(min_value=-182, max_value=182), st.sampled_from(["%b %d", "%d %B", "%B %dth"]))
@settings(max_examples=300, deadline=None)
def test_a_date_without_a_year_is_the_nearest_one(days_away, form):
    day = NOW.date() + timedelta(days=days_away)
    assert parse_date(f"{day:{form}}", NOW) == datetime.combine(day, time())


@given(st.integers(min_value=0, max_value=99), st.sampled_from(["h", "d", "w", "m", "y"]))
@settings(max_examples=300, deadline=None)
def test_durations_and_offsets_agree(count, unit):
    span = parse_duration(f"{count}{unit}")
    ahead = parse_date(f"in {count}{unit}", NOW)
    if unit == "h":
        assert ahead == span.after(NOW)
    else:
        assert ahead == datetime.combine(span.after(NOW).date(), time())
    assert parse_date(f"{count}{unit} ago", NOW).date() == span.before(NOW).date()
