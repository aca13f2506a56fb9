"""Import reads dates and amounts with the same parser as every command, settings included."""

import json

import pytest


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def leads(ok) -> list[dict]:
    return json.loads(ok("list", "--status", "all", "-f", "json").stdout)


@pytest.fixture(autouse=True)
def no_settings(monkeypatch):
    monkeypatch.delenv("PIPECTL_DATE_ORDER", raising=False)
    monkeypatch.delenv("PIPECTL_DECIMAL", raising=False)


def test_the_forms_people_type_import(ok, tmp_path):
    text = (
        'name,created\nA,"Jan 5, 2026"\nB,5 Jan 2026 10:00\nC,2026-01-05T10:00:00Z\nD,"15 Apr, 2021 00:02:00"\n'
        "E,31/12/2025\nF,12/31/2025\n"
    )
    ok("import", write(tmp_path, "a.csv", text))
    created = {lead["name"]: lead["created_at"][:16] for lead in leads(ok)}
    assert created == {
        "A": "2026-01-05T00:00",
        "B": "2026-01-05T10:00",
        "C": "2026-01-05T10:00",
        "D": "2021-04-15T00:02",
        "E": "2025-12-31T00:00",
        "F": "2025-12-31T00:00",
    }


def test_an_ambiguous_date_refuses_the_row_naming_the_setting(cli, ok, tmp_path, snapshot):
    ok("list")
    before = snapshot()
    # dateutil used to read this as 4 March without a word.
    result = cli("import", write(tmp_path, "a.csv", "name,created\nA,03/04/2026\nB,03/04/2026\n"))
    assert result.exit_code == 1
    assert "row 2: created: the date '03/04/2026' is ambiguous (3 April or 4 March)" in result.stderr
    assert "PIPECTL_DATE_ORDER=dmy" in result.stderr
    assert "row 3: created: the date '03/04/2026' is ambiguous" in result.stderr  # the import's cache keeps it
    assert snapshot() == before


@pytest.mark.parametrize(("order", "expected"), [("dmy", "2026-04-03"), ("mdy", "2026-03-04")])
def test_the_date_order_setting_reads_a_file(ok, tmp_path, monkeypatch, order, expected):
    monkeypatch.setenv("PIPECTL_DATE_ORDER", order)
    ok("import", write(tmp_path, "a.csv", "name,created\nA,03/04/2026\nB,03/04/2026\n"))
    assert [lead["created_at"][:10] for lead in leads(ok)] == [expected, expected]


def test_an_ambiguous_amount_refuses_the_row_until_the_decimal_mark_is_set(cli, ok, tmp_path, monkeypatch):
    path = write(tmp_path, "a.csv", "name;value\nA;12.000\nB;1.200,50\n")
    result = cli("import", path)
    assert result.exit_code == 1
    assert "row 2: value: The amount '12.000' is ambiguous (12 or 12,000?)" in result.stderr
    assert "row 3" not in result.stderr  # both marks: not ambiguous
    monkeypatch.setenv("PIPECTL_DECIMAL", ",")
    ok("import", path)
    assert sorted(lead["value"] for lead in leads(ok)) == [1200.5, 12000.0]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("Infinity", "cannot read the amount"),
        ("-5", "is negative"),
        ("1e300", "is too large"),
        ("100000000000000000000000000000000", "is too large"),
        ("0.001", "more than two decimals"),
    ],
)
def test_numbers_in_json_get_the_checks_of_typed_amounts(cli, ok, tmp_path, snapshot, value, fragment):
    ok("list")
    before = snapshot()
    result = cli("import", write(tmp_path, "a.jsonl", f'{{"name": "A", "value": {value}}}\n'))
    assert result.exit_code == 1, result.output
    assert "row 1: value:" in result.stderr and fragment in result.stderr.lower()
    assert snapshot() == before
