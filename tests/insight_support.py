"""Support for the board / metrics / forecast / review tests: build a pipeline once per module.

Building a pipeline takes a few dozen commands; each test gets its own copy of
the database file, so tests stay independent and the files stay fast.
"""

import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FIXED_NOW
from pipectl.cli.app import app


class Builder:
    """Runs `pipectl` commands against one database while a pipeline is being built."""

    def __init__(self):
        self.runner = CliRunner()

    def ok(self, *args) -> str:
        from pipectl.cli.runtime import root_db

        root_db["location"] = None
        result = self.runner.invoke(app, [str(arg) for arg in args])
        assert result.exit_code == 0, result.output
        return result.stdout

    def lead(self, name: str, *options) -> int:
        return int(self.ok("add", name, *options).strip())


def build_once(tmp_path_factory, build) -> tuple[Path, dict]:
    """Run `build(builder) -> ids` on a fresh database at the fixed now; return the file and the ids."""
    path = tmp_path_factory.mktemp("pipeline") / "pipeline.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPECTL_DB", str(path))
        patch.setenv("PIPECTL_NOW", FIXED_NOW)
        patch.setenv("TZ", "UTC")
        time.tzset()
        ids = build(Builder())
    time.tzset()
    return path, ids


def copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        original = Path(str(source) + suffix)
        if original.exists():
            shutil.copy(original, Path(str(target) + suffix))


def pipeline_fixtures(build):
    """The `built` (once per module) and `pipeline` (a fresh copy per test) fixtures for `build`.

    Example: built, pipeline = pipeline_fixtures(build)
    """

    @pytest.fixture(scope="module")
    def built(tmp_path_factory):
        return build_once(tmp_path_factory, build)

    @pytest.fixture
    def pipeline(built, db_path):
        copy_database(built[0], db_path)
        return built[1]

    return built, pipeline
