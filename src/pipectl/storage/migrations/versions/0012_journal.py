"""The journal: every write command's changed rows, before and after, so `pipectl undo` can reverse it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

Why triggers: import, clean, `score --apply` and the rest write through the ORM and through bulk
Core statements alike; a trigger sees every row whichever path wrote it, in the same transaction, on
SQLite and PostgreSQL, at the cost of at most one extra insert per row. A trigger journals only while its
transaction holds a `command_running` row (storage/journal.py), so this migration, later ones and an
undo itself journal nothing. An update that changes no value (a re-score that lands on the same
score) journals nothing either.

On SQLite the leads and activities a command adds are noted as a range of ids, not row by row
(see the triggers below). SQLite has no row-to-JSON function: its triggers name every column, read
from the table as it is here. A later migration that adds a column to a journaled table must create its triggers again
(`db check` reports a trigger that misses a column). The trigger text is spelled out here rather
than imported, so this migration never changes once shipped.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("stages", "leads", "lead_tags", "lead_fields", "activities", "settings")


def upgrade() -> None:
    op.create_table(
        "commands",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("argv", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("undone_at", sa.BigInteger(), nullable=True),
        sa.Column("undone_by", sa.String(), nullable=True),
        sa.Column("leads_from", sa.Integer(), nullable=True),
        sa.Column("leads_to", sa.Integer(), nullable=True),
        sa.Column("activities_from", sa.Integer(), nullable=True),
        sa.Column("activities_to", sa.Integer(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("command_id", sa.Integer(), sa.ForeignKey("commands.id"), nullable=False),
        sa.Column("tbl", sa.String(32), nullable=False),
        sa.Column("op", sa.String(1), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_journal_command_id", "journal", ["command_id", "id"])
    op.create_table(
        "command_running",
        sa.Column("command_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("leads_floor", sa.Integer(), nullable=True),
        sa.Column("activities_floor", sa.Integer(), nullable=True),
    )
    connection = op.get_bind()
    for table in TABLES:
        columns = [column["name"] for column in sa.inspect(connection).get_columns(table)]
        for statement in _triggers(connection.dialect.name, table, columns):
            op.execute(statement)


def _triggers(dialect: str, table: str, columns: list[str]) -> list[str]:
    if dialect == "postgresql":
        return [
            *([_PG_FUNCTION] if table == TABLES[0] else []),
            f"CREATE TRIGGER journal_{table}_write AFTER INSERT OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION pipectl_journal()",
            # jsonb, not the rows: a json column has no equality operator.
            f"CREATE TRIGGER journal_{table}_update AFTER UPDATE ON {table} FOR EACH ROW "
            "WHEN (to_jsonb(OLD) IS DISTINCT FROM to_jsonb(NEW)) EXECUTE FUNCTION pipectl_journal()",
        ]

    keys = {"lead_tags": ["lead_id", "tag"], "lead_fields": ["lead_id", "key"], "settings": ["key"]}.get(table, ["id"])

    def image(row: str, names: list[str]) -> str:
        return "json_object(" + ", ".join(f"'{name}', {row}.\"{name}\"" for name in names) + ")"

    def journal(op_code: str, old: str, new: str) -> str:
        return (
            f"INSERT INTO journal (command_id, tbl, op, old, new) "
            f"SELECT command_id, '{table}', '{op_code}', {old}, {new} FROM command_running;"
        )

    # Leads and activities a command adds take ids past the highest it found when it began (ids are
    # never reused, and SQLite has one writer at a time): the command notes that range once
    # (`commands.leads_from`…) instead of a journal row per row, so those two tables have no insert
    # trigger, and rows of its own new leads (their tags, custom fields, later updates) are left out
    # by the WHEN clause, which runs no statement at all: an import journals next to nothing, and
    # pays only that test per row. Without a `command_running` row the test is NULL: no journal.
    owner = {"leads": "id", "activities": "id", "lead_tags": "lead_id", "lead_fields": "lead_id"}.get(table)
    floor = "leads_floor" if table != "activities" else "activities_floor"

    def when(row: str, also: str = "") -> str:
        mine = f"{row}.{owner} <= (SELECT {floor} FROM command_running)" if owner else ""
        both = " AND ".join(part for part in (mine, also) if part)
        return f" WHEN {both}" if both else ""

    changed = "(" + " OR ".join(f'OLD."{name}" IS NOT NEW."{name}"' for name in columns) + ")"
    triggers = [
        f"CREATE TRIGGER journal_{table}_update AFTER UPDATE ON {table}{when('OLD', changed)} "
        f"BEGIN {journal('U', image('OLD', columns), 'NULL')} END",
        f"CREATE TRIGGER journal_{table}_delete AFTER DELETE ON {table}{when('OLD')} "
        f"BEGIN {journal('D', image('OLD', columns), 'NULL')} END",
    ]
    if table not in ("leads", "activities"):
        triggers.insert(
            0,
            f"CREATE TRIGGER journal_{table}_insert AFTER INSERT ON {table}{when('NEW')} "
            f"BEGIN {journal('I', 'NULL', image('NEW', keys))} END",
        )
    return triggers


_PG_FUNCTION = """
CREATE FUNCTION pipectl_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO journal (command_id, tbl, op, old, new)
    SELECT command_id, TG_TABLE_NAME, left(TG_OP, 1),
           CASE WHEN TG_OP <> 'INSERT' THEN to_json(OLD) END,
           CASE WHEN TG_OP = 'INSERT' THEN to_json(NEW) END
    FROM command_running;
    RETURN NULL;
END
$$
"""


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        for kind in ("write", "update") if postgres else ("insert", "update", "delete"):  # IF EXISTS: no insert on two
            op.execute(f"DROP TRIGGER IF EXISTS journal_{table}_{kind}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS pipectl_journal()")
    op.drop_table("command_running")
    op.drop_index("ix_journal_command_id", table_name="journal")
    op.drop_table("journal")
    op.drop_table("commands")
