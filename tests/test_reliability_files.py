"""Files pipectl writes: never the database, never through a planted file, always private, never half-done."""

import errno
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(result, code: int) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.stderr


def _partials(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".partial"))


@pytest.fixture
def bad_csv(tmp_path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("name,email\nGood,good@example.com\nBad,not-an-email\n", encoding="utf-8")
    return path


# --- no output is the database or a file beside it ------------------------------------------------


@pytest.mark.sqlite_only("the SQLite file and the files beside it")
@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_export_never_writes_over_the_database_or_its_side_files(cli, new_lead, db_path, suffix):
    new_lead("Ada")
    before = _digest(db_path)
    result = cli("export", "-o", f"{db_path}{suffix}")
    _one_error_line(result, 2)
    assert "pipectl cannot overwrite" in result.stderr
    assert _digest(db_path) == before
    assert cli("list").exit_code == 0


@pytest.mark.sqlite_only("the SQLite file and the files beside it")
def test_rejects_never_go_over_the_database_or_the_file_being_imported(cli, new_lead, db_path, bad_csv):
    new_lead("Ada")
    before, source = _digest(db_path), bad_csv.read_text()
    for target in (db_path, Path(f"{db_path}-wal"), bad_csv):
        result = cli("import", bad_csv, "--skip-invalid", "--rejects", target)
        _one_error_line(result, 2)
    assert _digest(db_path) == before and bad_csv.read_text() == source


@pytest.mark.sqlite_only("links to the SQLite file")
def test_links_to_the_database_are_the_database(cli, new_lead, db_path, tmp_path):
    new_lead("Ada")
    (tmp_path / "soft.csv").symlink_to(db_path)
    os.link(db_path, tmp_path / "hard.csv")
    before = _digest(db_path)
    for name in ("soft.csv", "hard.csv"):
        _one_error_line(cli("export", "-o", tmp_path / name), 2)
        _one_error_line(cli("db", "backup", tmp_path / name, "--force"), 2)
    assert _digest(db_path) == before


@pytest.mark.sqlite_only("the SQLite file and the files beside it")
def test_backup_over_the_wal_is_refused_even_with_force(cli, new_lead, db_path):
    new_lead("Ada")
    for suffix in ("-wal", "-shm", "-journal"):
        result = cli("db", "backup", f"{db_path}{suffix}", "--force")
        _one_error_line(result, 2)
    assert cli("list").exit_code == 0


# --- temporary files are created exclusively ------------------------------------------------------


def test_a_planted_partial_is_refused_and_never_written_through(cli, new_lead, tmp_path, bad_csv, backend):
    new_lead("Ada Lovelace", "--email", "ada@example.com")
    writers = [(["export", "-o"], tmp_path / "out.csv")]
    if backend == "sqlite":  # `db backup` copies SQLite files only
        writers.append((["db", "backup"], tmp_path / "copy.db"))
    for command, target in writers:
        planted = Path(f"{target}.partial")
        planted.write_text("someone else's file\n")
        result = cli(*command, target)
        _one_error_line(result, 1)
        assert "already exists" in result.stderr
        assert planted.read_text() == "someone else's file\n" and not target.exists()
    rejects = tmp_path / "rejects.csv"
    Path(f"{rejects}.partial").write_text("planted\n")
    result = cli("import", bad_csv, "--skip-invalid", "--rejects", rejects)
    _one_error_line(result, 1)
    assert Path(f"{rejects}.partial").read_text() == "planted\n"


def test_a_planted_symlink_is_not_followed(cli, new_lead, tmp_path):
    new_lead("Ada Lovelace", "--email", "ada@example.com")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    Path(f"{tmp_path / 'out.csv'}.partial").symlink_to(victim)
    _one_error_line(cli("export", "-o", tmp_path / "out.csv"), 1)
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_every_written_file_is_owner_only_whatever_the_umask(ok, new_lead, tmp_path, bad_csv, mask, backend):
    new_lead("Ada")
    previous = os.umask(mask)
    try:
        ok("export", "-o", tmp_path / "out.csv")
        ok("export", "--format", "json", "-o", tmp_path / "out.json")
        if backend == "sqlite":  # `db backup` copies SQLite files only
            ok("db", "backup", tmp_path / "copy.db")
        ok("import", bad_csv, "--skip-invalid", "--rejects", tmp_path / "rejects.csv")
    finally:
        os.umask(previous)
    for name in ("out.csv", "out.json", "rejects.csv") + (("copy.db",) if backend == "sqlite" else ()):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_export_replacing_a_file_keeps_it_private(ok, new_lead, tmp_path):
    new_lead("Ada")
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    os.chmod(target, 0o644)
    ok("export", "-o", target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and "Ada" in target.read_text()


# --- bad paths: one Error line, nothing left behind ------------------------------------------------

BAD_OUTPUTS = [
    "",
    ".",
    "..",
    "{folder}",
    "{folder}/",
    "{folder}/a\x00b.csv",
    "{folder}/" + "n" * 256,
    "{folder}/~\x7f",
    "{folder}/missing/out.csv",
    "{folder}/fifo",
]


@pytest.mark.parametrize("output", BAD_OUTPUTS)
def test_bad_output_paths_are_usage_errors(cli, new_lead, tmp_path, snapshot, output):
    new_lead("Ada")
    # A named pipe stands for any file that is not a regular one (a device, a socket); never a real
    # device here: a pipectl that got this wrong would replace it.
    os.mkfifo(tmp_path / "fifo")
    before = snapshot()
    target = output.format(folder=tmp_path)
    _one_error_line(cli("export", "-o", target), 2)
    _one_error_line(cli("db", "backup", target), 2)
    assert snapshot() == before and _partials(tmp_path) == []


def test_a_write_error_half_way_removes_the_partial_and_keeps_the_old_file(cli, new_lead, tmp_path, monkeypatch):
    new_lead("Ada")
    target = tmp_path / "out.csv"
    target.write_text("the old export\n")

    def full_disk(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("pipectl.files.os.fsync", full_disk)
    result = cli("export", "-o", target)
    _one_error_line(result, 1)
    assert "disk is full" in result.stderr
    assert target.read_text() == "the old export\n" and _partials(tmp_path) == []


def test_rejects_on_a_full_disk_leave_no_partial_and_no_import(cli, new_lead, tmp_path, bad_csv, monkeypatch, snapshot):
    new_lead("Ada")
    before = snapshot()

    def full_disk(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("pipectl.files.os.fsync", full_disk)
    result = cli("import", bad_csv, "--skip-invalid")
    _one_error_line(result, 1)
    assert "disk is full" in result.stderr
    assert _partials(tmp_path) == [] and not Path(f"{bad_csv}.rejects.csv").exists()
    assert snapshot() == before  # the rejects are written out before the import commits


# A real write failure from the kernel, in a separate process: its files may grow to 96 KB only.
LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (96 * 1024, 96 * 1024))
from pipectl.cli.app import main
sys.argv = ["pipectl", *sys.argv[1:]]
main()
"""


def test_an_export_that_outgrows_the_disk_fails_cleanly(ok, tmp_path, db_location):
    rows = "\n".join(f"Lead {number},lead{number}@example.com,{'x' * 200}" for number in range(800))
    source = tmp_path / "many.csv"
    source.write_text("name,email,field:notes\n" + rows + "\n", encoding="utf-8")
    ok("import", source)
    env = dict(os.environ, PIPECTL_DB=db_location, PYTHONPATH=str(ROOT / "src"))
    target = tmp_path / "big.csv"
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, "export", "-o", str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: Cannot write") and "Traceback" not in done.stderr
    assert not target.exists() and _partials(tmp_path) == []
    ok("db", "check")
