"""BANT qualification: the answer parser, the core, `qualify` (flags and questions), and what reads BANT."""

import json
from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st

from pipectl.core.qualification import ANSWERS, parse_answer, qualify_lead
from pipectl.errors import UsageError

ALL_YES = (
    "--budget",
    "yes: 20k this quarter",
    "--authority",
    "yes: CFO",
    "--need",
    "yes",
    "--timeline",
    "yes: 2027-01-15",
)


def bant_of(ok, lead_id):
    return json.loads(ok("show", lead_id, "-f", "json").stdout)["bant"]


def activities_of(ok, lead_id, kind):
    detail = json.loads(ok("show", lead_id, "-f", "json").stdout)
    return [activity for activity in detail["activities"] if activity["kind"] == kind]


# --- the answer parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes", ("yes", None)),
        ("YES", ("yes", None)),
        (" No : talking to an intern ", ("no", "talking to an intern")),
        ("unknown:", ("unknown", "")),
        ("yes: 2027-01-15 10:00", ("yes", "2027-01-15 10:00")),  # only the first colon splits
    ],
)
def test_parse_answer_reads_status_and_note(text, expected):
    assert parse_answer("budget", text) == expected


@pytest.mark.parametrize("text", ["maybe", "", "y", "yes please", ": yes"])
def test_parse_answer_refuses_other_statuses(text):
    with pytest.raises(UsageError, match="yes, no or unknown"):
        parse_answer("budget", text)


@settings(max_examples=60, deadline=None)
@given(
    status=st.sampled_from(ANSWERS),
    upper=st.booleans(),
    note=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
)
def test_parse_answer_round_trips_any_note(status, upper, note):
    parsed_status, parsed_note = parse_answer("need", f"{status.upper() if upper else status}: {note}")
    assert parsed_status == status
    assert parsed_note == " ".join(note.split())


# --- the core ------------------------------------------------------------------------------------


@pytest.fixture
def lead(session):
    from pipectl.core.leads import add_lead, validate_fields

    created, _ = add_lead(session, validate_fields(name="Ada", company="Analytical"))
    return created


def test_qualify_lead_records_one_activity_with_old_and_new_answers(session, lead):
    from pipectl.core.history import timeline

    changes = qualify_lead(session, lead, {"budget": ("yes", "20k"), "authority": ("no", "intern")})
    assert set(changes) == {"budget", "authority"}
    assert changes["budget"] == {"from": {"status": "unknown", "note": None}, "to": {"status": "yes", "note": "20k"}}
    bant = [activity for activity in timeline(session, lead.id) if activity.kind == "bant"]
    assert len(bant) == 1
    assert bant[0].data["answers"]["authority"]["to"] == {"status": "no", "note": "intern"}
    assert bant[0].data["qualified"] is False
    assert (lead.budget, lead.budget_note, lead.authority) == ("yes", "20k", "no")


def test_qualify_lead_keeps_note_for_same_status_and_clears_it_on_a_new_one(session, lead):
    qualify_lead(session, lead, {"budget": ("yes", "20k"), "authority": ("no", "intern")})
    assert qualify_lead(session, lead, {"budget": ("yes", None)}) == {}
    assert lead.budget_note == "20k"
    qualify_lead(session, lead, {"authority": ("yes", None)})
    assert (lead.authority, lead.authority_note) == ("yes", None)
    qualify_lead(session, lead, {"budget": ("yes", "")})
    assert lead.budget_note is None


def test_qualify_lead_unchanged_answers_write_nothing(session, lead):
    from pipectl.core.history import timeline

    before = len(timeline(session, lead.id))
    assert qualify_lead(session, lead, {"need": ("unknown", None)}) == {}
    assert len(timeline(session, lead.id)) == before


def test_qualify_lead_marks_when_a_lead_becomes_qualified(session, lead):
    qualify_lead(session, lead, {name: ("yes", None) for name in ("budget", "authority", "need")})
    qualify_lead(session, lead, {"timeline": ("yes", "Q1")})
    from pipectl.core.history import timeline

    latest = next(activity for activity in timeline(session, lead.id) if activity.kind == "bant")
    assert latest.data["qualified"] is True
    assert latest.note.endswith("now qualified")


def test_qualify_lead_refuses_a_time_before_the_lead_existed(session, lead):
    with pytest.raises(UsageError, match="before the lead was added"):
        qualify_lead(session, lead, {"need": ("yes", None)}, at=datetime(2020, 1, 1))


# --- qualify on the command line ------------------------------------------------------------------


def test_qualify_flags_fill_the_bant_block(ok, new_lead):
    lead_id = new_lead("Ada")
    result = ok("qualify", lead_id, "--budget", "yes: 20k this quarter", "--authority", "no: talking to an intern")
    assert "not qualified" in result.stderr
    assert "disqualified" in result.stderr
    bant = bant_of(ok, lead_id)
    assert bant["budget"] == {"status": "yes", "note": "20k this quarter"}
    assert bant["authority"] == {"status": "no", "note": "talking to an intern"}
    assert bant["need"] == {"status": "unknown", "note": None}
    assert bant["qualified"] is False
    ok("qualify", lead_id, *ALL_YES)
    bant = bant_of(ok, lead_id)
    assert bant["qualified"] is True
    assert bant["timeline"] == {"status": "yes", "note": "2027-01-15"}
    history = activities_of(ok, lead_id, "bant")
    assert len(history) == 2
    assert history[0]["data"]["qualified"] is True


def test_qualify_at_records_when_it_was_learnt(ok, new_lead, cli):
    lead_id = new_lead("Ada", "--at", "-5d")
    ok("qualify", lead_id, "--need", "yes", "--at", "yesterday")
    assert activities_of(ok, lead_id, "bant")[0]["at"].startswith("2026-11-22T00:00")
    result = cli("qualify", lead_id, "--need", "no", "--at", "tomorrow")
    assert result.exit_code == 2
    assert "in the future" in result.stderr


def test_qualify_unchanged_says_so(ok, new_lead):
    lead_id = new_lead("Ada")
    result = ok("qualify", lead_id, "--need", "unknown")
    assert "unchanged" in result.stderr
    assert activities_of(ok, lead_id, "bant") == []


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("--budget", "maybe"), 2, "answer yes, no or unknown"),
        (("--timeline", "soon: next year"), 2, "--timeline"),
        (("--need", "yes", "--at", "someday"), 2, "Cannot read the date"),
    ],
)
def test_qualify_bad_answers_are_usage_errors_and_write_nothing(cli, new_lead, snapshot, args, code, message):
    lead_id = new_lead("Ada")
    before = snapshot()
    result = cli("qualify", lead_id, *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert snapshot() == before


def test_qualify_unknown_lead_is_refused(cli, new_lead, snapshot):
    new_lead("Ada")
    before = snapshot()
    result = cli("qualify", "99", "--budget", "yes")
    assert result.exit_code == 1
    assert "There is no lead #99" in result.stderr
    assert snapshot() == before


def test_qualify_without_flags_or_terminal_is_a_usage_error_not_a_hang(cli, new_lead, snapshot):
    lead_id = new_lead("Ada")
    before = snapshot()
    result = cli("qualify", lead_id, input="")
    assert result.exit_code == 2
    assert "--budget/--authority/--need/--timeline" in result.stderr
    assert "terminal" in result.stderr
    assert snapshot() == before


def test_qualify_asks_the_four_questions_with_current_answers_as_defaults(ok, new_lead, monkeypatch):
    import pipectl.cli.qualify as qualify_cli

    lead_id = new_lead("Ada")
    ok("qualify", lead_id, "--budget", "yes: 20k")
    monkeypatch.setattr(qualify_cli, "stdin_is_terminal", lambda: True)
    # Enter keeps the budget; a bad answer is asked again; then authority, need, timeline.
    result = ok("qualify", lead_id, input="\nmaybe\nno: intern\nyes\nunknown: after Q1\n")
    assert "[yes: 20k]" in result.stderr
    assert "Budget" in result.stderr and "Timeline" in result.stderr
    assert "answer yes, no or unknown" in result.stderr  # the re-asked bad answer
    bant = bant_of(ok, lead_id)
    assert bant["budget"] == {"status": "yes", "note": "20k"}
    assert bant["authority"] == {"status": "no", "note": "intern"}
    assert bant["need"]["status"] == "yes"
    assert bant["timeline"] == {"status": "unknown", "note": "after Q1"}
    assert "Budget" not in result.stdout  # questions go to stderr (the runner echoes typed input to stdout)


def test_qualify_interactive_flag_drives_the_questions_from_stdin(ok, new_lead):
    lead_id = new_lead("Ada")
    ok("qualify", lead_id, "--interactive", input="yes\nyes\nyes\nyes\n")
    assert bant_of(ok, lead_id)["qualified"] is True


def test_qualify_interactive_stops_cleanly_when_input_ends(cli, new_lead, snapshot):
    lead_id = new_lead("Ada")
    before = snapshot()
    result = cli("qualify", lead_id, "--interactive", input="yes\n")
    assert result.exit_code != 0
    assert snapshot() == before


# --- what reads BANT: list filters, show, stage entry rules -------------------------------------


def test_list_filters_qualified_unqualified_disqualified(ok, new_lead):
    ada, bob, cy = new_lead("Ada"), new_lead("Bob"), new_lead("Cy")
    ok("qualify", ada, *ALL_YES)
    ok("qualify", bob, "--budget", "no: no money")
    ok("qualify", cy, "--authority", "no", "--need", "yes")

    def ids(*flags):
        return [lead["id"] for lead in json.loads(ok("list", *flags, "-f", "json").stdout)]

    assert ids("--qualified") == [ada]
    assert ids("--unqualified") == [bob, cy]
    assert ids("--disqualified") == [bob, cy]


def test_show_prints_the_bant_line(ok, new_lead):
    lead_id = new_lead("Ada")
    ok("qualify", lead_id, "--budget", "yes: [bold]20k", "--authority", "no")
    out = ok("show", lead_id).stdout
    assert "Budget yes ([bold]20k)" in out
    assert "Authority no" in out
    assert "not qualified" in out
    assert "budget unknown → yes" in out  # the timeline shows the change


def test_move_into_a_bant_stage_names_the_missing_criteria_and_force_records_it(ok, cli, new_lead, snapshot):
    lead_id = new_lead("Ada")
    ok("qualify", lead_id, "--budget", "yes", "--need", "yes")
    before = snapshot()
    result = cli("move", lead_id, "Proposal")
    assert result.exit_code == 1
    assert "authority is unknown" in result.stderr and "timeline is unknown" in result.stderr
    assert "budget is" not in result.stderr
    assert snapshot() == before
    ok("move", lead_id, "Proposal", "--force")
    change = activities_of(ok, lead_id, "stage_change")[0]
    assert change["to_stage"] == "Proposal"
    assert any("authority is unknown" in problem for problem in change["data"]["forced"])


def test_a_qualified_lead_enters_proposal_without_force(ok, new_lead):
    lead_id = new_lead("Ada")
    ok("qualify", lead_id, *ALL_YES)
    ok("move", lead_id, "Proposal")
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["stage"] == "Proposal"
