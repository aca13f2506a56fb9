"""The same pipeline on PostgreSQL gives the same answers as on SQLite.

Runs when PIPECTL_TEST_POSTGRES_URL names a PostgreSQL server (see tests/backends.py; `bash .ci/run`
starts one), each test on a new database of its own; skipped otherwise. These tests compare the two
backends themselves, so they run once, not once per backend.
"""

import json
from pathlib import Path

import pytest

from backends import SERVER_DATABASES, SERVER_ENV

pytestmark = [
    pytest.mark.skipif(SERVER_DATABASES is None, reason=f"set {SERVER_ENV} to compare with PostgreSQL"),
    pytest.mark.both_backends,
]
DEMO = Path(__file__).parent.parent / "src" / "pipectl" / "data" / "demo.jsonl"
COMMANDS = [
    ["list", "--status", "all", "-f", "json"],
    ["show", "3", "-f", "json"],
    ["score", "-f", "json"],
    ["metrics", "-f", "json"],
    ["forecast", "-f", "json"],
    ["review", "-f", "json"],
    ["board", "-f", "json"],
    ["next", "-f", "json"],
    ["clean", "--dry-run", "-f", "json"],
    ["list", "--stale", "-f", "json"],
    ["export", "--what", "all"],
    # Breakdowns: grouped aggregates, medians by row_number() (issue 15).
    ["metrics", "--by", "source", "-f", "json"],
    ["metrics", "--by", "stage", "-f", "json"],
    ["metrics", "--by", "tag", "-f", "json"],
    ["metrics", "--by", "industry", "-f", "csv"],
    ["metrics", "--by", "owner", "--since", "2026-10-01", "-f", "json"],
    ["forecast", "--by", "owner", "-f", "json"],
    ["forecast", "--owner", "sam", "--by", "source", "-f", "json"],
]


@pytest.fixture
def postgres(request):
    """A new, empty PostgreSQL database's URL, dropped after the test."""
    assert SERVER_DATABASES is not None
    database = SERVER_DATABASES.create()
    request.addfinalizer(lambda: SERVER_DATABASES.drop(database))
    return SERVER_DATABASES.url_of(database)


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
    ok(
        "--db",
        postgres,
        "qualify",
        lead,
        "--budget",
        "yes",
        "--authority",
        "yes",
        "--need",
        "yes",
        "--timeline",
        "yes: 2027-01-15",
    )
    ok("--db", postgres, "move", lead, "Proposal")
    ok("--db", postgres, "won", lead, "--value", "15k")
    assert '"status": "won"' in ok("--db", postgres, "show", lead, "-f", "json").stdout
    assert ok("--db", postgres, "db", "check").stdout.startswith("ok: schema")


def test_case_is_compared_alike_on_both_backends(ok, cli, postgres, tmp_path):
    """Folded keys: SQLite's lower() folds ASCII only and PostgreSQL's all of Unicode; keys fold the same."""
    lite = str(tmp_path / "lite.db")
    file = tmp_path / "leads.csv"
    file.write_text("name,company,owner\nΩμέγα,Straße,ÁGATA\nΩΜΈΓΑ,STRASSE,ágata\nÉlan,Acme,\n", encoding="utf-8")
    for database in (lite, postgres):
        ok("--db", database, "add", "Élan", "--company", "Acme", "--owner", "Ágata")
        again = cli("--db", database, "add", "ÉLAN", "--company", "ACME")
        assert again.exit_code == 1 and "#1 Élan" in again.stderr, database
        assert '"id": 1' in ok("--db", database, "show", "ÉLAN", "-f", "json").stdout
        refused = cli("--db", database, "import", file)
        assert refused.exit_code == 1 and "row 3: same name and company as row 2" in refused.stderr
        # Row 4 matches Ágata's lead and names no owner: another seller's customer (issue 17), folded alike.
        assert "row 4: name: lead #1 is Ágata's: two sellers never work one customer" in refused.stderr
        ok("--db", database, "import", file, "--on-duplicate", "skip")
        ok("--db", database, "stages", "remove", "Discovery", "--to", "Contact")
    # Names, not ids: a refused add still uses up a PostgreSQL sequence number.
    for command in (["list", "--owner", "ÁGATA"], ["list", "--sort", "name"], ["list", "--stage", "contact"]):
        found = [
            [
                (row["name"], row["company"], row["stage"])
                for row in json.loads(ok("--db", database, *command, "-f", "json").stdout)
            ]
            for database in (lite, postgres)
        ]
        assert found[0] == found[1] and found[0], command
    assert json.loads(ok("--db", postgres, "show", "ωμέγα", "-f", "json").stdout)["company"] == "Straße"


def test_a_snapshot_import_gives_the_same_figures(ok, postgres, tmp_path):
    """Closed leads without a stage history (unknown paths), the funnel and the breakdowns, on both."""
    from test_snapshot_import import SNAPSHOT

    path = tmp_path / "deals.csv"
    path.write_text(SNAPSHOT, encoding="utf-8")
    lite = str(tmp_path / "lite.db")
    for database in (lite, postgres):
        ok("--db", database, "import", path)
    for command in (
        ["metrics", "-f", "json"],
        ["metrics", "--by", "owner", "-f", "json"],
        ["metrics", "--by", "stage", "-f", "json"],
        ["forecast", "--quota", "50k", "-f", "json"],
        ["forecast", "--by", "source", "-f", "json"],
    ):
        assert ok("--db", postgres, *command).stdout == ok("--db", lite, *command).stdout, command


@pytest.mark.parametrize("args", [["clean", "--dry-run"], ["score", "--apply", "--dry-run"]])
def test_a_dry_run_on_an_empty_server_database_creates_nothing(ok, postgres, args):
    """An empty database on the server is what a missing file is on SQLite: the dry run uses a scratch one."""
    from backends import query

    result = ok("--db", postgres, *args)
    assert "There is no pipeline here yet; the dry run used an empty one and created nothing." in result.stderr
    assert query(postgres, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") == [(0,)]


SEARCHES = [
    ["ada"],
    ["edith"],
    ["sparck", "jones"],
    ["SPÄRCK"],
    ["outreach"],
    ["first", "outreach"],
    ["budget", "approved"],
    ["initech"],
    ["case", "study"],
    ["gonzalez"],
    ["jose", "garcia"],
    ["søren"],
    ["month-end"],
    ['"', "NEAR", "*", "-x"],
]


def test_search_duplicates_and_merge_match_sqlite(ok, postgres, tmp_path):
    """The same hits (the same leads, the same best one) from FTS5 and from tsvector; merge alike."""
    lite = str(tmp_path / "lite.db")
    for database in (lite, postgres):
        ok("--db", database, "import", DEMO)
        ok("--db", database, "add", "Edith Piaf", "--company", "Société", "--phone", "+33 1 23 45 67 89", "--force")
        ok("--db", database, "add", "ÉDITH PIAF", "--company", "societe", "--phone", "33-1-23-45-67-89", "--force")
        ok("--db", database, "log", "41", "note", "--note", "said month-end close takes 9 days")
    for words in SEARCHES:
        found = [
            json.loads(
                ok("--db", database, "search", "--status", "all", "--limit", "100", "-f", "json", "--", *words).stdout
            )
            for database in (lite, postgres)
        ]
        assert found[0] == found[1], words
        listed = [
            ok("--db", database, "list", "--status", "all", "--search", " ".join(words)).stdout
            for database in (lite, postgres)
        ]
        assert listed[0] == listed[1], words
    for command in (["duplicates", "-f", "json"], ["merge", "41", "42", "--dry-run", "-f", "json"]):
        assert ok("--db", postgres, *command).stdout == ok("--db", lite, *command).stdout, command
    for database in (lite, postgres):
        ok("--db", database, "merge", "41", "42")
        ok("--db", database, "edit", "41", "--tag", "chanteuse", "--field", "label=Columbia")
    for command in (
        ["show", "41", "-f", "json"],
        ["show", "42", "-f", "json"],
        ["search", "chanteuse", "-f", "json"],
        ["search", "columbia", "-f", "json"],
        ["export", "--what", "all"],
    ):
        assert ok("--db", postgres, *command).stdout == ok("--db", lite, *command).stdout, command
    assert ok("--db", postgres, "db", "check").stdout.startswith("ok: schema")
