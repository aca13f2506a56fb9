"""Bad input in pipectl's own words: one `Error: …` line naming the option, exit 2, nothing written.

Covers issue 13's "Messages" and "Dates, amounts" findings end to end: no library wording (Typer,
click, pydantic) reaches the user, ambiguous dates and amounts are refused with the setting that
settles them, `log --at` before a lead existed is refused, `qualify` does not call a "no" open,
and `rules load` refuses a `within` of zero.
"""

import json

import pytest
import typer

from pipectl.cli.app import app

LIBRARY_WORDING = (
    "Input should",
    "Value error",
    "Invalid value",
    "Usage:",
    "Try '",
    "validation error",
    "Traceback",
    "errors.pydantic.dev",
)


def one_usage_line(result, code: int = 2) -> str:
    """The single `Error: …` line of a refused command, checked for shape and wording."""
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    for words in LIBRARY_WORDING:
        assert words not in result.stderr, result.stderr
    return result.stderr


def leaf_commands(group=None, prefix=()):
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from leaf_commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


def bad_values(param) -> list[str]:
    """Values each kind of option must refuse: not a number, out of range, not a choice, not a date…"""
    descriptor = param.type_descriptor
    info = descriptor.parameter_info
    if getattr(info, "parser", None) is not None:
        return ["bogus", "03/04/2026" if "date" in (param.metavar or "DATE").lower() else "12.000"]
    if descriptor.choices:
        return ["bogus"]
    if descriptor.annotation in (int, int | None):
        return ["abc", "1" + "0" * 30, "1e400"]
    return []


def option_cases():
    for path, command in leaf_commands():
        arguments = [param for param in command.params if type(param).__name__.endswith("Argument")]
        for param in command.params:
            if not type(param).__name__.endswith("Option") or param.is_flag or param.name == "db":
                continue
            for value in bad_values(param):
                long_name = next(name for name in param.opts if name.startswith("--"))
                yield pytest.param(
                    path,
                    [_argument_for(argument) for argument in arguments],
                    long_name,
                    value,
                    id=f"{' '.join(path)} {long_name} {value[:8]}",
                )


def _argument_for(param) -> str:
    return {"lead": "1", "stage": "Contact", "position": "2", "file": "-"}.get(param.name, "x")


@pytest.mark.parametrize(("path", "arguments", "option", "value"), list(option_cases()))
def test_every_bad_option_value_is_one_line_in_pipectls_words(cli, new_lead, snapshot, path, arguments, option, value):
    new_lead("Ada", "--at", "2026-11-01")
    before = snapshot()
    result = cli(*path, *arguments, option, value, input="")
    assert result.exit_code in (1, 2), result.output
    line = one_usage_line(result, result.exit_code)
    if result.exit_code == 2:
        # Named as typed (--idle-days), or in words by the core ("Idle days are between 1 and 3650").
        assert option in line or option[2:].replace("-", " ") in line.lower() or "PIPECTL_" in line, line
    assert snapshot() == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("list", "-f", "yaml"), "Error: --format yaml: this command writes table, json, jsonl or csv.\n"),
        (("forecast", "--period", "year"), "Error: --period is one of month or quarter, not 'year'.\n"),
        (("add", "Ada", "--size", "-5"), "Error: --size must be between 0 and 1,000,000,000, not '-5'.\n"),
        (("list", "--limit", "abc"), "Error: --limit needs a whole number, not 'abc'.\n"),
        (("list", "--min-score", "101"), "Error: --min-score must be between 0 and 100, not '101'.\n"),
        (("list", "--sta", "open"), "Error: No such option --sta (did you mean --stage or --stale or --tag?)"),
        (("show",), "Error: Missing argument LEAD; see `pipectl show --help`.\n"),
        (("show", "1", "2"), "Error: Unexpected extra argument '2'; see `pipectl show --help`"),
        (("plan", "1", "Call", "--due"), "Error: --due needs a value.\n"),
        (("lsit",), "Error: No such command 'lsit' (did you mean "),
        (("--bogus", "list"), "Error: No such option --bogus; see `pipectl --help`.\n"),
        (("stages", "nope"), "Error: No such command 'nope'; see `pipectl stages --help`.\n"),
        (("next", "--within", "soon"), "Error: --within: Cannot read the duration 'soon'"),
        (("review", "--since", "someday"), "Error: --since: Cannot read the date 'someday'"),
    ],
)
def test_usage_errors_have_one_shape(cli, args, expected):
    line = one_usage_line(cli(*args))
    assert line.startswith(expected), line


def test_no_args_still_shows_help(cli):
    for args in ((), ("stages",), ("rules",), ("db",)):
        result = cli(*args)
        assert "Usage:" in result.output and "Commands" in result.output


# --- dates and amounts on the command line ---------------------------------------------------------


def test_an_ambiguous_due_date_is_refused_until_the_order_is_set(cli, ok, new_lead, snapshot, monkeypatch):
    lead_id = new_lead("Ada")
    monkeypatch.delenv("PIPECTL_DATE_ORDER", raising=False)
    before = snapshot()
    line = one_usage_line(cli("plan", lead_id, "Call", "--due", "03/04/2027"))
    assert "--due" in line and "ambiguous (3 April or 4 March)" in line and "PIPECTL_DATE_ORDER=dmy" in line
    assert snapshot() == before
    ok("plan", lead_id, "Call", "--due", "31/12/2026")  # unambiguous: no setting needed
    monkeypatch.setenv("PIPECTL_DATE_ORDER", "dmy")
    ok("plan", lead_id, "Call", "--due", "03/04/2027")
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["next_action_due"].startswith("2027-04-03")


@pytest.mark.parametrize(
    "due, expected",
    [
        ("fri 10am", "2026-11-27T10:00"),
        ("tomorrow 9", "2026-11-24T09:00"),
        ("Jan 5", "2027-01-05T00:00"),
        ("15 Apr, 2027", "2027-04-15T00:00"),
        ("end of month", "2026-11-30T00:00"),
        ("next week", "2026-11-30T00:00"),
        ("in 3 days", "2026-11-26T00:00"),
        ("noon", "2026-11-23T12:00"),
    ],
)
def test_plan_takes_dates_as_people_type_them(ok, new_lead, due, expected):
    lead_id = new_lead("Ada")
    ok("plan", lead_id, "Call", "--due", due)
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["next_action_due"].startswith(expected)


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("12.000", "ambiguous (12 or 12,000?)"),
        ("12,00", "decimal comma"),
        ("-5", "amounts cannot be negative"),
        ("99999999999999", "too large"),
    ],
)
def test_ambiguous_negative_and_huge_values_are_refused(cli, snapshot, ok, value, fragment):
    ok("add", "Ada")
    before = snapshot()
    line = one_usage_line(cli("add", "Bob", "--value", value))
    assert line.startswith("Error: --value: ") and fragment in line
    assert snapshot() == before


def test_the_decimal_setting_reads_a_decimal_comma(ok, monkeypatch):
    monkeypatch.setenv("PIPECTL_DECIMAL", ",")
    lead_id = ok("add", "Ada", "--value", "12.000,50").stdout.strip()
    ok("edit", lead_id, "--value", "12,5")
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["value"] == 12.5


def test_a_month_is_a_calendar_month_in_every_command(ok, new_lead, monkeypatch):
    # `1m` meant 30 days in --older-than and --since but a calendar month in --due.
    monkeypatch.setenv("PIPECTL_NOW", "2026-03-31T09:00:00")
    lead_id = new_lead("Ada")
    ok("plan", lead_id, "Call", "--due", "1m")
    assert json.loads(ok("show", lead_id, "-f", "json").stdout)["next_action_due"].startswith("2026-04-30")
    since = json.loads(ok("metrics", "--since", "1m", "-f", "json").stdout)["period"]["since"]
    assert since.startswith("2026-02-28")


# --- log --at, qualify, rules load -----------------------------------------------------------------


def test_log_at_before_the_lead_existed_is_refused_like_won(cli, ok, new_lead, snapshot):
    lead_id = new_lead("Ada", "--at", "2026-11-20")
    before = snapshot()
    for command in (("log", lead_id, "call"), ("won", lead_id)):
        result = cli(*command, "--at", "2026-11-19")
        assert result.exit_code == 2
        assert "before the lead was added (2026-11-20)" in result.stderr
    assert snapshot() == before
    ok("log", lead_id, "call", "--at", "2026-11-20 10:00")


def test_qualify_does_not_list_a_no_as_still_open(ok, new_lead):
    lead_id = new_lead("Ada")
    result = ok("qualify", lead_id, "--budget", "no: no money", "--need", "yes")
    assert "still open: authority, timeline" in result.stderr
    assert "budget" not in result.stderr.split("still open:")[1].split(")")[0]
    result = ok("qualify", lead_id, "--authority", "yes", "--timeline", "yes")
    assert "not qualified." in result.stderr and "still open" not in result.stderr


def write(tmp_path, text: str):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("within", ["0d", "0h", "0m"])
def test_rules_load_refuses_a_within_of_zero(cli, ok, tmp_path, snapshot, within):
    ok("rules", "show")
    before = snapshot()
    result = cli(
        "rules",
        "load",
        write(tmp_path, f'[[scoring.behavioural]]\nname = "R"\nkind = "reply"\npoints = 5\nwithin = "{within}"\n'),
    )
    assert result.exit_code == 1
    assert "key 'within'" in result.stderr and "no time at all" in result.stderr
    assert snapshot() == before


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[thresholds]\nmql = "high"\n', "must be a whole number"),
        ("[thresholds]\nmql = -3\n", "must be at least 0"),
        ('[[scoring.behavioural]]\nname = "R"\nkind = "reply"\npoints = 5\ncap = "lots"\n', "must be a whole number"),
        ('[stages.Contact]\nrequires_bant = "maybe"\n', "must be true or false"),
    ],
)
def test_rules_load_speaks_pipectls_words(cli, tmp_path, text, fragment):
    result = cli("rules", "load", write(tmp_path, text))
    assert result.exit_code == 1
    assert fragment in result.stderr
    for words in LIBRARY_WORDING:
        assert words not in result.stderr, result.stderr
