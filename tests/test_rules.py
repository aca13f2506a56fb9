"""The rules file: load, export, show; a bad file is refused whole with where it is wrong."""

import json
import tomllib
from pathlib import Path

import pytest

from pipectl.core.rules import parse_rules
from pipectl.core.scoring import DEFAULT_SCORING, ScoreModel

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "scoring.toml"

GOOD = """
[thresholds]
nurture_below = 20
mql = 40
sql = 70

[[scoring.demographic]]
name = "Title"
field = "title"
glob = "Head of*"
points = 30

[[scoring.behavioural]]
name = "Replies"
kind = "reply"
points = 10
cap = 20
within = "30d"

[stages.contact]
min_score = 30

[cleanup]
max_age_days = 90
"""


def write(tmp_path, text, name="rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_file_is_the_shipped_default():
    document = parse_rules(EXAMPLE.read_text(encoding="utf-8"), "example")
    assert ScoreModel(thresholds=document.thresholds, scoring=document.scoring) == ScoreModel.model_validate(
        DEFAULT_SCORING
    )
    kinds = {rule.kind for rule in document.scoring.behavioural}
    assert {
        "email_open",
        "web_visit",
        "form_submission",
        "trial_request",
        "content_download",
        "event_registration",
        "social_engagement",
        "reply",
        "meeting",
        "unsubscribe",
    } <= kinds
    fields = {rule.field for rule in document.scoring.demographic}
    assert {"title", "industry", "company_size", "location", "field:department", "source"} <= fields
    assert any(rule.points < 0 for rule in document.scoring.demographic)


def test_load_applies_every_table_and_rescores(ok, new_lead, tmp_path):
    lead = new_lead("Ada", "--title", "Head of Sales")
    result = ok("rules", "load", write(tmp_path, GOOD))
    assert "re-scored 1 open lead(s)" in result.stderr
    assert json.loads(ok("show", lead, "-f", "json").stdout)["score"] == 30
    document = json.loads(ok("rules", "show", "-f", "json").stdout)
    assert document["thresholds"] == {"nurture_below": 20, "mql": 40, "sql": 70}
    assert [rule["name"] for rule in document["scoring"]["demographic"]] == ["Title"]
    assert document["stages"]["Contact"]["min_score"] == 30
    assert document["cleanup"]["max_age_days"] == 90
    stages = {row["name"]: row for row in json.loads(ok("stages", "list", "-f", "json").stdout)}
    assert stages["Contact"]["min_score"] == 30
    assert stages["Proposal"]["requires_bant"] is True  # a stage the file leaves out keeps its rules


def test_export_loads_back_to_the_same_rules(ok, tmp_path):
    ok("rules", "load", write(tmp_path, GOOD))
    exported = ok("rules", "export").stdout
    before = ok("rules", "show", "-f", "json").stdout
    ok("rules", "load", write(tmp_path, exported, "exported.toml"))
    assert ok("rules", "show", "-f", "json").stdout == before
    assert ok("rules", "export").stdout == exported
    assert tomllib.loads(exported)["scoring"]["behavioural"][0]["within"] == "30d"


def test_default_export_round_trips_with_odd_stage_names(ok, tmp_path):
    ok("stages", "rename", "Contact", 'Demo & Trial: "phase 2"')
    exported = ok("rules", "export").stdout
    ok("rules", "load", write(tmp_path, exported))
    assert ok("rules", "export").stdout == exported


def test_a_missing_table_leaves_that_part_alone(ok, tmp_path):
    ok("rules", "load", write(tmp_path, GOOD))
    ok("rules", "load", write(tmp_path, "[thresholds]\nnurture_below = 10\n", "only.toml"))
    document = json.loads(ok("rules", "show", "-f", "json").stdout)
    assert document["thresholds"] == {"nurture_below": 10, "mql": 50, "sql": 75}
    assert [rule["name"] for rule in document["scoring"]["demographic"]] == ["Title"]
    assert document["cleanup"]["max_age_days"] == 90


def test_a_stage_table_sets_exactly_its_entry_rules(ok, tmp_path):
    ok("stages", "set", "Contact", "--min-score", "40")
    ok("rules", "load", write(tmp_path, "[stages.Contact]\nprobability = 55\n"))
    stages = {row["name"]: row for row in json.loads(ok("stages", "list", "-f", "json").stdout)}
    assert (stages["Contact"]["probability"], stages["Contact"]["min_score"]) == (55, None)
    assert stages["Contact"]["idle_days"] == 21


@pytest.mark.parametrize(
    "text, fragments",
    [
        (
            '[[scoring.demographic]]\nname = "T"\nfield = "titel"\nequals = "x"\npoints = 5\n',
            ["[[scoring.demographic]] rule #1 'T'", "key 'field'", "line 3", "unknown field 'titel'"],
        ),
        (
            '[[scoring.behavioural]]\nname = "R"\nkind = "reply"\npoints = 5\ncap = -2\n',
            ["rule #1 'R'", "key 'cap'", "line 5", "must be at least 0"],
        ),
        (
            '[[scoring.behavioural]]\nname = "R"\nkind = "telepathy"\npoints = 5\n',
            ["key 'kind'", "unknown activity kind 'telepathy'"],
        ),
        ("[thresholds]\nmql = 120\n", ["[thresholds], key 'mql'", "line 2", "must be at most 100"]),
        ("[thresholds]\nnurture_below = 60\n", ["[thresholds]", "must rise"]),
        (
            '[[scoring.demographic]]\nname = "T"\nfield = "title"\nequals = "x"\npionts = 5\n',
            ["unknown key 'pionts' (a typo?)", "line 5", "the key 'points' is required"],
        ),
        ("[scoring]\ndemografic = []\n", ["[scoring], key 'demografic'", "unknown key"]),
        ("[stages.Nowhere]\nmin_score = 10\n", ["[stages.Nowhere]", "there is no stage 'Nowhere'", "Discovery"]),
        ("[stages.Contact]\nmin_score = 101\n", ["[stages.Contact], key 'min_score'"]),
        ("[cleanup]\nmax_age_dayz = 3\n", ["[cleanup], key 'max_age_dayz'", "unknown key"]),
        ("[thresholds\nmql = 3\n", ["is not valid TOML", "line 1"]),
    ],
)
def test_bad_files_are_refused_whole(cli, ok, tmp_path, snapshot, text, fragments):
    ok("rules", "load", write(tmp_path, GOOD, "good.toml"))
    before = snapshot()
    result = cli("rules", "load", write(tmp_path, text))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ")
    for fragment in fragments:
        assert fragment in result.stderr
    assert "the rules are unchanged" in result.stderr.lower()
    assert snapshot() == before


def test_a_valid_part_before_a_bad_stage_changes_nothing(cli, ok, tmp_path, snapshot):
    ok("rules", "show")  # create the database
    before = snapshot()
    result = cli("rules", "load", write(tmp_path, GOOD.replace("[stages.contact]", "[stages.Nope]")))
    assert result.exit_code == 1
    assert snapshot() == before


def test_load_reads_stdin_and_refuses_a_missing_file(cli, ok, tmp_path):
    ok("rules", "load", "-", input="[thresholds]\nnurture_below = 5\n")
    assert json.loads(ok("rules", "show", "-f", "json").stdout)["thresholds"]["nurture_below"] == 5
    result = cli("rules", "load", tmp_path / "absent.toml")
    assert result.exit_code == 1
    assert "Cannot read" in result.stderr and "absent.toml" in result.stderr


def test_show_formats(ok):
    table = ok("rules", "show").stdout
    assert "Senior title" in table and "nurture below 30" in table and "Proposal" in table
    # CSV holds all the rules, one value per line (not only the scoring rules).
    rows = ok("rules", "show", "-f", "csv").stdout.splitlines()
    assert rows[0] == "section,item,key,value"
    assert "scoring.behavioural,Unsubscribed,kind,unsubscribe" in rows
    assert "thresholds,,nurture_below,30" in rows and "stages,Proposal,requires_bant,true" in rows
    assert json.loads(ok("rules", "show", "-f", "jsonl").stdout)["thresholds"]["sql"] == 75


def test_the_line_is_found_under_the_right_rule(cli, ok, tmp_path, snapshot):
    text = EXAMPLE.read_text(encoding="utf-8").replace('field = "industry"', 'field = "industri"')
    line = next(number for number, content in enumerate(text.splitlines(), start=1) if "industri" in content)
    ok("rules", "show")
    before = snapshot()
    result = cli("rules", "load", write(tmp_path, text))
    assert result.exit_code == 1
    assert f"[[scoring.demographic]] rule #3 'Target industry', key 'field' (line {line})" in result.stderr
    assert snapshot() == before
