"""Turning one record of an import file into the values of a lead or an activity, or into problems.

Each problem names the row, the column and what is wrong with it, so a
person can fix the spreadsheet. Values are read the way pipectl reads what
people type: amounts through `pipectl.money`, dates through `pipectl.dates`
(ISO, and spreadsheet forms such as "15 Apr, 2021 00:02:00"). A CSV cell that pipectl neutralised
against formulas (`'=SUM(A1)`) is read back by the contract's `unneutralise` before it gets here.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from pipectl.contract import (
    ANSWER_WORDS,
    BANT_CRITERIA,
    BY_KEY,
    DATA_POINTS,
    FIELD_KEY,
    FIELDS,
    STORED_ONLY,
    check,
    split_tags,
    tidy_text,
)
from pipectl.core.import_mapping import OUTCOME_DATES, Mapping, custom_key
from pipectl.core.import_outcomes import stage_of, status_of
from pipectl.core.leads import LeadFields
from pipectl.dates import parse_date
from pipectl.errors import UsageError
from pipectl.money import cents_from_number, parse_amount

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
    """A date or date-time from a file, read as pipectl reads every date (`pipectl.dates`)."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return parse_date(text.isoformat(), now)
    try:
        return parse_date(str(text).strip(), now)
    except UsageError as error:
        # One clause per cell: the problem and any setting that settles it, not the list of forms.
        reason = str(error).split("; ")[0].rstrip(".")
        raise Problem(column, reason[0].lower() + reason[1:]) from None


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
    if isinstance(known, str):
        raise Problem(column, known)
    return known


def parse_cents(value, column: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise Problem(column, f"{value!r} is not an amount")
    plain = None if isinstance(value, int | float) else _PLAIN_AMOUNT.match(str(value))
    if plain:
        # What `parse_amount` gives for digits with at most two decimals (as every export writes
        # amounts), without its separators and currency rules: most of an import's amounts.
        return int(plain["units"]) * 100 + int((plain["cents"] or "").ljust(2, "0"))
    try:
        return cents_from_number(value) if isinstance(value, int | float) else parse_amount(str(value))
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
    (spec.key, str(spec.stored), parse_cents if spec.kind == "money" else parse_int)
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
    """What reading lead rows needs: the mapping, the stage map, the time, and the user's fallbacks."""

    mapping: Mapping
    stage_map: dict[str, str]
    now: datetime
    default_created: datetime | None = None  # `--default-created`: for empty created cells
    name_from: str | None = None  # `--name-from`: the column that names a row without a name
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
        name = " ".join(str(part).strip() for part in (get("first_name"), get("last_name")) if part) or None
    if name is None and context.name_from is not None:
        ident = cell(cells, context.name_from)
        if ident is not None:
            # "Deal ID 4563", not "4563": a name of digits alone would read as a lead id on the command line.
            name = f"{context.name_from} {str(ident).strip()}"
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
                text = detail["msg"].removeprefix("Value error, ")
                problems.append(Problem(column, _nameless(context) if key == "name" and name is None else text))
            fields = None
    if fields is not None and not fields["name"]:
        problems.append(Problem(columns.get("name", "name"), _nameless(context)))
    dates = dict.fromkeys(LEAD_DATES)
    for key in LEAD_DATES:
        if key in columns:
            dates[key] = attempt(_remembered_when, get(key), columns[key], context)
    score_field = BY_KEY["score"]
    score = attempt(parse_int, get("score"), columns.get("score", "score"), score_field.minimum, score_field.maximum)
    status, lost_reason, custom = status_of(get("status"), columns.get("status"), _text(get("lost_reason")))
    stage, stage_outcome, stage_word = stage_of(get("stage"), context.stage_map)
    if stage_outcome:
        status = status if status in ("won", "lost") else stage_outcome
        if stage_word:  # "Junk Lead" says more than "lost": kept, but never as the lost reason
            custom.setdefault(custom_key(columns["stage"]), stage_word)
    outcome_dates = {}
    for key in OUTCOME_DATES:  # Pipedrive's "Won time" and "Lost time"
        if key in columns:
            outcome_dates[key] = attempt(_remembered_when, get(key), columns[key], context)
    if get("status") is None and not stage_outcome:
        status = "won" if outcome_dates.get("won_at") else "lost" if outcome_dates.get("lost_at") else status
    bant = attempt(_bant, get, columns)
    custom.update(attempt(_custom, cells, context.mapping, get("fields")) or {})
    if dates["created_at"] and dates["created_at"] > context.now:
        problems.append(Problem(columns["created_at"], f"{dates['created_at']:%Y-%m-%d} is in the future"))
    if "created_at" in columns and get("created_at") is None:
        if context.default_created is not None:
            dates["created_at"] = context.default_created
        else:
            problems.append(
                Problem(
                    columns["created_at"],
                    "the created date is empty; fill it in, or give such rows a date with --default-created DATE",
                )
            )
    created = dates["created_at"] or context.default_created or context.now
    closed = dates["closed_at"] or outcome_dates.get(f"{status}_at")
    if status in ("won", "lost") and closed is not None and closed < created:
        if closed.date() < created.date():
            column = columns.get("closed_at") or columns.get(f"{status}_at", "closed_at")
            problems.append(Problem(column, f"closed on {closed:%Y-%m-%d}, before it was created ({created:%Y-%m-%d})"))
        else:
            closed = created  # a close date without a time, on the day it was created
    if problems or fields is None:
        return None, problems
    if status == "open" and closed is not None and "closed_at" in columns:
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
    file_id: Any = get("id")  # any JSON value, or a CSV cell
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


def _nameless(context: LeadContext) -> str:
    if context.name_from is not None:
        return f"a lead needs a name, and the {context.name_from} cell is empty too"
    return "a lead needs a name (name such rows by an id column with --name-from COLUMN)"


_KEY_OF = {spec.stored: spec.key for spec in DATA_POINTS}  # `value_cents` → `value`
# (model key, contract field, whether it is a number) for each data point, in the model's order.
_DATA_POINTS = tuple((str(spec.stored), spec, spec.python_type is int) for spec in DATA_POINTS)


def _valid_fields(given: dict) -> dict | None:
    """`LeadFields(**given).model_dump()` without building a model, for the plain case of a valid row.

    It applies the contract's own rules (`tidy_text`, `check`) to values that are already str or int,
    as the model does; anything else, or any value the rules refuse, gives None, and the caller goes
    through the model itself, for its exact messages.
    """
    values: dict[str, Any] = {}
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


def _by_field(cells: dict, columns: dict) -> dict:
    """{field: its cell} for the mapped fields, an empty cell as None (`cell` for all of them at once)."""
    get = cells.get
    return {
        name: None if isinstance(value := get(column), str) and (not value or value.isspace()) else value
        for name, column in columns.items()
    }


def _bant(get, columns: dict) -> dict:
    values: dict[str, str | None] = {}
    block = get("bant")
    if isinstance(block, str):
        try:
            block = json.loads(block)
        except ValueError:
            raise Problem(columns["bant"], "is not a JSON object") from None
    block = block if isinstance(block, dict) else {}
    for name in BANT_CRITERIA:
        inner = block.get(name)
        inner = inner if isinstance(inner, dict) else {}
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
                # A list or an object is kept as JSON text (not Python's repr), so export gives it back.
                custom[str(key)] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    for column, key in mapping.custom.items():
        value = cell(cells, column)
        if value is None:
            continue
        if not FIELD_KEY.match(key):
            raise Problem(column, f"{key!r} cannot be a custom field name; use --map or --ignore")
        custom[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        custom[key] = custom[key].strip()
    return custom
