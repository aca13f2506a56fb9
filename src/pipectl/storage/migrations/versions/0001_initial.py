"""The first schema: stages, leads with their tags and custom fields, activities, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Types are spelled out here (BigInteger for instants and cents) rather than
imported from models.py, so this migration never changes once shipped.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("idle_days", sa.Integer(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("requires_bant", sa.Boolean(), nullable=False),
        sa.Column("min_score", sa.Integer(), nullable=True),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("industry", sa.String(), nullable=True),
        sa.Column("company_size", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("value_cents", sa.BigInteger(), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("stage_entered_at", sa.BigInteger(), nullable=False),
        sa.Column("last_activity_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("lost_reason", sa.String(), nullable=True),
        sa.Column("archived_at", sa.BigInteger(), nullable=True),
        sa.Column("archived_reason", sa.String(), nullable=True),
        sa.Column("nurture_since", sa.BigInteger(), nullable=True),
        sa.Column("budget", sa.String(length=8), nullable=False),
        sa.Column("budget_note", sa.String(), nullable=True),
        sa.Column("authority", sa.String(length=8), nullable=False),
        sa.Column("authority_note", sa.String(), nullable=True),
        sa.Column("need", sa.String(length=8), nullable=False),
        sa.Column("need_note", sa.String(), nullable=True),
        sa.Column("timeline", sa.String(length=8), nullable=False),
        sa.Column("timeline_note", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["stage_id"], ["stages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_leads_owner", "leads", ["owner"])
    op.create_index("ix_leads_source", "leads", ["source"])
    op.create_index("ix_leads_stage_status", "leads", ["stage_id", "status"])
    op.create_index("ix_leads_status_last_activity", "leads", ["status", "last_activity_at"])
    op.create_index("ix_leads_status_score", "leads", ["status", "score"])
    op.create_index("ix_leads_status_id", "leads", ["status", "id"])
    op.create_index("ix_leads_email_lower", "leads", [sa.text("lower(email)")])
    op.create_index("ix_leads_name_company_lower", "leads", [sa.text("lower(name)"), sa.text("lower(company)")])
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("due", sa.BigInteger(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("from_stage_id", sa.Integer(), nullable=True),
        sa.Column("to_stage_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["from_stage_id"], ["stages.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_stage_id"], ["stages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_activities_done_due", "activities", ["done", "due"])
    op.create_index("ix_activities_kind_at", "activities", ["kind", "at"])
    op.create_index("ix_activities_lead_at", "activities", ["lead_id", "at"])
    op.create_table(
        "lead_fields",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", "key"),
    )
    op.create_index("ix_lead_fields_key_value", "lead_fields", ["key", "value"])
    op.create_table(
        "lead_tags",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", "tag"),
    )
    op.create_index("ix_lead_tags_tag", "lead_tags", ["tag"])


def downgrade() -> None:
    for table in ("lead_tags", "lead_fields", "activities", "leads", "stages", "settings"):
        op.drop_table(table)
