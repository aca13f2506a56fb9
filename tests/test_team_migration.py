"""Migration 0006 (the team) on both backends: a pipeline from 0001 with data, upgraded, equals a new one.

PostgreSQL runs when PIPECTL_TEST_POSTGRES_URL names a server (each case makes and drops its own
databases there). The old pipeline holds a lead with an owner and an activity: after the upgrade
the owner is still the lead's owner, the activity's actor is unknown (NULL, never a guess), the
round-robin turn's row is there, and the team commands work on it.
"""

import json
import os
import uuid
import warnings

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from pipectl.storage.engine import Database, make_engine
from pipectl.storage.schema import open_database, upgrade

POSTGRES = os.environ.get("PIPECTL_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def new_location(request, tmp_path):
    """Makes empty databases on the backend: SQLite files, or databases on the PostgreSQL server."""
    if request.param == "sqlite":
        yield lambda name: str(tmp_path / f"{name}.db")
        return
    if not POSTGRES:
        pytest.skip("set PIPECTL_TEST_POSTGRES_URL to test the migrations on PostgreSQL")
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make(name: str) -> str:
        database = f"pipectl_mig_{name}_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        made.append(database)
        return make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for database in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def url_of(location: str) -> str:
    return location if "://" in location else f"sqlite:///{location}"


def schema_of(location: str) -> dict:
    """Tables with their columns, indexes, unique constraints, foreign keys and primary keys."""
    engine = create_engine(url_of(location))
    inspector = inspect(engine)
    schema = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version":
                continue
            schema[table] = {
                "columns": [
                    (column["name"], str(column["type"]), column["nullable"]) for column in inspector.get_columns(table)
                ],
                "indexes": sorted(
                    (index["name"], tuple(str(name) for name in index["column_names"]), bool(index["unique"]))
                    for index in inspector.get_indexes(table)
                ),
                "unique": sorted(tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)),
                "foreign_keys": sorted(
                    (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                    for fk in inspector.get_foreign_keys(table)
                ),
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            }
    engine.dispose()
    return schema


def test_an_old_pipeline_upgraded_through_0006_equals_a_new_one_and_keeps_its_rows(new_location, ok, cli):
    fresh = new_location("fresh")
    open_database(fresh).close()

    old = new_location("old")
    database = Database(old, make_engine(old))
    upgrade(database, "0001")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO stages (id, name, position, probability, idle_days, actions, requires_bant, removed) "
                "VALUES (1, 'Discovery', 1, 10, 14, '[]', false, false), (2, 'Proposal', 2, 50, 14, '[]', false, false)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO leads (id, name, company, email, owner, stage_id, status, score, created_at, updated_at, "
                "stage_entered_at, last_activity_at, budget, authority, need, timeline) VALUES "
                "(1, 'Ada', 'Acme', 'ada@acme.com', 'Sam', 1, 'open', 0, 0, 0, 0, 0, "
                "'unknown', 'unknown', 'unknown', 'unknown'), "
                "(2, 'Bob', NULL, NULL, NULL, 1, 'open', 0, 0, 0, 0, 0, 'unknown', 'unknown', 'unknown', 'unknown')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO activities (id, lead_id, kind, at, note, done, recorded_at) "
                "VALUES (1, 1, 'call', 0, 'before the team', true, 0)"
            )
        )
        if connection.dialect.name == "postgresql":  # rows given their ids: the sequences move on past them
            for table in ("stages", "leads", "activities"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
                )
    database.close()
    open_database(old).close()  # opening upgrades it

    assert schema_of(old) == schema_of(fresh)
    engine = create_engine(url_of(old))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT owner, owner_key FROM leads WHERE id = 1")).one() == ("Sam", "sam")
        assert connection.execute(text("SELECT actor FROM activities WHERE id = 1")).scalar_one() is None
        assert connection.execute(text("SELECT name, value FROM counters")).all() == [("round_robin", 0)]
    engine.dispose()
    # The team works on the upgraded pipeline: Sam's lead stays Sam's, Bob's is handed out.
    ok("--db", old, "owners", "add", "kim")
    handed = json.loads(ok("--db", old, "assign", "--round-robin", "-f", "json").stdout)
    assert [(row["id"], row["owner"]) for row in handed] == [(2, "kim")]
    refused = cli("--db", old, "--as", "kim", "add", "Ada L", "--email", "ADA@acme.com")
    assert refused.exit_code == 1 and "Sam's" in refused.stderr
