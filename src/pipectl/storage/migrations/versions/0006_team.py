"""A team on one pipeline: who did each activity, the owners leads are handed to, the round-robin turn.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29

Why: several sellers share one database (PostgreSQL by URL). `show` must say who did what, so each
activity records its actor (NULL for the rows written before: nobody knows who did them, and a
guess would be a lie). `owners` lists the sellers leads are handed to, with an optional capacity
and a pause; `assignments` logs each hand-over (a weekly capacity counts them); `counters` holds
the round-robin turn in one row that every assigner advances with `UPDATE … RETURNING`, which
keeps strict turns under concurrent assigners on both backends. Existing rows are kept as they
are; existing `leads.owner` values stay the leads' owners.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("activities", sa.Column("actor", sa.String(length=80), nullable=True))
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


def downgrade() -> None:
    op.drop_index("ix_leads_status_owner_score", table_name="leads")
    op.drop_index("ix_assignments_lead_id", table_name="assignments")
    op.drop_index("ix_assignments_owner_at", table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("counters")
    op.drop_table("owners")
    with op.batch_alter_table("activities") as batch:
        batch.drop_column("actor")
