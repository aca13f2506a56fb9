"""The command line as a whole: help for every command, fast start-up, the version, errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from pipectl import __version__
from pipectl.cli.app import app

README = Path(__file__).resolve().parent.parent / "README.md"


def all_commands(group=None, prefix=()):
    """(path, command) for every leaf command of the app."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from all_commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


COMMANDS = sorted(path for path, _ in all_commands())


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(ok, path):
    output = ok(*path, "--help").stdout
    assert "Usage: pipectl " + " ".join(path) in output
    command = dict(all_commands())[path]
    assert command.help and "Example:" in command.help, f"{' '.join(path)} needs a docstring with an example"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_is_documented_in_the_readme(path):
    assert f"pipectl {' '.join(path)}" in README.read_text(encoding="utf-8")


def test_version(ok):
    assert ok("--version").stdout.strip() == f"pipectl {__version__}"


def test_help_and_version_do_not_load_the_database_stack():
    probe = (
        "import sys; from pipectl.cli.app import app; "
        "sys.argv=['pipectl', '--help']\n"
        "try: app()\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'dateutil', 'rich') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_help_imports_no_command_module_and_no_package_metadata():
    # Root help is written from cli/lazy.py's summaries; the version is read only for --version.
    probe = (
        "import sys; from pipectl.cli.app import app; "
        "sys.argv=['pipectl', '--help']\n"
        "try: app()\nexcept SystemExit: pass\n"
        "print('LOADED:' + ','.join(sorted(m for m in sys.modules if m.startswith('pipectl.cli.') "
        "or m == 'importlib.metadata')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    modules = set(loaded.stdout.strip().splitlines()[-1].removeprefix("LOADED:").split(","))
    from pipectl.cli.lazy import COMMANDS

    assert "pipectl.cli.lazy" in modules and "importlib.metadata" not in modules
    assert not modules & {f"pipectl.cli.{module}" for module, _summary in COMMANDS.values()}


def test_the_help_summaries_are_each_commands_own():
    from pipectl.cli.lazy import COMMANDS

    group = typer.main.get_command(app)
    for name, (module, summary) in COMMANDS.items():
        command = group.commands[name]
        first_paragraph = " ".join(command.help.split("\n\n")[0].split())
        assert summary == first_paragraph, f"update cli/lazy.py for `pipectl {name}`"
        assert command.callback is None or command.callback.__module__ == f"pipectl.cli.{module}"
    assert list(group.commands) == list(COMMANDS)


def test_python_dash_m_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "pipectl", "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == f"pipectl {__version__}"


def test_machine_output_never_goes_through_rich(ok, new_lead):
    long_name = "A" * 170 + " [bold]not markup[/bold]"  # wider than any terminal, within the 200 limit
    new_lead(long_name)
    (lead,) = json.loads(ok("list", "-f", "json").stdout)
    assert lead["name"] == long_name


def test_errors_are_one_line_on_stderr_and_nothing_on_stdout(cli):
    result = cli("show", "404")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
