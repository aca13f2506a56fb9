"""Indexes for the leads like this one that were won, and for the week's closed leads.

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-29

`brief` lists won leads sharing the lead's industry, company size band or source. Without an index
for each of the three, SQLite read every won lead (and every activity of the similar ones) for each
briefing; with (status, lower(industry)), (status, company_size) and (status, source_key) it takes
the union of three index ranges. `status` counts the leads won and lost in the last seven days:
(status, closed_at) reads that week's range instead of every closed lead. Indexes only: every row
stays as it is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_leads_status_industry", "leads", ["status", sa.text("lower(industry)")])
    op.create_index("ix_leads_status_size", "leads", ["status", "company_size"])
    op.create_index("ix_leads_status_source", "leads", ["status", "source_key"])
    op.create_index("ix_leads_status_closed", "leads", ["status", "closed_at"])


def downgrade() -> None:
    # IF EXISTS: a later downgrade that rebuilds `leads` in batch mode on SQLite cannot reflect the
    # expression index on lower(industry), so it may already be gone.
    for name in ("closed", "source", "size", "industry"):
        op.drop_index(f"ix_leads_status_{name}", table_name="leads", if_exists=True)
