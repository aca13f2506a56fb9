"""The learned win model: its frequency table, and each open lead's win probability.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

Why: `pipectl predict` learns a win probability from the closed leads (naive Bayes over field
values). `prediction_factors` holds the model's frequency table (won and lost counts per feature
value, and the value's contribution in log-odds), so scoring every open lead is one join in SQL;
`leads.win_probability` keeps the result, so `list` and `show` read it without retraining. Every
existing row is kept; the column starts empty until the first `pipectl predict`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("win_probability", sa.Float(), nullable=True))
    op.create_index("ix_leads_status_win_probability", "leads", ["status", "win_probability"])
    op.create_table(
        "prediction_factors",
        sa.Column("feature", sa.String(80), primary_key=True),
        sa.Column("value", sa.String(), primary_key=True),
        sa.Column("won", sa.Integer(), nullable=False),
        sa.Column("lost", sa.Integer(), nullable=False),
        sa.Column("contribution", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prediction_factors")
    op.drop_index("ix_leads_status_win_probability", table_name="leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("win_probability")
