"""Leads: add, find, edit; the duplicate check; tags and custom fields."""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError, create_model, field_validator
from sqlalchemy import ColumnElement, and_, delete, or_
from sqlmodel import Session, col, select

from pipectl import clock
from pipectl.contract import DATA_POINTS, FIELD_KEY, FIELD_PREFIX, Field, check, tidy_tag, tidy_text
from pipectl.core.history import record

# Naming a lead and telling leads apart live in core.lookup. Commands that only find a lead import
# find_lead from there (this module's validation model costs start-up); `edit` takes it from here.
from pipectl.core.lookup import (
    describe_leads as describe_duplicates,
    find_lead as find_lead,
)
from pipectl.core.rescoring import rescore_marked
from pipectl.core.stages import find_stage, first_stage
from pipectl.errors import DuplicateLead, RuleViolation, UsageError
from pipectl.folding import fold
from pipectl.storage.models import Lead, LeadField, LeadTag, stored_id

# The contract's data points by their `leads` column (`value_cents`), as the model and the table name them.
_BY_COLUMN: dict[str, Field] = {str(spec.stored): spec for spec in DATA_POINTS}


class DataPoints(BaseModel):
    """The contract's rules, applied to each data point; `LeadFields` adds the fields themselves."""

    @field_validator("*", mode="before")
    @classmethod
    def _tidy(cls, value):
        if isinstance(value, str):
            return tidy_text(value)
        return value

    @field_validator("*")
    @classmethod
    def _check(cls, value, info):
        return check(_BY_COLUMN[info.field_name], value)

    if TYPE_CHECKING:
        # The fields are made from the contract when the module loads (`LeadFields`), so a type
        # checker cannot list them.
        def __getattr__(self, name: str) -> Any: ...


# The data points of a lead (pipectl.contract), validated the same way for add, edit and import.
_DEFINITIONS: dict[str, Any] = {column: (spec.python_type | None, None) for column, spec in _BY_COLUMN.items()}
LeadFields: type[DataPoints] = create_model("LeadFields", __base__=DataPoints, **_DEFINITIONS)
BUILT_IN_FIELDS = tuple(_BY_COLUMN) + tuple(spec.key for spec in DATA_POINTS)
# The command-line option that sets each data point, by column: `value_cents` is --value.
OPTION_NAMES = {column: spec.flag for column, spec in _BY_COLUMN.items()}


def validate_fields(**values) -> DataPoints:
    """LeadFields from keyword values; a bad one is a usage error naming the field."""
    try:
        return LeadFields(**values)
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else "value"
        field = OPTION_NAMES.get(field, field.replace("_", "-"))
        message = problem["msg"].removeprefix("Value error, ")
        # `add` takes the name as an argument and `edit` as --name: "name" is right for both.
        label = field if field == "name" else f"--{field}"
        raise UsageError(f"{label}: {message}.") from None


def parse_custom_fields(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` pairs into a dict; an empty VALUE means remove the field."""
    fields: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not FIELD_KEY.match(key):
            raise UsageError(f"--field {pair!r}: write KEY=VALUE, with a key that starts with a letter.")
        if key.lower() in BUILT_IN_FIELDS:
            raise UsageError(f"--field {key}: {key} is a built-in field; use --{key.replace('_', '-')}.")
        fields[key] = value.strip()
    return fields


def normalise_tags(tags: list[str]) -> list[str]:
    cleaned = []
    for tag in tags:
        tag = tidy_tag(tag)
        if not tag:
            raise UsageError("A tag cannot be empty.")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def find_duplicates(
    session: Session, *, email: str | None, name: str | None, company: str | None, exclude_id: int | None = None
) -> list[Lead]:
    """Leads with the same email, or the same name at the same company, ignoring case (folded keys)."""
    matches: list[ColumnElement[bool]] = []
    if email:
        matches.append(col(Lead.email_key) == fold(email))
    if name and company:
        matches.append(and_(col(Lead.name_key) == fold(name), col(Lead.company_key) == fold(company)))
    if not matches:
        return []
    query = select(Lead).where(or_(*matches))
    if exclude_id is not None:
        query = query.where(Lead.id != exclude_id)
    return list(session.exec(query.limit(5)))


def add_lead(
    session: Session,
    fields: DataPoints,
    *,
    stage: str | None = None,
    tags: Sequence[str] = (),
    custom: dict[str, str] | None = None,
    at: datetime | None = None,
    force: bool = False,
) -> tuple[Lead, list[Lead]]:
    """Add an open lead; refuses a likely duplicate unless `force`. Returns the lead and its duplicates."""
    from pipectl.core.customers import refuse_second_seller, seller_of, someone_elses
    from pipectl.core.outcomes import check_entry_rules

    if not fields.name:
        raise UsageError("A lead needs a name.")
    duplicates = find_duplicates(session, email=fields.email, name=fields.name, company=fields.company)
    taken = someone_elses(duplicates, seller_of(fields.owner))
    if taken:  # not even with --force: two sellers never work one customer
        refuse_second_seller(taken)
    if duplicates and not force:
        raise DuplicateLead(
            f"This looks like a lead already in the pipeline: {describe_duplicates(duplicates)}. "
            "Use --force to add it anyway."
        )
    target = find_stage(session, stage) if stage else first_stage(session)
    now = clock.now()
    at = at or now
    lead = Lead(
        **fields.model_dump(),
        stage_id=stored_id(target),
        status="open",
        created_at=at,
        updated_at=now,
        stage_entered_at=at,
        last_activity_at=at,
    )
    session.add(lead)
    session.flush()
    assert lead.id is not None, "flushed"
    set_tags(session, lead.id, add=normalise_tags(list(tags)))
    set_custom_fields(session, lead.id, custom or {})
    created = record(session, lead, "created", at, to_stage_id=target.id)
    # Entry rules are checked once the lead is scored: its fields and tags may earn a stage's
    # minimum. A refusal raises, and the command's transaction takes the lead back out.
    rescore_marked(session)
    problems = check_entry_rules(lead, target)
    if problems and not force:
        raise RuleViolation(f"{target.name} refuses this lead: {'; '.join(problems)}. Use --force to override.")
    if problems:
        created.data = {"forced": problems}
    return lead, duplicates


def edit_lead(
    session: Session,
    lead: Lead,
    fields: DataPoints,
    *,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    custom: dict[str, str] | None = None,
    force: bool = False,
) -> dict[str, list]:
    """Apply the given fields (those set) to a lead, log what changed, return {field: [old, new]}."""
    assert lead.id is not None, "the lead is stored"
    updates = fields.model_dump(exclude_unset=True)
    changes = {key: [getattr(lead, key), value] for key, value in updates.items() if getattr(lead, key) != value}
    if "name" in changes and not updates["name"]:
        raise UsageError("A lead needs a name.")
    if {"email", "name", "company"} & changes.keys():
        candidate = {key: updates.get(key, getattr(lead, key)) for key in ("email", "name", "company")}
        duplicates = find_duplicates(session, exclude_id=lead.id, **candidate)
        if duplicates and not force:
            raise DuplicateLead(
                f"After this edit the lead would look like {describe_duplicates(duplicates)}. "
                "Use --force to edit it anyway."
            )
    for key, (_old, new) in changes.items():
        setattr(lead, key, new)
    tag_changes = set_tags(
        session, lead.id, add=normalise_tags(list(add_tags)), remove=normalise_tags(list(remove_tags))
    )
    if tag_changes:
        changes["tags"] = tag_changes
    field_changes = set_custom_fields(session, lead.id, custom or {})
    changes.update({FIELD_PREFIX + key: change for key, change in field_changes.items()})
    if changes:
        record(session, lead, "edited", clock.now(), data={"changes": _jsonable(changes)})
    return changes


def tags_of(session: Session, lead_id: int) -> list[str]:
    return list(session.exec(select(LeadTag.tag).where(LeadTag.lead_id == lead_id).order_by(LeadTag.tag)))


def custom_fields_of(session: Session, lead_id: int) -> dict[str, str]:
    rows = session.exec(
        select(LeadField.key, LeadField.value).where(LeadField.lead_id == lead_id).order_by(LeadField.key)
    )
    return dict(rows.all())


def set_tags(session: Session, lead_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> list:
    """Add and remove tags; returns [added, removed] when anything changed, else []."""
    current = set(tags_of(session, lead_id))
    added = [tag for tag in add if tag not in current]
    removed = [tag for tag in remove if tag in current]
    for tag in added:
        session.add(LeadTag(lead_id=lead_id, tag=tag))
    if removed:
        session.execute(delete(LeadTag).where(col(LeadTag.lead_id) == lead_id, col(LeadTag.tag).in_(removed)))
    return [added, removed] if added or removed else []


def set_custom_fields(session: Session, lead_id: int, custom: dict[str, str]) -> dict[str, list]:
    """Set custom fields (an empty value removes one); returns {key: [old, new]} for real changes."""
    current = custom_fields_of(session, lead_id)
    changes = {}
    for key, value in custom.items():
        old = current.get(key)
        if (old or "") == value:
            continue
        changes[key] = [old, value or None]
        if value:
            session.merge(LeadField(lead_id=lead_id, key=key, value=value))
        else:
            session.execute(delete(LeadField).where(col(LeadField.lead_id) == lead_id, col(LeadField.key) == key))
    return changes


def _jsonable(changes: dict) -> dict:
    return {
        key: [value.isoformat() if isinstance(value, datetime) else value for value in pair]
        if isinstance(pair, list)
        else pair
        for key, pair in changes.items()
    }
