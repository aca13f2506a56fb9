"""The lead contract (`pipectl.contract`) is the one description of a lead, and everything agrees with it.

Storage keeps its columns explicit (readable, typed); the test here holds them to the contract, so
adding a data point is one line in the contract, one in the model and a migration, and every other
place (validation, import, views, CSV, options, scoring, the card) follows by itself.
"""

import csv
import io
import json
from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import BigInteger, Boolean, Float, Integer, String
from sqlmodel.sql.sqltypes import AutoString

from pipectl import contract
from pipectl.contract import (
    BANT_COLUMNS,
    DATA_POINTS,
    FIELDS,
    FORMULA_TRIGGERS,
    KEYS,
    lead_columns,
    neutralise,
    unneutralise,
)
from pipectl.storage.models import Lead
from pipectl.storage.types import Timestamp

# ---- storage, validation, import, views, options, scoring, card -------------------------------------------

SQL_TYPES = {int: (Integer, BigInteger), str: (String, AutoString), datetime: (Timestamp,), float: (Float,)}


def test_the_leads_table_has_exactly_the_contracts_columns():
    table = Lead.__table__
    expected = lead_columns()
    assert set(table.columns.keys()) == set(expected)
    for name, field in expected.items():
        column = table.columns[name]
        assert isinstance(column.type, SQL_TYPES[field.python_type]), (name, column.type)
        assert column.nullable == (field.nullable and field.key != "id"), name
    assert not any(isinstance(column.type, Boolean) for column in table.columns)


def test_validation_model_has_one_field_per_data_point():
    from pipectl.core.leads import LeadFields

    assert list(LeadFields.model_fields) == [field.stored for field in DATA_POINTS]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"email": "not-an-address"}, "--email: 'not-an-address' is not an email address."),
        ({"company_size": -1}, "--size: cannot be negative."),
        ({"value_cents": 10**15}, "--value: is too large."),
        ({"title": "x" * (contract.TEXT_LENGTH + 1)}, "--title: is longer than 1,000 characters."),
        ({"email": "a@b.co" + "m" * 250}, "--email: is longer than 254 characters."),
    ],
)
def test_contract_rules_refuse_with_the_option_named(values, message):
    from pipectl.core.leads import validate_fields
    from pipectl.errors import UsageError

    with pytest.raises(UsageError) as error:
        validate_fields(**values)
    assert str(error.value) == message


def test_the_import_reads_the_same_rules(cli, tmp_path, snapshot):
    cli("list")
    path = tmp_path / "bad.csv"
    path.write_text("name,email,employees,title\nAda,ada@,3,x\nBob,,-2,\nCy,,,%s\n" % ("t" * 1001), encoding="utf-8")
    before = snapshot()
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert "row 2: email: 'ada@' is not an email address" in result.stderr
    assert "row 3: employees: -2 is out of range" in result.stderr
    assert "row 4: title: is longer than 1,000 characters" in result.stderr
    assert snapshot() == before


def test_every_lead_field_is_recognised_by_the_import_and_no_spelling_means_two():
    from pipectl.core.import_mapping import LEAD_ALIASES, build_mapping, normalise_header

    for field in FIELDS + contract.STORED_ONLY:
        if field.key != "nurture_since":
            assert normalise_header(field.key) in LEAD_ALIASES[field.key]
    spellings = [spelling for names in LEAD_ALIASES.values() for spelling in names]
    assert len(spellings) == len(set(spellings))
    columns = contract.csv_columns(["plan"], contract.BANT_COLUMNS + ("archived_at",))
    mapping = build_mapping(columns)
    assert mapping.custom == {"field:plan": "plan"} and not mapping.ignored
    assert set(mapping.fields) == set(columns) - {"field:plan"}


def test_lead_rows_have_the_contracts_keys_in_order(new_lead, ok):
    new_lead("Ada", "--field", "plan=pro")
    (row,) = json.loads(ok("list", "-f", "json").stdout)
    assert tuple(row)[: len(KEYS)] == KEYS
    assert tuple(row)[len(KEYS) :] == ("days_in_stage", "nurture", "probability")


@pytest.mark.parametrize("command", ["add", "edit"])
def test_add_and_edit_have_an_option_per_data_point(ok, command):
    out = ok(command, "--help").stdout
    for field in DATA_POINTS:
        if command == "add" and field.key == "name":
            continue  # add takes the name as its argument
        assert f"--{field.flag} " in out, field.key
        assert field.help.split()[0] in out


def test_options_made_from_the_contract_set_the_fields(ok, new_lead):
    lead = new_lead("Ada", "--company", "Acme", "--size", "12", "--value", "2.5k", "--location", "Paris")
    ok("edit", str(lead), "--name", "Ada L", "--size", "13", "--owner", "sam")
    shown = json.loads(ok("show", str(lead), "-f", "json").stdout)
    assert (
        shown["name"],
        shown["company"],
        shown["company_size"],
        shown["value"],
        shown["location"],
        shown["owner"],
    ) == ("Ada L", "Acme", 13, 2500, "Paris", "sam")


def test_scoring_rules_match_the_contracts_data_points():
    from pipectl.core.scoring import NUMBER_FIELDS, TEXT_FIELDS

    assert set(TEXT_FIELDS) | set(NUMBER_FIELDS) == {field.key for field in DATA_POINTS}
    assert set(NUMBER_FIELDS) == {"company_size", "value"}


def test_the_card_lists_the_fields_the_contract_shows():
    from pipectl.cli.tables import CARD_FIELDS

    assert [key for _label, key in CARD_FIELDS] == [field.key for field in FIELDS if field.shown]
    assert ("Size", "company_size") in CARD_FIELDS


def test_bant_is_named_once():
    from pipectl.core import qualification

    assert contract.BANT_CRITERIA == ("budget", "authority", "need", "timeline")
    assert BANT_COLUMNS == (
        "budget",
        "budget_note",
        "authority",
        "authority_note",
        "need",
        "need_note",
        "timeline",
        "timeline_note",
    )
    assert set(qualification.QUESTIONS) == set(contract.BANT_CRITERIA)


def test_tags_split_as_they_are_joined():
    tags = ["vip", "warm lead", "é"]
    assert contract.split_tags(contract.TAG_SEPARATOR.join(tags)) == tags
    assert contract.split_tags(" VIP ,  Warm   Lead") == ["vip", "warm lead"]


# ---- formula neutralisation: one rule, reversed exactly ---------------------------------------------------

RISKY_TEXT = st.text(alphabet=st.sampled_from(list("'=+-@\t\rab ,\"\n")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(RISKY_TEXT, st.text(max_size=12)))
def test_neutralising_is_reversed_exactly_and_leaves_nothing_a_spreadsheet_runs(text):
    written = neutralise(text)
    assert unneutralise(written) == text
    assert not written.startswith(FORMULA_TRIGGERS)
    assert written == text or written == "'" + text


@settings(max_examples=200, deadline=None)
@given(first=st.one_of(RISKY_TEXT, st.text(max_size=8)), second=st.one_of(RISKY_TEXT, st.text(max_size=8)))
def test_two_texts_never_neutralise_to_the_same_cell(first, second):
    if first != second:
        assert neutralise(first) != neutralise(second)


def test_the_examples_of_the_rule():
    assert neutralise("=x") == "'=x"
    assert neutralise("'=x") == "''=x"
    assert neutralise("'quoted'") == "'quoted'" and unneutralise("'quoted'") == "'quoted'"
    assert neutralise("+44 20 7946 0000") == "'+44 20 7946 0000"
    assert unneutralise("'-5") == "-5"


@settings(max_examples=25, deadline=None)
@given(text=RISKY_TEXT)
def test_csv_cells_read_back_as_written(text):
    from pipectl.output import write_csv

    out = io.StringIO()
    write_csv(out, [{"name": text, "tags": [text, "x"]}], ["name", "tags"])
    (row,) = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    assert unneutralise(row["name"]) == text
    assert unneutralise(row["tags"]) == contract.TAG_SEPARATOR.join([text, "x"])


def test_list_and_export_write_a_formula_name_the_same_way_and_import_reads_it_back(
    ok, new_lead, tmp_path, monkeypatch
):
    names = ["=x", "'=x", "''=x", "'plain", "-5"]
    for name in names:
        ok("add", "--force", "--", name)
    listed = [row["name"] for row in csv.DictReader(io.StringIO(ok("list", "-f", "csv").stdout))]
    exported = ok("export").stdout
    assert [row["name"] for row in csv.DictReader(io.StringIO(exported))] == listed
    assert listed == ["'=x", "''=x", "'''=x", "'plain", "'-5"]
    (tmp_path / "leads.csv").write_text(exported, encoding="utf-8")
    monkeypatch.setenv("PIPECTL_DB", str(tmp_path / "other.db"))
    ok("import", str(tmp_path / "leads.csv"))
    assert [row["name"] for row in json.loads(ok("list", "-f", "json").stdout)] == names


def test_a_rejects_file_uses_the_same_rule_so_the_fixed_file_imports_the_same_text(ok, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the rejects file goes to the current folder (issue 15)
    source = tmp_path / "leads.csv"
    # `'=y` is how pipectl writes `=y`; `=x` comes from another tool. Both rows are refused (email).
    source.write_text("name,email\n=x,not-an-email\n'=y,bad\nGood,good@example.com\n", encoding="utf-8")
    ok("import", str(source), "--skip-invalid")
    rejects = tmp_path / "leads.csv.rejects.csv"
    rows = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"), newline="")))
    assert [row["name"] for row in rows] == ["'=x", "'=y"]  # inert in a spreadsheet
    fixed = rejects.read_text(encoding="utf-8").replace("not-an-email", "x@example.com")
    fixed = fixed.replace(",bad,", ",y@example.com,")
    source.write_text(fixed, encoding="utf-8")
    ok("import", str(source), "--ignore", "error")
    assert [row["name"] for row in json.loads(ok("list", "-f", "json").stdout)] == ["Good", "=x", "=y"]


@pytest.mark.parametrize("key", ["name", "company"])
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("two\nlines", "line break"),
        ("Ada\u2028Lovelace", "line break"),
        ("Ada\x85Lovelace", "line break"),
        ("Mallory\x1b]52;c;aGk=\x07", "control character"),
        ("Acme\u202eproC", "control character"),
        ("nul\x00", "control character"),
    ],
)
def test_names_and_companies_are_one_line_of_plain_text(key, text, reason):
    with pytest.raises(ValueError, match=reason):
        contract.check(contract.BY_KEY[key], text)


def test_names_have_a_length_limit_and_other_text_keeps_its_controls():
    assert contract.check(contract.BY_KEY["name"], "N" * contract.NAME_LENGTH) == "N" * contract.NAME_LENGTH
    with pytest.raises(ValueError, match="longer than 200"):
        contract.check(contract.BY_KEY["company"], "C" * (contract.NAME_LENGTH + 1))
    # Titles and the other data points keep what they are given; outputs show the controls made visible.
    assert contract.check(contract.BY_KEY["title"], "CTO\x1b[2J") == "CTO\x1b[2J"
    assert contract.check(contract.BY_KEY["name"], "Zoë Łukasiewicz-Ångström 山田") == "Zoë Łukasiewicz-Ångström 山田"
