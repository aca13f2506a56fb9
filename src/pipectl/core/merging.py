"""One lead out of two: everything the other lead has moves to the kept one, and the other is archived.

Example: plan = plan_merge(session, keep, other); apply_merge(session, plan)

Activities, tags, custom fields, BANT answers and the next action move to the kept lead. Where only
the other lead has a value, the kept lead takes it; where both have different values, that is a
conflict: the kept lead's value wins unless `prefer_other`. The plan lists every change and every
conflict before anything is written (`merge --dry-run` prints it and writes nothing). Applying it
is ordinary writes in the command's one transaction (the search index and the scores follow), and
one `merged` activity on the kept lead records what the merge did. The other lead is archived as
`merged into #KEEP`, so its id still leads somewhere.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session, col

from pipectl import clock
from pipectl.contract import BANT_CRITERIA, DATA_POINTS
from pipectl.errors import RuleViolation, UsageError
from pipectl.folding import fold
from pipectl.storage.models import Activity, Lead, LeadField, LeadTag, stored_id

MERGED = "merged"  # the activity kind, and what closes a next action the merge replaced
MERGED_INTO = "merged into #"  # the start of a merged lead's archived reason
PREFERENCES = ("kept", "other")


@dataclass
class MergePlan:
    """What a merge of `other` into `keep` does: {column: value} the kept lead takes, and the rest."""

    keep: Lead
    other: Lead
    prefer_other: bool
    conflicts: list[dict] = field(default_factory=list)  # {field, kept, other, chosen}
    taken: dict[str, Any] = field(default_factory=dict)  # Lead column → the value the kept lead takes
    changes: dict[str, list] = field(default_factory=dict)  # contract key → [kept's old value, new value]
    tags: list[str] = field(default_factory=list)  # tags the kept lead gains
    fields: dict[str, str] = field(default_factory=dict)  # custom fields the kept lead gains or changes
    activities: int = 0  # activities that move
    close_task_of: int | None = None  # whose next action the merge closes (both had one)

    def document(self) -> dict:
        """The plan as JSON: who, what moves, what changes, and every conflict with the value chosen."""
        return {
            "keep": {"id": self.keep.id, "name": self.keep.name},
            "other": {"id": self.other.id, "name": self.other.name},
            "prefer": "other" if self.prefer_other else "kept",
            "changes": self.changes,
            "conflicts": self.conflicts,
            "moved": {"activities": self.activities, "tags": self.tags, "fields": sorted(self.fields)},
        }


def check_pair(keep: Lead, other: Lead) -> None:
    """Two different leads, neither archived (a merged lead names the lead it went into)."""
    if keep.id == other.id:
        raise UsageError(f"KEEP and OTHER are both lead #{keep.id}; name two different leads.")
    for role, lead in (("kept", keep), ("other", other)):
        if lead.status != "archived":
            continue
        reason = lead.archived_reason or ""
        if reason.startswith(MERGED_INTO):
            raise RuleViolation(f"Lead #{lead.id} {lead.name} was already {reason}; merge that lead instead.")
        raise RuleViolation(
            f"Lead #{lead.id} {lead.name} (the {role} lead) is archived; restore it first (`pipectl restore "
            f"{lead.id}`) to merge it."
        )


def plan_merge(session: Session, keep: Lead, other: Lead, *, prefer_other: bool = False) -> MergePlan:
    """Work out the merge of `other` into `keep` without writing anything."""
    from pipectl.core.views import one_lead

    check_pair(keep, other)
    plan = MergePlan(keep, other, prefer_other)
    kept_row, other_row = one_lead(session, keep), one_lead(session, other)
    for spec in DATA_POINTS:
        assert spec.stored is not None, "a data point is a column of leads"
        _weigh(plan, spec.key, kept_row[spec.key], other_row[spec.key], spec.stored, getattr(other, spec.stored))
    for name in BANT_CRITERIA:
        kept_answer, other_answer = _answer(keep, name), _answer(other, name)
        if other_answer == ("unknown", None) or _same(kept_answer, other_answer):
            continue
        if kept_answer == ("unknown", None) or plan.prefer_other:
            plan.taken.update({name: other_answer[0], f"{name}_note": other_answer[1]})
        if kept_answer == ("unknown", None):
            plan.changes[name] = [_shown(kept_answer), _shown(other_answer)]
        else:
            _conflict(plan, name, _shown(kept_answer), _shown(other_answer))
    for key, value in other_row["fields"].items():
        current = kept_row["fields"].get(key)
        if current == value:
            continue
        if current is None or plan.prefer_other:
            plan.fields[key] = value
        if current is None:
            plan.changes[f"field:{key}"] = [None, value]
        else:
            _conflict(plan, f"field:{key}", current, value)
    plan.tags = [tag for tag in other_row["tags"] if tag not in kept_row["tags"]]
    if kept_row["next_action"] and other_row["next_action"]:
        _conflict(plan, "next_action", _action(kept_row), _action(other_row))
        plan.close_task_of = stored_id(keep) if plan.prefer_other else stored_id(other)
    elif other_row["next_action"] and keep.status == "open":
        plan.changes["next_action"] = [None, _action(other_row)]
    elif other_row["next_action"] and keep.status != "open":
        # A won or lost lead has no next step: the other lead's is closed, not moved in open.
        plan.close_task_of = stored_id(other)
    plan.activities = session.execute(
        select(func.count()).select_from(Activity).where(col(Activity.lead_id) == other.id)
    ).scalar_one()
    return plan


def _weigh(plan: MergePlan, key: str, kept: Any, other: Any, column: str, stored: Any) -> None:
    """One data point: taken when only the other lead has it, a conflict when both differ."""
    if other in (None, "") or _same(kept, other):
        return
    if kept in (None, "") or plan.prefer_other:
        plan.taken[column] = stored
    if kept in (None, ""):
        plan.changes[key] = [kept, other]
    else:
        _conflict(plan, key, kept, other)


def _same(kept: Any, other: Any) -> bool:
    # `ADA@example.com` and `ada@example.com` are one email: text compares without case.
    if isinstance(kept, str) and isinstance(other, str):
        return fold(kept) == fold(other)
    return kept == other


def _conflict(plan: MergePlan, key: str, kept: Any, other: Any) -> None:
    chosen = "other" if plan.prefer_other else "kept"
    plan.conflicts.append({"field": key, "kept": kept, "other": other, "chosen": chosen})
    if plan.prefer_other:
        plan.changes[key] = [kept, other]


def _answer(lead: Lead, name: str) -> tuple[str, str | None]:
    return getattr(lead, name), getattr(lead, f"{name}_note")


def _shown(answer: tuple[str, str | None]) -> str:
    status, note = answer
    return f"{status}: {note}" if note else status


def _action(row: dict) -> str:
    due = f" (due {row['next_action_due'][:10]})" if row["next_action_due"] else ""
    return f"{row['next_action']}{due}"


def apply_merge(session: Session, plan: MergePlan, *, at: datetime | None = None) -> None:
    """Carry out `plan` in the session's transaction: move, take, archive, and record it on the kept lead."""
    from pipectl.core.history import close_open_actions, record
    from pipectl.core.rescoring import mark

    keep, other = plan.keep, plan.other
    keep_id, other_id = stored_id(keep), stored_id(other)
    now = at or clock.now()
    if plan.close_task_of is not None:
        close_open_actions(session, [plan.close_task_of], MERGED, now)
    session.execute(update(Activity).where(col(Activity.lead_id) == other_id).values(lead_id=keep_id))
    if plan.tags:
        session.execute(insert(LeadTag), [{"lead_id": keep_id, "tag": tag} for tag in plan.tags])
    for key, value in plan.fields.items():
        session.merge(LeadField(lead_id=keep_id, key=key, value=value))
    session.execute(delete(LeadTag).where(col(LeadTag.lead_id) == other_id))
    session.execute(delete(LeadField).where(col(LeadField.lead_id) == other_id))
    # Activities moved behind the ORM's back: no held copy may keep the old lead id.
    for held in list(session.identity_map.values()):
        if isinstance(held, Activity):
            session.expire(held)
    for column, value in plan.taken.items():
        setattr(keep, column, value)
    keep.last_activity_at = max(keep.last_activity_at, other.last_activity_at)
    other.status, other.archived_at, other.archived_reason = "archived", now, f"{MERGED_INTO}{keep_id}"
    other.updated_at = now
    session.add(other)
    record(
        session,
        keep,
        MERGED,
        now,
        note=f"merged #{other_id} {other.name} into this lead",
        data={"merged": {"id": other_id, "name": other.name}, **_jsonable(plan.document())},
        touch=False,
    )
    mark(session, [other_id])


def _jsonable(document: dict) -> dict:
    return {key: document[key] for key in ("changes", "conflicts", "moved", "prefer")}


def merged_into(lead: Lead) -> int | None:
    """The id of the lead a merged lead went into, from its archived reason; None for any other lead."""
    reason = lead.archived_reason or ""
    if lead.status != "archived" or not reason.startswith(MERGED_INTO):
        return None
    digits = reason[len(MERGED_INTO) :]
    return int(digits) if digits.isdigit() else None
