"""A team on one pipeline (issue 17): who acts, owners, assign, round-robin, claims, one seller per customer."""

import json

import pytest


def rows(result) -> list:
    return json.loads(result.stdout)


def activities(ok, lead: int) -> list[dict]:
    return rows(ok("show", str(lead), "-f", "json"))["activities"]


@pytest.fixture
def team(ok):
    for name in ("sam", "kim", "lee"):
        ok("owners", "add", name)


def test_every_activity_records_who_acted(ok, new_lead, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "mia")
    lead = new_lead("Ada")
    ok("--as", "sam", "log", str(lead), "call", "--note", "hello")
    ok("plan", str(lead), "demo", "--due", "tomorrow")
    ok("--as", "kim", "done", str(lead))
    assert [(a["kind"], a["actor"]) for a in activities(ok, lead)] == [
        ("task", "kim"),  # completed by kim, though mia planned it
        ("call", "sam"),
        ("created", "mia"),
    ]
    card = ok("show", str(lead)).stdout
    assert "By" in card and "sam" in card and "kim" in card


def test_a_lead_one_person_worked_shows_no_by_column(ok, new_lead, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "mia")
    lead = new_lead("Ada")
    ok("log", str(lead), "call", "--note", "hello")
    card = ok("show", str(lead)).stdout
    assert "┃ By" not in card and "mia" not in card  # a seller alone does not read their login on every line
    assert {a["actor"] for a in activities(ok, lead)} == {"mia"}  # JSON still says who


@pytest.mark.parametrize("bad", ["", "   ", "a" * 81, "sam\x1b[31m"])
def test_a_bad_acting_name_is_a_usage_error(cli, bad, db_path):
    result = cli("--as", bad, "add", "Ada")
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    assert not db_path.exists()


def test_owners_add_list_set_pause_resume_remove(ok, cli, team):
    ok("owners", "set", "sam", "--max-open", "2", "--max-new-per-week", "5")
    ok("owners", "pause", "kim")
    listed = {row["name"]: row for row in rows(ok("owners", "list", "-f", "json"))}
    assert listed["sam"]["max_open"] == 2 and listed["sam"]["max_new_per_week"] == 5
    assert listed["kim"]["status"] == "paused" and not listed["kim"]["room"]
    assert cli("owners", "pause", "KIM").exit_code == 1  # already paused; names compare folded
    ok("owners", "resume", "kim")
    ok("owners", "set", "sam", "--max-open", "none")
    assert {row["name"]: row for row in rows(ok("owners", "list", "-f", "json"))}["sam"]["max_open"] is None
    ok("owners", "remove", "lee")
    assert [row["name"] for row in rows(ok("owners", "list", "-f", "json"))] == ["kim", "sam"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["owners", "add", "Sam"], 1),  # already there (folded)
        (["owners", "add", "x", "--max-open", "0"], 2),
        (["owners", "add", "x", "--max-new-per-week", "lots"], 2),
        (["owners", "set", "sam"], 2),
        (["owners", "pause", "nobody"], 1),
        (["owners", "auto", "sometimes"], 2),
        (["assign", "1"], 2),
        (["assign", "1", "--to", "sam", "--round-robin"], 2),
        (["assign", "1", "--to", "sam", "--stage", "Contact"], 2),
        (["assign", "1", "--to", "nobody"], 1),
        (["assign", "99", "--to", "sam"], 1),
        (["claim"], 2),
        (["claim", "1", "--next"], 2),
        (["release", "1"], 1),  # nobody owns it
        (["release"], 2),
        (["list", "--mine", "--owner", "sam"], 2),
    ],
)
def test_bad_team_commands_change_nothing(cli, ok, new_lead, team, snapshot, args, code):
    new_lead("Ada")
    before = snapshot()
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert snapshot() == before


def test_assign_hands_over_and_logs_it(ok, cli, new_lead, team):
    lead = new_lead("Ada")
    ok("assign", str(lead), "--to", "sam")
    ok("--as", "boss", "assign", str(lead), "--to", "kim")
    handed = [a for a in activities(ok, lead) if a["kind"] == "assigned"]
    assert [(a["data"]["from"], a["data"]["to"], a["actor"]) for a in handed] == [
        ("sam", "kim", "boss"),
        (None, "sam", handed[1]["actor"]),
    ]
    assert cli("assign", str(lead), "--to", "kim").exit_code == 1  # already kim's
    ok("owners", "pause", "lee")
    paused = cli("assign", str(lead), "--to", "lee")
    assert paused.exit_code == 1 and "paused" in paused.stderr
    ok("assign", str(lead), "--to", "lee", "--force")
    assert rows(ok("list", "--owner", "LEE", "-f", "json"))[0]["id"] == lead


def test_round_robin_is_strictly_in_turn_best_score_first(ok, new_lead, team, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "mia")
    ids = [new_lead(f"Lead {n}", "--size", str(10 + n)) for n in range(9)]
    handed = rows(ok("assign", "--round-robin", "--limit", "7", "-f", "json"))
    assert len(handed) == 7
    counts = {}
    for row in handed:
        counts[row["owner"]] = counts.get(row["owner"], 0) + 1
    assert sorted(counts.values()) == [2, 2, 3]
    # The turn carries over to the next command: the two left go to the next owners in turn.
    rest = rows(ok("assign", "--round-robin", "-f", "json"))
    for row in rest:
        counts[row["owner"]] += 1
    assert sorted(counts.values()) == [3, 3, 3]
    assert {row["id"] for row in handed + rest} == set(ids)
    # Each lead's `assigned` activity names who handed it out (given once for the bulk insert).
    newest = activities(ok, ids[0])[0]
    assert (newest["kind"], newest["actor"]) == ("assigned", "mia")


def test_round_robin_respects_capacity_and_pauses(ok, new_lead, team):
    for n in range(6):
        new_lead(f"Lead {n}")
    ok("owners", "set", "sam", "--max-open", "1")
    ok("owners", "pause", "lee")
    result = ok("assign", "--round-robin", "-f", "json")
    owners = [row["owner"] for row in rows(result)]
    assert owners.count("sam") == 1 and owners.count("kim") == 5 and "lee" not in owners


def test_round_robin_when_everyone_is_full_leaves_leads_unowned(ok, cli, new_lead, team):
    for name in ("Ada", "Bob", "Cy", "Di"):
        new_lead(name)
    for name in ("sam", "kim", "lee"):
        ok("owners", "set", name, "--max-new-per-week", "1")
    result = ok("assign", "--round-robin")
    assert "1 lead(s) left unowned" in result.stderr
    assert [row["name"] for row in rows(ok("list", "-f", "json")) if row["owner"] is None] == ["Di"]
    assert cli("owners", "remove", "kim").exit_code == 1  # kim still holds a lead
    ok("release", "--owner", "kim")
    ok("owners", "remove", "kim")


def test_claim_is_first_come_and_claim_next_takes_the_best(ok, cli, new_lead, team):
    low = new_lead("Low")
    high = new_lead("High", "--title", "CEO", "--size", "500")
    ok("--as", "sam", "claim", str(low))
    taken = cli("--as", "kim", "claim", str(low))
    assert taken.exit_code == 1 and "sam's" in taken.stderr
    best = rows(ok("--as", "kim", "claim", "--next", "-f", "json"))[0]
    assert best["id"] == high and best["owner"] == "kim"
    none_left = cli("--as", "lee", "claim", "--next")
    assert none_left.exit_code == 1 and "no unowned open lead" in none_left.stderr
    stranger = cli("--as", "zed", "claim", str(low))
    assert stranger.exit_code == 1 and "not an owner" in stranger.stderr


def test_release_is_the_owners_to_give(ok, cli, new_lead, team):
    lead = new_lead("Ada")
    ok("--as", "sam", "claim", str(lead))
    refused = cli("--as", "kim", "release", str(lead))
    assert refused.exit_code == 1 and "sam's" in refused.stderr
    ok("--as", "sam", "release", str(lead))
    assert rows(ok("show", str(lead), "-f", "json"))["owner"] is None
    assert activities(ok, lead)[0]["kind"] == "released"
    ok("--as", "kim", "claim", str(lead))
    ok("--as", "boss", "release", str(lead), "--force")


def test_no_two_sellers_on_one_customer(ok, cli, team, snapshot):
    ok("--as", "sam", "add", "Ada", "--company", "Acme", "--email", "ada@acme.com")
    ok("--as", "sam", "claim", "1")
    before = snapshot()
    for extra in ([], ["--force"]):
        refused = cli("--as", "kim", "add", "Ada L", "--email", "ADA@acme.com", *extra)
        assert refused.exit_code == 1 and "sam's" in refused.stderr and "--join" in refused.stderr
    assert snapshot() == before
    joined = ok("--as", "kim", "add", "Ada L", "--email", "ada@acme.com", "--join")
    assert joined.stdout.strip() == "1"
    first = activities(ok, 1)[0]
    assert (first["kind"], first["actor"]) == ("joined", "kim")
    # The same customer for the seller who owns it is the usual duplicate check.
    assert cli("--as", "sam", "add", "Ada", "--company", "acme").exit_code == 1
    warned = ok("--as", "kim", "add", "Bob", "--company", "ACME")
    assert "also worked by sam" in warned.stderr


def test_auto_assign_hands_out_new_leads_of_add_and_import(ok, team, tmp_path):
    ok("owners", "auto", "round-robin")
    assert ok("owners", "auto").stdout.strip() == "round-robin"
    ok("add", "Ada")
    ok("add", "Bob", "--owner", "zed")  # an owner given is kept
    data = tmp_path / "leads.csv"
    data.write_text("name\nCy\nDi\nEd\nFi\n")
    result = ok("import", data)
    assert "Handed out by round-robin" in result.stderr
    owners = {row["name"]: row["owner"] for row in rows(ok("list", "-f", "json"))}
    assert owners["Bob"] == "zed"
    counts = {}
    for name in ("Ada", "Cy", "Di", "Ed", "Fi"):
        counts[owners[name]] = counts.get(owners[name], 0) + 1
    assert sorted(counts) == ["kim", "lee", "sam"] and max(counts.values()) - min(counts.values()) <= 1
    ok("owners", "auto", "off")
    ok("add", "Gus")
    assert [row["owner"] for row in rows(ok("list", "-f", "json")) if row["name"] == "Gus"] == [None]


def test_mine_and_owner_views(ok, new_lead, team):
    mine = new_lead("Ada", "--value", "5k")
    new_lead("Bob", "--value", "7k")
    ok("assign", str(mine), "--to", "sam")
    assert [row["id"] for row in rows(ok("--as", "sam", "list", "--mine", "-f", "json"))] == [mine]
    assert [row["id"] for row in rows(ok("--as", "sam", "next", "--mine", "-f", "json"))] == [mine]
    assert [row["id"] for row in rows(ok("next", "--owner", "Sam", "-f", "json"))] == [mine]
    board = rows(ok("--as", "sam", "board", "--mine", "-f", "json"))
    assert sum(column["leads"] for column in board["columns"]) == 1
    assert rows(ok("--as", "sam", "metrics", "--mine", "-f", "json"))["period"]["owner"] == "sam"
    assert rows(ok("--as", "sam", "forecast", "--mine", "-f", "json"))["owner"] == "sam"


def test_owners_table_fits_a_terminal(ok, team, terminal):
    terminal(60)
    out = ok("owners", "list").stdout
    assert max(len(line) for line in out.splitlines()) <= 60 and "sam" in out


def test_review_of_one_owner_adds_up_to_the_whole(ok, cli, new_lead, team):
    ada = new_lead("Ada", "--value", "5k", "--owner", "sam")
    bob = new_lead("Bob", "--value", "7k", "--owner", "kim")
    new_lead("Cy", "--value", "1k")
    ok("won", str(ada))
    for lead in (bob, ada + 2):
        ok("plan", str(lead), "Call back", "--due", "yesterday")
        ok("log", str(lead), "competitor", "--note", "Rival Corp again")
    whole = rows(ok("review", "-f", "json"))
    sam, kim = (rows(ok("review", "--owner", name, "-f", "json")) for name in ("SAM", "kim"))
    assert (sam["owner"], whole["owner"]) == ("SAM", None)
    assert (sam["wins"]["leads"], kim["wins"]["leads"], whole["wins"]["leads"]) == (1, 0, 1)
    assert [lead["id"] for lead in kim["roadblocks"]["overdue"]["list"]] == [bob]
    assert whole["roadblocks"]["overdue"]["count"] == 2 and sam["roadblocks"]["overdue"]["count"] == 0
    assert (kim["competition"]["count"], sam["competition"]["count"], whole["competition"]["count"]) == (1, 0, 2)
    new = [report["pipeline"]["new_leads"]["value"] for report in (sam, kim, whole)]
    assert new == [5000, 7000, 13000]
    assert rows(ok("--as", "kim", "review", "--mine", "-f", "json")) == kim
    assert ok("--as", "kim", "review", "--mine", "-f", "md").stdout.startswith("# Pipeline review of kim ")
    assert "Pipeline review of sam" in ok("review", "--owner", "sam").stdout
    refused = cli("review", "--mine", "--owner", "sam")
    assert refused.exit_code == 2 and refused.stderr.startswith("Error: --mine")


def test_import_refuses_a_row_matching_another_sellers_lead(ok, cli, team, tmp_path, snapshot):
    ok("--as", "sam", "add", "Ada", "--email", "ada@acme.com", "--owner", "sam")
    data = tmp_path / "leads.csv"
    data.write_text("name,email\nAda L,ADA@acme.com\nNew,new@acme.com\n")
    before = snapshot()
    refused = cli("--as", "kim", "import", data)
    assert refused.exit_code == 1 and "row 2: email: lead #1 is sam's" in refused.stderr
    assert "--join" in refused.stderr and snapshot() == before
    # Refused whatever --on-duplicate says, except skip: a skipped row puts nobody on the customer.
    assert cli("--as", "kim", "import", data, "--on-duplicate", "update").exit_code == 1
    assert snapshot() == before
    # A row for sam (its owner column, or sam acting) is the usual duplicate.
    assert "look like leads already there" in cli("--as", "sam", "import", data).stderr
    # --skip-invalid imports the others and writes the refused row to the rejects file.
    rejects = tmp_path / "rejects.csv"
    ok("--as", "kim", "import", data, "--skip-invalid", "--rejects", rejects)
    assert "is sam's" in rejects.read_text()
    assert sorted(row["name"] for row in rows(ok("list", "-f", "json"))) == ["Ada", "New"]


def test_import_join_logs_matching_rows_on_the_leads_there(ok, cli, team, tmp_path, snapshot):
    ok("--as", "sam", "add", "Ada", "--email", "ada@acme.com", "--owner", "sam")
    ok("add", "Bob", "--company", "Bobco")
    data = tmp_path / "leads.csv"
    data.write_text("name,email,company,phone\nAda L,ada@acme.com,,555 0100\nBob,,BOBCO,\nCy,cy@x.com,,\n")
    result = ok("--as", "kim", "import", data, "--join")
    assert "1 lead(s) added; 2 logged on the lead already there (--join)" in result.stderr
    assert sorted(row["name"] for row in rows(ok("list", "-f", "json"))) == ["Ada", "Bob", "Cy"]
    joined = activities(ok, 1)[0]
    assert (joined["kind"], joined["actor"]) == ("joined", "kim")
    assert joined["data"]["fields"]["phone"] == "555 0100"
    assert activities(ok, 2)[0]["kind"] == "joined"
    before = snapshot()
    refused = cli("import", data, "--join", "--on-duplicate", "skip")
    assert refused.exit_code == 2 and refused.stderr.startswith("Error: --join") and snapshot() == before


def owners_and_hand_overs(ok) -> tuple:
    """What undo must give back: every lead and activity, the roster, and the hand-overs."""
    return (
        ok("export", "--what", "all").stdout,
        ok("owners", "list", "-f", "json").stdout,
        ok("history", "-f", "json").stdout,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["owners", "add", "mo", "--max-open", "3"],
        ["owners", "pause", "kim"],
        ["owners", "remove", "kim"],
        ["assign", "1", "--to", "kim"],
        ["assign", "--round-robin"],
        ["claim", "2"],
        ["release", "3", "--force"],
        ["add", "Cy", "--company", "Initech"],  # handed out by round-robin, automatically
    ],
    ids=lambda args: " ".join(args),
)
def test_undo_takes_back_each_team_command(ok, new_lead, team, monkeypatch, command):
    monkeypatch.setenv("PIPECTL_USER", "sam")
    for name in ("Ada", "Bob", "Dee"):
        new_lead(name)
    ok("assign", "3", "--to", "lee")
    ok("owners", "auto", "round-robin")
    before = owners_and_hand_overs(ok)
    ok(*command)
    assert owners_and_hand_overs(ok) != before
    ok("undo")
    after = owners_and_hand_overs(ok)
    assert after[:2] == before[:2]  # history differs only by the undone command's mark
    assert json.loads(ok("db", "check", "-f", "json").stdout)["ok"] is True


def test_who_did_what_survives_an_export_and_a_restore(ok, new_lead, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "mia")
    lead = new_lead("Ada")
    ok("--as", "kim", "log", str(lead), "call", "--note", "hello")
    backup = tmp_path / "all.jsonl"
    backup.write_text(ok("export", "--what", "all", "-f", "jsonl").stdout, encoding="utf-8")
    restored = tmp_path / "restored.db"
    monkeypatch.setenv("PIPECTL_USER", "lee")  # whoever restores it did none of it
    ok("--db", restored, "import", backup)
    before = [(a["kind"], a["actor"]) for a in activities(ok, lead)]
    assert ("call", "kim") in before and ("created", "mia") in before
    after = json.loads(ok("--db", restored, "show", str(lead), "-f", "json").stdout)["activities"]
    assert [(a["kind"], a["actor"]) for a in after] == before


def test_an_import_names_the_importer_on_the_history_it_makes(ok, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPECTL_USER", "mia")
    source = tmp_path / "leads.csv"
    source.write_text("name,company,next_action\nAda,Acme,Call back\n", encoding="utf-8")
    ok("import", source)
    assert {a["actor"] for a in activities(ok, 1)} == {"mia"}


def test_an_activity_file_with_a_hostile_actor_is_refused_row_by_row(ok, cli, new_lead, tmp_path):
    lead = new_lead("Ada")
    source = tmp_path / "activities.csv"
    source.write_text(f"lead_id,kind,at,actor\n{lead},call,2026-11-20,\x1b[31mkim\n", encoding="utf-8")
    before = ok("export", "--what", "all").stdout
    result = cli("import", "--what", "activities", source)
    assert result.exit_code == 1 and "actor" in result.stderr and "Traceback" not in result.stderr
    assert ok("export", "--what", "all").stdout == before
