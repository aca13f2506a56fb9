"""Turning one record of an import file into an activity (lead by id or email, kind, time, note), or problems."""

import json
from datetime import datetime

from pipectl.actor import check_name
from pipectl.core.import_mapping import Mapping
from pipectl.core.import_rows import (
    ActivityRow,
    Problem,
    Problems,
    cell,
    parse_bool,
    parse_int,
    parse_when,
)
from pipectl.core.kinds import LOGGABLE, SYSTEM
from pipectl.errors import UsageError
from pipectl.folding import fold

ACTIVITY_KINDS = LOGGABLE + SYSTEM


def _text(value) -> str | None:
    return None if value is None else str(value).strip() or None


def activity_row(
    number: int,
    cells: dict,
    mapping: Mapping,
    now: datetime,
) -> tuple[ActivityRow | None, list[Problem]]:
    """One record as an activity (lead by id or email, kind, time, note), or its problems."""
    columns = mapping.fields
    problems = Problems()
    attempt = problems.attempt

    def get(name: str):
        return cell(cells, columns.get(name))

    kind = "_".join(str(get("kind") or "").strip().lower().replace("-", " ").split())
    if kind not in ACTIVITY_KINDS:
        problems.append(
            Problem(
                columns.get("kind", "kind"),
                f"{get('kind')!r} is not an activity kind" if kind else "an activity needs a kind",
            )
        )
    at = attempt(parse_when, get("at"), columns.get("at", "at"), now)
    if at is None and not problems:
        problems.append(Problem(columns.get("at", "at"), "an activity needs a time"))
    due = attempt(parse_when, get("due"), columns.get("due", "due"), now)
    done = attempt(parse_bool, get("done"), columns.get("done", "done"))
    lead_id = attempt(parse_int, get("lead_id"), columns.get("lead_id", "lead_id"), 1)
    lead_ref = get("lead")
    email = get("lead_email")
    if lead_ref is not None and lead_id is None and email is None:
        text = str(lead_ref).strip().lstrip("#")
        lead_id, email = (int(text), None) if text.isdigit() else (None, text)
    if lead_id is None and email is None:
        problems.append(Problem(columns.get("lead_id", "lead_id"), "name the lead by lead_id or lead_email"))
    data = get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            problems.append(Problem(columns["data"], "is not JSON"))
    actor = _text(get("actor"))  # who did it, as the file says; none given: nobody knows (NULL)
    if actor is not None:
        try:
            actor = check_name(actor, "actor")
        except UsageError as refused:
            problems.append(Problem(columns.get("actor", "actor"), str(refused).rstrip(".")))
    if problems:
        return None, problems
    note = get("note")
    values = {
        "kind": kind,
        "at": at,
        "note": None if note is None else str(note),
        "due": due,
        "done": done if done is not None else not (kind == "task" and due is not None),
        "data": data,
        "recorded_at": now,
        "actor": actor,
    }
    file_id = get("id")
    return ActivityRow(
        number=number,
        file_id=int(file_id) if str(file_id or "").isdigit() else None,
        lead_id=lead_id,
        lead_email=fold(str(email).strip()) if email else None,
        values=values,
        from_stage=_text(get("from_stage")),
        to_stage=_text(get("to_stage")),
    ), []
