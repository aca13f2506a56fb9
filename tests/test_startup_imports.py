"""What a single-lead command imports: only what it uses, so that its start-up stays close to SQLModel's own.

Each probe runs the command in a fresh interpreter (as `pipectl` runs) and lists the modules it loaded.
The help's own rules are in test_cli_surface.py.
"""

import os
import subprocess
import sys

import pytest

# Re-scoring (the scoring rules compiled to SQL, the learned win chance) runs when a command commits
# a change; a read never re-scores.
RESCORING = ("pipectl.core.rescoring", "pipectl.core.scoring_sql", "pipectl.core.condition_sql")
RESCORING += ("pipectl.core.prediction", "pipectl.core.prediction_features")
WATCHED = RESCORING + ("pipectl.core.leads", "rich", "pipectl.cli.tables")


def loaded_by(database, *args: str) -> set[str]:
    """The watched modules loaded by `pipectl ARGS` on `database`; the command must succeed."""
    probe = (
        "import sys; from pipectl.cli.app import app\n"
        f"sys.argv = ['pipectl', *{list(args)!r}]\n"
        "try: app()\nexcept SystemExit as end: code = end.code\nelse: code = 0\n"
        f"print('LOADED:' + ','.join(m for m in {WATCHED!r} if m in sys.modules), file=sys.stderr)\n"
        "sys.exit(code)"
    )
    env = {**os.environ, "PIPECTL_DB": str(database)}
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env)
    assert ran.returncode == 0, ran.stderr
    listed = ran.stderr.strip().splitlines()[-1].removeprefix("LOADED:")
    return set(listed.split(",")) - {""}


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "pipeline.db"
    env = {**os.environ, "PIPECTL_DB": str(path)}
    for args in (["init"], ["add", "Ada Lovelace", "--company", "Analytical"]):
        ran = subprocess.run([sys.executable, "-m", "pipectl", *args], capture_output=True, text=True, env=env)
        assert ran.returncode == 0, ran.stderr
    return path


def test_show_loads_no_rescoring_and_no_lead_writing(database):
    loaded = loaded_by(database, "show", "1")
    assert not loaded & set(RESCORING)
    assert "pipectl.core.leads" not in loaded
    assert {"rich", "pipectl.cli.tables"} <= loaded  # the card is a table: the probe sees what it should


def test_show_as_json_loads_no_rich(database):
    assert "rich" not in loaded_by(database, "show", "1", "--format", "json")


@pytest.mark.parametrize(
    "args",
    [("add", "Grace Hopper"), ("move", "1", "Qualification", "--force"), ("log", "1", "call", "--note", "hi")],
    ids=lambda args: args[0],
)
def test_a_write_loads_no_rich(database, args):
    loaded = loaded_by(database, *args)
    assert "rich" not in loaded and "pipectl.cli.tables" not in loaded
    assert "pipectl.core.rescoring" in loaded  # it re-scores what it changed before the commit
    # Only `add` validates a lead's fields (core.leads' model); the others only find the lead.
    assert ("pipectl.core.leads" in loaded) == (args[0] == "add")
