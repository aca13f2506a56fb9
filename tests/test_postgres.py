"""The same pipeline on PostgreSQL gives the same answers as on SQLite.

Runs when PIPECTL_TEST_POSTGRES_URL names an empty database it may wipe, e.g.
`postgresql+psycopg://pipe:pipe@127.0.0.1/pipectl_test` (install with `pip install -e '.[postgres]'`);
skipped otherwise.
"""

import os
from pathlib import Path

import pytest

URL = os.environ.get("PIPECTL_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set PIPECTL_TEST_POSTGRES_URL to run against PostgreSQL")
DEMO = Path(__file__).parent.parent / "examples" / "demo.jsonl"
COMMANDS = [
    ["list", "--status", "all", "-f", "json"], ["show", "3", "-f", "json"], ["score", "-f", "json"],
    ["metrics", "-f", "json"], ["forecast", "-f", "json"], ["review", "-f", "json"], ["board", "-f", "json"],
    ["next", "-f", "json"], ["clean", "--dry-run", "-f", "json"], ["list", "--stale", "-f", "json"],
    ["export", "--what", "all"],
]


@pytest.fixture
def postgres():
    from sqlalchemy import create_engine, text

    from pipectl.storage.models import SQLModel

    engine = create_engine(URL)
    with engine.begin() as connection:
        SQLModel.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return URL


def test_every_view_matches_sqlite(ok, postgres, tmp_path):
    lite = tmp_path / "lite.db"
    for database in (str(lite), postgres):
        ok("--db", database, "import", DEMO)
        ok("--db", database, "move", "3", "Proposal", "--force")
        ok("--db", database, "log", "3", "competitor", "--note", "also talking to a competitor")
    for command in COMMANDS:
        assert ok("--db", postgres, *command).stdout == ok("--db", lite, *command).stdout, command


def test_writes_and_refusals_behave_the_same(ok, cli, postgres):
    lead = ok("--db", postgres, "add", "Ada", "--email", "ada@example.com", "--value", "12k").stdout.strip()
    duplicate = cli("--db", postgres, "add", "Someone", "--email", "ADA@example.com")
    assert duplicate.exit_code == 1 and "looks like a lead already" in duplicate.stderr
    ok("--db", postgres, "qualify", lead, "--budget", "yes", "--authority", "yes", "--need", "yes",
       "--timeline", "yes: 2027-01-15")
    ok("--db", postgres, "move", lead, "Proposal")
    ok("--db", postgres, "won", lead, "--value", "15k")
    assert '"status": "won"' in ok("--db", postgres, "show", lead, "-f", "json").stdout
    assert ok("--db", postgres, "db", "check").stdout.startswith("ok: schema")
