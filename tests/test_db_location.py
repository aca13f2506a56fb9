"""A mistyped --db or PIPECTL_DB never makes folders or an empty pipeline behind the user's back."""

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only("where a SQLite file is made: typed paths, folders, read-only folders")

READS = [
    ("list",),
    ("show", "1"),
    ("export",),
    ("metrics",),
    ("board",),
    ("next",),
    ("stages", "list"),
    ("db", "check"),
    ("db", "upgrade"),
]
# A dry run on a path with no database works on an empty pipeline in memory and says so
# (tests/test_reliability_opening.py): it creates nothing, so it is not refused.


@pytest.mark.parametrize("args", READS, ids=lambda args: " ".join(args))
def test_a_read_on_a_path_that_does_not_exist_refuses_with_a_hint(cli, tmp_path, args):
    typo = tmp_path / "pipline.db"
    result = cli("--db", typo, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (
        f"Error: There is no pipeline at {typo}; check the path (--db or PIPECTL_DB), "
        f"or create one there with `pipectl init --db {typo}`."
    )
    assert not typo.exists()


def test_pipectl_db_is_checked_like_the_option(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPECTL_DB", str(tmp_path / "typo.db"))
    result = cli("list")
    assert result.exit_code == 1 and "There is no pipeline at" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_write_creates_the_file_and_says_so(cli, tmp_path):
    chosen = tmp_path / "work.db"
    result = cli("--db", chosen, "add", "Ada")
    assert result.exit_code == 0 and result.stdout == "1\n"
    assert result.stderr.splitlines()[0] == f"Created a new pipeline at {chosen}."
    again = cli("--db", chosen, "add", "Grace")
    assert "Created" not in again.stderr  # only the first write made it
    assert "Grace" in cli("list", "--db", chosen).stdout


@pytest.mark.parametrize("args", [("add", "Ada"), ("init",), ("import", "-")], ids=lambda args: args[0])
def test_missing_folders_are_never_created(cli, tmp_path, args):
    typo = tmp_path / "pipectl-data" / "sub" / "pipeline.db"
    result = cli("--db", typo, *args, input="name\nAda\n")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"Error: There is no folder {typo.parent} for the database pipeline.db")
    assert not (tmp_path / "pipectl-data").exists()


def test_init_creates_an_explicit_path_silently_but_for_its_own_message(cli, tmp_path):
    chosen = tmp_path / "team.db"
    result = cli("--db", chosen, "init", "--template", "saas")
    assert result.exit_code == 0 and result.stderr.startswith(f"Created {chosen} with stages:")
    assert "Created a new pipeline" not in result.stderr
    assert cli("--db", chosen, "list").exit_code == 0


def test_the_default_location_is_created_silently_with_its_folder(cli, tmp_path, monkeypatch):
    from pipectl.storage import location

    monkeypatch.setattr(location, "user_dir", lambda: tmp_path / "data" / "pipectl")
    result = cli("list")
    assert result.exit_code == 0 and result.stderr == ""
    assert (tmp_path / "data" / "pipectl" / "pipeline.db").exists()


def test_a_sqlite_url_is_checked_like_a_path(cli, tmp_path):
    result = cli("--db", f"sqlite:///{tmp_path}/nothing.db", "list")
    assert result.exit_code == 1 and "There is no pipeline at" in result.stderr
    assert not (tmp_path / "nothing.db").exists()


def _folder_read_only(monkeypatch, folder):
    """What a folder the user may not write does for any user but root, simulated for root too."""
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode, **kw: False if (mode & os.W_OK and Path(path) == folder) else real_access(path, mode, **kw),
    )


def test_a_database_in_a_read_only_folder_is_read_and_never_written(ok, cli, db_path, new_lead, monkeypatch):
    new_lead("Ada")
    _folder_read_only(monkeypatch, db_path.parent)
    before = db_path.read_bytes()
    assert "Ada" in ok("list").stdout and "Ada" in ok("show", "1").stdout
    assert "Ada" in ok("export").stdout and ok("metrics", "-f", "json").stdout
    for command in (("add", "Bob"), ("log", "1", "call"), ("edit", "1", "--title", "CTO")):
        result = cli(*command)
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == (
            f"Error: {db_path} is open read-only (you may not write its folder); "
            "this command changes the pipeline, so it was refused."
        )
    assert sorted(path.name for path in db_path.parent.iterdir()) == ["pipeline.db"]
    assert db_path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any folder")
def test_a_read_only_folder_for_real(ok, cli, db_path, new_lead):
    new_lead("Ada")
    db_path.parent.chmod(0o555)
    try:
        assert "Ada" in ok("list").stdout and "Ada" in ok("export").stdout
        assert cli("add", "Bob").exit_code == 1
        assert sorted(path.name for path in db_path.parent.iterdir()) == ["pipeline.db"]
    finally:
        db_path.parent.chmod(0o755)
