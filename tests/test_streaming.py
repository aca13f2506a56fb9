"""The fast paths of long streams give exactly what the plain ones give: instants, CSV rows, lead values,
folded keys, amounts, and an import's indexes."""

import csv
import io
import itertools
import os
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st

from pipectl import output
from pipectl.contract import RISKY_STARTS, csv_columns, flat_lead, neutralise
from pipectl.dates import LocalInstants, from_timestamp, iso
from pipectl.folding import fold

EARLIEST, LATEST = int(datetime(1900, 1, 2).timestamp()), int(datetime(2999, 12, 30).timestamp())
# Zones with summer time, half and quarter hours, and offsets in seconds before 1937 (Amsterdam, Monrovia).
ZONES = (
    "UTC",
    "Europe/Paris",
    "America/St_Johns",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Europe/Amsterdam",
    "Africa/Monrovia",
)


@contextmanager
def in_zone(name: str):
    """The process's local time zone is `name` inside the block (UTC again after it, as conftest sets)."""
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        os.environ["TZ"] = "UTC"
        time.tzset()


# 100 lists of up to 20 moments (each checked at +0 s, +1 s and -1 h) per zone: 800 lists over the eight zones.
@pytest.mark.parametrize("name", ZONES)
@settings(max_examples=100, deadline=None)
@given(moments=st.lists(st.integers(EARLIEST, LATEST), min_size=1, max_size=20))
def test_instants_are_written_as_iso_writes_them(name, moments):
    with in_zone(name):
        instants = LocalInstants()
        for seconds in moments + [moment + 1 for moment in moments] + [moment - 3600 for moment in moments]:
            assert instants.text(seconds) == iso(from_timestamp(seconds))
        cells = [None, *moments]
        instants.fill(cells, list(range(len(cells))))
        assert cells == ["", *(iso(from_timestamp(seconds)) for seconds in moments)]
        for first, second in itertools.pairwise(moments):
            assert (instants.wall(second) - instants.wall(first)) // 86400 == (
                from_timestamp(second) - from_timestamp(first)
            ).days


def test_instants_around_a_change_of_summer_time():
    with in_zone("Europe/Paris"):
        instants = LocalInstants()
        change = int(datetime(2026, 3, 29, 1, 59, 59).timestamp())  # 01:59:59 CET, then 03:00:00 CEST
        for seconds in range(change - 3700, change + 3700, 7):
            assert instants.text(seconds) == iso(from_timestamp(seconds))
        assert instants.text(None) is None


def _reference_csv(header: list[str], rows: list[list]) -> str:
    """What `write_csv` wrote before its fast path: the csv module, one cell at a time."""
    out = io.StringIO()
    writer = csv.writer(output._LineFeeds(out), lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([output._cell(value) for value in row])
    return out.getvalue()


CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from(list("ab Z09,\"'\r\n\t=+-@;é")), max_size=8),
    st.lists(st.text(alphabet="ab,=", max_size=3), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(width=st.integers(1, 5), data=st.data())
def test_csv_rows_are_what_the_csv_module_writes(width, data):
    rows = data.draw(st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=6))
    header = [f"c{index}" for index in range(width)]
    out = io.StringIO()
    assert output._write_rows(out, header, iter(rows)) == len(rows)
    assert out.getvalue() == _reference_csv(header, rows)


def test_a_cell_needs_no_check_when_it_starts_with_a_letter_or_a_digit():
    # `output._cells` passes such text as it is: none of the risky first characters is one.
    assert all(not (start >= "A" or "0" <= start <= "9") for start in RISKY_STARTS)
    assert output._cells(["Ada", "2026-01-01", "+1 555", "'=x", None, 3]) == [
        "Ada",
        "2026-01-01",
        neutralise("+1 555"),
        neutralise("'=x"),
        "",
        3,
    ]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_folds_the_same_quick_way(text):
    import unicodedata

    assert fold(text) == unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


@settings(max_examples=300, deadline=None)
@given(units=st.integers(0, 10**14), zeros=st.integers(0, 3), decimals=st.sampled_from(["", ".", ".5", ".05", ".50"]))
def test_plain_amounts_are_read_as_parse_amount_reads_them(units, zeros, decimals):
    from pipectl.core.import_rows import Problem, parse_cents
    from pipectl.errors import UsageError
    from pipectl.money import parse_amount

    text = "0" * zeros + str(units) + decimals
    try:
        expected = parse_amount(text)
    except UsageError:
        with pytest.raises(Problem):
            parse_cents(text, "value")
        return
    assert parse_cents(text, "value") == expected


@pytest.fixture
def leads(new_lead, ok):
    first = new_lead(
        "Ada",
        "--company",
        "Analytical",
        "--email",
        "ada@example.com",
        "--value",
        "12,000.50",
        "--tag",
        "zeta",
        "--tag",
        "alpha",
        "--tag",
        "mid",
        "--field",
        "zone=EU",
        "--field",
        "area=N",
        "--at",
        "-40d",
    )
    ok("plan", str(first), "Call back", "--due", "tomorrow 10:00")
    ok("qualify", str(first), "--budget", "yes", "--need", "no: not now")
    second = new_lead("=cmd", "--company", "Acme, Inc", "--value", "500", "--owner", "kim")
    ok("won", str(second))
    new_lead("Plain")
    return first, second


@pytest.mark.parametrize("restore", [False, True])
def test_lead_values_are_the_flattened_lead_rows(session_factory, leads, restore):
    from pipectl.core.exporting import LEAD_CSV_EXTRA
    from pipectl.core.views import EXTRA_KEYS, LeadFilter, field_keys, lead_rows, lead_values

    with session_factory() as session:
        keys = field_keys(session)
        header = csv_columns(keys, LEAD_CSV_EXTRA if restore else EXTRA_KEYS)
        wanted = LeadFilter(status="all")
        rows = [flat_lead(row) for row in lead_rows(session, wanted, restore=restore)]
        values = list(lead_values(session, wanted, keys, restore=restore))
    assert values == [[row.get(column) for column in header] for row in rows]
    assert rows[0]["tags"] == ["alpha", "mid", "zeta"]  # by tag, as the database sorts them
    assert [column for column in header if column.startswith("field:")] == ["field:area", "field:zone"]


@pytest.fixture
def session_factory(db_location):
    from pipectl.storage.schema import open_database

    def open_session():
        return open_database(str(db_location)).session(write=False)

    return open_session


def the_same_csv_both_ways(session, rows, extra, **shortcut) -> list[dict]:
    """The lead CSV written from the row dicts and again through `shortcut` (one keyword of
    `output.lead_layout`, a function of the field keys); asserts both are the same, returns its rows."""
    from pipectl.core.views import field_keys

    ((name, faster),) = shortcut.items()
    written = []
    for way in (None, faster):
        out = io.StringIO()
        layout = output.lead_layout(lambda: field_keys(session), extra, **{name: way})
        output.emit("csv", rows(), out=out, csv_layout=layout)
        written.append(out.getvalue())
    assert written[0] == written[1]
    return list(csv.DictReader(io.StringIO(written[1])))


def assert_the_fixture_leads(listed: list[dict]) -> None:
    assert [row["value"] for row in listed] == ["12000.5", "500.00", ""]
    assert listed[1]["name"] == "'=cmd" and listed[1]["company"] == "Acme, Inc"
    assert listed[0]["tags"] == "alpha; mid; zeta" and listed[0]["field:zone"] == "EU"


@pytest.mark.parametrize("restore", [False, True])
def test_a_lead_csv_is_the_same_through_values_and_through_rows(session_factory, leads, restore):
    from pipectl.core.exporting import LEAD_CSV_EXTRA
    from pipectl.core.views import EXTRA_KEYS, LeadFilter, lead_rows, lead_values

    every = LeadFilter(status="all")
    with session_factory() as session:
        listed = the_same_csv_both_ways(
            session,
            lambda: lead_rows(session, every, restore=restore),
            LEAD_CSV_EXTRA if restore else EXTRA_KEYS,
            values=lambda keys: lead_values(session, every, keys, restore=restore),
        )
    assert_the_fixture_leads(listed)


def test_export_cells_made_in_sql_are_the_csv_of_the_rows(session_factory, leads):
    from pipectl.core.exporting import LEAD_CSV_EXTRA
    from pipectl.core.lead_csv import lead_cells
    from pipectl.core.views import LeadFilter, lead_rows

    every = LeadFilter(status="all")
    with session_factory() as session:
        listed = the_same_csv_both_ways(
            session,
            lambda: lead_rows(session, every, restore=True),
            LEAD_CSV_EXTRA,
            texts=lambda keys: lead_cells(session, every, keys),
        )
    assert_the_fixture_leads(listed)


_RISKY_TEXT = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from([*RISKY_STARTS, "A", "a", "0", "9", ":", " ", "é", "\n", ",", '"']), max_size=6),
    st.text(max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_RISKY_TEXT, min_size=1, max_size=10))
def test_the_formula_guard_in_sql_is_the_contracts(texts):
    from sqlalchemy import bindparam, create_engine, select

    from pipectl.core.lead_csv import guarded

    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        for text in texts:
            found = connection.execute(select(guarded(bindparam("text", text), "sqlite"))).scalar_one()
            assert found == ("" if text is None else neutralise(text) if text else text)
    engine.dispose()


@given(cents=st.one_of(st.none(), st.integers(-(10**13), 10**13)))
def test_money_cells_are_the_output_paths(cents):
    from pipectl.core.lead_csv import CellMaker
    from pipectl.money import to_number

    maker = CellMaker("sqlite", [])
    row = [None] * 40
    row[maker.money] = cents
    assert maker.cells_of(row)[maker.money] == str(output._cells([None if cents is None else to_number(cents)])[0])


def _indexes(path) -> set:
    connection = sqlite3.connect(path)
    try:
        return set(connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    finally:
        connection.close()


def test_an_import_into_an_empty_pipeline_ends_with_every_index(ok, db_path, tmp_path):
    ok("stages", "list")
    before = _indexes(db_path)
    source = tmp_path / "leads.csv"
    source.write_text(
        "name,email,tags\n" + "".join(f"Lead {n},l{n}@example.com,t{n % 3}\n" for n in range(50)), encoding="utf-8"
    )
    ok("import", str(source))
    assert _indexes(db_path) == before
    assert ok("list", "--tag", "t1", "-f", "json").stdout.count('"id"') == 17


def test_a_refused_import_leaves_the_indexes_and_the_rows_alone(cli, ok, db_path, tmp_path, snapshot):
    ok("stages", "list")
    before, rows = _indexes(db_path), snapshot()
    source = tmp_path / "leads.csv"
    source.write_text(
        "name,email\n" + "".join(f"Lead {n},l{n}@example.com\n" for n in range(30)) + ",no-name\n", encoding="utf-8"
    )
    result = cli("import", str(source))
    assert result.exit_code == 1 and "nothing was imported" in result.stderr
    assert _indexes(db_path) == before and snapshot() == rows
    assert cli("import", str(source), "--dry-run").exit_code == 1
    assert _indexes(db_path) == before and snapshot() == rows
