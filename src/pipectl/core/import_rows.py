"""Turning one record of an import file into the values of a lead or an activity, or into problems.

Each problem names the row, the column and what is wrong with it, so a
person can fix the spreadsheet. Values are read the way pipectl reads what
people type: amounts through `pipectl.money`, dates ISO first then through
dateutil ("15 Apr, 2021 00:02:00"). A CSV cell that pipectl neutralised against
formulas (`'=SUM(A1)`) is read back by the contract's `unneutralise` before it gets here.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from pipectl.contract import (
    ANSWER_WORDS,
    BANT_CRITERIA,
    BY_KEY,
    DATA_POINTS,
    FIELD_KEY,
    FIELDS,
    STATUSES,
    STORED_ONLY,
    check,
    split_tags,
    tidy_text,
)
from pipectl.core.kinds import LOGGABLE, SYSTEM
from pipectl.core.import_mapping import Mapping, custom_key, outcome_of
from pipectl.core.leads import LeadFields
from pipectl.errors import UsageError
from pipectl.folding import fold
from pipectl.money import parse_amount

# The dates of a lead a file may give (the contract's instants, and `archived_at` for a restore).
LEAD_DATES = tuple(spec.key for spec in FIELDS + STORED_ONLY if spec.kind == "instant" and spec.key != "nurture_since")
# Data points read as text as they are (but the name, which may come in parts) …
TEXT = tuple(spec.key for spec in DATA_POINTS if spec.python_type is str and spec.key != "name")


class Problem(Exception):
    """A bad cell: the column it is in and what is wrong."""

    def __init__(self, column: str, text: str):
        super().__init__(text)
        self.column, self.text = column, text


@dataclass
class LeadRow:
    """A lead ready to insert: its column values, stage name, tags, custom fields and next action."""

    number: int
    file_id: int | None
    values: dict
    stage: str | None
    tags: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)
    next_action: str | None = None
    next_action_due: datetime | None = None


@dataclass
class ActivityRow:
    number: int
    file_id: int | None
    lead_id: int | None
    lead_email: str | None
    values: dict
    from_stage: str | None = None
    to_stage: str | None = None


def cell(cells: dict, column: str | None):
    """The value of a column, an empty cell as None."""
    if column is None:
        return None
    value = cells.get(column)
    if isinstance(value, str):
        return value if value.strip() else None
    return value


def parse_when(text, column: str, now: datetime) -> datetime | None:
    """A date or date-time from a file; ISO first (with its offset), then common spreadsheet forms."""
    if text is None:
        return None
    raw = str(text).strip()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        from dateutil import parser

        try:
            moment = parser.parse(raw)
        except (ValueError, OverflowError):
            raise Problem(column, f"cannot read the date {raw!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    if not 1900 <= moment.year <= 2999:
        raise Problem(column, f"the date {raw!r} is out of range")
    return moment.replace(microsecond=0) if moment.microsecond else moment


DATES_REMEMBERED = 10_000


def _remembered_when(text, column: str, context: "LeadContext") -> datetime | None:
    """`parse_when`, remembering what each date text gave earlier in this import."""
    if type(text) is not str:
        return parse_when(text, column, context.now)
    known = context.dates.get(text)
    if known is None:
        try:
            known = parse_when(text, column, context.now)
        except Problem as problem:
            known = problem.text
        if len(context.dates) >= DATES_REMEMBERED:
            context.dates.clear()
        context.dates[text] = known
    if type(known) is str:
        raise Problem(column, known)
    return known


def parse_cents(value, column: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise Problem(column, f"{value!r} is not an amount")
    if isinstance(value, int | float):
        try:
            cents = Decimal(str(value)) * 100
        except InvalidOperation:
            raise Problem(column, f"{value!r} is not an amount") from None
        if cents != cents.to_integral_value() or cents < 0:
            raise Problem(column, f"{value!r} is not an amount in whole cents")
        return int(cents)
    text = str(value)
    plain = _PLAIN_AMOUNT.match(text)
    if plain:
        # What `parse_amount` gives for digits with at most two decimals (as every export writes
        # amounts), without its separators and currency rules: most of an import's amounts.
        return int(plain["units"]) * 100 + int((plain["cents"] or "").ljust(2, "0"))
    try:
        return parse_amount(text)
    except UsageError as error:
        raise Problem(column, _short(error)) from None


# Up to 13 digits: then the cents stay under money.MAX_CENTS, which `parse_amount` refuses.
_PLAIN_AMOUNT = re.compile(r"(?P<units>[0-9]{1,13})(?:\.(?P<cents>[0-9]{1,2}))?\Z")


def _short(error: Exception) -> str:
    text = str(error)
    return text.split(";")[0].rstrip(".").replace("Cannot read", "cannot read")


def parse_int(value, column: str, low: int = 0, high: int | None = None) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value).replace(",", "").replace(" ", "")) if not isinstance(value, int) else value
    except ValueError:
        raise Problem(column, f"{value!r} is not a whole number") from None
    if number < low or (high is not None and number > high):
        raise Problem(column, f"{number} is out of range")
    return number


# … and the numbers, each by its kind: (key, model key, reader).
NUMBERS = tuple(
    (spec.key, spec.stored, parse_cents if spec.kind == "money" else parse_int)
    for spec in DATA_POINTS
    if spec.python_type is int
)


def parse_bool(value, column: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "yes", "y", "1"):
        return True
    if word in ("false", "no", "n", "0"):
        return False
    raise Problem(column, f"{value!r} is not true or false")


@dataclass
class LeadContext:
    """What reading lead rows needs: the mapping, the stage map and the time."""

    mapping: Mapping
    stage_map: dict[str, str]
    now: datetime
    # Date text already read in this import → its datetime, or the problem's text (files repeat dates).
    dates: dict = field(default_factory=dict)


class Problems(list):
    """The problems found in one row; `attempt` runs a check and collects its Problem instead of raising."""

    def attempt(self, function, *args):
        try:
            return function(*args)
        except Problem as problem:
            self.append(problem)
            return None


def lead_row(number: int, cells: dict, context: LeadContext) -> tuple[LeadRow | None, list[Problem]]:
    """One record as a lead, or the problems that stop it."""
    columns = context.mapping.fields
    problems = Problems()
    attempt = problems.attempt
    get = _by_field(cells, columns).get  # every mapped field's cell read once (as `cell` reads it)

    name = get("name")
    if name is None and ("first_name" in columns or "last_name" in columns):
        name = " ".join(str(part).strip() for part in (get("first_name"), get("last_name")) if part)
    given = {"name": str(name) if name is not None else None}
    for key in TEXT:
        value = get(key)
        given[key] = str(value) if value is not None else None
    for key, column, read in NUMBERS:
        given[column] = attempt(read, get(key), columns.get(key, key))
    fields = _valid_fields(given)
    if fields is None:
        try:
            fields = LeadFields(**given).model_dump()
        except ValidationError as error:
            for detail in error.errors():
                key = str(detail["loc"][0]) if detail["loc"] else "value"
                key = _KEY_OF.get(key, key)
                column = columns.get(key, key)
                problems.append(Problem(column, detail["msg"].removeprefix("Value error, ")))
            fields = None
    if fields is not None and not fields["name"]:
        problems.append(Problem(columns.get("name", "name"), "a lead needs a name"))
    dates = dict.fromkeys(LEAD_DATES)
    for key in LEAD_DATES:
        if key in columns:
            dates[key] = attempt(_remembered_when, get(key), columns[key], context)
    score_field = BY_KEY["score"]
    score = attempt(parse_int, get("score"), columns.get("score", "score"), score_field.minimum, score_field.maximum)
    status, lost_reason, custom = _status(get("status"), columns.get("status"), get("lost_reason"))
    stage = get("stage")
    if stage is not None:
        stage = str(stage).strip()
        mapped = context.stage_map.get(stage.lower(), stage)
        if outcome_of(mapped):
            status = status if status in ("won", "lost") else outcome_of(mapped)
            if status == "lost" and lost_reason is None:
                lost_reason = stage  # "Closed Lost": the best reason the file gives
            stage = None
        else:
            stage = mapped
    bant = attempt(_bant, get, columns)
    custom.update(attempt(_custom, cells, context.mapping, get("fields")) or {})
    if dates["created_at"] and dates["created_at"] > context.now:
        problems.append(Problem(columns["created_at"], f"{dates['created_at']:%Y-%m-%d} is in the future"))
    if problems or fields is None:
        return None, problems
    created = dates["created_at"] or context.now
    closed = dates["closed_at"]
    if status == "open" and closed is not None:
        # An open deal's closing date is the expected one: keep it as a data point, not an outcome.
        custom[custom_key(columns["closed_at"])] = closed.date().isoformat()
        closed = None
    elif status in ("won", "lost") and closed is None:
        closed = created
    values = fields
    values.update(
        status=status,
        score=score or 0,
        created_at=created,
        updated_at=dates["updated_at"] or context.now,
        stage_entered_at=dates["stage_entered_at"] or created,
        last_activity_at=dates["last_activity_at"] or max(created, closed or created),
        closed_at=closed,
        lost_reason=lost_reason if status == "lost" else None,
        archived_at=dates["archived_at"] or (context.now if status == "archived" else None),
        archived_reason=_text(get("archived_reason")) if status == "archived" else None,
        nurture_since=None,
        **bant,
    )
    file_id = get("id")
    return LeadRow(
        number=number,
        file_id=int(file_id) if isinstance(file_id, int) or str(file_id or "").isdigit() else None,
        values=values,
        stage=stage,
        tags=split_tags(get("tags")),
        custom=custom,
        next_action=_text(get("next_action")),
        next_action_due=dates["next_action_due"],
    ), []


_KEY_OF = {spec.stored: spec.key for spec in DATA_POINTS}  # `value_cents` → `value`
# (model key, contract field, whether it is a number) for each data point, in the model's order.
_DATA_POINTS = tuple((spec.stored, spec, spec.python_type is int) for spec in DATA_POINTS)


def _valid_fields(given: dict) -> dict | None:
    """`LeadFields(**given).model_dump()` without building a model, for the plain case of a valid row.

    It applies the contract's own rules (`tidy_text`, `check`) to values that are already str or int,
    as the model does; anything else, or any value the rules refuse, gives None, and the caller goes
    through the model itself, for its exact messages.
    """
    values = {}
    for key, spec, number in _DATA_POINTS:
        value = given[key]
        if value is None:
            values[key] = None
            continue
        if number:
            if type(value) is not int:
                return None
        elif type(value) is str:
            value = tidy_text(value)
        else:
            return None
        try:
            values[key] = check(spec, value)
        except ValueError:
            return None
    return values


def _text(value) -> str | None:
    return None if value is None else str(value).strip() or None


def _status(value, column: str | None, lost_reason) -> tuple[str, str | None, dict]:
    """The lead's status; a CRM's own status word that is not an outcome stays as a custom field."""
    reason = _text(lost_reason)
    if value is None:
        return "open", reason, {}
    word = str(value).strip()
    if word.lower() in STATUSES:
        return word.lower(), reason, {}
    outcome = outcome_of(word)
    if outcome == "lost" and word.lower() not in ("lost", "closed lost"):
        reason = reason or word
    if outcome:
        return outcome, reason, {}
    return "open", reason, {custom_key(column or "status"): word}


def _by_field(cells: dict, columns: dict) -> dict:
    """{field: its cell} for the mapped fields, an empty cell as None (`cell` for all of them at once)."""
    get = cells.get
    return {
        name: None if isinstance(value := get(column), str) and (not value or value.isspace()) else value
        for name, column in columns.items()
    }


def _bant(get, columns: dict) -> dict:
    values = {}
    block = get("bant")
    if isinstance(block, str):
        try:
            block = json.loads(block)
        except ValueError:
            raise Problem(columns["bant"], "is not a JSON object") from None
    block = block if isinstance(block, dict) else {}
    for name in BANT_CRITERIA:
        inner = block.get(name) if isinstance(block.get(name), dict) else {}
        answer = get(name)
        answer = answer if answer is not None else inner.get("status")
        word = ANSWER_WORDS.get(str(answer or "").strip().lower())
        if word is None:
            raise Problem(columns.get(name, name), f"{answer!r} is not yes, no or unknown")
        values[name] = word
        note = get(f"{name}_note")
        values[f"{name}_note"] = _text(note if note is not None else inner.get("note"))
    return values


def _custom(cells: dict, mapping: Mapping, fields_object) -> dict[str, str]:
    custom: dict[str, str] = {}
    if isinstance(fields_object, str):
        try:
            fields_object = json.loads(fields_object)
        except ValueError:
            raise Problem(mapping.fields["fields"], "is not a JSON object") from None
    if isinstance(fields_object, dict):
        for key, value in fields_object.items():
            if value not in (None, ""):
                custom[str(key)] = str(value)
    for column, key in mapping.custom.items():
        value = cell(cells, column)
        if value is None:
            continue
        if not FIELD_KEY.match(key):
            raise Problem(column, f"{key!r} cannot be a custom field name; use --map or --ignore")
        custom[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        custom[key] = custom[key].strip()
    return custom


ACTIVITY_KINDS = LOGGABLE + SYSTEM


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
