"""`pipectl import`: formats, mapping, validation, stages, duplicates, activities, dry run, atomicity."""

import csv
import json

import pytest

from backends import query
from pipectl.contract import unneutralise
from pipectl.core.import_mapping import build_mapping, normalise_header


@pytest.fixture
def fresh(ok):
    """A created pipeline, so that `snapshot()` has something to compare."""
    ok("list")


def write(tmp_path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def leads(ok, *args) -> list[dict]:
    return json.loads(ok("list", "--status", "all", "-f", "json", *args).stdout)


def rows(db_location, sql: str) -> list[tuple]:
    return query(db_location, sql)


SPREADSHEET = """First Name,Last Name,Company Name,E-mail,Deal value,Deal Stage,Created,Lead Source,Favourite colour
Ada,Lovelace,Analytical,ada@example.com,"$22,700.00",Qualification,"15 Apr, 2021 00:02:00",Web,green
Grace,Hopper,Navy,grace@example.com,12k,,2021-05-01,Referral,
"""


# ---- mapping ------------------------------------------------------------------------------------


def test_headers_are_recognised_whatever_their_spelling():
    assert normalise_header(" E-mail ") == "email"
    mapping = build_mapping(
        [
            "First Name",
            "LAST_NAME",
            "Organization",
            "Email Address",
            "Amount",
            "Expected Revenue",
            "Stage",
            "Created Time",
            "Closing Date",
            "Mobile",
            "Job Title",
            "Lead Owner",
            "Lead Status",
            "Lost Reason",
            "Tags",
            "Shoe size",
        ]
    )
    assert mapping.fields == {
        "first_name": "First Name",
        "last_name": "LAST_NAME",
        "company": "Organization",
        "email": "Email Address",
        "phone": "Mobile",
        "title": "Job Title",
        "owner": "Lead Owner",
        "value": "Amount",
        "stage": "Stage",
        "status": "Lead Status",
        "tags": "Tags",
        "created_at": "Created Time",
        "closed_at": "Closing Date",
        "lost_reason": "Lost Reason",
    }
    # The second amount column stays a custom field rather than being lost.
    assert mapping.custom == {"Expected Revenue": "Expected Revenue", "Shoe size": "Shoe size"}


def test_map_and_ignore_win_over_recognition():
    mapping = build_mapping(
        ["Org", "Amount", "Notes", "Value (EUR)"],
        maps=["Org=company", "Value (EUR)=value", "Amount=field:list price"],
        ignore=["Notes"],
    )
    assert mapping.fields == {"company": "Org", "value": "Value (EUR)"}
    assert mapping.custom == {"Amount": "list price"} and mapping.ignored == ["Notes"]


def test_neutralised_cells_read_back():
    assert unneutralise("'=SUM(A1)") == "=SUM(A1)"
    assert unneutralise("'-5") == "-5"
    assert unneutralise("'quoted'") == "'quoted'"


# ---- formats ------------------------------------------------------------------------------------


def test_spreadsheet_csv_with_common_headers(ok, tmp_path):
    result = ok("import", write(tmp_path, "people.csv", SPREADSHEET))
    assert "2 lead(s) added" in result.stderr
    ada, grace = leads(ok)
    assert (ada["name"], ada["company"], ada["email"], ada["value"]) == (
        "Ada Lovelace",
        "Analytical",
        "ada@example.com",
        22700.0,
    )
    assert ada["stage"] == "Qualification" and ada["created_at"].startswith("2021-04-15T00:02:00")
    assert ada["fields"] == {"Favourite colour": "green"} and ada["source"] == "Web"
    assert grace["stage"] == "Discovery" and grace["value"] == 12000.0 and grace["fields"] == {}


def test_semicolon_csv_with_bom(ok, tmp_path):
    text = "\ufeffname;company;value\nJosé Núñez;Café, Ltd;1.200,50\n"
    ok("import", write(tmp_path, "eu.csv", text))
    (lead,) = leads(ok)
    assert (lead["name"], lead["company"], lead["value"]) == ("José Núñez", "Café, Ltd", 1200.5)


def test_windows_1252_file_is_read_with_a_warning(ok, tmp_path):
    result = ok("import", write(tmp_path, "old.csv", "name,company\nRenée,Société\n", encoding="cp1252"))
    assert "not UTF-8" in result.stderr
    assert leads(ok)[0]["name"] == "Renée"


def test_json_array_and_jsonl(ok, tmp_path):
    ok(
        "import",
        write(
            tmp_path,
            "a.json",
            json.dumps([{"name": "A", "value": 10.5, "tags": ["x", "Y"], "fields": {"plan": "pro"}}]),
        ),
    )
    ok("import", write(tmp_path, "b.jsonl", '{"name": "B", "email": "b@example.com"}\n\n{"name": "C"}\n'))
    first, second, third = leads(ok)
    assert first["value"] == 10.5 and first["tags"] == ["x", "y"] and first["fields"] == {"plan": "pro"}
    assert second["email"] == "b@example.com" and third["name"] == "C"


def test_stdin_csv_and_jsonl(ok):
    ok("import", "-", input="name,email\nDee,dee@example.com\n")
    ok("import", "-", input='{"name": "Eve"}\n{"name": "Fay"}\n')
    assert [lead["name"] for lead in leads(ok)] == ["Dee", "Eve", "Fay"]


def test_missing_file_and_bad_format(cli, tmp_path):
    # A bad file is a refused action (exit 1); a bad option value is bad usage (exit 2), as docs/architecture.md says.
    result = cli("import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1 and "There is no file" in result.stderr
    result = cli("import", write(tmp_path, "a.csv", "name\nA\n"), "--format", "xml")
    assert result.exit_code == 2 and "--format is one of" in result.stderr
    result = cli("import", write(tmp_path, "b.jsonl", '{"name": "A"}\nnot json\n'))
    assert result.exit_code == 1 and "Line 2 is not valid JSON" in result.stderr


def test_a_failed_import_leaves_no_rejects_file_and_a_kept_one_is_private(cli, ok, tmp_path, monkeypatch):
    import stat

    monkeypatch.chdir(tmp_path)  # the rejects file goes to the current folder (issue 15)
    bad = write(tmp_path, "bad.csv", "name,stage\nA,Nowhere\nB,\n")
    assert cli("import", bad, "--skip-invalid").exit_code == 1
    assert not any(path.name.startswith("bad.csv.") for path in tmp_path.iterdir())
    partly = write(tmp_path, "partly.csv", "name,email\nA,not-an-email\nB,b@example.com\n")
    ok("import", partly, "--skip-invalid")
    rejects = tmp_path / "partly.csv.rejects.csv"
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    assert "not-an-email" in rejects.read_text()


def test_a_refused_dry_run_does_not_claim_what_it_would_add(cli, tmp_path):
    result = cli("import", write(tmp_path, "v.csv", "name,email\nA,bad\n"), "--dry-run")
    assert result.exit_code == 1
    assert "would be refused" in result.stderr and "would be added" not in result.stderr


def test_map_errors_name_the_columns(cli, tmp_path, snapshot, fresh):
    path = write(tmp_path, "a.csv", "Who,Org\nA,B\n")
    before = snapshot()
    result = cli("import", path, "--map", "Nope=name")
    assert result.exit_code == 2 and "no such column" in result.stderr and "Who, Org" in result.stderr
    result = cli("import", path, "--map", "Who=colour")
    assert result.exit_code == 2 and "no field of that name" in result.stderr
    result = cli("import", path, "--map", "Who")
    assert result.exit_code == 2 and "OLD=NEW" in result.stderr
    assert snapshot() == before


def test_map_and_ignore_from_the_command_line(ok, tmp_path):
    ok(
        "import",
        write(tmp_path, "a.csv", "Who,Org,Secret\nA,B,x\n"),
        "--map",
        "Who=name",
        "--map",
        "Org=company",
        "--ignore",
        "secret",
    )
    (lead,) = leads(ok)
    assert (lead["name"], lead["company"], lead["fields"]) == ("A", "B", {})


# ---- validation -----------------------------------------------------------------------------------

BAD = """name,email,value,created
Good,good@example.com,10,2026-01-01
Bad Email,not-an-email,10,2026-01-01
Bad Amount,x@example.com,lots,2026-01-01
Bad Date,y@example.com,5,someday
,z@example.com,5,2026-01-01
Future,f@example.com,5,2027-01-01
"""


def test_bad_rows_refuse_the_whole_import(cli, tmp_path, snapshot, fresh):
    before = snapshot()
    result = cli("import", write(tmp_path, "bad.csv", BAD))
    assert result.exit_code == 1
    message = result.stderr
    assert "5 row(s) cannot be imported; nothing was imported" in message
    assert "row 3: email: 'not-an-email' is not an email address" in message
    assert "row 4: value: cannot read the amount 'lots'" in message
    assert "row 5: created: cannot read the date 'someday'" in message
    assert "row 6: name: a lead needs a name" in message
    assert "row 7: created: 2027-01-01 is in the future" in message
    assert "--skip-invalid" in message
    assert snapshot() == before


def test_long_lists_of_bad_rows_are_capped(cli, tmp_path):
    text = "name,email\n" + "".join(f"P{i},bad{i}\n" for i in range(30))
    result = cli("import", write(tmp_path, "bad.csv", text))
    assert result.exit_code == 1 and "and 10 more" in result.stderr and "row 21:" in result.stderr
    assert "row 22:" not in result.stderr


def test_skip_invalid_writes_rejects(ok, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the rejects file goes to the current folder (issue 15)
    path = write(tmp_path, "bad.csv", BAD)
    result = ok("import", path, "--skip-invalid")
    assert "1 lead(s) added" in result.stderr and "5 row(s) were not imported" in result.stderr
    with open(path + ".rejects.csv", encoding="utf-8") as file:
        rejected = list(csv.DictReader(file))
    assert [row["name"] for row in rejected] == ["Bad Email", "Bad Amount", "Bad Date", "", "Future"]
    assert rejected[0]["error"] == "email: 'not-an-email' is not an email address"
    assert [lead["name"] for lead in leads(ok)] == ["Good"]


def test_rejects_to_a_chosen_file_and_only_with_skip_invalid(ok, cli, tmp_path):
    path = write(tmp_path, "bad.csv", BAD)
    result = cli("import", path, "--skip-invalid", "--rejects", str(tmp_path / "missing" / "r.csv"))
    assert result.exit_code == 2 and "Cannot write the rejects file" in result.stderr
    target = tmp_path / "r.csv"
    ok("import", path, "--skip-invalid", "--rejects", str(target))
    assert target.read_text(encoding="utf-8").startswith("name,email,value,created,error")
    result = cli("import", path, "--rejects", str(target))
    assert result.exit_code == 2 and "--skip-invalid" in result.stderr


# ---- stages and outcomes --------------------------------------------------------------------------

DEALS = """Deal Name,Stage,Amount,Created Time,Closing Date,Lost Reason
Won deal,Closed Won,"$1,000.00","01 Mar, 2026 10:00:00","20 Mar, 2026 00:00:00",
Lost deal,Closed Lost,500,2026-03-02,2026-03-10,price
Open deal,Negotiation,700,2026-03-03,2026-12-31,
Other deal,Needs Analysis,300,2026-03-04,,
"""


def test_unknown_stages_are_refused_with_the_list(cli, tmp_path, snapshot, fresh):
    before = snapshot()
    result = cli("import", write(tmp_path, "deals.csv", DEALS))
    assert result.exit_code == 1
    assert "'Needs Analysis' (1 row), 'Negotiation' (1 row)" in result.stderr
    assert "--stage-map" in result.stderr and "--create-stages" in result.stderr
    assert snapshot() == before


def test_stage_map_keeps_outcomes_dates_and_history(ok, tmp_path, db_location):
    ok(
        "import",
        write(tmp_path, "deals.csv", DEALS),
        "--stage-map",
        "Negotiation=Proposal",
        "--stage-map",
        "needs analysis=won",
    )
    won, lost, open_deal, other = leads(ok)
    assert (won["status"], won["closed_at"][:10], won["value"]) == ("won", "2026-03-20", 1000.0)
    assert (lost["status"], lost["lost_reason"], lost["closed_at"][:10]) == ("lost", "price", "2026-03-10")
    assert open_deal["status"] == "open" and open_deal["stage"] == "Proposal" and open_deal["closed_at"] is None
    assert open_deal["fields"] == {"Closing Date": "2026-12-31"}
    assert other["status"] == "won"
    history = rows(db_location, "select lead_id, kind from activities order by lead_id, at")
    assert history == [
        (1, "created"),
        (1, "won"),
        (2, "created"),
        (2, "lost"),
        (3, "created"),
        (4, "created"),
        (4, "won"),
    ]


def test_create_stages_adds_them_at_the_end_within_the_limit(ok, cli, tmp_path, snapshot):
    ok("import", write(tmp_path, "a.csv", "name,stage\nA,Negotiation\nB,Contract\n"), "--create-stages")
    stages = [stage["name"] for stage in json.loads(ok("stages", "list", "-f", "json").stdout)]
    assert stages[-2:] == ["Negotiation", "Contract"]
    before = snapshot()
    result = cli("import", write(tmp_path, "b.csv", "name,stage\nC,Signed\n"), "--create-stages")
    assert result.exit_code == 1 and "at most 6 stages" in result.stderr and "--stage-map" in result.stderr
    assert snapshot() == before


def test_default_stage(ok, cli, tmp_path):
    ok("import", write(tmp_path, "a.csv", "name\nA\n"), "--default-stage", "contact")
    assert leads(ok)[0]["stage"] == "Contact"
    assert cli("import", write(tmp_path, "b.csv", "name\nB\n"), "--default-stage", "nowhere").exit_code == 1


def test_status_words_of_other_crms(ok, tmp_path):
    ok("import", write(tmp_path, "a.csv", "name,Lead Status\nA,Junk Lead\nB,Contacted\nC,won\n"))
    junk, contacted, won = leads(ok)
    # "Junk Lead" says the lead was lost, not why: no reason, and the word is kept (issue 15).
    assert (junk["status"], junk["lost_reason"]) == ("lost", None)
    assert junk["fields"] == {"Lead Status": "Junk Lead"}
    assert contacted["status"] == "open" and contacted["fields"] == {"Lead Status": "Contacted"}
    assert won["status"] == "won"


# ---- duplicates -----------------------------------------------------------------------------------


def test_duplicates_against_the_database_and_within_the_file(new_lead, cli, tmp_path, snapshot):
    new_lead("Ada", "--email", "ADA@example.com")
    new_lead("Bob", "--company", "Acme")
    text = "name,company,email\nAda L,,ada@example.com\nbob,ACME,\nCy,,cy@example.com\nCy again,,Cy@Example.com\n"
    before = snapshot()
    result = cli("import", write(tmp_path, "d.csv", text))
    assert result.exit_code == 1
    assert "row 2: same email as lead #1" in result.stderr
    assert "row 3: same name and company as lead #2" in result.stderr
    assert "row 5: same email as row 4" in result.stderr
    assert "--on-duplicate skip" in result.stderr
    assert snapshot() == before


def test_on_duplicate_skip_and_update(new_lead, ok, tmp_path):
    ada = new_lead("Ada", "--email", "ada@example.com", "--tag", "old")
    path = write(tmp_path, "d.csv", "name,email,phone,tags\nAda L,ada@example.com,555,new\nNew,n@example.com,,\n")
    result = ok("import", path, "--on-duplicate", "skip")
    assert "1 lead(s) added" in result.stderr and "1 duplicate(s) skipped" in result.stderr
    result = ok(
        "import",
        write(tmp_path, "e.csv", "name,email,phone,tags\nAda L,ada@example.com,555,new\n"),
        "--on-duplicate",
        "update",
    )
    assert "1 updated" in result.stderr
    lead = json.loads(ok("show", str(ada), "-f", "json").stdout)
    assert (lead["name"], lead["phone"], lead["tags"]) == ("Ada L", "555", ["new", "old"])
    assert lead["activities"][0]["kind"] == "edited"


def test_bad_duplicate_mode(cli, tmp_path):
    result = cli("import", write(tmp_path, "a.csv", "name\nA\n"), "--on-duplicate", "merge")
    assert result.exit_code == 2 and "--on-duplicate is one of error, skip, update" in result.stderr


# ---- activities -----------------------------------------------------------------------------------


def test_activities_by_email_and_id(new_lead, ok, cli, tmp_path, db_location):
    ada = new_lead("Ada", "--email", "ada@example.com", "--at", "-30d")
    text = (
        f"lead_email,lead_id,kind,at,note\nada@example.com,,call,2026-11-01 10:00,first call\n"
        f",{ada},Email Open,2026-11-02,\n"
    )
    result = ok("import", write(tmp_path, "acts.csv", text), "--what", "activities")
    assert "2 activities added" in result.stderr
    assert rows(db_location, "select kind, note from activities where lead_id = 1 order by at")[1:] == [
        ("call", "first call"),
        ("email_open", None),
    ]
    assert leads(ok)[0]["last_activity_at"].startswith("2026-11-02")


def test_bad_activities_are_listed(new_lead, cli, tmp_path, snapshot):
    new_lead("Ada", "--email", "ada@example.com")
    text = "lead_email,kind,at\nnobody@example.com,call,2026-11-01\nada@example.com,dance,2026-11-01\n"
    before = snapshot()
    result = cli("import", write(tmp_path, "acts.csv", text), "--what", "activities")
    assert result.exit_code == 1
    assert "row 3: kind: 'dance' is not an activity kind" in result.stderr
    assert "row 2: lead_email: no lead has the email nobody@example.com" in result.stderr
    assert snapshot() == before


# ---- dry run and atomicity ------------------------------------------------------------------------


def test_dry_run_shows_mapping_and_rows_and_writes_nothing(ok, tmp_path, snapshot, fresh):
    before = snapshot()
    result = ok("import", write(tmp_path, "people.csv", SPREADSHEET), "--dry-run")
    assert "Company Name" in result.stdout and "company" in result.stdout
    assert "field:Favourite colour" in result.stdout and "Analytical" in result.stdout
    assert "Dry run: 2 lead(s) would be added" in result.stderr
    assert snapshot() == before


def test_dry_run_reports_what_would_fail(cli, tmp_path, snapshot, fresh):
    before = snapshot()
    result = cli("import", write(tmp_path, "bad.csv", BAD), "--dry-run")
    assert result.exit_code == 1 and "Bad Email" not in result.stderr and "row 3: email" in result.stderr
    assert "Good" in result.stdout
    assert snapshot() == before


def test_interrupted_import_leaves_the_database_as_it_was(database, tmp_path, snapshot, monkeypatch):
    from pipectl.core import import_writer, importing
    from pipectl.core.import_sources import open_source

    with database.session() as session:
        from pipectl.core.leads import add_lead, validate_fields

        add_lead(session, validate_fields(name="Existing"))
    before = snapshot()
    path = write(tmp_path, "big.csv", "name\n" + "".join(f"Lead {i}\n" for i in range(2500)))
    calls = []
    original = import_writer.Writer._insert

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C half-way
        return original(self, *args)

    monkeypatch.setattr(import_writer.Writer, "_insert", failing)
    with pytest.raises(KeyboardInterrupt), database.session() as session:
        importing.import_file(session, open_source(path), importing.ImportOptions())
    assert len(calls) == 2
    assert snapshot() == before


def test_core_import_returns_counts(session, tmp_path):
    from pipectl.core.import_sources import open_source
    from pipectl.core.importing import ImportOptions, import_file

    path = write(tmp_path, "a.jsonl", "".join(json.dumps({"name": f"L{i}"}) + "\n" for i in range(1205)))
    result = import_file(session, open_source(path), ImportOptions())
    assert result.counts.added == 1205 and result.mappings["lead"].fields == {"name": "name"}


def test_parts_of_a_full_export(ok, tmp_path, db_location):
    """`--what leads` takes the leads of a full export (with a history made for them); `--what activities`
    then adds the file's activities to the leads with the same ids."""
    lines = [
        json.dumps(
            {
                "type": "lead",
                "id": 7,
                "name": "Ada",
                "status": "won",
                "created_at": "2026-10-01",
                "closed_at": "2026-11-01",
            }
        ),
        json.dumps(
            {
                "type": "activity",
                "id": 3,
                "lead_id": 7,
                "kind": "call",
                "at": "2026-10-15 10:00",
                "note": "hello",
                "done": True,
            }
        ),
    ]
    path = write(tmp_path, "all.jsonl", "\n".join(lines) + "\n")
    ok("import", path, "--what", "leads")
    assert rows(db_location, "select lead_id, kind from activities order by at") == [(7, "created"), (7, "won")]
    ok("import", path, "--what", "activities")
    assert rows(db_location, "select lead_id, kind, note from activities where kind = 'call'") == [(7, "call", "hello")]
