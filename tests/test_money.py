"""Amounts: exact cents from what people type and what spreadsheets export."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.errors import UsageError
from pipectl.money import MAX_CENTS, format_money, parse_amount, to_decimal, to_number


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("20000", 2_000_000),
        ("20,000", 2_000_000),
        ("$22,700.00", 2_270_000),
        ("€1.200,50", 120_050),
        ("20k", 2_000_000),
        ("1.5m", 150_000_000),
        ("12,5", 1_250),
        ("1200,50", 120_050),
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
    "text", ["", "abc", "-5", "1e5", "12.", "1,2,3", "1.234.5", "12.345", "nan", "inf", "10000000000000", "٣٤"]
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


@given(st.text(max_size=25))
@settings(max_examples=300, deadline=None)
def test_any_text_is_an_amount_or_a_usage_error(text):
    try:
        cents = parse_amount(text)
    except UsageError:
        return
    assert 0 <= cents < MAX_CENTS


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=50))
@settings(max_examples=100, deadline=None)
def test_sums_of_cents_never_drift(values):
    # What SQL sums (integers) is exactly what the JSON number says.
    assert to_number(sum(values)) == float(sum(Decimal(value) / 100 for value in values))
