"""`export`: leads and their activities as CSV, JSON or JSON Lines, streamed row by row.

Leads have the JSON contract's keys plus what a restore needs (`archived_at`
and the BANT answers); activities have the activity contract's keys plus the
lead's email and the names of the stages they moved between. `what="all"`
writes the leads and then the activities, so that importing the file into an
empty database brings the whole history back and exports identically again.
Nothing is collected in memory: rows go out as the database hands them over.
"""

import csv
import json
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy import select
from sqlmodel import Session

from pipectl.core.views import CONTRACT_KEYS, LeadFilter, activity_dict, bant_block, lead_query, lead_rows
from pipectl.dates import iso
from pipectl.errors import UsageError
from pipectl.render import FIELD_PREFIX, FORMULA_TRIGGERS, TAG_SEPARATOR, neutralise
from pipectl.storage.models import Activity, Lead, LeadField, Stage

WHATS = ("leads", "activities", "all")
FORMATS = ("csv", "json", "jsonl")
BANT = ("budget", "authority", "need", "timeline")
LEAD_KEYS = CONTRACT_KEYS + ("archived_at", "bant")
LEAD_CSV_KEYS = tuple(key for key in CONTRACT_KEYS if key != "fields") + ("archived_at",) + tuple(
    key for name in BANT for key in (name, f"{name}_note"))
ACTIVITY_KEYS = ("id", "lead_id", "lead_email", "kind", "at", "note", "due", "done", "from_stage", "to_stage",
                 "data")
CHUNK = 1000


def export(session: Session, out: TextIO, *, what: str = "leads", fmt: str = "jsonl",
           wanted: LeadFilter | None = None) -> int:
    """Write the chosen rows to `out`; returns how many were written."""
    if what not in WHATS:
        raise UsageError(f"--what is one of {', '.join(WHATS)}, not {what!r}.")
    if fmt not in FORMATS:
        raise UsageError(f"--format is one of {', '.join(FORMATS)}, not {fmt!r}.")
    if what == "all" and fmt == "csv":
        raise UsageError("--what all needs --format jsonl or json (a CSV holds one table); "
                         "export leads and activities to two CSV files instead.")
    wanted = wanted or LeadFilter(status="all")
    counter = _Counter()
    if what == "all" and fmt == "jsonl":
        _write_jsonl(out, counter.count(_typed(lead_records(session, wanted), "lead")))
        _write_jsonl(out, counter.count(_typed(activity_records(session, wanted), "activity")))
    elif what == "all":
        out.write('{"leads": ')
        _write_json(out, counter.count(lead_records(session, wanted)))
        out.write(', "activities": ')
        _write_json(out, counter.count(activity_records(session, wanted)))
        out.write("}\n")
    elif fmt == "csv":
        if what == "leads":
            columns = list(LEAD_CSV_KEYS) + [FIELD_PREFIX + key for key in field_keys(session)]
            _write_csv(out, counter.count(map(flat_lead, lead_records(session, wanted))), columns)
        else:
            _write_csv(out, counter.count(map(flat_activity, activity_records(session, wanted))),
                       list(ACTIVITY_KEYS))
    else:
        rows = lead_records(session, wanted) if what == "leads" else activity_records(session, wanted)
        (_write_jsonl if fmt == "jsonl" else _write_json_array)(out, counter.count(rows))
    return counter.total


class _Counter:
    def __init__(self):
        self.total = 0

    def count(self, rows):
        for row in rows:
            self.total += 1
            yield row


def _restore_keys(lead: Lead) -> dict:
    return {"archived_at": iso(lead.archived_at), "bant": bant_block(lead)}


def lead_records(session: Session, wanted: LeadFilter) -> Iterator[dict]:
    """Leads for export: the contract's keys (no derived extras), then `archived_at` and `bant`."""
    for row in lead_rows(session, wanted, extend=_restore_keys):
        yield {key: row[key] for key in LEAD_KEYS}


def activity_records(session: Session, wanted: LeadFilter) -> Iterator[dict]:
    """The activities of the chosen leads, oldest first (by id), streamed."""
    stage_names = dict(session.execute(select(Stage.id, Stage.name)).all())
    query = select(Activity, Lead.email).join(Lead, Lead.id == Activity.lead_id).order_by(Activity.id)
    if _filters(wanted):
        chosen = lead_query(session, wanted).with_only_columns(Lead.id).order_by(None)
        query = query.where(Activity.lead_id.in_(chosen))
    result = session.execute(query.execution_options(yield_per=CHUNK))
    for activity, email in result:
        row = activity_dict(activity, stage_names)
        yield {key: email if key == "lead_email" else row[key] for key in ACTIVITY_KEYS}


def _filters(wanted: LeadFilter) -> bool:
    return any((wanted.stage, wanted.status not in (None, "all"), wanted.tags, wanted.owner, wanted.source,
                wanted.min_score is not None, wanted.ids is not None, wanted.qualified is not None,
                wanted.disqualified, wanted.limit))


def field_keys(session: Session) -> list[str]:
    """Every custom field key in use, for the CSV header (one SELECT DISTINCT, before streaming)."""
    return sorted(session.execute(select(LeadField.key).distinct()).scalars())


def protect_quote(value):
    """`'=x` becomes `''=x`, so that import, which drops the quote the CSV writer adds before `=x`,
    gives `'=x` back: a text that really starts with a quote survives the round trip."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def flat_lead(lead: dict) -> dict:
    """A lead as one CSV row: tags joined, custom fields and BANT answers as their own columns."""
    flat = {key: value for key, value in lead.items() if key not in ("tags", "fields", "bant")}
    flat["tags"] = TAG_SEPARATOR.join(lead["tags"])
    for key, value in lead["fields"].items():
        flat[FIELD_PREFIX + key] = value
    for name in BANT:
        flat[name] = lead["bant"][name]["status"]
        flat[f"{name}_note"] = lead["bant"][name]["note"]
    return flat


def flat_activity(activity: dict) -> dict:
    return dict(activity, data=None if activity["data"] is None else json.dumps(activity["data"], ensure_ascii=False))


def _write_csv(out: TextIO, rows, columns: list[str]) -> None:
    """CSV as `render.write_csv` writes it (formulas neutralised), with one fast pass per cell."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])


_RISKY = frozenset(FORMULA_TRIGGERS) | {"'"}


def _csv_cell(value):
    if value is None:
        return ""
    if value.__class__ is str:
        return neutralise(protect_quote(value)) if value and value[0] in _RISKY else value
    if value.__class__ is bool:
        return "true" if value else "false"
    if value.__class__ is float and value.is_integer():
        return f"{value:.2f}"
    return value


def _typed(rows: Iterator[dict], kind: str) -> Iterator[dict]:
    for row in rows:
        yield {"type": kind, **row}


def _dumps(item) -> str:
    return json.dumps(item, ensure_ascii=False, default=str)


def _write_jsonl(out: TextIO, rows) -> None:
    for row in rows:
        out.write(_dumps(row) + "\n")


def _write_json(out: TextIO, rows) -> None:
    first = True
    out.write("[")
    for row in rows:
        out.write("\n" if first else ",\n")
        out.write(_dumps(row))
        first = False
    out.write("]" if first else "\n]")


def _write_json_array(out: TextIO, rows) -> None:
    _write_json(out, rows)
    out.write("\n")
