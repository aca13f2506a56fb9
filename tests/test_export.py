"""`pipectl export`: formats, filters, activities, formula neutralisation, files and stdout."""

import csv
import io
import json

import pytest


@pytest.fixture
def pipeline(new_lead, ok):
    ada = new_lead(
        "Ada Lovelace",
        "--company",
        "Analytical",
        "--email",
        "ada@example.com",
        "--value",
        "12k",
        "--tag",
        "warm",
        "--tag",
        "vip",
        "--field",
        "Region=EU",
        "--owner",
        "sam",
        "--at",
        "-10d",
    )
    bob = new_lead('=HYPERLINK("x")', "--company", "Acme, Inc", "--value", "500", "--owner", "kim", "--at", "-2d")
    ok("log", str(bob), "call", "--note", 'said "hi", twice\nthen left', "--at", "-1d")
    ok("won", str(ada))
    return ada, bob


def test_leads_csv_has_contract_columns_tags_and_fields(ok, pipeline):
    text = ok("export").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["name"] for row in rows] == ["Ada Lovelace", '\'=HYPERLINK("x")']
    ada = rows[0]
    assert ada["tags"] == "vip; warm" and ada["field:Region"] == "EU" and ada["value"] == "12000.00"
    assert ada["status"] == "won" and ada["budget"] == "unknown"
    assert rows[1]["company"] == "Acme, Inc"


def test_leads_json_and_jsonl(ok, pipeline):
    leads = json.loads(ok("export", "--format", "json").stdout)
    assert [lead["id"] for lead in leads] == list(pipeline)
    assert leads[0]["fields"] == {"Region": "EU"} and leads[0]["tags"] == ["vip", "warm"]
    assert leads[0]["bant"]["budget"] == {"status": "unknown", "note": None}
    lines = ok("export", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == leads


def test_filters_as_in_list(ok, pipeline):
    assert [lead["name"] for lead in json.loads(ok("export", "-f", "json", "--owner", "sam").stdout)] == [
        "Ada Lovelace"
    ]
    assert json.loads(ok("export", "-f", "json", "--status", "open").stdout)[0]["id"] == pipeline[1]
    assert json.loads(ok("export", "-f", "json", "--tag", "vip").stdout)[0]["id"] == pipeline[0]
    assert json.loads(ok("export", "-f", "json", "--tag", "nope").stdout) == []


def test_activities_export_with_lead_email_and_stage_names(ok, pipeline):
    activities = json.loads(ok("export", "--what", "activities", "-f", "json").stdout)
    kinds = [(item["lead_id"], item["kind"]) for item in activities]
    assert kinds == [(1, "created"), (2, "created"), (2, "call"), (1, "won")]
    assert activities[0]["lead_email"] == "ada@example.com" and activities[0]["to_stage"] == "Discovery"
    rows = list(csv.DictReader(io.StringIO(ok("export", "--what", "activities").stdout)))
    assert rows[2]["note"] == 'said "hi", twice\nthen left' and rows[2]["done"] == "true"
    only_kim = json.loads(ok("export", "--what", "activities", "-f", "json", "--owner", "kim").stdout)
    assert {item["lead_id"] for item in only_kim} == {2}


def test_all_as_jsonl_and_json(ok, pipeline):
    lines = [json.loads(line) for line in ok("export", "--what", "all").stdout.splitlines()]
    # The pipeline's settings come first, so a restore scores and forecasts the same (issue 15).
    assert [line["type"] for line in lines] == ["settings", "lead", "lead"] + ["activity"] * 4
    assert [stage["name"] for stage in lines[0]["stages"]] == ["Discovery", "Qualification", "Contact", "Proposal"]
    document = json.loads(ok("export", "--what", "all", "-f", "json").stdout)
    assert len(document["leads"]) == 2 and len(document["activities"]) == 4
    assert document["settings"]["stages"] == lines[0]["stages"]


def test_all_as_csv_is_refused(cli, pipeline):
    result = cli("export", "--what", "all", "-f", "csv")
    assert result.exit_code == 2 and "--what all needs --format jsonl or json" in result.stderr


def test_bad_options(cli, pipeline):
    assert cli("export", "--what", "deals").exit_code == 2
    result = cli("export", "-f", "xml")
    assert result.exit_code == 2 and "--format xml: this command writes csv, json or jsonl" in result.stderr
    assert cli("export", "--status", "maybe").exit_code == 2


def test_output_file(ok, pipeline, tmp_path):
    target = tmp_path / "out.csv"
    result = ok("export", "-o", str(target))
    assert "Exported 2 row(s)" in result.stderr and result.stdout == ""
    assert target.read_text(encoding="utf-8").startswith("id,name,company")


def test_empty_pipeline_exports_headers_and_empty_lists(ok):
    assert ok("export").stdout.startswith("id,name")
    assert json.loads(ok("export", "-f", "json").stdout) == []
    # No leads, but the settings (stages, rules) are still the pipeline's.
    [settings] = [json.loads(line) for line in ok("export", "--what", "all").stdout.splitlines()]
    assert settings["type"] == "settings" and settings["quota"] is None


def test_a_failed_export_leaves_the_existing_file_alone(cli, ok, tmp_path):
    ok("add", "Ada")
    target = tmp_path / "backup.csv"
    target.write_text("precious\n")
    result = cli("export", "-o", target, "--stage", "Nowhere")
    assert result.exit_code == 1
    assert target.read_text() == "precious\n"
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("backup")) == ["backup.csv"]
    ok("export", "-o", target)
    assert target.read_text().startswith("id,name")
