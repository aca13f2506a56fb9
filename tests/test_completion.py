"""Shell completion of values (stage names, activity kinds, --status, --sort, --format) in bash, zsh and fish."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from pipectl.cli import completion


def test_the_fixed_lists_are_the_cores():
    # Written out in the completion module so that Tab never loads SQLAlchemy; they must not drift.
    from pipectl.core import hygiene, import_writer, importing, views
    from pipectl.storage import templates

    assert tuple(views.SORTS) == completion.SORTS
    assert completion.RULES == hygiene.RULES
    assert tuple(templates.TEMPLATES) == completion.TEMPLATES
    assert completion.WHATS == importing.WHATS
    assert completion.DUPLICATE_MODES == import_writer.DUPLICATE_MODES


@pytest.mark.parametrize(
    ("function", "typed", "expected"),
    [
        (completion.complete_status, "a", ["archived", "all"]),
        (completion.complete_status, "", ["open", "won", "lost", "archived", "all"]),
        (completion.complete_sort, "l", ["last-activity"]),
        (completion.complete_kind, "em", ["email", "email_open"]),
        (completion.complete_kind, "Me", ["message", "meeting"]),
        (completion.complete_rule, "too", ["too-long-in-stage", "too-old"]),
        (completion.complete_template, "s", ["saas"]),
        (completion.complete_transfer_format, "json", ["json", "jsonl"]),
        (completion.complete_what, "a", ["activities", "all"]),
        (completion.complete_duplicate_mode, "u", ["update"]),
    ],
)
def test_static_values(function, typed, expected):
    assert function(typed) == expected


def context(db=None, parent=None):
    return SimpleNamespace(params={"db": db} if db else {}, parent=parent)


def test_stage_names_come_from_the_chosen_database_in_order(ok, tmp_path):
    ok("stages", "add", "Negotiation")
    assert completion.complete_stage(context(), "") == [
        "Discovery",
        "Qualification",
        "Contact",
        "Proposal",
        "Negotiation",
    ]
    assert completion.complete_stage(context(), "Pro") == ["Proposal"]
    other = tmp_path / "other.db"
    ok("--db", other, "init", "--template", "agency")
    # --db given before the command (the root context) or on it wins over PIPECTL_DB.
    assert completion.complete_stage(context(parent=context(db=str(other))), "") == completion.stage_names(str(other))
    assert completion.stage_names(str(other)) != completion.stage_names(None)


def test_removed_stages_are_not_offered(ok):
    ok("stages", "remove", "Contact", "--to", "Proposal")
    assert "Contact" not in completion.complete_stage(context(), "")


def test_stage_completion_fails_silently_and_creates_nothing(tmp_path):
    missing = tmp_path / "nowhere" / "pipeline.db"
    assert completion.complete_stage(context(db=str(missing)), "") == []
    assert not missing.parent.exists()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert completion.complete_stage(context(db=str(garbage)), "") == []
    assert completion.complete_stage(context(db="postgresql+psycopg://nobody@127.0.0.1:1/none"), "") == []


def run_completion(env: dict, timeout: int = 60) -> subprocess.CompletedProcess:
    """pipectl as the shell runs it on Tab: the completion variables in the environment."""
    full = {**os.environ, **env}
    probe = (
        "import sys\nfrom pipectl.cli.app import main\nsys.argv = ['pipectl']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY:' + ','.join(m for m in ('sqlalchemy', 'sqlmodel', 'rich') if m in sys.modules))"
    )
    return subprocess.run([sys.executable, "-c", probe], env=full, capture_output=True, text=True, timeout=timeout)


def values(output: str) -> list[str]:
    return [line for line in output.splitlines() if not line.startswith("HEAVY:")]


def heavy(output: str) -> str:
    return output.splitlines()[-1].removeprefix("HEAVY:")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("pipectl list --status ", ["open", "won", "lost", "archived", "all"]),
        ("pipectl list --sort s", ["score", "stage"]),
        ("pipectl list --format j", ["json", "jsonl"]),
        ("pipectl next -f ", ["table", "json", "jsonl", "csv", "ics"]),
        ("pipectl log 1 re", ["reply"]),
        ("pipectl export --format ", ["csv", "json", "jsonl"]),
    ],
)
def test_bash_completes_static_values_without_loading_the_database_stack(words, expected):
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    result = run_completion({"_PIPECTL_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    assert result.returncode == 0, result.stderr
    assert values(result.stdout) == expected
    assert heavy(result.stdout) == ""


def test_bash_completes_stage_names_from_the_database(ok, db_location):
    ok("stages", "rename", "Contact", "Demo booked")
    for words, expected in (
        ("pipectl move 1 ", ["Discovery", "Qualification", "Demo booked", "Proposal"]),
        ("pipectl list --stage Q", ["Qualification"]),
        (f"pipectl --db {db_location} clean --stage D", ["Discovery", "Demo booked"]),
    ):
        cword = len(words.split()) - (0 if words.endswith(" ") else 1)
        result = run_completion(
            {
                "_PIPECTL_COMPLETE": "complete_bash",
                "COMP_WORDS": words,
                "COMP_CWORD": str(cword),
                "PIPECTL_DB": db_location,
            }
        )
        assert values(result.stdout) == expected, result.stderr


def test_zsh_and_fish_complete_values(ok, db_location, monkeypatch):
    ok("stages", "list")  # create the pipeline
    monkeypatch.setenv("PIPECTL_DB", db_location)  # the subprocess does not see the test's default location
    zsh = run_completion({"_PIPECTL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "pipectl list --status "})
    assert '"archived"' in zsh.stdout and zsh.stdout.startswith("_arguments")
    fish = run_completion(
        {
            "_PIPECTL_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_ARGS": "pipectl move 1 ",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        }
    )
    assert values(fish.stdout) == ["Discovery", "Qualification", "Contact", "Proposal"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_completion_script(shell):
    result = run_completion({"_PIPECTL_COMPLETE": f"source_{shell}"})
    assert f"_PIPECTL_COMPLETE=complete_{shell}" in result.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "pipectl", "--show-completion", shell],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"},
    )
    assert shown.returncode == 0, shown.stderr
    assert "complete_" + shell in shown.stdout
