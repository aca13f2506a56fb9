"""Export's leads as finished CSV cells, most of them made by the database.

`export --format csv` writes every lead's 36-odd cells. Turning each value into
its cell in Python (None → "", numbers → text, the formula guard on every text)
was half of the per-lead time of a large export; the database does the same in
C inside the query it runs anyway. The SELECT here gives each text cell already
guarded (`contract.neutralise`'s rule written in SQL), each count as text, each
custom field as its own column; Python formats only the instants, the money and
the tags (`cells_of`), exactly as the output path formats them for every other
command (`output._cell`), so the file is the same, byte for byte.
"""

from collections.abc import Iterator

from sqlalchemy import Integer, String, and_, case, cast, func, literal, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from pipectl.contract import FIELDS, FORMULA_TRIGGERS, TAG_SEPARATOR, neutralise
from pipectl.core.lead_stream import CUSTOM, LEADS, RESTORE_COLUMNS, STAGES, TAG_JOINER, tags_column
from pipectl.core.views import CHUNK, LeadFilter, lead_query
from pipectl.dates import LocalInstants

# The kinds whose values are text: each such cell is guarded against formulas in the query.
_TEXT_KINDS = ("text", "email", "status", "stage", "answer")


def guarded(column, dialect: str) -> ColumnElement:
    """`contract.neutralise` of a text column, or "" for NULL, in SQL: a quote before text whose
    leading quotes lead to a formula trigger."""
    risky = func.substr(func.ltrim(column, "'"), 1, 1).in_(FORMULA_TRIGGERS)
    guard = (risky, literal("'", String) + column)
    if dialect != "sqlite":
        return case(guard, else_=func.coalesce(column, ""))
    # Most text starts with a letter: every trigger and the quote sort before "A" (SQLite compares text
    # byte by byte), so one comparison passes it, and NULL is one test more; the functions of the full
    # check cost as much as the rest of the query. PostgreSQL's collations may not sort punctuation
    # first, so there it always checks.
    return case((column >= "A", column), (column.is_(None), ""), guard, else_=column)


def _whole(column) -> ColumnElement:
    # Instants and cents as the integers they are stored as (the `Timestamp` type would make datetimes).
    return type_coerce(column, Integer)


def _as_text(column) -> ColumnElement:
    # An integer as Python's str writes it; NULL as the empty cell.
    return func.coalesce(cast(column, String), "")


def csv_columns_sql(dialect: str, planned, field_keys: list[str]) -> list[ColumnElement]:
    """The SELECT of `contract.csv_columns(field_keys, exporting.LEAD_CSV_EXTRA)`, in that order: text
    cells finished, instants and money as integers, tags joined by TAG_JOINER (for `cells_of`)."""
    columns: list[ColumnElement] = []
    for spec in FIELDS:
        key = spec.key
        if key == "fields":
            continue
        if key == "stage":
            column = guarded(STAGES.c.name, dialect)
        elif key == "tags":
            column = tags_column(dialect)
        elif key == "next_action":
            column = guarded(planned.c.note, dialect)
        elif key == "next_action_due":
            column = _whole(planned.c.due)
        elif spec.kind in _TEXT_KINDS:
            column = guarded(LEADS.c[str(spec.stored)], dialect)
        elif spec.kind in ("instant", "money"):
            column = _whole(LEADS.c[str(spec.stored)])
        else:  # id, count, score: whole numbers
            column = _as_text(LEADS.c[str(spec.stored)])
        columns.append(column.label(key))
    for position, key in enumerate(field_keys):
        # One lookup in the (lead_id, key) primary key per custom field, instead of a JSON object to parse.
        # Guarded inside the lookup: a subquery named three times in the guard would run three times.
        value = (
            select(guarded(CUSTOM.c.value, dialect))
            .where(and_(CUSTOM.c.lead_id == LEADS.c.id, CUSTOM.c.key == key))
            .scalar_subquery()
        )
        columns.append(func.coalesce(value, "").label(f"custom_{position}"))
    for name in RESTORE_COLUMNS:
        column = LEADS.c[name]
        columns.append((_whole(column) if name == "archived_at" else guarded(column, dialect)).label(f"restore_{name}"))
    return columns


class CellMaker:
    """The rows of `csv_columns_sql` as their finished cells (lists of text)."""

    def __init__(self, dialect: str, field_keys: list[str]):
        keys = [spec.key for spec in FIELDS if spec.key != "fields"]
        self.instants = [keys.index(spec.key) for spec in FIELDS if spec.kind == "instant"]
        self.instants.append(len(keys) + len(field_keys))  # archived_at
        self.money = keys.index("value")
        self.tags = keys.index("tags")
        self.sorted_in_sql = dialect == "postgresql"
        self.fill = LocalInstants().fill

    def cells_of(self, raw) -> list[str]:
        """`output._cells` of the lead's values: instants as `iso` writes them, money as its number, tags
        joined by `; ` (each cell guarded as the output path guards it)."""
        cells = list(raw)
        self.fill(cells, self.instants)
        cents = cells[self.money]
        if cents is not None:
            # `_cell` of `money.to_number(cents)`: two decimals for a whole amount, else the float's repr.
            cells[self.money] = f"{cents // 100}.00" if cents % 100 == 0 else str(cents / 100)
        else:
            cells[self.money] = ""
        tags = cells[self.tags]
        if tags:
            listed = tags.split(TAG_JOINER)
            cells[self.tags] = neutralise(TAG_SEPARATOR.join(listed if self.sorted_in_sql else sorted(listed)))
        else:
            cells[self.tags] = ""
        return cells


def lead_cells(session: Session, wanted: LeadFilter, field_keys: list[str]) -> Iterator[list[str]]:
    """The matching leads (export's restore columns) as finished CSV cells, streamed."""
    dialect = session.get_bind().dialect.name
    maker = CellMaker(dialect, field_keys)
    query = lead_query(
        session, wanted, restore=True, columns=lambda planned: csv_columns_sql(dialect, planned, field_keys)
    )
    return map(maker.cells_of, session.execute(query.execution_options(yield_per=CHUNK)))
