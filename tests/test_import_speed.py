"""`pipectl import`: the fast paths of a large import behave as the plain ones (duplicates across batches)."""

import json

from pipectl.core.importing import BATCH


def write_rows(tmp_path, lines: list[str]) -> str:
    path = tmp_path / "big.csv"
    path.write_text("name,company,email,value,created_at\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def many(count: int) -> list[str]:
    return [f"Lead {n},Company {n},lead{n}@example.com,{n}.50,2026-01-{n % 28 + 1:02d}" for n in range(count)]


def test_duplicates_of_an_earlier_batch_into_an_empty_pipeline(cli, ok, tmp_path, snapshot):
    ok("list")
    lines = many(BATCH + 10)
    lines.append("Someone,Other,LEAD3@Example.com,,2026-02-01")  # same email as a row of the first batch
    lines.append("lead 5,COMPANY 5,,,2026-02-01")  # same name and company as one
    before = snapshot()
    result = cli("import", write_rows(tmp_path, lines))
    assert result.exit_code == 1
    assert f"row {BATCH + 12}: same email as an earlier row of the file" in result.stderr
    assert f"row {BATCH + 13}: same name and company as an earlier row of the file" in result.stderr
    assert "2 row(s) look like leads already there" in result.stderr
    assert snapshot() == before


def test_skip_and_update_across_batches(ok, tmp_path):
    lines = many(BATCH + 5) + ["Lead 7 again,Other,lead7@example.com,99,2026-02-01"]
    result = ok("import", write_rows(tmp_path, lines), "--on-duplicate", "skip")
    assert f"{BATCH + 5:,} lead(s) added" in result.stderr and "1 duplicate(s) skipped" in result.stderr
    result = ok(
        "import",
        write_rows(tmp_path, ["Lead 7 again,Other,lead7@example.com,99,2026-02-01"]),
        "--on-duplicate",
        "update",
    )
    assert "1 updated" in result.stderr
    lead = json.loads(ok("show", "8", "-f", "json").stdout)
    assert (lead["name"], lead["company"], lead["value"]) == ("Lead 7 again", "Other", 99)


def test_duplicates_against_leads_already_there(new_lead, cli, tmp_path):
    new_lead("Ada", "--email", "ada@example.com")
    lines = many(BATCH + 5) + ["Ada L,,ADA@example.com,,2026-02-01", "Lead 2,Company 2,,,2026-02-01"]
    result = cli("import", write_rows(tmp_path, lines))
    assert result.exit_code == 1
    assert f"row {BATCH + 7}: same email as lead #1" in result.stderr
    assert f"row {BATCH + 8}: same name and company as an earlier row of the file" in result.stderr


# ---- the validation fast path agrees with the model (both apply the contract's rules) ---------------

from hypothesis import given, settings, strategies as st  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from pipectl.core.import_rows import _valid_fields  # noqa: E402
from pipectl.core.leads import LeadFields  # noqa: E402

LEAD_FIELDS = tuple(LeadFields.model_fields)

TEXT = st.one_of(
    st.none(), st.text(max_size=12), st.sampled_from(["a@b.co", " a@b.co ", "x  y\nz", "a  b\n", " a\tb ", "  ", "a@b"])
)
NUMBER = st.one_of(st.none(), st.integers(-5, 5), st.booleans(), st.sampled_from(["3", "x"]))


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({key: NUMBER if key in ("company_size", "value_cents") else TEXT for key in LEAD_FIELDS}))
def test_fast_validation_is_the_model_or_defers_to_it(given_values):
    fast = _valid_fields(given_values)
    try:
        model = LeadFields(**given_values).model_dump()
    except ValidationError:
        model = None
    assert fast is None or fast == model


def test_a_repeated_bad_date_is_reported_in_each_column_and_row(cli, tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text(
        "name,created_at,closed_at,status\nA,soon,soon,won\nB,2026-01-02,soon,won\n"
        "C,3026-01-01,2026-01-02,won\nD,2026-01-02,3026-01-01,won\n",
        encoding="utf-8",
    )
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert "row 2: created_at: cannot read the date 'soon'; closed_at: cannot read the date 'soon'" in result.stderr
    assert "row 3: closed_at: cannot read the date 'soon'" in result.stderr
    assert "row 4: created_at: the date '3026-01-01' is out of range" in result.stderr
    assert "row 5: closed_at: the date '3026-01-01' is out of range" in result.stderr
