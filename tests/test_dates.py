"""The date and duration parsers: every form the README promises, and garbage refused cleanly."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.dates import parse_date, parse_duration
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
    "text", ["", "blah", "fr", "2026-13-01", "32d3", "next", "0001-01-01", "3000-01-01", "tomorrow 25:00", "--3d"]
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


@pytest.mark.parametrize(("text", "days"), [("7d", 7), ("2w", 14), ("1m", 30), ("1y", 365)])
def test_durations(text, days):
    assert parse_duration(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["", "-7d", "7d ago", "seven days", "7"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        parse_duration(text)
