"""`add`, `list`, `show`, `edit`: the everyday lead commands, good input and bad."""

import csv
import io
import json

import pytest


def leads(ok, *options) -> list[dict]:
    return json.loads(ok("list", "-f", "json", *options).stdout)


def test_add_prints_the_id_and_keeps_every_field(ok, new_lead):
    lead_id = new_lead(
        "Ada Lovelace",
        "--company",
        "Analytical Engines",
        "--email",
        "ada@example.com",
        "--phone",
        "+44 20 7946 0000",
        "--title",
        "Head of Research",
        "--industry",
        "Computing",
        "--size",
        "120",
        "--location",
        "London",
        "--source",
        "referral",
        "--owner",
        "me",
        "--value",
        "$12,500.50",
        "--stage",
        "contact",
        "--tag",
        "warm",
        "--tag",
        "Conference",
        "--field",
        "department=R&D",
        "--field",
        "budget code=X1",
    )
    assert lead_id == 1
    (lead,) = leads(ok)
    assert lead["company"] == "Analytical Engines" and lead["company_size"] == 120
    assert lead["value"] == 12500.5
    assert lead["stage"] == "Contact" and lead["status"] == "open"
    assert lead["tags"] == ["conference", "warm"]
    assert lead["fields"] == {"budget code": "X1", "department": "R&D"}
    assert lead["created_at"] == "2026-11-23T09:00:00+00:00"


def test_every_contract_key_is_present(ok, new_lead):
    from pipectl.core.views import CONTRACT_KEYS

    new_lead("Ada")
    (lead,) = leads(ok)
    assert set(CONTRACT_KEYS) <= set(lead)
    detail = json.loads(ok("show", "1", "-f", "json").stdout)
    assert set(CONTRACT_KEYS) <= set(detail)
    assert set(detail["bant"]) == {"budget", "authority", "need", "timeline", "qualified"}
    assert detail["bant"]["budget"] == {"status": "unknown", "note": None}
    assert {"id", "lead_id", "kind", "at", "note", "due", "done"} <= set(detail["activities"][0])


def test_add_at_a_past_date_dates_the_history(ok, new_lead):
    new_lead("Ada", "--at", "2026-11-01")
    (lead,) = leads(ok)
    assert lead["created_at"].startswith("2026-11-01")
    assert lead["stage_entered_at"].startswith("2026-11-01")
    assert lead["days_in_stage"] == 22


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--email", "ada@example.com"], "ada@example.com"),
        (["--email", "ADA@Example.com"], "ada@example.com"),
        (["--company", "analytical"], "Analytical"),
    ],
)
def test_a_likely_duplicate_is_refused_unless_forced(ok, cli, new_lead, snapshot, args, fragment):
    new_lead("Ada Lovelace", "--company", "Analytical", "--email", "ada@example.com")
    before = snapshot()
    name = "ada lovelace" if "--company" in args else "Someone Else"
    result = cli("add", name, *args)
    assert result.exit_code == 1
    assert "looks like a lead already in the pipeline" in result.stderr and fragment in result.stderr
    assert "--force" in result.stderr
    assert snapshot() == before
    forced = ok("add", name, *args, "--force")
    assert "Warning:" in forced.stderr
    assert forced.stdout.strip() == "2"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["Ada", "--email", "not-an-email"], 2, "--email"),
        (["Ada", "--value", "lots"], 2, "Cannot read the amount"),
        (["Ada", "--value", "-5"], 2, "amounts cannot be negative"),
        (["Ada", "--size", "-3"], 2, "--size"),
        (["Ada", "--stage", "Nowhere"], 1, "There is no stage"),
        (["Ada", "--stage", "Proposal"], 1, "Proposal refuses this lead"),
        (["Ada", "--field", "novalue"], 2, "KEY=VALUE"),
        (["Ada", "--field", "industry=x"], 2, "built-in field"),
        (["Ada", "--at", "someday"], 2, "Cannot read the date"),
        (["Ada", "--at", "tomorrow"], 2, "in the future"),
        (["   "], 2, "needs a name"),
        (["Ada", "--tag", " "], 2, "tag cannot be empty"),
    ],
)
def test_bad_input_to_add_changes_nothing(cli, ok, snapshot, args, code, fragment):
    ok("list")  # create the database so there is something to compare
    before = snapshot()
    result = cli("add", *args)
    assert result.exit_code == code, result.output
    assert "Error:" in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.output
    assert snapshot() == before


def test_list_filters_and_sorts(ok, new_lead):
    new_lead("Ada", "--value", "5k", "--owner", "Sam", "--source", "web", "--tag", "hot", "--at", "2026-11-01")
    new_lead("Bob", "--value", "50k", "--owner", "sam", "--stage", "Contact", "--at", "2026-11-10")
    new_lead("Cy", "--source", "Web", "--tag", "hot")
    ok("lost", "2", "--reason", "budget")
    assert [lead["name"] for lead in leads(ok)] == ["Ada", "Cy"]
    assert [lead["name"] for lead in leads(ok, "--status", "all", "--sort", "value")] == ["Bob", "Ada", "Cy"]
    assert [lead["name"] for lead in leads(ok, "--status", "lost")] == ["Bob"]
    assert [lead["name"] for lead in leads(ok, "--tag", "HOT", "--source", "web")] == ["Ada", "Cy"]
    assert [lead["name"] for lead in leads(ok, "--owner", "SAM", "--status", "all")] == ["Ada", "Bob"]
    assert [lead["name"] for lead in leads(ok, "--stage", "discovery", "--sort", "age")] == ["Ada", "Cy"]
    assert [lead["name"] for lead in leads(ok, "--sort", "created", "--limit", "1")] == ["Cy"]
    assert [lead["name"] for lead in leads(ok, "--sort", "last-activity")] == ["Ada", "Cy"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--status", "maybe"], "--status"),
        (["--sort", "vibes"], "--sort"),
        (["--limit", "0"], "--limit"),
        (["--qualified", "--unqualified"], "exclude each other"),
    ],
)
def test_bad_list_options_are_usage_errors(cli, args, fragment):
    result = cli("list", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_list_formats_are_machine_readable(ok, new_lead):
    new_lead('Ada, "the Countess"', "--company", '=HYPERLINK("x")', "--field", "note=line one\nline two")
    new_lead("Bob")
    lines = ok("list", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    rows = list(csv.DictReader(io.StringIO(ok("list", "-f", "csv").stdout)))
    assert rows[0]["name"] == 'Ada, "the Countess"'
    assert rows[0]["company"] == '\'=HYPERLINK("x")'  # neutralised for spreadsheets
    assert rows[0]["field:note"] == "line one\nline two"
    assert rows[1]["field:note"] == ""
    assert json.loads(ok("list", "-f", "json", "--status", "won").stdout) == []


def test_list_table_escapes_markup_and_says_when_empty(ok, new_lead):
    assert "No leads match" in ok("list").stdout
    new_lead("[bold]Acme[/bold]", "--company", "[red]x")
    output = ok("list").stdout
    assert "[bold]Acme[/bold]" in output and "[red]x" in output


def test_show_prints_a_card_with_the_timeline_newest_first(ok, new_lead):
    new_lead("Ada", "--company", "Analytical", "--value", "12k", "--at", "2026-11-01")
    ok("log", "1", "call", "--note", "left a voicemail", "--at", "2026-11-05")
    ok("move", "1", "Contact", "--note", "demo booked", "--at", "2026-11-10")
    output = ok("show", "1").stdout
    assert "#1 Ada" in output and "Contact for 13 day(s)" in output and "12,000" in output
    assert output.index("Discovery → Contact") < output.index("left a voicemail") < output.index("created")
    detail = json.loads(ok("show", "1", "-f", "json").stdout)
    assert [activity["kind"] for activity in detail["activities"]] == ["stage_change", "call", "created"]


def test_show_says_why_an_open_lead_is_stale_and_never_calls_a_closed_one_stale(ok, new_lead):
    new_lead("Ada", "--at", "2026-06-01")
    shown = json.loads(ok("show", "1", "-f", "json").stdout)
    assert shown["stale"] and shown["stale_reasons"]
    ok("lost", "1", "--reason", "price")
    shown = json.loads(ok("show", "1", "-f", "json").stdout)
    assert shown["status"] == "lost" and shown["stale"] is False and shown["stale_reasons"] == []


def test_show_finds_a_lead_by_email_or_name(ok, cli, new_lead):
    new_lead("Ada Lovelace", "--email", "ada@example.com")
    new_lead("Bob", "--company", "A")
    new_lead("Bob", "--company", "B")
    assert json.loads(ok("show", "ADA@example.com", "-f", "json").stdout)["id"] == 1
    assert json.loads(ok("show", "ada lovelace", "-f", "json").stdout)["id"] == 1
    ambiguous = cli("show", "bob")
    assert ambiguous.exit_code == 1 and "names several leads" in ambiguous.stderr
    missing = cli("show", "42")
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: There is no lead #42")


def test_edit_changes_fields_and_logs_what_changed(ok, new_lead):
    new_lead("Ada", "--tag", "cold", "--field", "department=R&D")
    ok(
        "edit",
        "1",
        "--title",
        "CTO",
        "--value",
        "20k",
        "--tag",
        "hot",
        "--untag",
        "cold",
        "--field",
        "department=",
        "--field",
        "region=EU",
    )
    detail = json.loads(ok("show", "1", "-f", "json").stdout)
    assert detail["title"] == "CTO" and detail["value"] == 20000.0
    assert detail["tags"] == ["hot"] and detail["fields"] == {"region": "EU"}
    edited = detail["activities"][0]
    assert edited["kind"] == "edited"
    assert set(edited["data"]["changes"]) == {"title", "value_cents", "tags", "field:department", "field:region"}
    assert "Nothing to change" in ok("edit", "1", "--title", "CTO").stderr


def test_edit_refuses_bad_values_and_duplicates(cli, new_lead, snapshot):
    new_lead("Ada", "--email", "ada@example.com")
    new_lead("Bob")
    before = snapshot()
    for args, code in (
        (["2", "--email", "ada@example.com"], 1),
        (["2", "--email", "nope"], 2),
        (["2", "--name", ""], 2),
        (["9", "--title", "x"], 1),
    ):
        result = cli("edit", *args)
        assert result.exit_code == code, result.output
        assert result.stderr.startswith("Error:")
    assert snapshot() == before


def test_edit_names_the_options_it_changed(ok, new_lead):
    new_lead("Ada")
    assert "Updated lead #1 Ada: size, value." in ok("edit", "1", "--value", "5", "--size", "3").stderr


def test_list_csv_has_a_column_per_custom_field_and_no_empty_fields_column(ok, new_lead):
    new_lead("Ada", "--field", "plan=team")
    header = ok("list", "-f", "csv").stdout.splitlines()[0].split(",")
    assert "fields" not in header and "field:plan" in header
