"""Support for the board / metrics / forecast / review tests: build a pipeline once per module.

Building a pipeline takes a few dozen commands; each test gets its own copy of the database (the
file on SQLite, a CREATE DATABASE … TEMPLATE on PostgreSQL), so tests stay independent and fast.
"""

import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends import SERVER_DATABASES
from conftest import FIXED_NOW, use_copy_of
from pipectl.cli.app import app


class Builder:
    """Runs `pipectl` commands against one database while a pipeline is being built."""

    def __init__(self, folder: Path):
        self.runner = CliRunner()
        self.folder = folder  # for files a build writes (a rules file to load), on either backend

    def ok(self, *args) -> str:
        from pipectl.cli.runtime import root_db

        root_db["location"] = None
        result = self.runner.invoke(app, [str(arg) for arg in args])
        assert result.exit_code == 0, result.output
        return result.stdout

    def lead(self, name: str, *options) -> int:
        return int(self.ok("add", name, *options).strip())


def build_once(tmp_path_factory, build, backend: str = "sqlite") -> tuple[Path | str, dict]:
    """Run `build(builder) -> ids` on a fresh database at the fixed now; return the database and the ids.

    The database is a SQLite file, or on PostgreSQL the name of a database the tests copy.
    """
    path: Path | str
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("pipeline") / "pipeline.db"
        location = str(path)
    else:
        assert SERVER_DATABASES is not None
        path = SERVER_DATABASES.create()
        location = SERVER_DATABASES.url_of(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPECTL_DB", location)
        patch.setenv("PIPECTL_NOW", FIXED_NOW)
        patch.setenv("TZ", "UTC")
        time.tzset()
        ids = build(Builder(tmp_path_factory.mktemp("files")))
    time.tzset()
    return path, ids


def copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        original = Path(str(source) + suffix)
        if original.exists():
            shutil.copy(original, Path(str(target) + suffix))


def pipeline_fixtures(build, name: str = "pipeline"):
    """The `built` (once per module and backend) and `pipeline` (a fresh copy per test) fixtures for `build`.

    Example: built, pipeline = pipeline_fixtures(build); with a `name`, the fixtures are NAME_built and NAME.
    """
    built_name = "built" if name == "pipeline" else f"{name}_built"

    @pytest.fixture(scope="module", name=built_name)
    def built():
        return {}  # backend → (database, ids), built when a test first asks for it

    @pytest.fixture(name=name)
    def pipeline(request, backend, tmp_path_factory, db_path):
        built = request.getfixturevalue(built_name)
        if backend not in built:
            built[backend] = build_once(tmp_path_factory, build, backend)
        database, ids = built[backend]
        if backend == "sqlite":
            copy_database(database, db_path)
        else:
            use_copy_of(request, database)
        return ids

    return built, pipeline
