"""Tables that fit: the main tables at 60, 80 and 120 columns and piped, against stored snapshots.

How a terminal is simulated: CliRunner's stdout is not a terminal, so a command run as-is draws
its tables as in a pipe (whole, at their natural width). The `terminal` fixture (conftest) sets
TTY_COMPATIBLE=1 and COLUMNS, which is how `pipectl.terminal.stdout_is_terminal` and Rich are told
"this is a terminal that wide"; TERM=dumb keeps colour codes out.

Snapshots are in tests/snapshots/, one file per command and width, with trailing spaces stripped.
After an intended change of layout, regenerate them and read the diff:
    PIPECTL_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_tables_fit.py
Besides the snapshot, each case asserts what matters: no line wider than the terminal, every name
whole (and every company at 80 columns and wider), no word of a name or company split, and no
column drawn that is empty in every row.
"""

import os
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from insight_support import pipeline_fixtures

SNAPSHOTS = Path(__file__).parent / "snapshots"
WIDTHS = [60, 80, 120, None]  # None: piped

# (name, company): accented, hyphenated, double-width and long, as real pipelines have them.
PEOPLE = [
    ("Zoë Łukasiewicz-Ångström", "Ærøskøbing Fjordværk A/S"),
    ("Adalberta Perlman", "Société Générale d'Équipement"),
    ("José María García", "Cyberdyne"),
    ("山田 太郎", "株式会社ヤマダ電機"),
    ("Ngũgĩ wa Thiong'o", "Nairobi Ōsaka Trading"),
    ("Radia Perlman", "Hooli"),
]
STAGES = ["Discovery", "Qualification", "Contact", "Proposal"]


def build(pipectl) -> dict:
    ok, lead = pipectl.ok, pipectl.lead
    ids = {}
    stages = ["Discovery", "Qualification", "Contact", "Proposal", "Discovery", "Contact"]
    for (name, company), stage, value in zip(PEOPLE, stages, ["12k", "48,500", "7k", "3k", "25k", "9k"], strict=True):
        ids[name] = lead(
            name,
            "--company",
            company,
            "--value",
            value,
            "--stage",
            stage,
            "--force",
            "--source",
            "trade fair" if value.endswith("k") else "referral",
            "--at",
            "2026-10-01",
        )
    ok("plan", ids["Zoë Łukasiewicz-Ångström"], "Send the revised proposal with the new pricing", "--due", "-2d")
    ok("plan", ids["Adalberta Perlman"], "Call about the framework agreement", "--due", "today")
    ok("plan", ids["José María García"], "Demo", "--due", "3d")
    ok("plan", ids["山田 太郎"], "見積書を送る", "--due", "5d")
    ok(
        "log",
        ids["Adalberta Perlman"],
        "call",
        "--note",
        "Wants the Lyon and Montréal sites in one contract",
        "--at",
        "2026-11-20",
    )
    ok("won", ids["Radia Perlman"], "--at", "2026-11-10")
    lost = lead(
        "Łucja Wiśniewska-Kowalczyk", "--company", "Przedsiębiorstwo Handlowe", "--value", "4k", "--at", "2026-09-01"
    )
    ok("lost", lost, "--reason", "chose a competitor with a local office", "--at", "2026-11-01")
    return ids


built, pipeline = pipeline_fixtures(build)

CASES = {
    "list": ["list"],
    "next": ["next", "--within", "14d"],
    "board": ["board"],
    "metrics": ["metrics"],
    "forecast": ["forecast"],
    "show": ["show", "Adalberta Perlman"],
}
OPEN = [person for person in PEOPLE if person[0] != "Radia Perlman"]
# The leads each table shows by name and company (metrics and forecast show stages instead).
SHOWN = {"list": OPEN, "next": OPEN, "board": OPEN, "show": [PEOPLE[1]], "metrics": [], "forecast": []}


def run(ok, terminal, command: str, width: int | None) -> str:
    if width is not None:
        terminal(width)
    out = ok(*CASES[command]).stdout
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("PIPECTL_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with PIPECTL_UPDATE_SNAPSHOTS=1 to write it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from {path}:\n{text}"


def whole_on_a_line(text: str, value: str) -> bool:
    return any(value in line for line in text.splitlines())


@pytest.mark.parametrize("width", WIDTHS, ids=lambda width: f"{width}cols" if width else "piped")
@pytest.mark.parametrize("command", list(CASES))
def test_table_snapshot(pipeline, ok, terminal, command, width):
    text = run(ok, terminal, command, width)
    check_snapshot(f"{command}-{width or 'piped'}", text)
    if width is not None:
        too_wide = [line for line in text.splitlines() if cell_len(line) > width]
        assert not too_wide, f"lines wider than {width}: {too_wide}"
    for name, company in SHOWN[command]:
        assert whole_on_a_line(text, name), f"{name!r} is not whole at {width}:\n{text}"
        if command == "board" and width != 120:
            continue  # the compact board lists names only; the wide one (120 columns) has companies
        if width is None or width >= 80:
            assert whole_on_a_line(text, company), f"{company!r} cut at {width}:\n{text}"
        # Never cut to a few letters: every word of the company is whole, even where it wraps.
        for word in company.split():
            assert whole_on_a_line(text, word), f"{word!r} of {company!r} split at {width}:\n{text}"
    if command in ("metrics", "forecast"):
        for stage in STAGES:
            assert re.search(rf"(^|\s){stage}(\s|$)", text, re.M), f"{stage} split at {width}:\n{text}"


def test_piped_list_is_greppable(pipeline, ok):
    """`pipectl list --status all | grep -i perlman` finds both, whole, each on its own line."""
    out = ok("list", "--status", "all").stdout
    found = [line for line in out.splitlines() if "perlman" in line.lower()]
    assert len(found) == 2
    assert "Adalberta Perlman" in found[0] and "Société Générale d'Équipement" in found[0]
    assert "Radia Perlman" in found[1] and "won" in found[1]
    assert "…" not in out


def test_eighty_columns_keep_the_agenda_readable(pipeline, ok, terminal):
    """Issue 11: at 80 columns `next` shrank names to 2–3 letters while Stage and Due kept their width."""
    terminal(80)
    out = ok("next", "--within", "14d").stdout
    for name, company in OPEN:
        assert whole_on_a_line(out, name) and whole_on_a_line(out, company), out
    for word in ["Send", "the", "revised", "proposal", "with", "the", "new", "pricing"]:
        assert re.search(rf"(^|\s){word}(\s|$)", out, re.M), out
    # What made way is said, not silently lost.
    assert "Hidden at 80 columns: Stage, Value, Score" in out


def test_columns_empty_in_every_row_are_not_drawn(pipeline, ok):
    out = ok("next", "--within", "14d").stdout
    sections = out.split("\n\n")
    overdue = next(section for section in sections if section.startswith("Overdue"))
    upcoming = next(section for section in sections if section.startswith("Upcoming"))
    assert "Overdue" in overdue.splitlines()[1]
    assert "Overdue" not in upcoming.splitlines()[1] and "Due" in upcoming.splitlines()[1]
    # The won lead has no next action: the list leaves out Due and Next.
    header = ok("list", "--status", "won").stdout.splitlines()[0]
    assert "Status" in header and "Due" not in header and "Next" not in header


def test_narrow_metrics_never_split_a_stage_name(pipeline, ok, terminal, new_lead):
    ok("stages", "rename", "Contact", "Contact and first demonstration")
    terminal(60)
    out = ok("metrics").stdout
    assert whole_on_a_line(out, "Qualification") and whole_on_a_line(out, "Discovery")
    assert all(cell_len(line) <= 60 for line in out.splitlines())
    # A long stage name wraps between words, never inside one.
    for word in ("Contact", "and", "first", "demonstration"):
        assert re.search(rf"(^|\s){word}(\s|$)", out, re.M), out
