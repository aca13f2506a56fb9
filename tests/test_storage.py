"""The database file: created on first use, migrated, refused when foreign or newer, kept private."""

import hashlib
import re
import sqlite3
import stat
import warnings

import pytest
from sqlalchemy import create_engine, inspect

from backends import execute
from pipectl.storage.engine import Database, make_engine
from pipectl.storage.models import SQLModel
from pipectl.storage.schema import SCHEMA_REVISION, head_revision, open_database, upgrade


def schema_of(location: str) -> dict:
    """Tables with their columns, indexes, foreign keys and primary keys, as the database reports them."""
    engine = create_engine(location if "://" in location else f"sqlite:///{location}")
    inspector = inspect(engine)
    # SQLAlchemy cannot reflect expression indexes (lower(email)); compare their SQL instead.
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            index_sql = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
            # The search index (migration 0010): FTS5 tables and the triggers that keep them current,
            # which no model declares.
            search_sql = connection.exec_driver_sql(
                "SELECT type, name, sql FROM sqlite_master "
                "WHERE type = 'trigger' OR name LIKE '%\\_search%' ESCAPE '\\'"
            ).all()
        else:
            indexes = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            ).all()
            index_sql = [(name, sql) for name, sql in indexes if not name.endswith("_search")]
            # On PostgreSQL the search index is generated tsvector columns, their GIN indexes and the
            # triggers that keep a lead's tags and fields in its search text.
            search_sql = [("index", name, sql) for name, sql in indexes if name.endswith("_search")]
            search_sql += connection.exec_driver_sql(
                "SELECT 'trigger', tgname, '' FROM pg_trigger WHERE NOT tgisinternal"
            ).all()
    schema = {"index sql": sorted((name, re.sub(r'[\s"`]', "", sql).lower()) for name, sql in index_sql)}
    schema["search index"] = sorted((kind, name, re.sub(r"\s+", " ", sql or "")) for kind, name, sql in search_sql)
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version" or table.startswith(SEARCH_TABLES):
            continue
        schema[table] = {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
                if column["name"] not in SEARCH_COLUMNS
            ],
            "indexes": sorted(
                (index["name"], tuple(str(name) for name in index["column_names"]))
                for index in _indexes(inspector, table)
                if not index["name"].endswith("_search")  # PostgreSQL's search index, counted above
            ),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], fk.get("options", {}).get("ondelete"))
                for fk in inspector.get_foreign_keys(table)
            ),
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
        }
    engine.dispose()
    return schema


SEARCH_TABLES = ("lead_search", "activity_search")
# PostgreSQL's search index: generated tsvector columns, and a lead's tags and fields as text (0010).
SEARCH_COLUMNS = ("search_vector", "search_extra")


def _indexes(inspector, table: str) -> list:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        return inspector.get_indexes(table)


def test_schema_revision_is_alembics_head():
    assert head_revision() == SCHEMA_REVISION


@pytest.mark.real_migrations
def test_new_and_upgraded_databases_match_the_models(another_database):
    fresh = another_database("fresh")
    open_database(fresh).close()

    # An old database: built by the first migration only, then upgraded by opening it.
    old = another_database("old")
    database = Database(old, make_engine(old))
    upgrade(database, "0001")
    database.close()
    open_database(old).close()

    from_models = another_database("models")
    engine = create_engine(from_models if "://" in from_models else f"sqlite:///{from_models}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()

    # The models declare every table but the search index, which only the migrations make.
    made, upgraded, declared = schema_of(fresh), schema_of(old), schema_of(from_models)
    assert made == upgraded
    assert declared.pop("search index") == []
    index = made.pop("search index")
    if "://" not in fresh:
        assert {name for kind, name, _sql in index if kind == "table"} >= set(SEARCH_TABLES)
        assert len([name for kind, name, _sql in index if kind == "trigger" and "_search_" in name]) == 12
    else:
        assert {name for kind, name, _sql in index if kind == "index"} == {"ix_leads_search", "ix_activities_search"}
    assert made == declared


@pytest.mark.sqlite_only("checks the new file's permissions")
def test_first_use_creates_a_private_file_with_the_default_stages(ok, db_path):
    ok("list")
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    listed = __import__("json").loads(ok("stages", "list", "-f", "json").stdout)
    stages = [(row["name"], row["probability"]) for row in listed]
    assert stages == [("Discovery", 10), ("Qualification", 25), ("Contact", 50), ("Proposal", 75)]


@pytest.mark.sqlite_only("reads SQLite's PRAGMAs")
def test_sqlite_is_opened_with_wal_foreign_keys_and_a_busy_timeout(database):
    with database.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000


def test_a_database_from_a_newer_pipectl_is_refused_untouched(cli, ok, backend, db_location, db_path, snapshot):
    ok("list")
    execute(db_location, "UPDATE alembic_version SET version_num = '9999'")
    before, rows = file_hash(backend, db_path), snapshot()
    result = cli("list")
    assert result.exit_code == 1
    assert "newer pipectl" in result.stderr and "untouched" in result.stderr
    assert file_hash(backend, db_path) == before and snapshot() == rows


def file_hash(backend: str, path) -> str | None:
    """The SQLite file's hash (a PostgreSQL database has no file; the snapshot covers it there)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if backend == "sqlite" else None


@pytest.mark.sqlite_only("opens SQLite files it names")
def test_another_programs_database_is_refused(cli, tmp_path):
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.commit()
    connection.close()
    result = cli("--db", other, "list")
    assert result.exit_code == 1
    assert "not a pipectl database" in result.stderr


@pytest.mark.sqlite_only("opens SQLite files it names")
def test_a_file_that_is_not_sqlite_is_refused(cli, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("these are not the rows you are looking for\n" * 100)
    result = cli("--db", junk, "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot open")


@pytest.mark.sqlite_only("opens SQLite files it names")
def test_db_option_on_the_root_and_on_the_command(ok, tmp_path):
    root_level, command_level = tmp_path / "a.db", tmp_path / "b.db"
    ok("--db", root_level, "add", "Ada")
    ok("add", "Bob", "--db", command_level)
    assert ok("--db", root_level, "list", "-f", "json").stdout.count('"name"') == 1
    assert '"Bob"' in ok("list", "-f", "json", "--db", command_level).stdout


@pytest.mark.sqlite_only("opens SQLite files it names")
def test_sqlalchemy_urls_are_accepted(ok, tmp_path):
    url = f"sqlite:///{tmp_path / 'url.db'}"
    ok("--db", url, "add", "Ada")
    assert (tmp_path / "url.db").exists()


@pytest.mark.sqlite_only("opens SQLite files it names")
def test_a_database_in_a_folder_that_cannot_be_made_is_an_error(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("--db", blocker / "sub" / "pipeline.db", "add", "Ada")
    assert result.exit_code == 1
    assert f"There is no folder {blocker / 'sub'} for the database pipeline.db" in result.stderr


@pytest.mark.sqlite_only("checks that no file was made")
def test_rejecting_a_template_creates_nothing(cli, db_path):
    result = cli("init", "--template", "nonsense")
    assert result.exit_code == 2
    assert "default, saas, agency" in result.stderr
    assert not db_path.exists()


def test_init_with_a_template_and_refusal_to_init_twice(ok, cli):
    ok("init", "--template", "saas")
    names = [row["name"] for row in __import__("json").loads(ok("stages", "list", "-f", "json").stdout)]
    assert names == ["Lead", "Demo", "Trial", "Proposal", "Negotiation"]
    again = cli("init")
    assert again.exit_code == 1
    assert "already holds a pipeline" in again.stderr


@pytest.mark.sqlite_only("the default file's path")
@pytest.mark.parametrize("command", [["db", "path"]])
def test_db_path_does_not_create_the_database(ok, db_path, command):
    assert ok(*command).stdout.strip() == str(db_path)
    assert not db_path.exists()


@pytest.mark.parametrize("url", ["foo://x", "postgresql+nodriver://u@h/db"])
def test_an_unusable_database_url_is_an_error_not_a_traceback(cli, url):
    result = cli("--db", url, "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot use the database URL")
