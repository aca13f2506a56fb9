"""A damaged database: every command refuses it in words (with the way back), none writes to it, none crashes."""

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only("damages a SQLite file byte by byte (a PostgreSQL server keeps its own files)")

COPIES = 12
COMMANDS = [
    ["list"],
    ["list", "-f", "json"],
    ["show", "2"],
    ["board"],
    ["metrics"],
    ["next"],
    ["export"],
    ["stages", "list"],
    ["review"],
    ["add", "Zed"],
    ["log", "3", "call"],
    ["edit", "4", "--company", "X"],
    ["plan", "5", "Call", "--due", "3d"],
    ["rules", "export"],
    ["clean", "--dry-run"],
]
WRITES = {"add", "log", "edit", "plan"}


def _flagged(path: Path) -> bool:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.text_factory = bytes
    try:
        return connection.execute("PRAGMA integrity_check").fetchall() != [(b"ok",)]
    except Exception:
        return True
    finally:
        connection.close()


@pytest.fixture
def pipeline_file(ok, db_path, tmp_path) -> Path:
    source = tmp_path / "leads.csv"
    source.write_text(
        "name,company,email,value,tags\n"
        + "\n".join(f"Lead {n},Company {n % 5},lead{n}@example.com,{n}000,a;b" for n in range(1, 60))
        + "\n",
        encoding="utf-8",
    )
    ok("import", source)
    for lead in range(1, 10):
        ok("log", str(lead), "call", "--note", "x" * 200)
    return db_path


def _damaged_copies(pipeline_file: Path, folder: Path) -> list[Path]:
    """Copies with random bytes overwritten that SQLite's integrity check flags (seeded)."""
    rnd, base, copies = random.Random(12), pipeline_file.read_bytes(), []
    while len(copies) < COPIES:
        data = bytearray(base)
        for _ in range(rnd.choice([4, 16, 64])):
            data[rnd.randrange(100, len(data))] = rnd.randrange(256)
        copy = folder / f"damaged-{len(copies)}.db"
        copy.write_bytes(bytes(data))
        if _flagged(copy):
            copies.append(copy)
        else:
            copy.unlink()
    return copies


def test_damaged_copies_are_refused_by_writers_and_never_crash_anything(cli, pipeline_file, tmp_path):
    for copy in _damaged_copies(pipeline_file, tmp_path):
        for command in COMMANDS:
            before = copy.read_bytes()
            result = cli("--db", copy, *command)
            assert result.exit_code in (0, 1), (copy.name, command, result.output)
            if result.exit_code:
                assert result.stderr.count("Error: ") == 1, result.stderr
                assert copy.read_bytes() == before, (copy.name, command)
            if command[0] in WRITES:
                assert result.exit_code == 1, (copy.name, command, result.output)
                assert "damaged" in result.stderr and "backup" in result.stderr


def test_db_check_reports_damage_instead_of_crashing(cli, pipeline_file, tmp_path):
    for copy in _damaged_copies(pipeline_file, tmp_path):
        result = cli("--db", copy, "db", "check", "--format", "json")
        assert result.exit_code == 1, result.output
        report = json.loads(result.stdout)
        assert report["ok"] is False and report["problems"]
        assert "restore a backup" in result.stderr
        table = cli("--db", copy, "db", "check")
        assert table.exit_code == 1 and table.stdout.startswith("PROBLEMS FOUND")


def test_a_damaged_header_is_refused_with_the_way_back(cli, pipeline_file, tmp_path):
    copy = tmp_path / "header.db"
    data = bytearray(pipeline_file.read_bytes())
    data[16:24] = b"\xff" * 8  # the page size and format bytes
    copy.write_bytes(bytes(data))
    for command in (["list"], ["add", "Zed"], ["db", "check"]):
        result = cli("--db", copy, *command)
        assert result.exit_code == 1 and result.stderr.count("Error: ") == 1, result.output


def test_backup_refuses_to_copy_a_damaged_file(cli, pipeline_file, tmp_path):
    copy = _damaged_copies(pipeline_file, tmp_path)[0]
    target = tmp_path / "good-backup.db"
    shutil.copyfile(pipeline_file, target)
    before = target.read_bytes()
    result = cli("--db", copy, "db", "backup", target, "--force")
    assert result.exit_code == 1 and "damaged" in result.stderr
    assert target.read_bytes() == before  # the good backup was not replaced by a damaged one


def test_a_good_backup_brings_the_pipeline_back(ok, cli, pipeline_file, tmp_path):
    ok("db", "backup", tmp_path / "backup.db")
    copy = _damaged_copies(pipeline_file, tmp_path)[0]
    assert cli("--db", copy, "add", "Zed").exit_code == 1
    shutil.copyfile(tmp_path / "backup.db", copy)
    ok("--db", copy, "db", "check")
    ok("--db", copy, "add", "Zed")
