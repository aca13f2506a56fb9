"""The lead contract: every field of a lead once, and the conventions around them.

Everything else derives from this module: the validation of what people type
and what files hold (`core.leads.LeadFields` and the import), the header
spellings an import recognises, the JSON keys and CSV columns of every command,
the options of `add` and `edit`, the fields scoring rules can match, and the
facts of the lead card. Adding a data point is one line in `FIELDS`, one in
`storage.models.Lead` (a test holds the table to this module) and an Alembic
migration that adds its column.

Keys are added over time, never renamed or removed without a major version.
This module imports nothing from pipectl but `money`, so that every layer,
storage included, may import it.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipectl.money import MAX_CENTS

# ---- kinds of value --------------------------------------------------------------------------------

# What each kind is in Python. Money is whole cents (an integer), written as a number of currency units.
KIND_TYPES: dict[str, type] = {
    "id": int,
    "text": str,
    "email": str,
    "count": int,
    "money": int,
    "stage": int,
    "status": str,
    "score": int,
    "instant": datetime,
    "tags": list,
    "fields": dict,
    "answer": str,
    "probability": float,
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# Control characters but the line breaks and tabs that multi-line text keeps (and tidy_text trims).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
# What a one-line field (a name, a company) refuses: every control character, line breaks included,
# the Unicode line and paragraph separators, and the direction overrides that make a name read
# differently from what it holds.
NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
STATUSES = ("open", "won", "lost", "archived")
LOWEST_SCORE, HIGHEST_SCORE = 0, 100
# Long enough for any real name or note-like data point, short enough that a pasted file is noticed.
TEXT_LENGTH = 1000
# The longest real company names run to about 150 characters; a longer "name" is a pasted paragraph.
NAME_LENGTH = 200
EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path


@dataclass(frozen=True)
class Field:
    """One field of a lead.

    `key` is its JSON key and CSV column; `column` the `leads` column that holds it (None: it comes
    from another table); a `data_point` is what people set with `add`/`edit` and files bring in,
    validated by `check`; `shown` fields are listed on the lead card when they have a value; a
    `keyed` field is compared without case, through a `<column>_key` twin (`pipectl.folding`).
    """

    key: str
    kind: str
    column: str | None = ""  # "" means the same as `key`
    nullable: bool = True
    data_point: bool = False
    required: bool = False
    option: str | None = None  # the add/edit option (without --) when it is not the key
    help: str = ""
    shown: bool = False
    label: str | None = None  # the card's label when it is not the key in words
    aliases: tuple[str, ...] = ()  # other header spellings an import recognises (lowercase letters, digits)
    max_length: int | None = None
    # A name or company: refused with line breaks and control characters (`NOT_ONE_LINE`).
    one_line: bool = False
    minimum: int | None = None
    maximum: int | None = None
    keyed: bool = False

    @property
    def stored(self) -> str | None:
        """The `leads` column, or None."""
        return self.key if self.column == "" else self.column

    @property
    def python_type(self) -> type:
        return KIND_TYPES[self.kind]

    @property
    def flag(self) -> str:
        """The command-line option that sets it: `size` for company_size."""
        return self.option or self.key.replace("_", "-")

    @property
    def title(self) -> str:
        return self.label or self.key.replace("_", " ").capitalize()


def _text(key: str, help: str, *aliases: str, shown: bool = True, **more) -> Field:
    more.setdefault("max_length", TEXT_LENGTH)
    return Field(key, "text", data_point=True, help=help, shown=shown, aliases=aliases, **more)


def _instant(key: str, *aliases: str, nullable: bool = False, column: str | None = "") -> Field:
    return Field(key, "instant", column=column, nullable=nullable, aliases=aliases)


# The lead as every command writes it, in order: JSON keys and CSV columns (custom fields are
# `field:KEY` columns in CSV, in place of `fields`).
FIELDS: tuple[Field, ...] = (
    Field("id", "id", nullable=False),
    # Aliases: Zoho, Salesforce (Opportunity Name), Pipedrive (Deal - Title), HubSpot (Deal Name), snake_case.
    _text(
        "name",
        "The person or company.",
        "fullname",
        "contactname",
        "leadname",
        "dealname",
        "potentialname",
        "opportunityname",
        "dealtitle",
        "contact",
        shown=False,
        nullable=False,
        required=True,
        keyed=True,
        one_line=True,
        max_length=NAME_LENGTH,
    ),
    _text(
        "company",
        "Company name.",
        "companyname",
        "organization",
        "organisation",
        "accountname",
        "account",
        "dealorganization",
        "organizationname",
        keyed=True,
        one_line=True,
        max_length=NAME_LENGTH,
    ),
    Field(
        "email",
        "email",
        data_point=True,
        help="Email address.",
        shown=True,
        aliases=("emailaddress", "mail"),
        max_length=EMAIL_LENGTH,
        keyed=True,
    ),
    _text("phone", "Phone number.", "mobile", "phonenumber", "mobilephone", "telephone", "tel"),
    _text("title", "Job title.", "jobtitle", "designation", "position"),
    _text("industry", "Industry."),
    Field(
        "company_size",
        "count",
        data_point=True,
        option="size",
        help="Company size (employees).",
        shown=True,
        label="Size",
        aliases=("employees", "numberofemployees", "noofemployees", "size"),
        minimum=0,
        maximum=10**9,
    ),
    _text("location", "City, region or country.", "city"),
    _text("source", "Where the lead came from.", "leadsource", "dealsource", "originalsource", keyed=True),
    _text(
        "owner",
        "Who works the lead.",
        "leadowner",
        "dealowner",
        "potentialowner",
        "opportunityowner",
        "contactowner",
        "ownername",
        keyed=True,
    ),
    Field(
        "value",
        "money",
        column="value_cents",
        data_point=True,
        help="Expected value: 12000, 12,000.50, 12k, $22,700.",
        aliases=("dealvalue", "amount", "dealamount", "expectedrevenue"),
        minimum=0,
        maximum=MAX_CENTS - 1,
    ),
    Field("stage", "stage", column="stage_id", nullable=False, aliases=("dealstage", "pipelinestage")),
    Field("status", "status", nullable=False, aliases=("leadstatus", "dealstatus")),
    Field("score", "score", nullable=False, aliases=("leadscore",), minimum=LOWEST_SCORE, maximum=HIGHEST_SCORE),
    Field("tags", "tags", column=None, aliases=("tag", "labels")),
    Field("fields", "fields", column=None),
    Field("next_action", "text", column=None),
    _instant("next_action_due", nullable=True, column=None),
    _instant(
        "created_at",
        "created",
        "createdtime",
        "createddate",
        "createdon",
        "createdate",
        "dealcreated",
        "dealdealcreated",
        "dealcreatedate",
    ),
    _instant("updated_at"),
    _instant("stage_entered_at"),
    _instant("last_activity_at"),
    _instant("closed_at", "closingdate", "closedate", "closeddate", "closedon", nullable=True),
    Field("lost_reason", "text", aliases=("reasonforloss", "deallostreason", "closedlostreason")),
    Field("archived_reason", "text"),
)
BY_KEY: dict[str, Field] = {field.key: field for field in FIELDS}
KEYS: tuple[str, ...] = tuple(BY_KEY)
DATA_POINTS: tuple[Field, ...] = tuple(field for field in FIELDS if field.data_point)
# Data points a demographic scoring rule can match, by key: text, and the numbers (size and value).
TEXT_DATA_POINTS = tuple(field.key for field in DATA_POINTS if field.python_type is str)
NUMBER_DATA_POINTS = tuple(field.key for field in DATA_POINTS if field.python_type is int)

# ---- BANT -----------------------------------------------------------------------------------------

BANT_CRITERIA = ("budget", "authority", "need", "timeline")
BANT_LABELS = {name: name.capitalize() for name in BANT_CRITERIA}
ANSWERS = ("yes", "no", "unknown")
# How files and people write an answer; an empty cell is unknown.
ANSWER_WORDS = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "unknown": "unknown",
    "?": "unknown",
    "": "unknown",
}
# The answers as columns: `budget`, `budget_note`, … (in `show` and `export` CSV, and in the table).
BANT_COLUMNS = tuple(column for name in BANT_CRITERIA for column in (name, f"{name}_note"))

# Kept on the `leads` table but not keys of a lead row: what a restore needs (`export` adds them) and
# the nurture clock.
STORED_ONLY: tuple[Field, ...] = (
    _instant("archived_at", nullable=True),
    _instant("nurture_since", nullable=True),
    *(
        field
        for name in BANT_CRITERIA
        for field in (Field(name, "answer", nullable=False), Field(f"{name}_note", "text", aliases=(f"{name}note",)))
    ),
)


# The fields compared without case; each has a `<column>_key` column holding its folded text.
KEYED = tuple(field.key for field in FIELDS if field.keyed)


def lead_columns() -> dict[str, Field]:
    """Every column of the `leads` table → the field it holds (what storage must have)."""
    columns = {field.stored: field for field in FIELDS + STORED_ONLY if field.stored is not None}
    columns.update({f"{key}_key": Field(f"{key}_key", "text") for key in KEYED})
    columns["name_plain"] = Field("name_plain", "text")  # the name's lookup form (pipectl.folding.plain)
    columns["company_plain"] = Field("company_plain", "text")  # the company's, for `duplicates`
    columns["phone_key"] = Field("phone_key", "text")  # the phone's digits (pipectl.folding.phone_key)
    # The learned win probability of an open lead (`pipectl predict`, migration 0011); JSON key `probability`.
    columns["win_probability"] = Field("win_probability", "probability")
    return columns


# ---- custom fields and tags ------------------------------------------------------------------------

FIELD_PREFIX = "field:"  # a custom field's CSV column, and how scoring rules and `--map` name one
FIELD_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_ .-]{0,63}$")
TAG_SEPARATOR = "; "  # tags (and other lists) in one CSV cell


def tidy_tag(tag: str) -> str:
    """Tags compare as lowercase words with single spaces: ` Warm  Lead` is `warm lead`."""
    return " ".join(str(tag).split()).lower()


def split_tags(cell: Any) -> list[str]:
    """The tags of one cell (`vip; warm`, or `vip, warm` from other tools), tidied, each once."""
    if cell is None:
        return []
    items = cell if isinstance(cell, list) else str(cell).split(";" if ";" in str(cell) else ",")
    tags: list[str] = []
    for item in items:
        tag = tidy_tag(item)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


# ---- checking data points --------------------------------------------------------------------------


def tidy_text(value: str) -> str | None:
    """Trim a typed value and fold runs of spaces, except in multi-line text; None when empty.

    Trimming first keeps it idempotent: text whose only newline was a trailing one is folded the
    same way on the first pass as after an export and import."""
    value = value.strip()
    if "\n" not in value:
        value = " ".join(value.split())
    return value or None


def check(field: Field, value: Any) -> Any:
    """`value` (of the field's type, text already tidied) if the contract accepts it, else ValueError."""
    if value is None:
        return None
    if value.__class__ is str and not value.isascii() and SURROGATE.search(value):
        # A lone surrogate (an argument or a file in a broken encoding) cannot be stored as UTF-8.
        raise ValueError("holds a character that is not valid Unicode (a lone surrogate)")
    if field.one_line:
        _check_one_line(value)
    if field.kind == "email" and not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    if field.max_length is not None and len(value) > field.max_length:
        raise ValueError(f"is longer than {field.max_length:,} characters")
    if field.minimum is not None and value < field.minimum:
        raise ValueError("cannot be negative" if field.minimum == 0 else f"is below {field.minimum}")
    if field.maximum is not None and value > field.maximum:
        raise ValueError("is too large")
    return value


def _check_one_line(value: str) -> None:
    """A name or company is one line of visible text: it is what tables, cards and lookups show and match.

    A line break splits a table row and a CSV reader's record; an escape sequence or a direction
    override makes the name show as something else than it is. Notes keep line breaks; other fields
    keep what they are given and are shown with their controls made visible (pipectl.terminal).
    """
    found = NOT_ONE_LINE.search(value)
    if found is None:
        return
    char = found.group()
    if char in "\n\r\u2028\u2029\x0b\x0c\x85":
        raise ValueError("must be one line: it holds a line break")
    raise ValueError(f"holds a control character ({char!r}); names and companies are plain text")


# ---- CSV ------------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text made inert for a spreadsheet: one quote before a formula, and before quotes that lead to one.

    `=SUM(A1)` → `'=SUM(A1)`, and `'=x` (text that really starts with a quote) → `''=x`, so that
    `unneutralise` can always take exactly one quote back off: every text round-trips exactly.
    """
    if text[:1] in RISKY_STARTS and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """What `neutralise` was given: one leading quote off a cell whose quotes lead to a formula."""
    if text[:1] == "'" and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


# The first characters of the texts `neutralise` may change: any other text is written as it is.
RISKY_STARTS = frozenset(FORMULA_TRIGGERS) | {"'"}


def csv_columns(field_keys: Any = (), extra: Any = ()) -> list[str]:
    """A lead's CSV columns: the contract's, then one `field:KEY` per custom field, then a command's own."""
    columns = [key for key in KEYS if key != "fields"]
    columns += [FIELD_PREFIX + key for key in sorted(field_keys)]
    columns += [key for key in extra if key not in columns]
    return columns


def header_field_keys(header: list[str]) -> list[str]:
    """The custom fields of a lead CSV header, in its order: `field:region` → `region`."""
    return [column[len(FIELD_PREFIX) :] for column in header if column.startswith(FIELD_PREFIX)]


def lead_cells(header: list[str]):
    """A function giving a lead row's cells under `header`: `[flat_lead(row).get(column) for column in header]`
    without building the flat dict (a row's custom fields are under `fields` only), for long CSV streams."""
    segments: list[tuple[str, list]] = []  # runs of columns read the same way, in header order
    for column in header:
        item: str | tuple[str, ...]
        if column.startswith(FIELD_PREFIX):
            source, item = "fields", column[len(FIELD_PREFIX) :]
        elif column in _BANT_PARTS:
            source, item = "bant", (column, *_BANT_PARTS[column])
        else:
            source, item = "row", column
        if segments and segments[-1][0] == source:
            segments[-1][1].append(item)
        else:
            segments.append((source, [item]))
    empty: dict = {}

    def cells(row: dict) -> list:
        found: list = []
        for source, items in segments:
            if source == "row":
                found += map(row.get, items)
            elif source == "fields":
                found += map((row.get("fields") or empty).get, items)
            else:
                bant = row.get("bant")
                found += [bant[name][part] if bant else row.get(column) for column, name, part in items]
        return found

    return cells


# A BANT column → (criterion, "status" or "note") in a lead's `bant` block.
_BANT_PARTS = {
    column: (name, "note" if column.endswith("_note") else "status")
    for name in BANT_CRITERIA
    for column in (name, f"{name}_note")
}


def flat_lead(row: dict) -> dict:
    """A lead row for CSV: custom fields as `field:KEY`, a BANT block as `budget`, `budget_note`, …"""
    flat = {key: value for key, value in row.items() if key not in ("fields", "bant", "activities")}
    for key, value in (row.get("fields") or {}).items():
        flat[FIELD_PREFIX + key] = value
    bant = row.get("bant")
    if bant:
        for name in BANT_CRITERIA:
            flat[name], flat[f"{name}_note"] = bant[name]["status"], bant[name]["note"]
    return flat
