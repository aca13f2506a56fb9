"""A team on one pipeline: who did each activity, the owners leads are handed to, the round-robin turn.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29

Why: several sellers share one database (PostgreSQL by URL). `show` must say who did what, so each
activity records its actor (NULL for the rows written before: nobody knows who did them, and a
guess would be a lie). `owners` lists the sellers leads are handed to, with an optional capacity
and a pause; `assignments` logs each hand-over (a weekly capacity counts them); `counters` holds
the round-robin turn in one row that every assigner advances with `UPDATE … RETURNING`, which
keeps strict turns under concurrent assigners on both backends. Existing rows are kept as they
are; existing `leads.owner` values stay the leads' owners.

On SQLite the journal's triggers on `activities` (migration 0012) name its columns one by one, so
they are made again for the columns it has after this change, or an undo would not give an
activity's actor back; `owners` and `assignments` get journal triggers of their own, so `undo`
takes back `owners add` and a hand-over like any other write. Adding a column is an
`ALTER TABLE … ADD COLUMN` there, not a rebuild, so the search triggers on the table stay.
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The journal's SQLite triggers on `activities`: they name its columns, so they go when a column does.
DROP_ACTIVITY_TRIGGERS = (
    "DROP TRIGGER IF EXISTS journal_activities_update",
    "DROP TRIGGER IF EXISTS journal_activities_delete",
)


def upgrade() -> None:
    op.add_column("activities", sa.Column("actor", sa.String(length=80), nullable=True))
    _journal_activities()
    op.create_table(
        "owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_key", sa.String(length=80), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("max_open", sa.Integer(), nullable=True),
        sa.Column("max_new_per_week", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # The turn's row exists from the start: assigners only ever UPDATE it, never race to INSERT it.
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "round_robin", "value": 0}])
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("owner_key", sa.String(length=80), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_assignments_owner_at", "assignments", ["owner_key", "at"])
    op.create_index("ix_assignments_lead_id", "assignments", ["lead_id"])
    # `claim --next` and `assign --round-robin` walk unowned open leads best score first.
    op.create_index("ix_leads_status_owner_score", "leads", ["status", "owner_key", "score"])
    # `undo` takes back an owner added or changed and a hand-over, as it does any other write.
    connection = op.get_bind()
    for table in ("owners", "assignments"):
        columns = [column["name"] for column in sa.inspect(connection).get_columns(table)]
        for statement in _journal_migration()._triggers(connection.dialect.name, table, columns):
            op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_leads_status_owner_score", table_name="leads")
    op.drop_index("ix_assignments_lead_id", table_name="assignments")
    op.drop_index("ix_assignments_owner_at", table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("counters")
    op.drop_table("owners")
    if op.get_bind().dialect.name == "sqlite":
        # The journal triggers name the column: drop them first, then the column in place (SQLite
        # 3.35+; a batch rebuild of the table would drop the search triggers too), then make them again.
        for statement in DROP_ACTIVITY_TRIGGERS:
            op.execute(statement)
        op.execute("ALTER TABLE activities DROP COLUMN actor")
        _journal_activities()
    else:
        op.drop_column("activities", "actor")


def _journal_activities() -> None:
    """Make the SQLite journal triggers on `activities` again, for the columns it has now."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL's triggers journal the whole row, whatever its columns
    columns = [column["name"] for column in sa.inspect(connection).get_columns("activities")]
    for statement in DROP_ACTIVITY_TRIGGERS:
        op.execute(statement)
    for statement in _journal_migration()._triggers("sqlite", "activities", columns):
        op.execute(statement)


def _journal_migration():
    """Migration 0012's module, whose trigger text this one reuses (a file name is not importable)."""
    spec = importlib.util.spec_from_file_location("pipectl_migration_0012", Path(__file__).with_name("0012_journal.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
