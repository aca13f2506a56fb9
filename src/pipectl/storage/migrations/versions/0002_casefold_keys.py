"""Case-folded key columns for leads, so case-insensitive lookups answer alike on SQLite and PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Why: `lower()` folds ASCII only on SQLite and all of Unicode on PostgreSQL, and
Python's `lower()` differs from both, so `add "Élan"` twice added two leads and
`show ÉLAN` found none. Each looked-up column gets a `_key` twin holding its
case-folded value; existing rows are filled here, in batches, in Python (SQL has
no casefold), and the lower() expression indexes give way to plain indexes on
the keys.

The fold is spelled out below rather than imported from pipectl.folding, so this
migration never changes once shipped; if the fold ever changes, a new migration
refills the keys.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEYED = ("name", "company", "email", "owner", "source")
BATCH = 5000


def _fold(text):
    if text is None:
        return None
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def upgrade() -> None:
    for column in KEYED:
        op.add_column("leads", sa.Column(f"{column}_key", sa.String(), nullable=True))
    _fill_keys(op.get_bind())
    op.drop_index("ix_leads_email_lower", table_name="leads")
    op.drop_index("ix_leads_name_company_lower", table_name="leads")
    op.drop_index("ix_leads_owner", table_name="leads")
    op.drop_index("ix_leads_source", table_name="leads")
    op.create_index("ix_leads_email_key", "leads", ["email_key"])
    op.create_index("ix_leads_name_company_key", "leads", ["name_key", "company_key"])
    op.create_index("ix_leads_owner_key", "leads", ["owner_key"])
    op.create_index("ix_leads_source_key", "leads", ["source_key"])


def _fill_keys(connection) -> None:
    """Every lead's keys, a batch of ids at a time (keyset paging: each batch is one index range)."""
    leads = sa.table("leads", sa.column("id"), *(sa.column(name) for name in KEYED),
                     *(sa.column(f"{name}_key") for name in KEYED))
    fill = (sa.update(leads).where(leads.c.id == sa.bindparam("lead_id"))
            .values({f"{name}_key": sa.bindparam(f"new_{name}") for name in KEYED}))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(leads.c.id, *(leads.c[name] for name in KEYED))
            .where(leads.c.id > last).order_by(leads.c.id).limit(BATCH)).all()
        if not rows:
            return
        connection.execute(fill, [{"lead_id": row[0], **{f"new_{name}": _fold(value)
                                                          for name, value in zip(KEYED, row[1:])}}
                                  for row in rows])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_leads_source_key", table_name="leads")
    op.drop_index("ix_leads_owner_key", table_name="leads")
    op.drop_index("ix_leads_name_company_key", table_name="leads")
    op.drop_index("ix_leads_email_key", table_name="leads")
    # SQLite drops a column by rebuilding the table, which loses indexes it cannot reflect
    # (the lower() ones): the columns go first, the old indexes come back after.
    with op.batch_alter_table("leads") as batch:
        for column in reversed(KEYED):
            batch.drop_column(f"{column}_key")
    op.create_index("ix_leads_owner", "leads", ["owner"])
    op.create_index("ix_leads_source", "leads", ["source"])
    op.create_index("ix_leads_email_lower", "leads", [sa.text("lower(email)")])
    op.create_index("ix_leads_name_company_lower", "leads", [sa.text("lower(name)"), sa.text("lower(company)")])
