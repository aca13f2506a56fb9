"""`pipectl import` of other CRMs' exports: the checks and mappings of issue 15, good and bad inputs."""

import json

import pytest

from backends import query


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def leads(ok) -> list[dict]:
    return json.loads(ok("list", "--status", "all", "-f", "json").stdout)


# ---- dates ----------------------------------------------------------------------------------------


def test_a_close_before_the_created_date_is_a_row_problem(cli, ok, tmp_path, snapshot):
    ok("list")
    before = snapshot()
    path = write(
        tmp_path,
        "a.csv",
        "name,status,created,close date\nA,won,2026-03-10,2026-03-08\n"
        "B,won,2026-03-10 15:00,2026-03-10\nC,open,2026-03-10,2026-03-01\n",
    )
    result = cli("import", path)
    assert result.exit_code == 1
    assert "row 2: close date: closed on 2026-03-08, before it was created (2026-03-10)" in result.stderr
    assert "row 3" not in result.stderr and "row 4" not in result.stderr
    assert snapshot() == before
    ok("import", path, "--skip-invalid", "--rejects", str(tmp_path / "r.csv"))
    # A date-only close on the day it was created closes then, never before: no negative cycle.
    b = next(lead for lead in leads(ok) if lead["name"] == "B")
    assert b["closed_at"] == b["created_at"]
    assert json.loads(ok("metrics", "-f", "json").stdout)["average_cycle_days"] == 0.0


def test_an_empty_created_cell_is_a_row_problem_or_takes_the_default(cli, ok, tmp_path, snapshot):
    ok("list")
    before = snapshot()
    path = write(tmp_path, "a.csv", "name,created\nA,2025-01-05\nB,\n")
    result = cli("import", path)
    assert result.exit_code == 1
    assert (
        "row 3: created: the created date is empty; fill it in, or give such rows a date with "
        "--default-created DATE" in result.stderr
    )
    assert snapshot() == before
    ok("import", path, "--default-created", "2024-06-01")
    created = {lead["name"]: lead["created_at"][:10] for lead in leads(ok)}
    assert created == {"A": "2025-01-05", "B": "2024-06-01"}
    assert cli("import", path, "--default-created", "someday").exit_code == 2


def test_a_file_without_a_created_column_says_so_once(ok, tmp_path):
    result = ok("import", write(tmp_path, "a.csv", "name\nA\nB\nC\n"))
    assert result.stderr.count("The file has no created-date column") == 1
    assert "every lead is created 2026-11-23 09:00 (the import time)" in result.stderr


# ---- outcomes -------------------------------------------------------------------------------------


def test_a_lost_lead_without_a_reason_has_none(ok, tmp_path):
    ok(
        "import",
        write(
            tmp_path,
            "a.csv",
            "name,status,lost reason,created\nA,Lost,,2026-01-01\nB,lost,price,2026-01-01\nC,Closed Lost,,2026-01-01\n",
        ),
    )
    assert {lead["name"]: lead["lost_reason"] for lead in leads(ok)} == {"A": None, "B": "price", "C": None}
    reasons = json.loads(ok("metrics", "-f", "json").stdout)["lost_reasons"]
    assert reasons == [{"reason": "not given", "leads": 2}, {"reason": "price", "leads": 1}]


def test_closed_rows_without_a_stage_have_an_unknown_path(ok, tmp_path, db_location):
    ok("import", write(tmp_path, "a.csv", "name,stage,created\nA,Closed Won,2026-01-01\nB,Contact,2026-01-01\n"))
    rows = query(
        db_location,
        "select l.name, a.kind, a.to_stage_id is not null from activities a "
        "join leads l on l.id = a.lead_id order by a.id",
    )
    assert rows == [("A", "created", 0), ("A", "won", 0), ("B", "created", 1)]


# ---- stages ---------------------------------------------------------------------------------------

STAGED = "name,stage,created\nA,Negotiation,2026-01-01\nB,Demo,2026-01-01\nC,Negotiation,2026-01-01\n"


def stages(ok) -> list[tuple[str, int]]:
    return [(row["name"], row["probability"]) for row in json.loads(ok("stages", "list", "-f", "json").stdout)]


def test_create_stages_in_first_appearance_order_with_probabilities_between_neighbours(ok, tmp_path):
    result = ok("import", write(tmp_path, "a.csv", STAGED), "--create-stages")
    # After Proposal (75 %) and before 100 %: 83 and 92, never 0.
    assert stages(ok) == [
        ("Discovery", 10),
        ("Qualification", 25),
        ("Contact", 50),
        ("Proposal", 75),
        ("Negotiation", 83),
        ("Demo", 92),
    ]
    assert "Created the stage(s) Negotiation (83%), Demo (92%) in the order they first appear" in result.stderr
    assert "--stage-order A,B,C" in result.stderr


def test_create_stages_in_the_order_given(ok, tmp_path):
    ok(
        "import",
        write(tmp_path, "a.csv", STAGED),
        "--create-stages",
        "--stage-order",
        "Discovery, Demo, Qualification, Contact, Proposal, Negotiation",
    )
    assert stages(ok) == [
        ("Discovery", 10),
        ("Demo", 18),
        ("Qualification", 25),
        ("Contact", 50),
        ("Proposal", 75),
        ("Negotiation", 88),
    ]


def test_new_stages_first_take_probabilities_under_the_first_one(ok, tmp_path):
    ok("import", write(tmp_path, "a.csv", STAGED), "--create-stages", "--stage-order", "Demo,Negotiation,Discovery")
    assert stages(ok)[:3] == [("Demo", 3), ("Negotiation", 7), ("Discovery", 10)]


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["--stage-order", "Demo,Negotiation"], "--stage-order orders the stages --create-stages adds", 2),
        (["--create-stages", "--stage-order", " , "], "separated by commas", 2),
        (["--create-stages", "--stage-order", "Demo,Nowhere"], "--stage-order names 'Nowhere'", 1),
        (["--create-stages", "--stage-order", "Contact,Demo,Discovery"], "keep that order", 1),
    ],
)
def test_bad_stage_orders_change_nothing(cli, tmp_path, snapshot, args, message, code):
    path = write(tmp_path, "a.csv", STAGED)
    cli("stages", "list")
    before = snapshot()
    result = cli("import", path, *args)
    assert result.exit_code == code and message in result.stderr
    assert "Traceback" not in result.output
    assert snapshot() == before


def test_a_full_pipeline_is_one_problem_of_the_report(cli, tmp_path):
    text = "name,stage,created\n" + "".join(f"L{n},S{n},2026-01-01\n" for n in range(4)) + ",Contact,2026-01-01\n"
    result = cli("import", write(tmp_path, "a.csv", text), "--create-stages")
    assert result.exit_code == 1
    assert "the file has 2 problems" in result.stderr
    assert "--create-stages cannot add 'S2', 'S3': a pipeline has at most 6 stages" in result.stderr
    assert "row 6: name: a lead needs a name" in result.stderr


# ---- one report, --skip-invalid, --name-from, rejects ---------------------------------------------


def test_every_problem_of_the_file_is_reported_at_once(cli, tmp_path, snapshot):
    cli("list")
    before = snapshot()
    text = "Deal ID,Name,Stage,created\n7,,Negotiation,2026-01-01\n8,Bob,Demo,2026-01-01\n9,Cy,Contact,2026-01-01\n"
    result = cli("import", write(tmp_path, "a.csv", text))
    assert result.exit_code == 1
    assert "Nothing was imported; the file has 2 problems" in result.stderr
    # The nameless row's stage counts among the unknown ones too.
    assert "'Demo' (1 row), 'Negotiation' (1 row)" in result.stderr
    assert "row 2: Name: a lead needs a name (name such rows by an id column with --name-from COLUMN)" in result.stderr
    assert snapshot() == before


def test_name_from_an_id_column(cli, ok, tmp_path):
    path = write(tmp_path, "a.csv", "Deal ID,Name,created\n4563,,2026-01-01\n4564,Bob,2026-01-01\n,,2026-01-01\n")
    result = cli("import", path, "--name-from", "deal id")
    assert (
        result.exit_code == 1 and "row 4: Name: a lead needs a name, and the Deal ID cell is empty too" in result.stderr
    )
    ok("import", path, "--name-from", "Deal ID", "--skip-invalid", "--rejects", str(tmp_path / "r.csv"))
    assert [lead["name"] for lead in leads(ok)] == ["Deal ID 4563", "Bob"]
    missing = cli("import", path, "--name-from", "Ticket")
    assert missing.exit_code == 2 and "--name-from 'Ticket': the file has no such column" in missing.stderr


def test_skip_invalid_that_imports_nothing_exits_1(cli, tmp_path, monkeypatch, snapshot):
    monkeypatch.chdir(tmp_path)
    cli("list")
    before = snapshot()
    result = cli(
        "import",
        write(tmp_path, "a.csv", "name,email,created\nA,nope,2026-01-01\nB,bad,2026-01-01\n"),
        "--skip-invalid",
    )
    assert result.exit_code == 1
    assert "None of the rows could be imported (2 bad); nothing was imported" in result.stderr
    assert "row 2: email" in result.stderr and "row 3: email" in result.stderr
    assert not (tmp_path / "a.csv.rejects.csv").exists()
    assert snapshot() == before


def test_the_rejects_file_goes_to_the_current_folder(ok, tmp_path, monkeypatch):
    source = tmp_path / "export"
    source.mkdir()
    path = write(source, "a.csv", "name,email,created\nA,nope,2026-01-01\nB,b@example.com,2026-01-01\n")
    source.chmod(0o555)  # a read-only export folder
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    try:
        result = ok("import", path, "--skip-invalid")
    finally:
        source.chmod(0o755)
    assert "they are in a.csv.rejects.csv" in result.stderr
    assert (work / "a.csv.rejects.csv").read_text(encoding="utf-8").startswith("name,email,created,error")


# ---- other CRMs' headers, and the dry run ---------------------------------------------------------

HEADERS = {
    "salesforce": (
        "Opportunity Name,Amount,Stage,Close Date,Created Date,Opportunity Owner,Account Name,Lead Source\n"
        'Big deal,"$5,000.00",Closed Won,2026-03-01,2026-01-01,Sam Seller,Acme,Web\n'
    ),
    "pipedrive": (
        "Deal - Title,Deal - Value,Deal - Stage,Deal - Owner,Deal - Status,Deal - Won time,Deal - Lost time,"
        "Deal - Lost reason,Deal - Deal created\n"
        "Big deal,5000,Proposal,Sam Seller,won,2026-03-01 10:00:00,,,2026-01-01 09:00:00\n"
        "Other deal,700,Contact,Sam Seller,lost,,2026-02-01 10:00:00,too dear,2026-01-01 09:00:00\n"
    ),
    "hubspot": (
        "Deal Name,Amount,Deal Stage,Close Date,Create Date,Deal owner\n"
        "Big deal,5000,closedwon,2026-03-01,2026-01-01,Sam Seller\n"
    ),
    "snake_case": (
        "deal_name,deal_stage,deal_value,created_date,close_date,owner_name\n"
        "Big deal,Closed Won,5000,2026-01-01,2026-03-01,Sam Seller\n"
    ),
}


@pytest.mark.parametrize("crm", sorted(HEADERS))
def test_other_crms_headers_are_recognised_as_they_are(ok, tmp_path, crm):
    ok("import", write(tmp_path, f"{crm}.csv", HEADERS[crm]))
    big = leads(ok)[0]
    assert (big["name"], big["value"], big["owner"], big["status"]) == ("Big deal", 5000.0, "Sam Seller", "won")
    assert big["created_at"][:10] == "2026-01-01" and big["closed_at"][:10] == "2026-03-01"
    assert big["fields"] == {}
    if crm == "salesforce":
        assert (big["company"], big["source"]) == ("Acme", "Web")
    if crm == "pipedrive":
        other = leads(ok)[1]
        assert (other["status"], other["closed_at"][:10], other["lost_reason"]) == ("lost", "2026-02-01", "too dear")
        # Pipedrive names the stage a deal closed in: its path is known.
        assert json.loads(ok("metrics", "-f", "json").stdout)["paths"]["unknown"] == 0


def test_dry_run_shows_where_each_header_went_and_creates_no_database(ok, tmp_path):
    target = tmp_path / "new" / "pipeline.db"
    target.parent.mkdir()
    result = ok("--db", str(target), "import", write(tmp_path, "p.csv", HEADERS["pipedrive"]), "--dry-run")
    for column, field in (
        ("Deal - Title", "name"),
        ("Deal - Won time", "won_at"),
        ("Deal - Lost time", "lost_at"),
        ("Deal - Deal created", "created_at"),
        ("Deal - Lost reason", "lost_reason"),
    ):
        assert any(column in line and field in line for line in result.stdout.splitlines()), column
    assert "no pipeline here yet" in result.stderr and "created nothing" in result.stderr
    assert "Dry run: 2 lead(s) would be added" in result.stderr
    assert list(target.parent.iterdir()) == []
