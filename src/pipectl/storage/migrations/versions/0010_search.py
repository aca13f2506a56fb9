"""Full-text search over leads and activity notes, and the keys `duplicates` compares.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Why: `pipectl search` finds a lead by any word of its name, company, email, phone, title, tags,
custom fields, activity notes or next action, ranked, at a million leads. The index is kept
current by the database itself, in the transaction of every write, whichever code path writes
(the ORM, bulk import, clean, purge, merge):

- SQLite: two FTS5 tables (tokenizer `unicode61 remove_diacritics 2`, prefix indexes): `lead_search`,
  one row per lead (rowid = lead id) with its text, tags and custom fields, and `activity_search`,
  an external-content index of `activities.note` (rowid = activity id). Triggers keep both current.
- PostgreSQL: a generated `tsvector` column with a GIN index on `leads` and on `activities`
  (configuration `simple`). Tags and custom fields live in other tables, so a trigger keeps their
  text in `leads.search_extra`, which the lead's vector includes. Text is lower-cased, Latin accents
  are dropped and punctuation becomes a space before it is split, so both backends split and fold
  words alike (`unaccent` is an extension, and not immutable, so `translate` does it).

Leads also gain `company_plain` (plain() of the company) and `phone_key` (the phone's digits), so
`duplicates` compares names at companies accents aside, and phones however they were typed, through
indexes. Existing rows are filled here, in batches, in Python.

The forms are spelled out below rather than imported from pipectl.folding, so this migration never
changes once shipped.
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 5000
_WORD = re.compile(r"[^\W_]+")
TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'"


def _plain(text):
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", " ".join(_WORD.findall(stripped)))


def _phone_key(text):
    if text is None:
        return None
    digits = "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())
    return digits if len(digits) >= 6 else None


def upgrade() -> None:
    op.add_column("leads", sa.Column("company_plain", sa.String(), nullable=True))
    op.add_column("leads", sa.Column("phone_key", sa.String(), nullable=True))
    _fill_keys(op.get_bind())
    op.create_index("ix_leads_phone_key", "leads", ["phone_key"])
    op.create_index("ix_leads_name_company_plain", "leads", ["name_plain", "company_plain"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_index()
    else:
        _sqlite_index()


def _fill_keys(connection) -> None:
    leads = sa.table("leads", sa.column("id"), sa.column("company"), sa.column("phone"),
                     sa.column("company_plain"), sa.column("phone_key"))
    fill = (sa.update(leads).where(leads.c.id == sa.bindparam("lead_id"))
            .values(company_plain=sa.bindparam("new_company"), phone_key=sa.bindparam("new_phone")))
    last = 0
    while True:  # keyset paging: each batch is one range of the primary key
        rows = connection.execute(sa.select(leads.c.id, leads.c.company, leads.c.phone)
                                  .where(leads.c.id > last).order_by(leads.c.id).limit(BATCH)).all()
        if not rows:
            return
        connection.execute(fill, [{"lead_id": lead_id, "new_company": _plain(company), "new_phone": _phone_key(phone)}
                                  for lead_id, company, phone in rows])
        last = rows[-1][0]


# ---- SQLite: FTS5 tables and the triggers that keep them current ------------------------------------

def _tags(lead: str) -> str:
    # A subquery's ORDER BY feeds group_concat in order (SQLite 3.40 has no ORDER BY inside it).
    return f"(SELECT group_concat(tag, ' ') FROM (SELECT tag FROM lead_tags WHERE lead_id = {lead} ORDER BY tag))"


def _fields(lead: str) -> str:
    return (f"(SELECT group_concat(key || ' ' || value, ' ') FROM "
            f"(SELECT key, value FROM lead_fields WHERE lead_id = {lead} ORDER BY key))")


def _phone(row: str) -> str:
    return f"trim(coalesce({row}.phone, '') || ' ' || coalesce({row}.phone_key, ''))"


def _refresh_trigger(table: str, event: str, column: str, aggregate, rows) -> str:
    """A trigger that rewrites a lead's tags (or fields) text when one of its rows changes."""
    updates = " ".join(
        f"UPDATE lead_search SET {column} = {aggregate(row + '.lead_id')} WHERE rowid = {row}.lead_id;" for row in rows
    )
    return f"CREATE TRIGGER {table}_search_{event} AFTER {event.upper()} ON {table} BEGIN {updates} END"


SQLITE_STATEMENTS = [
    f"CREATE VIRTUAL TABLE lead_search USING fts5(name, company, email, phone, title, tags, fields, {TOKENIZE})",
    f"CREATE VIRTUAL TABLE activity_search USING fts5(note, content = 'activities', content_rowid = 'id', {TOKENIZE})",
    f"""CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN
        INSERT INTO lead_search (rowid, name, company, email, phone, title, tags, fields)
        VALUES (new.id, new.name, new.company, new.email, {_phone('new')}, new.title, {_tags('new.id')},
                {_fields('new.id')});
    END""",
    f"""CREATE TRIGGER leads_search_update AFTER UPDATE OF name, company, email, phone, phone_key, title ON leads
    WHEN old.name IS NOT new.name OR old.company IS NOT new.company OR old.email IS NOT new.email
      OR old.phone IS NOT new.phone OR old.phone_key IS NOT new.phone_key OR old.title IS NOT new.title BEGIN
        UPDATE lead_search SET name = new.name, company = new.company, email = new.email, phone = {_phone('new')},
            title = new.title WHERE rowid = new.id;
    END""",
    "CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN DELETE FROM lead_search WHERE rowid = old.id; END",
    *(
        _refresh_trigger(table, event, column, aggregate, rows)
        for table, column, aggregate in (("lead_tags", "tags", _tags), ("lead_fields", "fields", _fields))
        for event, rows in (("insert", ("new",)), ("delete", ("old",)), ("update", ("old", "new")))
    ),
    # Every activity has its row, a NULL note too: FTS5 counts rows (bm25's averages, its integrity check).
    """CREATE TRIGGER activities_search_insert AFTER INSERT ON activities BEGIN
        INSERT INTO activity_search (rowid, note) VALUES (new.id, new.note);
    END""",
    """CREATE TRIGGER activities_search_delete AFTER DELETE ON activities BEGIN
        INSERT INTO activity_search (activity_search, rowid, note) VALUES ('delete', old.id, old.note);
    END""",
    """CREATE TRIGGER activities_search_update AFTER UPDATE OF note ON activities
    WHEN old.note IS NOT new.note BEGIN
        INSERT INTO activity_search (activity_search, rowid, note) VALUES ('delete', old.id, old.note);
        INSERT INTO activity_search (rowid, note) VALUES (new.id, new.note);
    END""",
    f"""INSERT INTO lead_search (rowid, name, company, email, phone, title, tags, fields)
        SELECT id, name, company, email, {_phone('leads')}, title, {_tags('leads.id')}, {_fields('leads.id')}
        FROM leads""",
    "INSERT INTO activity_search (activity_search) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = [
    "leads_search_insert", "leads_search_update", "leads_search_delete",
    *(f"{table}_search_{event}" for table in ("lead_tags", "lead_fields") for event in ("insert", "delete", "update")),
    "activities_search_insert", "activities_search_delete", "activities_search_update",
]


def _sqlite_index() -> None:
    for statement in SQLITE_STATEMENTS:
        op.execute(statement)


# ---- PostgreSQL: generated tsvector columns and GIN indexes ------------------------------------------

def _accent_map() -> tuple[str, str]:
    """Latin letters with accents (either case) → the plain lower-case letter, as FTS5 folds them."""
    accented, plain = [], []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        base = "".join(part for part in unicodedata.normalize("NFD", char) if not unicodedata.combining(part))
        if base != char and len(base) == 1 and base.isascii() and base.isalpha():
            accented.append(char)
            plain.append(base.lower())
    return "".join(accented), "".join(plain)


# Punctuation FTS5's unicode61 splits words on, here made spaces (PostgreSQL's parser would keep
# `ada@example.com` or `month-end` whole).
PUNCTUATION = (
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    "\u00a0\u00ab\u00bb\u00b7\u2010\u2011\u2012\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026"
)


def _folded(expression: str) -> str:
    accented, plain = _accent_map()
    source = (accented + PUNCTUATION).replace("'", "''")
    target = plain + " " * len(PUNCTUATION)
    return f"translate(lower({expression}), '{source}', '{target}')"


def _vector(expression: str, weight: str) -> str:
    return f"setweight(to_tsvector('simple'::regconfig, {_folded(expression)}), '{weight}')"


def _joined(*columns: str) -> str:
    return " || ' ' || ".join(f"coalesce({column}, '')" for column in columns)


LEAD_VECTOR = " || ".join((
    _vector(_joined("name"), "A"),
    _vector(_joined("company", "email", "phone", "phone_key"), "B"),
    _vector(_joined("title", "search_extra"), "C"),
))
ACTIVITY_VECTOR = _vector(_joined("note"), "D")
POSTGRESQL_STATEMENTS = [
    "ALTER TABLE leads ADD COLUMN search_extra text",
    """CREATE OR REPLACE FUNCTION pipectl_search_extra(lead integer) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT nullif(concat_ws(' ',
            (SELECT string_agg(tag, ' ' ORDER BY tag) FROM lead_tags WHERE lead_id = lead),
            (SELECT string_agg(key || ' ' || value, ' ' ORDER BY key) FROM lead_fields WHERE lead_id = lead)), '')
    $$""",
    """CREATE OR REPLACE FUNCTION pipectl_search_extra_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE leads SET search_extra = pipectl_search_extra(OLD.lead_id) WHERE id = OLD.lead_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE leads SET search_extra = pipectl_search_extra(NEW.lead_id) WHERE id = NEW.lead_id;
        END IF;
        RETURN NULL;
    END $$""",
    *(
        f"CREATE TRIGGER {table}_search AFTER INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION pipectl_search_extra_changed()"
        for table in ("lead_tags", "lead_fields")
    ),
    "UPDATE leads SET search_extra = pipectl_search_extra(id) "
    "WHERE id IN (SELECT lead_id FROM lead_tags UNION SELECT lead_id FROM lead_fields)",
    f"ALTER TABLE leads ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({LEAD_VECTOR}) STORED",
    f"ALTER TABLE activities ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({ACTIVITY_VECTOR}) STORED",
    "CREATE INDEX ix_leads_search ON leads USING gin (search_vector)",
    "CREATE INDEX ix_activities_search ON activities USING gin (search_vector)",
]


def _postgresql_index() -> None:
    for statement in POSTGRESQL_STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("lead_tags", "lead_fields"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_search ON {table}")
        op.execute("ALTER TABLE activities DROP COLUMN search_vector")
        op.execute("ALTER TABLE leads DROP COLUMN search_vector")
        op.execute("ALTER TABLE leads DROP COLUMN search_extra")
        op.execute("DROP FUNCTION IF EXISTS pipectl_search_extra_changed()")
        op.execute("DROP FUNCTION IF EXISTS pipectl_search_extra(integer)")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS activity_search")
        op.execute("DROP TABLE IF EXISTS lead_search")
    op.drop_index("ix_leads_name_company_plain", table_name="leads")
    op.drop_index("ix_leads_phone_key", table_name="leads")
    # Dropped in place (SQLite 3.35+): a batch rebuild of `leads` would lose the expression indexes
    # of migration 0009, which SQLAlchemy cannot reflect.
    op.drop_column("leads", "phone_key")
    op.drop_column("leads", "company_plain")
