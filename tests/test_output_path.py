"""The one output path: declared formats only, machine formats whole, and one CSV layout for a lead."""

import csv
import io
import json

import pytest
import typer

from insight_support import pipeline_fixtures
from pipectl.actor import current_actor
from pipectl.cli.app import app
from pipectl.contract import BANT_COLUMNS, csv_columns

EVERY_FORMAT = ("table", "json", "jsonl", "csv", "md", "ics", "xml")
# What each command that prints data writes; a command with --format that is not here fails the test.
DECLARED = {
    "list": ("table", "json", "jsonl", "csv"),
    "show": ("table", "json", "jsonl", "csv"),
    "score": ("table", "json", "jsonl", "csv"),
    "next": ("table", "json", "jsonl", "csv", "ics"),
    "clean": ("table", "json", "jsonl", "csv"),
    "board": ("table", "json", "jsonl", "csv"),
    "metrics": ("table", "json", "jsonl", "csv"),
    "forecast": ("table", "json", "jsonl", "csv"),
    "review": ("table", "md", "json", "jsonl"),
    "export": ("csv", "json", "jsonl"),
    "stages list": ("table", "json", "jsonl", "csv"),
    "rules show": ("table", "json", "jsonl", "csv"),
    "db check": ("table", "json", "jsonl"),
    "status": ("table", "json", "jsonl"),
    "brief": ("table", "json", "jsonl"),
    "search": ("table", "json", "jsonl", "csv"),
    "duplicates": ("table", "json", "jsonl", "csv"),
    "merge": ("table", "json"),
    "predict": ("table", "json", "jsonl", "csv"),
    "undo": ("table", "json"),
    "history": ("table", "json", "jsonl", "csv"),
    "owners list": ("table", "json", "jsonl", "csv"),
    "assign": ("table", "json", "jsonl", "csv"),
    "claim": ("table", "json", "jsonl", "csv"),
    "release": ("table", "json", "jsonl", "csv"),
}
# How to run each of them (and its variants) on the built pipeline, without asking anything.
RUNS = {
    "list": [[], ["--stale"]],
    "show": [["1"]],
    "score": [[], ["1"], ["1", "--explain"], ["--apply", "--dry-run"]],
    "next": [[]],
    "clean": [["--dry-run"], ["--purge", "--older-than", "1d", "--dry-run"]],
    "board": [[]],
    "metrics": [[]],
    "forecast": [["--quota", "20k"]],
    "review": [[]],
    "export": [[], ["--what", "activities"], ["--what", "all"]],
    "stages list": [[]],
    "rules show": [[]],
    "db check": [[]],
    "status": [[]],
    "brief": [["1"]],
    "search": [["a"]],
    "duplicates": [[]],
    "merge": [["1", "2", "--dry-run"]],
    # Needs 30 closed leads, which this pipeline has not: tests/test_predict_cli.py prints each format.
    "predict": [[]],
    "undo": [["--dry-run"]],
    "history": [[]],
    "owners list": [[]],
    "assign": [["1", "--to", "sam"], ["--round-robin"]],
    "claim": [["1"], ["--next"]],
    "release": [["2", "--force"]],
}


def commands_with_a_format(group=None, prefix=()):
    """(path, its --format option) for every command that has one (`import`'s --format is its input's)."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from commands_with_a_format(command, prefix + (name,))
            continue
        option = next((param for param in command.params if "--format" in param.opts), None)
        if option is not None and prefix + (name,) != ("import",):
            yield " ".join(prefix + (name,)), option


def build(builder) -> dict:
    ada = builder.lead(
        "Ada", "--company", "=Acme", "--value", "5k", "--field", "plan=pro", "--tag", "vip", "--at", "-40d"
    )
    bob = builder.lead("Bob", "--value", "2k", "--at", "-3d")
    cy = builder.lead("Cy", "--at", "-30d")
    builder.ok("plan", ada, "Call", "--due", "-2d")
    builder.ok("qualify", bob, "--budget", "yes: 20k")
    builder.ok("won", cy)
    builder.ok("owners", "add", "sam")
    builder.ok("owners", "add", current_actor())  # `claim` takes a lead for whoever runs it
    builder.ok("assign", bob, "--to", "sam")
    return {"ada": ada, "bob": bob, "cy": cy}


built, pipeline = pipeline_fixtures(build)


def test_every_command_with_a_format_is_declared_here():
    found = {path: tuple(option.metavar.split("|")) for path, option in commands_with_a_format()}
    assert found == DECLARED


@pytest.mark.parametrize(
    "path, fmt", [(path, fmt) for path in DECLARED for fmt in EVERY_FORMAT if fmt not in DECLARED[path]]
)
def test_a_format_not_declared_is_a_usage_error_naming_the_declared_ones(pipeline, cli, snapshot, path, fmt):
    before = snapshot()
    result = cli(*path.split(), *RUNS[path][0], "--format", fmt)
    assert result.exit_code == 2
    assert result.stdout == ""
    declared = DECLARED[path]
    named = ", ".join(declared[:-1]) + " or " + declared[-1]
    assert result.stderr == f"Error: --format {fmt}: this command writes {named}.\n"
    assert snapshot() == before


def check_format(fmt: str, result) -> None:
    """The output is what `fmt` says, and nothing else."""
    text = result.stdout
    if fmt == "json":
        json.loads(text)
    elif fmt == "jsonl":
        for line in text.splitlines():
            assert line == json.dumps(json.loads(line), ensure_ascii=False), "jsonl is one compact object a line"
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows and all(len(row) == len(rows[0]) for row in rows), text
    elif fmt == "md":
        assert text.startswith("# ")
    elif fmt == "ics":
        assert result.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")
    else:  # a table (or, where it has nothing to draw, nothing at all): never JSON
        assert not text.lstrip().startswith(("[", "{")), text


@pytest.mark.parametrize(
    "path, args, fmt",
    [
        (path, args, fmt)
        for path in DECLARED
        for args in RUNS[path]
        for fmt in DECLARED[path]
        if not (path == "export" and args == ["--what", "all"] and fmt == "csv") and path != "predict"
    ],
)
def test_each_declared_format_prints_that_format(pipeline, ok, path, args, fmt):
    result = ok(*path.split(), *args, "--format", fmt)
    check_format(fmt, result)


# ---- one CSV layout for a lead --------------------------------------------------------------------------

LEAD_CSV = {
    "list": ([], ("days_in_stage", "nurture", "probability")),
    "show": (["1"], ("days_in_stage", "nurture", "probability", "stale", "stale_reasons") + BANT_COLUMNS),
    "score": ([], ("days_in_stage", "nurture", "probability")),
    "next": (
        [],
        ("days_in_stage", "nurture", "probability", "section", "days_overdue", "task_id", "appointment", "reasons"),
    ),
    "export": ([], ("archived_at",) + BANT_COLUMNS),
}


@pytest.mark.parametrize("command", LEAD_CSV)
def test_a_leads_csv_is_the_contracts_columns_then_custom_fields_then_the_commands_own(pipeline, ok, command):
    args, extra = LEAD_CSV[command]
    header = next(csv.reader(io.StringIO(ok(command, *args, "-f", "csv").stdout)))
    assert header == csv_columns(["plan"], extra)
    assert "fields" not in header


def test_every_lead_csv_carries_the_same_cells_for_the_same_lead(pipeline, ok):
    def ada(command, *args):
        rows = csv.DictReader(io.StringIO(ok(command, *args, "-f", "csv").stdout, newline=""))
        return next(row for row in rows if row["name"] == "Ada")

    base = csv_columns(["plan"])
    cells = [
        tuple(ada(*command)[column] for column in base)
        for command in (("list",), ("show", "1"), ("score",), ("next",), ("export",))
    ]
    assert len(set(cells)) == 1
    first = dict(zip(base, cells[0], strict=True))
    assert first["company"] == "'=Acme" and first["field:plan"] == "pro"


# ---- machine formats are whole unless --limit says otherwise ---------------------------------------------


def build_many(builder) -> dict:
    # Half stalled (idle for 60 days), half fresh: two agenda sections longer than a table shows.
    for number in range(27):
        builder.lead(f"Lead {number:02d}", "--value", str(100 + number), "--at", "-60d" if number < 14 else "-1d")
    return {}


many_built, many = pipeline_fixtures(build_many, name="many")


def count(fmt: str, text: str) -> int:
    if fmt == "json":
        return len(json.loads(text))
    if fmt == "jsonl":
        return len(text.splitlines())
    return len(list(csv.DictReader(io.StringIO(text, newline=""))))


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
@pytest.mark.parametrize("command", ["score", "list", "next"])
def test_machine_formats_give_every_row_unless_limited(many, ok, command, fmt):
    assert count(fmt, ok(command, "-f", fmt).stdout) == 27
    # `next --limit` caps the stalled leads and the leads without a next action, each.
    assert count(fmt, ok(command, "-f", fmt, "--limit", "5").stdout) == (10 if command == "next" else 5)


def test_next_gives_programs_every_lead_of_each_section(many, ok):
    sections = [row["section"] for row in json.loads(ok("next", "-f", "json").stdout)]
    assert (sections.count("needs_decision"), sections.count("no_next_action")) == (14, 13)
    limited = [row["section"] for row in json.loads(ok("next", "-f", "json", "--limit", "5").stdout)]
    assert limited.count("needs_decision") == limited.count("no_next_action") == 5


def test_tables_keep_their_default_limit(many, ok):
    result = ok("score")
    assert "20 lead(s)" in result.stdout and "Scored 27 open lead(s). The 20 highest:" in result.stderr
    assert "Lead" in ok("next").stdout


def test_the_board_gives_every_card_to_programs(many, ok):
    (column, *_rest) = json.loads(ok("board", "-f", "json").stdout)["columns"]
    assert len(column["cards"]) == 27 and column["more"] == 0
    assert count("csv", ok("board", "-f", "csv").stdout) == 27
    (column, *_rest) = json.loads(ok("board", "-f", "json", "--limit", "3").stdout)["columns"]
    assert len(column["cards"]) == 3 and column["more"] == 24
    assert "+17 more" in ok("board").stdout or "17 more" in ok("board").stdout


def test_a_failing_command_writes_nothing_to_stdout(pipeline, cli):
    for fmt in ("json", "jsonl", "csv"):
        result = cli("list", "--stage", "Nowhere", "-f", fmt)
        assert result.exit_code == 1 and result.stdout == ""
