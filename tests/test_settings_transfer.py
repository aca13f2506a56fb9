"""`export --what all` carries the pipeline's settings, `import` restores them; `rules load` says what changed."""

import json

import pytest


@pytest.fixture
def customised(ok, new_lead, tmp_path):
    """A pipeline with its own stages, rules and quota, and a few leads (won, lost, open)."""
    ok("stages", "add", "Negotiation", "--probability", "85")
    ok("stages", "set", "Contact", "--probability", "40", "--idle-days", "9", "--min-score", "20")
    rules = ok("rules", "export").stdout.replace("points = 15", "points = 18")
    assert rules != ok("rules", "export").stdout
    (tmp_path / "rules.toml").write_text(rules, encoding="utf-8")
    ok("rules", "load", tmp_path / "rules.toml")
    ok("forecast", "--quota", "40k", "--period", "quarter", "--save")
    won = new_lead("Ada", "--value", "10k", "--title", "CTO", "--at", "2026-08-01")
    ok("won", won, "--at", "2026-09-01")
    lost = new_lead("Bob", "--value", "4k", "--at", "2026-08-05")
    ok("lost", lost, "--reason", "price", "--at", "2026-08-20")
    new_lead("Cy", "--value", "7k", "--title", "CTO", "--stage", "Negotiation", "--at", "2026-11-01")
    new_lead("Dee", "--value", "3k", "--stage", "Contact", "--force", "--at", "2026-11-10")


FIGURES = (
    ["forecast", "-f", "json"],
    ["list", "--status", "all", "-f", "json"],
    ["stages", "list", "-f", "json"],
    ["rules", "export"],
    ["metrics", "-f", "json"],
)


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_round_trip_gives_the_same_stages_rules_scores_and_forecasts(ok, customised, tmp_path, fmt):
    backup = tmp_path / f"backup.{fmt}"
    ok("export", "--what", "all", "-f", fmt, "-o", backup)
    before = [ok(*command).stdout for command in FIGURES]
    restored = tmp_path / "restored.db"
    result = ok("--db", restored, "import", backup)
    assert "Restored the pipeline's settings" in result.stderr
    assert "Discovery → Qualification → Contact → Proposal → Negotiation" in result.stderr
    assert "the quota (40,000 per quarter)" in result.stderr
    assert [ok("--db", restored, *command).stdout for command in FIGURES] == before
    forecast = json.loads(before[0])
    assert forecast["quota"]["amount"] == 40000.0


def test_settings_are_left_out_of_a_pipeline_that_has_leads(ok, customised, new_lead, tmp_path):
    backup = tmp_path / "backup.jsonl"
    ok("export", "--what", "all", "-o", backup)
    other = tmp_path / "other.db"
    ok("--db", other, "add", "Someone")
    result = ok("--db", other, "import", backup, "--create-stages")
    assert "settings (stages, rules, quota) were left out: this pipeline already has leads" in result.stderr
    assert [row["name"] for row in json.loads(ok("--db", other, "stages", "list", "-f", "json").stdout)] == [
        "Discovery",
        "Qualification",
        "Contact",
        "Proposal",
        "Negotiation",
    ]  # Negotiation came with Cy's row


@pytest.mark.parametrize(
    "stages, message",
    [
        ('[{"name": "Only", "probability": 10, "idle_days": 5}]', "the settings record is not valid (stages"),
        (
            '[{"name": "A", "probability": 10, "idle_days": 5}, {"name": "Won", "probability": 90, "idle_days": 5}]',
            "'Won' is a lead status, not a stage",
        ),
        (
            '[{"name": "A", "probability": 10, "idle_days": 5}, {"name": "a", "probability": 90, "idle_days": 5}]',
            "names a stage twice",
        ),
    ],
)
def test_a_bad_settings_record_refuses_the_file(cli, ok, tmp_path, snapshot, stages, message):
    ok("list")
    before = snapshot()
    path = tmp_path / "bad.jsonl"
    path.write_text(
        f'{{"type": "settings", "stages": {stages}, "scoring": {{}}, "cleanup": {{}}}}\n'
        '{"type": "lead", "name": "Ada"}\n',
        encoding="utf-8",
    )
    result = cli("import", path)
    assert result.exit_code == 1 and message in result.stderr
    assert snapshot() == before


def test_rules_load_says_what_it_replaced_and_removed(ok, tmp_path):
    exported = ok("rules", "export").stdout
    demographic_only = exported[: exported.index("[[scoring.behavioural]]")] + exported[exported.index("[stages.") :]
    demographic_only = demographic_only.replace("mql = 50", "mql = 55")
    path = tmp_path / "rules.toml"
    path.write_text(demographic_only, encoding="utf-8")
    result = ok("rules", "load", path)
    assert "thresholds: mql 50 → 55" in result.stderr
    assert 'behavioural rules: removed all 10: "Email opens", "Web visits"' in result.stderr
    assert "unchanged: demographic rules" in result.stderr
    assert "Warning: The file has no behavioural rules, so all 10 were removed." in result.stderr
    again = ok("rules", "load", path)
    assert "removed" not in again.stderr and "Warning" not in again.stderr
    assert "unchanged: thresholds, demographic rules, behavioural rules" in again.stderr
