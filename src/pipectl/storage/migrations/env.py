"""Alembic's entry point; pipectl hands it an open connection (see storage/schema.py)."""

from alembic import context

from pipectl.storage.models import SQLModel

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
