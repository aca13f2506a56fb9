"""`pipectl clean` (dry run, archive, purge) and `pipectl restore`, end to end."""

import csv
import hashlib
import io
import json

import pytest

import pipectl.cli.cleanup as cleanup_cli
from backends import query


@pytest.fixture
def terminal(monkeypatch):
    """Pretend stdin is a terminal, so `clean` asks and CliRunner's input answers."""
    monkeypatch.setattr(cleanup_cli, "stdin_is_terminal", lambda: True)


@pytest.fixture
def pipeline_with_dead_leads(ok, new_lead):
    """Three leads: one idle and old, one with three unanswered calls, one fresh."""
    idle = new_lead("Idle Ida", "--at", "2026-05-01", "--tag", "cold", "--field", "region=EU")
    silent = new_lead("Silent Sam", "--at", "2026-11-15")
    for day in (16, 18, 20):
        ok("log", silent, "call", "--at", f"2026-11-{day}")
    fresh = new_lead("Fresh Fay", "--at", "2026-11-22")
    ok("move", fresh, "Contact", "--at", "2026-11-22")
    return {"idle": idle, "silent": silent, "fresh": fresh}


def file_hash(backend, path) -> str | None:
    """The SQLite file's hash (a PostgreSQL database has no file; the snapshot covers it there)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if backend == "sqlite" else None


def lead_json(ok, lead_id) -> dict:
    rows = json.loads(ok("list", "--status", "all", "--format", "json").stdout)
    return next(row for row in rows if row["id"] == lead_id)


def activities(db_location, lead_id, kind) -> list:
    return query(
        db_location,
        "SELECT note, data, from_stage_id FROM activities WHERE lead_id = :lead AND kind = :kind",
        {"lead": lead_id, "kind": kind},
    )


# -- dry run ------------------------------------------------------------------------------------


def test_dry_run_lists_every_reason_and_leaves_the_file_unchanged(
    ok, pipeline_with_dead_leads, backend, db_path, snapshot
):
    leads = pipeline_with_dead_leads
    before, rows = file_hash(backend, db_path), snapshot()
    result = ok("clean", "--dry-run", "--format", "json")
    assert file_hash(backend, db_path) == before and snapshot() == rows
    assert json.loads(result.stdout) == [
        {
            "id": leads["idle"],
            "name": "Idle Ida",
            "stage": "Discovery",
            "action": "archive",
            "reasons": ["no activity for 206 days (limit 14 in Discovery)", "open for 206 days (limit 180)"],
        },
        {
            "id": leads["silent"],
            "name": "Silent Sam",
            "stage": "Discovery",
            "action": "archive",
            "reasons": ["no reply to 3 outreach attempts since 2026-11-16 (limit 3)"],
        },
    ]
    assert "2 lead(s) would be archived; nothing was changed" in result.stderr


def test_dry_run_table_and_filters(ok, pipeline_with_dead_leads, db_location):
    leads = pipeline_with_dead_leads
    table = ok("clean", "--dry-run").stdout
    assert "Idle Ida" in table and "open for 206 days" in table and "Fresh Fay" not in table

    def ids(*options):
        return [item["id"] for item in json.loads(ok("clean", "--dry-run", "-f", "json", *options).stdout)]

    assert ids("--rule", "no-response") == [leads["silent"]]
    assert ids("--rule", "too-old", "--rule", "idle") == [leads["idle"]]
    assert ids("--older-than", "30d") == [leads["idle"]]
    assert ids("--stage", "Contact") == []
    assert ids("--stage", "discovery") == [leads["idle"], leads["silent"]]
    jsonl = ok("clean", "--dry-run", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in jsonl] == [leads["idle"], leads["silent"]]
    csv_out = ok("clean", "--dry-run", "-f", "csv").stdout.splitlines()
    assert csv_out[0] == "id,name,stage,reasons,action"
    assert csv_out[1].endswith(
        "no activity for 206 days (limit 14 in Discovery); open for 206 days (limit 180),archive"
    )


@pytest.mark.parametrize(
    "options, exit_code, text",
    [
        (("--rule", "bogus"), 2, "Unknown rule 'bogus'"),
        (("--older-than", "soon"), 2, "Cannot read the duration 'soon'"),
        (("--older-than", "-3d"), 2, "Cannot read the duration"),
        (("--stage", "Nowhere"), 1, "There is no stage 'Nowhere'"),
        (("--purge",), 2, "--purge needs --older-than"),
        (("--purge", "--older-than", "1y", "--rule", "idle"), 2, "drop --rule and --stage"),
    ],
)
def test_bad_options_are_refused_and_change_nothing(cli, pipeline_with_dead_leads, snapshot, options, exit_code, text):
    before = snapshot()
    result = cli("clean", "--dry-run", *options)
    assert result.exit_code == exit_code, result.output
    assert text in result.stderr
    assert snapshot() == before


# -- archiving ----------------------------------------------------------------------------------


def test_without_a_terminal_and_without_yes_it_refuses(cli, pipeline_with_dead_leads, snapshot):
    before = snapshot()
    result = cli("clean")
    assert result.exit_code == 2
    assert "there is no terminal to ask on; add --yes" in result.stderr
    assert snapshot() == before


def test_yes_archives_with_the_reasons_on_the_lead_and_in_an_activity(ok, pipeline_with_dead_leads, db_location):
    leads = pipeline_with_dead_leads
    result = ok("clean", "--yes", "--format", "json")
    assert [item["id"] for item in json.loads(result.stdout)] == [leads["idle"], leads["silent"]]
    assert "Archived 2 lead(s)" in result.stderr
    idle = lead_json(ok, leads["idle"])
    assert idle["status"] == "archived"
    assert idle["archived_reason"] == "no activity for 206 days (limit 14 in Discovery); open for 206 days (limit 180)"
    assert idle["stage"] == "Discovery"
    assert lead_json(ok, leads["fresh"])["status"] == "open"
    [(note, data, from_stage)] = activities(db_location, leads["idle"], "archived")
    assert note == idle["archived_reason"] and from_stage is not None
    # A JSON column: text from SQLite, already decoded by PostgreSQL's driver.
    assert (json.loads(data) if isinstance(data, str) else data) == {
        "reasons": ["no activity for 206 days (limit 14 in Discovery)", "open for 206 days (limit 180)"]
    }
    # A second sweep finds nothing more; archived leads are not candidates.
    assert json.loads(ok("clean", "--dry-run", "-f", "json").stdout) == []


def test_on_a_terminal_it_shows_the_list_and_asks(ok, terminal, pipeline_with_dead_leads, snapshot):
    leads = pipeline_with_dead_leads
    before = snapshot()
    declined = ok("clean", input="n\n")
    assert "Idle Ida" in declined.stdout and "Archive these 2 lead(s)?" in declined.stderr
    assert "Nothing was archived." in declined.stderr
    assert snapshot() == before
    accepted = ok("clean", "--rule", "idle", input="y\n")
    assert "Archived 1 lead(s)" in accepted.stderr
    assert lead_json(ok, leads["idle"])["status"] == "archived"
    assert lead_json(ok, leads["silent"])["status"] == "open"


def test_nothing_to_archive_asks_nothing(ok, terminal, new_lead):
    new_lead("Fresh", "--at", "2026-11-22")
    result = ok("clean")
    assert "No lead to archive." in result.stderr and "Archive these" not in result.stderr


# -- restore ------------------------------------------------------------------------------------


def test_archive_then_restore_gives_back_the_same_lead(ok, pipeline_with_dead_leads, db_location):
    lead_id = pipeline_with_dead_leads["idle"]
    ok("edit", lead_id, "--value", "12k")
    before = lead_json(ok, lead_id)
    ok("clean", "--yes")
    result = ok("restore", lead_id, "--note", "wrote back")
    assert "Restored lead" in result.stderr and "to Discovery" in result.stderr
    after = lead_json(ok, lead_id)
    moving = ("updated_at", "last_activity_at")
    assert {k: v for k, v in after.items() if k not in moving} == {k: v for k, v in before.items() if k not in moving}
    assert after["tags"] == ["cold"] and after["fields"] == {"region": "EU"}
    assert after["last_activity_at"].startswith("2026-11-23T09:00")
    assert len(activities(db_location, lead_id, "restored")) == 1
    # Restoring counts as activity: the next sweep leaves the lead alone.
    assert lead_id not in [item["id"] for item in json.loads(ok("clean", "--dry-run", "-f", "json").stdout)]


@pytest.mark.parametrize("which", ["fresh", "won"])
def test_restoring_a_lead_that_is_not_archived_is_refused(cli, ok, pipeline_with_dead_leads, snapshot, which):
    lead_id = pipeline_with_dead_leads["fresh"]
    if which == "won":
        ok("won", lead_id)
    before = snapshot()
    result = cli("restore", lead_id)
    assert result.exit_code == 1
    assert "not archived; only archived leads can be restored" in result.stderr
    assert snapshot() == before


def test_restore_unknown_lead(cli):
    result = cli("restore", "999")
    assert result.exit_code == 1 and "There is no lead #999" in result.stderr


# -- purge --------------------------------------------------------------------------------------


def test_purge_deletes_only_old_archived_leads_with_their_rows(
    ok, cli, pipeline_with_dead_leads, monkeypatch, db_location, snapshot
):
    leads = pipeline_with_dead_leads
    ok("clean", "--yes", "--rule", "too-old")  # archives Idle Ida on 2026-11-23
    old_lost = ok("add", "Old Lost", "--at", "2025-01-01").stdout.strip()
    ok("lost", old_lost, "--reason", "said no", "--at", "2025-01-02")
    monkeypatch.setenv("PIPECTL_NOW", "2027-12-01T09:00:00")
    # Not archived long enough yet: nothing to purge.
    assert "nothing to purge" in ok("clean", "--purge", "--older-than", "2y", "--yes").stderr
    before = snapshot()
    preview = ok("clean", "--purge", "--older-than", "1y", "--dry-run", "-f", "json")
    # The dry run names the leads it would delete as well as counting them (issue 13).
    document = json.loads(preview.stdout)
    doomed = document.pop("list")
    assert document == {"leads": 1, "activities": 2, "tags": 1, "fields": 1, "rows": 5, "dry_run": True}
    assert [(row["id"], row["name"], row["archived_at"][:10]) for row in doomed] == [
        (leads["idle"], "Idle Ida", "2026-11-23")
    ]
    assert doomed[0]["reason"].startswith("open for ")
    refused = cli("clean", "--purge", "--older-than", "1y")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert snapshot() == before
    result = ok("clean", "--purge", "--older-than", "1y", "--yes")
    assert "Deleted 1 archived lead(s) and 5 rows in all (2 activities, 1 tags, 1 custom fields)" in result.stderr
    remaining = {row["id"]: row["status"] for row in json.loads(ok("list", "--status", "all", "-f", "json").stdout)}
    assert remaining == {leads["silent"]: "open", leads["fresh"]: "open", int(old_lost): "lost"}
    orphans = [
        query(db_location, f"SELECT count(*) FROM {table} WHERE lead_id = :lead", {"lead": leads["idle"]})[0][0]
        for table in ("activities", "lead_tags", "lead_fields")
    ]
    assert orphans == [0, 0, 0]


def test_purge_on_a_terminal_asks_first(ok, terminal, pipeline_with_dead_leads, monkeypatch, snapshot):
    ok("clean", "--yes", "--rule", "idle")
    monkeypatch.setenv("PIPECTL_NOW", "2028-01-01T09:00:00")
    before = snapshot()
    declined = ok("clean", "--purge", "--older-than", "1y", input="n\n")
    assert "permanently?" in declined.stderr and "Nothing was deleted." in declined.stderr
    assert snapshot() == before
    accepted = ok("clean", "--purge", "--older-than", "1y", input="y\n")
    assert "Deleted 1 archived lead(s)" in accepted.stderr


def test_purge_never_touches_leads_that_are_not_archived(ok, new_lead, monkeypatch, snapshot):
    new_lead("Ancient open", "--at", "2020-01-01")
    won = new_lead("Ancient won", "--at", "2020-01-01")
    ok("won", won, "--at", "2020-02-01")
    before = snapshot()
    result = ok("clean", "--purge", "--older-than", "1d", "--yes")
    assert "nothing to purge" in result.stderr
    assert snapshot() == before


# -- alerts: list --stale and show --------------------------------------------------------------


def test_list_stale_shows_stalled_leads_with_their_reasons(ok, pipeline_with_dead_leads):
    leads = pipeline_with_dead_leads
    rows = json.loads(ok("list", "--stale", "--format", "json").stdout)
    assert [(row["id"], row["stale"]) for row in rows] == [(leads["idle"], True), (leads["silent"], True)]
    assert rows[1]["stale_reasons"] == ["no reply to 3 outreach attempts since 2026-11-16 (limit 3)"]
    assert [row["id"] for row in json.loads(ok("list", "--stale", "--stage", "Contact", "-f", "json").stdout)] == []
    csv_rows = list(csv.DictReader(io.StringIO(ok("list", "--stale", "--format", "csv").stdout)))
    assert (csv_rows[0]["stale"], csv_rows[0]["stale_reasons"]) == (
        "true",
        "no activity for 206 days (limit 14 in Discovery); open for 206 days (limit 180)",
    )
    table = ok("list", "--stale").stdout
    assert "Why stalled" in table and "Silent Sam" in table and "Fresh Fay" not in table


def test_show_marks_a_stalled_lead(ok, pipeline_with_dead_leads):
    leads = pipeline_with_dead_leads
    detail = json.loads(ok("show", leads["silent"], "--format", "json").stdout)
    assert detail["stale"] is True
    assert detail["stale_reasons"] == ["no reply to 3 outreach attempts since 2026-11-16 (limit 3)"]
    assert "Stalled" in ok("show", leads["silent"]).stdout
    fresh = json.loads(ok("show", leads["fresh"], "--format", "json").stdout)
    assert (fresh["stale"], fresh["stale_reasons"]) == (False, [])
    assert "Stalled" not in ok("show", leads["fresh"]).stdout


def test_a_long_list_is_cut_short_in_the_table_only(ok, pipeline_with_dead_leads, monkeypatch):
    monkeypatch.setattr(cleanup_cli, "TABLE_ROWS", 1)
    table = ok("clean", "--dry-run").stdout
    assert "Idle Ida" in table and "Silent Sam" not in table
    assert "… and 1 more; --format csv or json lists them all." in table
    assert len(json.loads(ok("clean", "--dry-run", "-f", "json").stdout)) == 2
