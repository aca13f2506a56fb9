"""Bad input, fuzzed: random names, amounts, dates, stage names and rule files never break pipectl.

Whatever hypothesis types, a command either succeeds (exit 0) or fails with
exit 1 or 2 and an `Error:` message, never a traceback, and a failed command
leaves every row of the database as it was.
"""

import csv

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

# The fixtures (database, CLI runner) live for the whole test; each example runs one more command on it.
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text a person or a script might really pass: anything printable or not, except lone surrogates
# (no operating system hands those to a program as an argument).
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
NASTY = st.sampled_from(
    [
        "",
        " ",
        "-",
        "--",
        "0",
        "-1",
        "1e400",
        "nan",
        "inf",
        "-inf",
        "12k",
        "1,000.50",
        "1.000,50",
        "€5",
        "$-3",
        "9" * 40,
        "0.001",
        "1m",
        "2026-02-30",
        "2026-13-01",
        "tomorrow",
        "yesterday",
        "-3d",
        "3d",
        "next blursday",
        "'; DROP TABLE leads; --",
        "Robert'); DROP TABLE leads; --",
        "%s",
        "%(name)s",
        "{}",
        "{0}",
        "[bold]x[/]",
        "[/]",
        "\x00",
        "a\x00b",
        "\n",
        "\t",
        "\u202e",
        "\ufeff",
        "🦄",
        "NULL",
        "None",
        "=1+2",
        "@SUM(A1)",
    ]
)
FUZZED = st.one_of(ANY_TEXT, NASTY)


def _check(result, before, snapshot) -> None:
    """Success, or a clean refusal that changed nothing."""
    if result.exit_code == 0:
        return
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert "Error" in result.stderr, result.output
    assert snapshot() == before


@pytest.fixture
def target(new_lead) -> int:
    """A lead the fuzzed commands act on."""
    return new_lead("Fuzz Target", "--company", "Fuzz Ltd", "--value", "1k")


@FUZZ
@given(name=FUZZED, value=FUZZED, at=FUZZED, company=FUZZED, email=FUZZED, tag=FUZZED, field=FUZZED)
@example(name="'; DROP TABLE leads; --", value="12k", at="yesterday", company="x", email="a@b.co", tag="t", field="k=v")
def test_add_with_random_fields(cli, snapshot, target, name, value, at, company, email, tag, field):
    before = snapshot()
    result = cli(
        "add",
        name,
        "--value",
        value,
        "--at",
        at,
        "--company",
        company,
        "--email",
        email,
        "--tag",
        tag,
        "--field",
        field,
        "--force",
    )
    _check(result, before, snapshot)
    if result.exit_code == 0:
        assert result.stdout.strip().isdigit()


@FUZZ
@given(kind=st.one_of(FUZZED, st.sampled_from(["call", "email", "web_visit", "Email-Open"])), note=FUZZED, at=FUZZED)
def test_log_with_random_kind_note_and_date(cli, snapshot, target, kind, note, at):
    before = snapshot()
    _check(cli("log", str(target), kind, "--note", note, "--at", at), before, snapshot)


@FUZZ
@given(
    stage=st.one_of(FUZZED, st.sampled_from(["Contact", "contact ", "PROPOSAL", "Discovery"])),
    lead=st.one_of(FUZZED, st.just("1")),
    force=st.booleans(),
)
def test_move_to_random_stage(cli, snapshot, target, stage, lead, force):
    before = snapshot()
    _check(cli("move", lead, stage, *(["--force"] if force else [])), before, snapshot)


@FUZZ
@given(value=FUZZED, reason=FUZZED, won=st.booleans())
def test_close_with_random_value_or_reason(cli, snapshot, target, value, reason, won):
    before = snapshot()
    if won:
        result = cli("won", str(target), "--value", value)
    else:
        result = cli("lost", str(target), "--reason", reason)
    _check(result, before, snapshot)
    if result.exit_code == 0:
        cli("reopen", str(target))


@FUZZ
@given(command=st.sampled_from(["add", "rename", "set", "remove", "move"]), first=FUZZED, second=FUZZED)
def test_stages_with_random_names_and_numbers(cli, snapshot, target, command, first, second):
    before = snapshot()
    if command == "add":
        result = cli("stages", "add", first, "--probability", second)
    elif command == "rename":
        result = cli("stages", "rename", first, second)
    elif command == "set":
        result = cli("stages", "set", first, "--idle-days", second)
    elif command == "remove":
        result = cli("stages", "remove", first, "--to", second)
    else:
        result = cli("stages", "move", first, second)
    _check(result, before, snapshot)


@FUZZ
@given(command=st.sampled_from(["qualify", "plan", "edit"]), text=FUZZED, due=FUZZED)
def test_qualify_plan_and_edit_with_random_text(cli, snapshot, target, command, text, due):
    before = snapshot()
    if command == "qualify":
        result = cli("qualify", str(target), "--budget", text, "--need", due)
    elif command == "plan":
        result = cli("plan", str(target), text, "--due", due)
    else:
        result = cli("edit", str(target), "--email", text, "--value", due)
    _check(result, before, snapshot)


RULE_LINES = st.sampled_from(
    [
        "[thresholds]",
        "nurture_below = 30",
        "mql = -5",
        "sql = 'high'",
        "[[scoring.demographic]]",
        'name = "Senior"',
        'field = "title"',
        'field = "nonsense"',
        'glob = ["Head*"]',
        "points = 15",
        "points = 1e400",
        "[[scoring.behavioural]]",
        'kind = "web_visit"',
        'kind = "teleport"',
        "cap = 0",
        'within = "30d"',
        'within = "forever"',
        "[stages.Discovery]",
        "[stages.Nowhere]",
        "probability = 140",
        "idle_days = -1",
        'requires_bant = "maybe"',
        "[cleanup]",
        "stage_factor = 0",
        "max_age_days = 180",
        "[unknown]",
        "x = [",
        "= =",
        "",
    ]
)


@FUZZ
@given(lines=st.lists(st.one_of(RULE_LINES, ANY_TEXT), max_size=12))
def test_rules_load_with_random_files(cli, snapshot, target, tmp_path, lines):
    rules = tmp_path / "rules.toml"
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = snapshot()
    _check(cli("rules", "load", str(rules)), before, snapshot)


@pytest.fixture
def exported_rules(ok) -> list[str]:
    return ok("rules", "export").stdout.splitlines()


@FUZZ
@given(mutation=st.tuples(st.integers(min_value=0, max_value=400), FUZZED))
def test_rules_load_with_a_valid_file_mutated(cli, snapshot, exported_rules, tmp_path, mutation):
    """One line of the rules `rules export` writes, replaced by junk: loaded whole or refused whole."""
    lines = list(exported_rules)
    index, junk = mutation
    lines[index % len(lines)] = junk
    rules = tmp_path / "mutated.toml"
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = snapshot()
    _check(cli("rules", "load", str(rules)), before, snapshot)


CSV_HEADERS = st.sampled_from(
    [
        "name",
        "company",
        "email",
        "value",
        "stage",
        "status",
        "tags",
        "created_at",
        "lost_reason",
        "field:department",
        "owner",
        "Name",
        "E-Mail",
        "",
        "name",
    ]
)
CSV_CELLS = st.one_of(
    FUZZED, st.sampled_from(["Discovery", "Proposal", "won", "lost", "2026-01-05", "5k", "a@b.example", "x;y"])
)


@FUZZ
@given(
    headers=st.lists(CSV_HEADERS, min_size=1, max_size=6),
    cells=st.lists(st.lists(CSV_CELLS, max_size=7), max_size=5),
    options=st.sampled_from([[], ["--skip-invalid"], ["--on-duplicate", "update"], ["--create-stages"]]),
)
def test_import_with_random_csv_files(cli, snapshot, target, tmp_path, headers, cells, options):
    if cli("import", "--help").exit_code != 0:
        pytest.skip("pipectl import does not exist yet")
    source = tmp_path / "random.csv"
    with source.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(cells)
    before = snapshot()
    _check(cli("import", str(source), "--format", "csv", *options), before, snapshot)
