"""The name's lookup form, so a lead can be named by a prefix or a word of its name, accents aside.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Why: `show edith` should find Édith Piaf, and `show torv` Linus Torvalds, in SQL and through an
index at a million leads. `name_key` keeps accents (the duplicate check needs `Elan` apart from
`Élan`), so each lead gets `name_plain`: its name case-folded, accents dropped, its words joined by
one space. Existing rows are filled here, in batches, in Python (SQL cannot drop accents alike on
every backend).

The form is spelled out below rather than imported from pipectl.folding, so this migration never
changes once shipped.
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 5000
_WORD = re.compile(r"[^\W_]+")


def _plain(text):
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", " ".join(_WORD.findall(stripped)))


def upgrade() -> None:
    op.add_column("leads", sa.Column("name_plain", sa.String(), nullable=True))
    connection = op.get_bind()
    leads = sa.table("leads", sa.column("id"), sa.column("name"), sa.column("name_plain"))
    fill = sa.update(leads).where(leads.c.id == sa.bindparam("lead_id")).values(name_plain=sa.bindparam("plain"))
    last = 0
    while True:  # keyset paging: each batch is one range of the primary key
        rows = connection.execute(sa.select(leads.c.id, leads.c.name).where(leads.c.id > last)
                                  .order_by(leads.c.id).limit(BATCH)).all()
        if not rows:
            break
        connection.execute(fill, [{"lead_id": lead_id, "plain": _plain(name)} for lead_id, name in rows])
        last = rows[-1][0]
    op.create_index("ix_leads_name_plain", "leads", ["name_plain"])


def downgrade() -> None:
    op.drop_index("ix_leads_name_plain", table_name="leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("name_plain")
