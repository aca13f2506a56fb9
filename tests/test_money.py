"""Amounts: exact cents from what people type and what spreadsheets export."""

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from pipectl.errors import UsageError
from pipectl.money import MAX_CENTS, cents_from_number, format_money, parse_amount, to_decimal, to_number


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("20000", 2_000_000),
        ("20,000", 2_000_000),
        ("$22,700.00", 2_270_000),
        ("€1.200,50", 120_050),
        ("20k", 2_000_000),
        ("1.5m", 150_000_000),
        ("12.5", 1_250),
        ("1,200.50", 120_050),
        ("1 200", 120_000),
        ("0", 0),
        ("0.01", 1),
        ("USD 99", 9_900),
        ("1'000'000", 100_000_000),
    ],
)
def test_accepted_amounts(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-5",
        "1e5",
        "12.",
        "1,2,3",
        "1.234.5",
        "12.345",
        "nan",
        "inf",
        "10000000000000",
        "٣٤",
        "12.000",
        "12,00",
        "12,5",
        "1200,50",
        "1" * 400,
    ],
)
def test_refused_amounts(text):
    with pytest.raises(UsageError) as error:
        parse_amount(text)
    assert error.value.exit_code == 2


@given(st.integers(min_value=0, max_value=MAX_CENTS - 1))
@settings(max_examples=300, deadline=None)
def test_formatted_amounts_read_back_exactly(cents):
    assert parse_amount(format_money(cents)) == cents
    assert to_decimal(cents) == Decimal(cents) / 100


@given(st.text(max_size=25), st.sampled_from([None, ".", ","]))
@settings(max_examples=500, deadline=None)
def test_any_text_is_an_amount_or_a_usage_error(text, mark):
    try:
        cents = parse_amount(text, decimal_mark=mark)
    except UsageError:
        return
    assert 0 <= cents < MAX_CENTS


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=50))
@settings(max_examples=100, deadline=None)
def test_sums_of_cents_never_drift(values):
    # What SQL sums (integers) is exactly what the JSON number says.
    assert to_number(sum(values)) == float(sum(Decimal(value) / 100 for value in values))


# --- Ambiguous, negative and huge amounts (issue 13) ---------------------------------------------


@pytest.fixture(autouse=True)
def no_decimal_setting(monkeypatch):
    monkeypatch.delenv("PIPECTL_DECIMAL", raising=False)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("12.000", ["ambiguous (12 or 12,000?)", "PIPECTL_DECIMAL=.", "PIPECTL_DECIMAL=,"]),
        ("1.250k", ["ambiguous (1.25k or 1,250k?)"]),
        ("12,00", ["decimal comma", "12.00", "PIPECTL_DECIMAL=,"]),
        ("12,5", ["decimal comma", "12.5"]),
        ("12.345", ["more than two decimals", "12345", "PIPECTL_DECIMAL=,"]),
    ],
)
def test_ambiguous_amounts_are_refused_with_a_hint(text, fragments):
    # Today's main read 12.000 and 12,00 as 12 without a word.
    with pytest.raises(UsageError) as error:
        parse_amount(text)
    assert error.value.exit_code == 2
    for fragment in fragments:
        assert fragment in str(error.value)


@pytest.mark.parametrize(
    ("text", "mark", "cents"),
    [
        ("12.000", ",", 1_200_000),
        ("12,00", ",", 1_200),
        ("12,5", ",", 1_250),
        ("1.200.000,50", ",", 120_000_050),
        ("12.000", ".", 1_200),
        ("12.5", ".", 1_250),
        ("12,000", ".", 1_200_000),
        # Both marks say which is which, whatever the setting.
        ("1,200.50", ",", 120_050),
        ("1.200,50", ".", 120_050),
    ],
)
def test_the_decimal_setting_settles_a_lone_mark(monkeypatch, text, mark, cents):
    assert parse_amount(text, decimal_mark=mark) == cents
    monkeypatch.setenv("PIPECTL_DECIMAL", {",": "comma", ".": "."}[mark])
    assert parse_amount(text) == cents


def test_under_a_decimal_comma_a_dot_decimal_is_refused_saying_why():
    with pytest.raises(UsageError, match="PIPECTL_DECIMAL=, makes ',' the decimal mark"):
        parse_amount("12.50", decimal_mark=",")


def test_a_bad_decimal_setting_says_what_it_takes(monkeypatch):
    monkeypatch.setenv("PIPECTL_DECIMAL", "semicolon")
    with pytest.raises(UsageError, match=r"PIPECTL_DECIMAL is \. .* or ,"):
        parse_amount("12,5")


@pytest.mark.parametrize("text", ["-5", "-$5", "$-5", "−5", "(500)", "-1,000.50", "EUR -3"])
def test_negative_amounts_say_amounts_cannot_be_negative(text):
    with pytest.raises(UsageError, match="amounts cannot be negative"):
        parse_amount(text)


@pytest.mark.parametrize("text", ["10000000000000", "9" * 30, "1" * 5000, "999999999bn"])
def test_huge_amounts_are_refused_clearly(text):
    with pytest.raises(UsageError, match="too large"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (float("inf"), "Cannot read"),
        (float("nan"), "Cannot read"),
        (1e300, "too large"),
        (10**30, "too large"),
        (-5, "cannot be negative"),
        (0.001, "more than two decimals"),
    ],
)
def test_numbers_from_files_get_the_same_checks(value, fragment):
    with pytest.raises(UsageError, match=fragment):
        cents_from_number(value)


@given(st.integers(min_value=0, max_value=MAX_CENTS - 1))
@settings(max_examples=300, deadline=None)
def test_amounts_written_the_european_way_read_back_under_a_decimal_comma(cents):
    european = format_money(cents).replace(",", " ").replace(".", ",").replace(" ", ".")
    assert parse_amount(european, decimal_mark=",") == cents


@given(st.integers(min_value=0, max_value=999_999), st.integers(min_value=1, max_value=999))
@settings(max_examples=300, deadline=None)
def test_a_dot_before_three_digits_is_never_guessed(whole, fraction):
    with pytest.raises(UsageError, match="PIPECTL_DECIMAL"):
        parse_amount(f"{whole}.{fraction:03d}")


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
@settings(max_examples=300, deadline=None)
def test_a_decimal_comma_is_never_guessed(whole, fraction):
    with pytest.raises(UsageError, match="PIPECTL_DECIMAL=,"):
        parse_amount(f"{whole},{fraction:02d}")
    assert parse_amount(f"{whole},{fraction:02d}", decimal_mark=",") == whole * 100 + fraction
