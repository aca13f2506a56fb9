"""Safety: private files, refusing newer schemas untouched, safe backups, inert dry runs and CSV, bound SQL."""

import ast
import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backends import query

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pipectl"
TIMEOUT_S = 60


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(db_path: Path) -> dict[str, str]:
    """The database file and any WAL beside it, by content: what "byte-for-byte unchanged" compares."""
    found = {}
    for path in (db_path, Path(f"{db_path}-wal")):
        if path.exists() and path.stat().st_size:
            found[path.name] = _digest(path)
    return found


def _env(db_path: Path) -> dict:
    environment = dict(os.environ)
    environment["PIPECTL_DB"] = str(db_path)
    return environment


# --- the file is private ---------------------------------------------------------------------------


@pytest.mark.sqlite_only("a new SQLite file's permissions")
def test_a_new_database_is_created_owner_only_whatever_the_umask(tmp_path, ok):
    previous = os.umask(0)
    try:
        db = tmp_path / "new" / "folder" / "pipeline.db"
        db.parent.mkdir(parents=True)  # a path given with --db never gets its folders made
        ok("--db", str(db), "init")
        ok("--db", str(db), "add", "Ada")
    finally:
        os.umask(previous)
    assert db.stat().st_mode & 0o777 == 0o600


@pytest.mark.sqlite_only("db backup copies a SQLite file")
def test_a_backup_is_owner_only_too(tmp_path, ok, new_lead):
    new_lead("Ada")
    previous = os.umask(0)
    try:
        ok("db", "backup", str(tmp_path / "copy.db"))
    finally:
        os.umask(previous)
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600


# --- a database from a newer pipectl is refused and left alone ---------------------------------------


def _make_newer(db_path: Path, journal_mode: str) -> None:
    connection = sqlite3.connect(db_path, isolation_level=None)
    try:
        connection.execute(f"PRAGMA journal_mode = {journal_mode}")
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    finally:
        connection.close()


@pytest.mark.sqlite_only("compares the SQLite file and its journal byte for byte")
@pytest.mark.parametrize("command", [["list"], ["add", "Ada"], ["db", "upgrade"], ["show", "1"], ["db", "check"]])
def test_a_newer_schema_is_refused_and_left_byte_for_byte_untouched(db_path, cli, new_lead, command):
    new_lead("Existing")
    _make_newer(db_path, "wal")
    before = _files(db_path)
    result = cli(*command)
    assert result.exit_code == 1
    assert "newer pipectl (schema 9999)" in result.stderr
    assert _files(db_path) == before


@pytest.mark.sqlite_only("SQLite's rollback journal")
def test_a_newer_schema_in_rollback_journal_mode_is_left_untouched(db_path, cli, new_lead):
    new_lead("Existing")
    _make_newer(db_path, "delete")
    before = _files(db_path)
    result = cli("list")
    assert result.exit_code == 1
    assert _files(db_path) == before


# --- backups while others write ----------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from typer.testing import CliRunner
    from pipectl.cli.app import app
    from pipectl.cli.runtime import root_db

    runner = CliRunner()
    for number in range(int(sys.argv[1])):
        root_db["location"] = None
        result = runner.invoke(app, ["add", f"Writer {number}", "--value", "1k", "--tag", "busy"])
        assert result.exit_code == 0, result.output
        root_db["location"] = None
        result = runner.invoke(app, ["log", result.stdout.strip(), "call"])
        assert result.exit_code == 0, result.output
        if number == 0:
            print("writing", flush=True)
    print("done", flush=True)
""")


@pytest.mark.sqlite_only("db backup copies a SQLite file")
def test_backup_while_another_process_writes_is_consistent(tmp_path, db_path, ok, cli, new_lead):
    new_lead("Before")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, "25"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(db_path),
    )
    copies = []
    try:
        assert writer.stdout.readline().strip() == "writing"
        for number in range(3):
            copy = tmp_path / f"backup-{number}.db"
            ok("db", "backup", str(copy))
            copies.append(copy)
        out, err = writer.communicate(timeout=TIMEOUT_S)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate(timeout=TIMEOUT_S)
    assert writer.returncode == 0, err
    assert out.strip() == "done"

    counts = []
    for copy in copies:
        report = json.loads(ok("--db", str(copy), "db", "check", "--format", "json").stdout)
        assert report["ok"] is True
        connection = sqlite3.connect(copy)
        try:
            leads = connection.execute("SELECT count(*) FROM leads").fetchone()[0]
            # Consistent: every lead in the copy has its `created` row and its tag, and each call its lead.
            assert connection.execute("SELECT count(*) FROM activities WHERE kind = 'created'").fetchone()[0] == leads
            assert connection.execute("SELECT count(*) FROM lead_tags").fetchone()[0] == leads - 1
            assert connection.execute("SELECT count(*) FROM activities WHERE kind = 'call'").fetchone()[0] in (
                leads - 1,
                leads - 2,
            )
        finally:
            connection.close()
        counts.append(leads)
    assert counts == sorted(counts)
    assert counts[0] >= 1 and counts[-1] <= 26


# --- dry runs change nothing ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A realistic 1,000-lead pipeline from the benchmark generator (built once for this module)."""
    path = tmp_path_factory.mktemp("generated") / "pipeline.db"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.generate", "--leads", "1000", "--out", str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=TIMEOUT_S,
        env=_env(path),
    )
    return path


@pytest.fixture
def pipeline_copy(generated, db_path) -> Path:
    db_path.write_bytes(generated.read_bytes())
    return db_path


def _import_file(tmp_path: Path) -> Path:
    source = tmp_path / "incoming.csv"
    source.write_text(
        "name,company,email,value,stage\n"
        "Imported One,Import Co,one@import.example,5000,Contact\n"
        "Imported Two,Import Co,two@import.example,,Discovery\n",
        encoding="utf-8",
    )
    return source


DRY_RUNS = {
    "clean --dry-run": lambda tmp: ["clean", "--dry-run"],
    "clean --dry-run --format json": lambda tmp: ["clean", "--dry-run", "--format", "json"],
    "clean --dry-run --rule idle --older-than 30d": lambda tmp: [
        "clean",
        "--dry-run",
        "--rule",
        "idle",
        "--older-than",
        "30d",
    ],
    "clean --purge --older-than 1d --dry-run": lambda tmp: ["clean", "--purge", "--older-than", "1d", "--dry-run"],
    "score --apply --dry-run": lambda tmp: ["score", "--apply", "--dry-run"],
    "import --dry-run": lambda tmp: ["import", str(_import_file(tmp)), "--dry-run"],
}


def _command_exists(cli, name: str) -> bool:
    return cli(name, "--help").exit_code == 0


@pytest.mark.sqlite_only("compares a SQLite file byte for byte")
@pytest.mark.parametrize("name", list(DRY_RUNS))
def test_every_dry_run_leaves_the_file_byte_for_byte_unchanged(pipeline_copy, cli, tmp_path, name):
    args = DRY_RUNS[name](tmp_path)
    if not _command_exists(cli, args[0]):
        pytest.skip(f"pipectl {args[0]} does not exist yet")
    before = _files(pipeline_copy)
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert _files(pipeline_copy) == before


@pytest.mark.sqlite_only("works on a copy of a generated SQLite file")
def test_the_dry_runs_have_something_to_show(pipeline_copy, ok):
    """The byte-for-byte checks above are only worth something if the dry runs found work to do."""
    assert len(json.loads(ok("clean", "--dry-run", "--format", "json").stdout)) > 50


# --- CSV is inert in a spreadsheet --------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3+4", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _add_formula_leads(ok) -> None:
    for number, formula in enumerate(FORMULAS):
        # `--` so that a name such as "-3+4" is the name, not an option.
        ok(
            "add",
            "--company",
            formula,
            "--tag",
            "=cmd|' /C calc'!A0",
            "--field",
            f"note={formula}",
            "--email",
            f"x{number}@example.com",
            "--force",
            "--",
            formula,
        )


def _assert_inert(rows: list[dict], ok) -> None:
    stored = {lead["id"]: lead for lead in json.loads(ok("list", "--format", "json").stdout)}
    assert len(rows) == len(FORMULAS) == len(stored)
    for row in rows:
        lead = stored[int(row["id"])]
        for column, value in (
            ("name", lead["name"]),
            ("company", lead["company"]),
            ("field:note", lead["fields"]["note"]),
            ("tags", lead["tags"][0]),
        ):
            # Every cell that a spreadsheet would run starts with a quote, and is otherwise the stored text.
            assert row[column] == "'" + value, (column, row[column])


def test_list_csv_neutralises_formulas(ok):
    _add_formula_leads(ok)
    _assert_inert(_csv_rows(ok("list", "--format", "csv").stdout), ok)


def test_export_csv_neutralises_formulas(ok, cli):
    if not _command_exists(cli, "export"):
        pytest.skip("pipectl export does not exist yet")
    _add_formula_leads(ok)
    _assert_inert(_csv_rows(ok("export", "--format", "csv").stdout), ok)


# --- user text reaches SQL only as a bound parameter --------------------------------------------------

HOSTILE = [
    "'; DROP TABLE leads; --",
    "Robert'); DROP TABLE leads; --",
    '" OR 1=1 --',
    "x' OR '1'='1",
    "%s %d %(name)s",
    "{0} {name}",
    "); DELETE FROM activities; --",
]


def test_hostile_text_round_trips_unchanged(ok, new_lead, db_location):
    ids = [
        new_lead(text, "--company", text, "--tag", text, "--field", f"k={text}", "--source", text, "--force")
        for text in HOSTILE
    ]
    for lead_id, text in zip(ids, HOSTILE, strict=True):
        ok("log", str(lead_id), "note", "--note", text)
        shown = json.loads(ok("show", str(lead_id), "--format", "json").stdout)
        assert (shown["name"], shown["company"], shown["source"], shown["fields"]) == (text, text, text, {"k": text})
        assert shown["tags"] == [" ".join(text.split()).lower()]
        assert shown["activities"][0]["note"] == text
    listed = json.loads(ok("list", "--source", HOSTILE[0], "--format", "json").stdout)
    assert [lead["id"] for lead in listed] == [ids[0]]
    by_name = json.loads(ok("show", HOSTILE[1], "--format", "json").stdout)
    assert by_name["id"] == ids[1]
    from sqlalchemy import create_engine, inspect

    engine = create_engine(db_location if "://" in db_location else f"sqlite:///{db_location}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"leads", "activities", "stages", "lead_tags", "lead_fields", "settings"} <= tables
    assert query(db_location, "SELECT count(*) FROM leads") == [(len(HOSTILE),)]


# Calls whose first argument is SQL text.
SQL_CALLS = {"text", "execute", "executemany", "executescript", "exec_driver_sql", "literal_column"}
# The fixed statements pipectl itself formats: PRAGMA/BEGIN with its own constants, nothing a user types.
ALLOWED = {
    ("storage/engine.py", "PRAGMA busy_timeout"),
    ("storage/engine.py", "BEGIN "),
    # The import's executemany: the table and column names come from pipectl's own table metadata
    # (`--map` targets are checked against the known fields; unknown headers become custom-field
    # *values*), and every value is a bound parameter. Reported to the lead engineer: compiling
    # `insert(table)` would remove this last formatted statement.
    ("core/import_writer.py", "INSERT INTO "),
    # An import sets an empty pipeline's indexes aside: the index names come from sqlite_master (those
    # pipectl's migrations created), and an identifier cannot be a bound parameter.
    ("storage/bulk.py", 'DROP INDEX "'),
    # The search index's migration writes its triggers and generated columns from its own constants
    # (table and column names, the accent map); it runs once, on no user text at all.
    ("storage/migrations/versions/0010_search.py", ""),
    # The journal's triggers (issue 18): written from the table's own column names, read from the
    # schema at migration time; nothing a user types.
    ("storage/migrations/versions/0012_journal.py", ""),
}
SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "DROP ", "PRAGMA ", "BEGIN ", " WHERE ", " FROM ")


def _built_sql(node: ast.AST) -> bool:
    """Whether an expression builds text from variables: an f-string, `%`, `+` or `.format(…)`."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _stringy(node.left) or _stringy(node.right)
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")


def _stringy(node: ast.AST) -> bool:
    return (
        (isinstance(node, ast.Constant) and isinstance(node.value, str))
        or isinstance(node, ast.JoinedStr)
        or _built_sql(node)
    )


def _literal_text(node: ast.AST) -> str:
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) + _literal_text(node.right)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _sql_building_sites() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Call) and node.args:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in SQL_CALLS and _built_sql(node.args[0]):
                    site = (relative, _literal_text(node.args[0]))
                    if not any(relative == allowed and site[1].startswith(prefix) for allowed, prefix in ALLOWED):
                        found.append(f"{relative}:{node.lineno}: {name}({ast.unparse(node.args[0])[:80]})")
            # SQL text assembled anywhere else, e.g. into a variable handed to execute() later.
            if isinstance(node, (ast.JoinedStr, ast.BinOp)) and _built_sql(node):
                literal = _literal_text(node)
                if any(word in literal for word in SQL_WORDS) and not any(
                    relative == allowed and literal.startswith(prefix) for allowed, prefix in ALLOWED
                ):
                    found.append(f"{relative}:{node.lineno}: {ast.unparse(node)[:80]}")
    return sorted(set(found))


def test_no_sql_text_is_built_from_variables_in_the_source():
    assert _sql_building_sites() == []


def test_the_scan_would_catch_sql_built_from_variables():
    samples = {
        "f-string": "session.execute(text(f\"SELECT * FROM leads WHERE name = '{name}'\"))",
        "percent": 'cursor.execute("DELETE FROM leads WHERE id = %s" % lead_id)',
        "concatenation": 'query = "SELECT * FROM leads WHERE name = \'" + name + "\'"',
        "format": 'connection.exec_driver_sql("UPDATE leads SET name = {}".format(name))',
    }
    for label, source in samples.items():
        tree = ast.parse(source)
        hits = [
            node
            for node in ast.walk(tree)
            if (isinstance(node, ast.Call) and node.args and _built_sql(node.args[0]))
            or (
                isinstance(node, (ast.JoinedStr, ast.BinOp))
                and _built_sql(node)
                and any(word in _literal_text(node) for word in SQL_WORDS)
            )
        ]
        assert hits, label
