"""The team commands given hostile input as a user would type it: one clear `Error:` line, nothing changed."""

import pytest


@pytest.fixture
def team(ok):
    for name in ("sam", "kim"):
        ok("owners", "add", name)
    ok("owners", "pause", "kim")


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["owners", "add", "ev\x1b[31mil"], 2, "without control characters"),
        (["owners", "add", "   "], 2, "An owner needs a name, e.g. sam."),
        (["owners", "add", "x", "--max-open", "-1"], 2, "from 1 to 1,000,000"),
        (["owners", "add", "x", "--max-open", "9" * 30], 2, "from 1 to 1,000,000"),
        (["owners", "set", "sam", "--max-new-per-week", "-5"], 2, "from 1 to 1,000,000"),
        (["assign", "1", "--to", "kim"], 1, "kim is paused"),
        (["assign", "--round-robin", "--limit", "9" * 30], 2, "--limit must be between"),
        (["claim", "9" * 30], 1, "There is no lead"),
        (["--as", "nobody", "claim", "1"], 1, "'nobody' is not an owner"),
        (["--as", "sam\x1b[2J", "claim", "1"], 2, "without control characters"),
        # A name `owners add` would refuse is not offered as the way out.
        (["assign", "1", "--to", ""], 1, "'' is not an owner. The owners are: kim, sam."),
        (["assign", "1", "--to", "zz\x1b[2J"], 1, "'zz\\x1b[2J' is not an owner. The owners are"),
        # A name with a space is offered quoted, so it can be pasted into a shell.
        (["assign", "1", "--to", "Mia Lee"], 1, "add them with `pipectl owners add 'Mia Lee'`"),
        # An empty filter (an unset shell variable) must not widen round-robin to every lead.
        (["assign", "--round-robin", "--source", ""], 2, "--source and --tag need a value"),
        (["assign", "--round-robin", "--tag", " "], 2, "--source and --tag need a value"),
        (
            ["owners", "add", "SAM"],
            1,
            "Error: sam is already an owner; change their capacity with `pipectl owners set sam`",
        ),
    ],
)
def test_hostile_team_input_is_one_clear_error(cli, ok, new_lead, team, snapshot, args, code, says):
    new_lead("Ada")
    before = snapshot()
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert says in result.stderr
    assert "\x1b" not in result.stderr
    assert snapshot() == before


def test_a_closed_lead_cannot_be_claimed_assigned_or_released(cli, ok, new_lead, team, snapshot):
    lead = str(new_lead("Ada"))
    ok("--as", "sam", "claim", lead)
    ok("lost", lead, "--reason", "price")
    before = snapshot()
    for args in (["--as", "sam", "claim", lead], ["assign", lead, "--to", "kim", "--force"], ["release", lead]):
        result = cli(*args)
        assert result.exit_code == 1 and "is lost; only open leads are" in result.stderr, result.stderr
    assert snapshot() == before
