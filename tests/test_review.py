"""`pipectl review`: the weekly agenda, worked out by hand. Now is 2026-11-23 09:00; 7d = since 11-16.

Oldie  9k  created 10-01, won 11-01 (before the week)
Wes   10k  created 11-10, Discovery -> Qualification 11-17, won 11-20
Lou    4k  created 11-18, lost 11-19 "went with a competitor"
Nia    6k  created 11-17, Discovery -> Contact 11-18; "Send proposal" due 11-20 (overdue);
           competitor activity 11-21
Pat    2k  created 09-01, note "competitor X called" 11-01: idle 22 days in Discovery (stalled)
Quinn 15k  created 11-01 in Proposal, forced past BANT (unqualified); "Negotiate" due 11-26 (upcoming)
Rae    1k  created 11-05, tagged competitor, note 11-21; "Check in" due 12-15 (beyond the week)
Vic    3k  created 11-02, all BANT yes, Discovery -> Proposal 11-12 (qualified)
"""

import json

import pytest

from insight_support import pipeline_fixtures


def build(pipectl) -> dict:
    ok, lead = pipectl.ok, pipectl.lead
    oldie = lead("Oldie", "--value", "9k", "--at", "2026-10-01")
    ok("won", oldie, "--at", "2026-11-01")
    wes = lead("Wes", "--value", "10k", "--company", "Westco", "--at", "2026-11-10")
    ok("move", wes, "Qualification", "--at", "2026-11-17")
    ok("won", wes, "--at", "2026-11-20")
    lou = lead("Lou", "--value", "4k", "--at", "2026-11-18")
    ok("lost", lou, "--reason", "went with a competitor", "--at", "2026-11-19")
    nia = lead("Nia", "--value", "6k", "--at", "2026-11-17")
    ok("move", nia, "Contact", "--at", "2026-11-18")
    ok("plan", nia, "Send proposal", "--due", "2026-11-20")
    ok("log", nia, "competitor", "--note", "Acme offered 20% off", "--at", "2026-11-21")
    pat = lead("Pat", "--value", "2k", "--at", "2026-09-01")
    ok("log", pat, "note", "--note", "competitor X called", "--at", "2026-11-01")
    quinn = lead("Quinn", "--value", "15k", "--stage", "Proposal", "--force", "--at", "2026-11-01")
    ok("plan", quinn, "Negotiate", "--due", "2026-11-26")
    rae = lead("Rae", "--value", "1k", "--tag", "competitor", "--at", "2026-11-05")
    ok("log", rae, "note", "--note", "pricing compared", "--at", "2026-11-21")
    ok("plan", rae, "Check in", "--due", "2026-12-15")
    vic = lead("Vic", "--value", "3k", "--at", "2026-11-02")
    ok(
        "qualify",
        vic,
        "--budget",
        "yes",
        "--authority",
        "yes",
        "--need",
        "yes",
        "--timeline",
        "yes",
        "--at",
        "2026-11-03",
    )
    ok("move", vic, "Proposal", "--at", "2026-11-12")
    return {"oldie": oldie, "wes": wes, "lou": lou, "nia": nia, "pat": pat, "quinn": quinn, "rae": rae, "vic": vic}


built, pipeline = pipeline_fixtures(build)


def review_json(ok, *args) -> dict:
    return json.loads(ok("review", "--format", "json", *args).stdout)


def test_wins_since_a_week(pipeline, ok):
    data = review_json(ok)
    assert data["since"].startswith("2026-11-16")
    assert data["wins"]["leads"] == 1 and data["wins"]["value"] == 10000.0
    assert [(win["name"], win["company"]) for win in data["wins"]["list"]] == [("Wes", "Westco")]


def test_pipeline_update(pipeline, ok):
    update = review_json(ok)["pipeline"]
    assert update["new_leads"] == {"leads": 2, "value": 10000.0}  # Lou and Nia
    assert update["stage_moves"]["count"] == 2
    assert [(move["name"], move["from"], move["to"]) for move in update["stage_moves"]["list"]] == [
        ("Wes", "Discovery", "Qualification"),
        ("Nia", "Discovery", "Contact"),
    ]
    assert update["lost"]["leads"] == 1 and update["lost"]["value"] == 4000.0
    assert update["lost"]["list"][0]["reason"] == "went with a competitor"
    # Added 10,000 by new leads, minus 10,000 won and 4,000 lost.
    # Issue 13: archived, restored and value edits are part of the change too (none here).
    assert update["value_change"] == {
        "added": 10000.0,
        "closed": 14000.0,
        "archived": 0.0,
        "restored": 0.0,
        "edited": 0.0,
        "change": -4000.0,
    }


def test_roadblocks(pipeline, ok):
    blocks = review_json(ok)["roadblocks"]
    stalled = {item["name"]: item for item in blocks["stalled"]["list"]}
    assert "Pat" in stalled and any("22 days" in reason for reason in stalled["Pat"]["reasons"])
    assert "Wes" not in stalled and "Oldie" not in stalled  # closed leads are not roadblocks
    assert blocks["overdue"]["count"] == 1
    assert [(item["name"], item["action"]) for item in blocks["overdue"]["list"]] == [("Nia", "Send proposal")]
    assert blocks["upcoming"]["count"] == 1
    assert [(item["name"], item["action"]) for item in blocks["upcoming"]["list"]] == [("Quinn", "Negotiate")]
    assert blocks["unqualified"]["count"] == 1
    quinn = blocks["unqualified"]["list"][0]
    assert (quinn["name"], quinn["stage"]) == ("Quinn", "Proposal")
    assert quinn["missing"] == ["budget is unknown", "authority is unknown", "need is unknown", "timeline is unknown"]


def test_competition_notes(pipeline, ok):
    rivals = review_json(ok)["competition"]
    # Lou's lost reason, Nia's competitor activity, Rae's note (tagged); Pat's mention is older.
    assert rivals["count"] == 3
    assert [(item["name"], item["kind"]) for item in rivals["list"]] == [
        ("Lou", "lost"),
        ("Nia", "competitor"),
        ("Rae", "note"),
    ]


def test_longer_look_back(pipeline, ok):
    data = review_json(ok, "--since", "2026-11-01")
    assert data["wins"]["leads"] == 2 and data["wins"]["value"] == 19000.0
    assert data["competition"]["count"] == 4


def test_an_empty_week(pipeline, ok, monkeypatch):
    monkeypatch.setenv("PIPECTL_NOW", "2027-03-01T09:00:00")
    data = review_json(ok)
    assert data["wins"] == {"leads": 0, "value": 0.0, "list": []}
    assert data["pipeline"]["value_change"]["change"] == 0.0
    assert data["competition"]["count"] == 0
    assert data["roadblocks"]["overdue"]["count"] == 3  # every planned action is now overdue


def test_markdown(pipeline, ok):
    out = ok("review", "--format", "md").stdout
    assert out.startswith("# Pipeline review 2026-11-16 to 2026-11-23 09:00\n")
    for heading in ("## Wins", "## Pipeline update", "## Roadblocks", "## Competition"):
        assert f"\n{heading}\n" in out
    assert "- #2 Wes (Westco): 10,000 on 2026-11-20" in out
    assert "  - #4 Nia: Discovery → Contact on 2026-11-18" in out
    assert "Acme offered 20% off" in out


def test_markdown_escapes_user_text(ok, new_lead):
    lead = new_lead("*Star* [x]", "--at", "2026-11-20")
    ok("lost", lead, "--reason", "a_competitor | cheaper", "--at", "2026-11-21")
    out = ok("review", "-f", "md").stdout
    assert r"\*Star\* \[x\]" in out and r"a\_competitor \| cheaper" in out


def test_table(pipeline, ok):
    out = ok("review").stdout
    for text in (
        "Pipeline review",
        "Wins",
        "Pipeline update",
        "Roadblocks",
        "Competition",
        "Send proposal",
        "went with a competitor",
    ):
        assert text in out


def test_table_prints_brackets_as_written(ok, new_lead):
    lead = new_lead("[bold]Boss", "--at", "2026-11-20")
    ok("won", lead, "--at", "2026-11-21")
    assert "[bold]Boss" in ok("review").stdout


@pytest.mark.parametrize("since, message", [("someday", "Cannot read the date"), ("tomorrow", "in the future")])
def test_bad_since_is_a_usage_error(pipeline, cli, snapshot, since, message):
    before = snapshot()
    result = cli("review", "--since", since)
    assert result.exit_code == 2
    assert message in result.stderr
    assert snapshot() == before
