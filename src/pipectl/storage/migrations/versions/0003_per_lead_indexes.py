"""Indexes that answer per-lead questions per lead: open tasks, and the board's top cards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

`next` asks, for every open lead, "is there an open task due before …?". With
only the (done, due) index SQLite answered that by scanning every due task for
every lead (quadratic: 44 s at 20,000 leads); (lead_id, done, due) answers it
with one probe per lead. The board shows each stage's top leads by value, then
score: (stage_id, status, value_cents, score) hands them over in order, where
(stage_id, status) made it sort every open lead of the stage to show ten. It
starts with (stage_id, status), so it replaces that index.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_activities_lead_done_due", "activities", ["lead_id", "done", "due"])
    op.create_index("ix_leads_stage_status_value", "leads", ["stage_id", "status", "value_cents", "score"])
    op.drop_index("ix_leads_stage_status", table_name="leads")


def downgrade() -> None:
    op.create_index("ix_leads_stage_status", "leads", ["stage_id", "status"])
    op.drop_index("ix_leads_stage_status_value", table_name="leads")
    op.drop_index("ix_activities_lead_done_due", table_name="activities")
