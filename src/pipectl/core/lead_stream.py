"""Lead rows from plain SQL rows: one query gives each lead with its stage, tags, fields and next action.

`list`, `next`, `show` and `export` all read leads here. The query selects
columns, never ORM objects (building a `Lead` per row was most of the time of a
large export), and fetches each lead's tags and custom fields in the same
statement, as correlated aggregates, rather than one more query per chunk.
Stored instants come out as the integers they are and are formatted once
(`dates.LocalInstants`), so the rows are the JSON contract's, character for
character, at a fraction of the cost.

Tags and fields keep the order they always had: by tag and by key, as the
database sorts them. PostgreSQL aggregates in that order (`ORDER BY` inside the
aggregate); SQLite 3.40 cannot, so its short lists are sorted here, which for
SQLite's BINARY collation is Python's own order of `str`.
"""

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, func, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from pipectl.contract import BANT_CRITERIA, FIELDS, KEYS
from pipectl.dates import LocalInstants
from pipectl.storage.models import Activity, Lead, LeadField, LeadTag, Stage

LEADS, STAGES, ACTIVITIES = Lead.__table__, Stage.__table__, Activity.__table__
TAGS, CUSTOM = LeadTag.__table__, LeadField.__table__
# Joins a lead's tags in one text. Tags never hold it: `contract.tidy_tag`, which every writer of a tag
# goes through, turns it into a space (Python counts the ASCII separators as white space).
TAG_JOINER = "\x1f"
# What a restore needs besides the contract's keys (export adds them): `archived_at` and the BANT block.
RESTORE_COLUMNS = ("archived_at",) + tuple(column for name in BANT_CRITERIA for column in (name, f"{name}_note"))
_EPOCH = datetime(1970, 1, 1)


def planned_alias():
    """The open task of a lead, joined as `next_action` (a lead has at most one)."""
    return ACTIVITIES.alias("planned")


def lead_columns(dialect: str, planned, *, restore: bool = False) -> list[ColumnElement]:
    """The contract's fields in order as SQL columns (instants as plain integers); with `restore`, then
    the RESTORE_COLUMNS."""
    columns: list[ColumnElement] = []
    for spec in FIELDS:
        if spec.key == "stage":
            column = STAGES.c.name
        elif spec.key == "tags":
            column = tags_column(dialect)
        elif spec.key == "fields":
            column = fields_column(dialect)
        elif spec.key == "next_action":
            column = planned.c.note
        elif spec.key == "next_action_due":
            column = planned.c.due
        else:
            column = LEADS.c[str(spec.stored)]  # every data point but the next action has a column
        columns.append(_plain(column, spec.kind).label(spec.key))
    if restore:
        columns += [
            _plain(LEADS.c[name], "instant" if name == "archived_at" else "text").label(f"restore_{name}")
            for name in RESTORE_COLUMNS
        ]
    else:
        columns.append(LEADS.c.win_probability.label("probability"))  # one of the extras (views.EXTRA_KEYS)
    return columns


def lead_from(planned):
    """`leads` with its stage and its open task."""
    return LEADS.join(STAGES, STAGES.c.id == LEADS.c.stage_id).outerjoin(
        planned,
        and_(planned.c.lead_id == LEADS.c.id, planned.c.done == False),  # noqa: E712  (SQL, not Python)
    )


def _plain(column, kind: str):
    # The `Timestamp` type would turn each instant into a datetime, only for it to be turned into text.
    return type_coerce(column, Integer) if kind == "instant" else column


def tags_column(dialect: str):
    """A lead's tags as one text, joined by TAG_JOINER (NULL when it has none)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        joined = func.string_agg(TAGS.c.tag, aggregate_order_by(func.chr(31), TAGS.c.tag))
    else:
        joined = func.group_concat(TAGS.c.tag, func.char(31))
    return select(joined).where(TAGS.c.lead_id == LEADS.c.id).scalar_subquery()


def fields_column(dialect: str):
    """A lead's custom fields as one JSON object (NULL when it has none): keys and values are any text."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        joined = func.json_object_agg(CUSTOM.c.key, aggregate_order_by(CUSTOM.c.value, CUSTOM.c.key))
    else:
        joined = func.json_group_object(CUSTOM.c.key, CUSTOM.c.value)
    return select(joined).where(CUSTOM.c.lead_id == LEADS.c.id).scalar_subquery()


class RowMaker:
    """Turns the plain rows of `lead_columns` into leads: dicts of the JSON contract (`make`), or the
    values of a lead's CSV columns in order (`flat`).

    `extras`: add `days_in_stage`, `nurture` and `probability` (what `list` and `next` show); `restore`: add
    `archived_at` and `bant` (what `export` writes for a restore).
    """

    def __init__(
        self,
        dialect: str,
        now: datetime,
        nurture_below: int | None,
        *,
        extras: bool = True,
        restore: bool = False,
        field_keys: Iterable[str] = (),
    ):
        self.instants = LocalInstants()
        self.sorted_in_sql = dialect == "postgresql"
        self.now_wall = (now - _EPOCH) // timedelta(seconds=1)
        self.nurture_below = nurture_below
        self.extras, self.restore = extras, restore
        self.field_keys = list(field_keys)
        index = {key: position for position, key in enumerate(KEYS)}
        self.dates = _runs([index[spec.key] for spec in FIELDS if spec.kind == "instant"])
        self.money = tuple(index[spec.key] for spec in FIELDS if spec.kind == "money")
        self.tags, self.fields = index["tags"], index["fields"]
        self.status, self.score = index["status"], index["score"]
        self.entered, self.closed = index["stage_entered_at"], index["closed_at"]
        self.archived = len(KEYS)
        # The C scanner under `json.loads`, without its checks: the text is SQL's own JSON object.
        self._scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__, not typed

    def make(self, raw) -> dict:
        """The lead as a dict of the JSON contract (and the extras asked for)."""
        values = self._values(raw)
        row = dict(zip(KEYS, values, strict=True))
        if self.extras:
            row["days_in_stage"], row["nurture"], row["probability"] = self._extras(raw)
        if self.restore:
            row["archived_at"] = self.instants.text(raw[self.archived])
            row["bant"] = bant_of(raw[self.archived + 1 :])
        return row

    def flat(self, raw) -> list:
        """The lead's CSV values under `contract.csv_columns(field_keys, extra)`, `extra` being what was
        asked for (RESTORE_COLUMNS, or EXTRA_KEYS): `flat_lead(make(raw))` read column by column."""
        values = self._values(raw)
        fields = values[self.fields]
        del values[self.fields]
        if self.field_keys:
            values += map(fields.get, self.field_keys)
        if self.extras:
            values += self._extras(raw)
        if self.restore:
            values.append(self.instants.text(raw[self.archived]))
            values += raw[self.archived + 1 :]
        return values

    def _values(self, raw) -> list:
        """The contract's values in order: instants as text, money as a number, tags as a list, fields as
        a dict."""
        values = list(raw[: self.archived])
        text = self.instants.text
        for run in self.dates:
            values[run] = map(text, values[run])
        for position in self.money:
            cents = values[position]
            if cents is not None:
                # Exactly `money.to_number`: both are the double nearest to cents / 100 (cents < 2**53).
                values[position] = cents / 100
        tags = values[self.tags]
        values[self.tags] = (
            [] if not tags else tags.split(TAG_JOINER) if self.sorted_in_sql else sorted(tags.split(TAG_JOINER))
        )
        found = values[self.fields]
        if found is None:
            values[self.fields] = {}
        else:
            fields = found if type(found) is dict else self._scan(found, 0)[0]
            if len(fields) > 1 and not self.sorted_in_sql:
                fields = dict(sorted(fields.items()))
            values[self.fields] = fields
        return values

    def _extras(self, raw) -> tuple[int | None, bool, float | None]:
        """`days_in_stage`, `nurture` and `probability` of the plain row."""
        probability = raw[self.archived]
        return (
            self._days_in_stage(raw[self.entered], raw[self.closed]),
            self.nurture_below is not None and raw[self.status] == "open" and raw[self.score] < self.nurture_below,
            None if probability is None else round(probability, 4),
        )

    def _days_in_stage(self, entered: int | None, closed: int | None) -> int | None:
        """Whole days from entering the stage to closing (or now), on the local wall clock: what
        `(closed_at or now) - stage_entered_at` gives on naive local datetimes."""
        if entered is None:
            return None
        wall = self.instants.wall
        end = wall(closed) if closed is not None else self.now_wall
        return max((end - wall(entered)) // 86400, 0)


def _runs(positions: list[int]) -> list[slice]:
    """Positions as slices of consecutive ones: [18, 19, 20, 23] → [18:21], [23:24]."""
    runs: list[slice] = []
    for position in positions:
        if runs and runs[-1].stop == position:
            runs[-1] = slice(runs[-1].start, position + 1)
        else:
            runs.append(slice(position, position + 1))
    return runs


def bant_of(answers) -> dict:
    """The BANT block from the answers and notes in RESTORE_COLUMNS order (after `archived_at`)."""
    # Written out rather than looped: this runs once per lead of a large export.
    return {
        _BUDGET: {"status": answers[0], "note": answers[1]},
        _AUTHORITY: {"status": answers[2], "note": answers[3]},
        _NEED: {"status": answers[4], "note": answers[5]},
        _TIMELINE: {"status": answers[6], "note": answers[7]},
        "qualified": answers[0] == answers[2] == answers[4] == answers[6] == "yes",
    }


_BUDGET, _AUTHORITY, _NEED, _TIMELINE = BANT_CRITERIA
