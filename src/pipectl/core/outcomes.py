"""Moving a lead through the pipeline, and its outcomes: won, lost, reopened.

Won and lost are a lead's status, not stages: a won lead keeps the stage it
was won from, which is what conversion metrics read.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from pipectl import clock
from pipectl.contract import BANT_CRITERIA
from pipectl.core.history import close_open_actions, record
from pipectl.core.stages import find_stage
from pipectl.errors import RuleViolation, UsageError
from pipectl.storage.models import Lead, Stage, stored_id


def check_entry_rules(lead: Lead, stage: Stage) -> list[str]:
    """What keeps `lead` out of `stage`: unmet BANT criteria, a score under the stage's minimum."""
    problems = []
    if stage.requires_bant:
        missing = [criterion for criterion in BANT_CRITERIA if getattr(lead, criterion) != "yes"]
        if missing:
            problems.append(f"BANT is not met ({', '.join(f'{name} is {getattr(lead, name)}' for name in missing)})")
    if stage.min_score is not None and (lead.score or 0) < stage.min_score:
        problems.append(f"score {lead.score or 0} is under the minimum of {stage.min_score}")
    return problems


def require_open(lead: Lead, action: str) -> None:
    if lead.status == "open":
        return
    hint = "restore it with `pipectl restore`" if lead.status == "archived" else "reopen it first with `pipectl reopen`"
    raise RuleViolation(f"Lead #{lead.id} {lead.name} is {lead.status}; cannot {action} it ({hint}).")


def move_lead(
    session: Session,
    lead: Lead,
    stage_name: str,
    *,
    at: datetime | None = None,
    note: str | None = None,
    force: bool = False,
    automatic: bool = False,
) -> Stage:
    """Move an open lead to another stage, subject to the stage's entry rules unless `force`."""
    require_open(lead, "move")
    target = find_stage(session, stage_name)
    if target.id == lead.stage_id:
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is already in {target.name}.")
    at = at or clock.now()
    if at < lead.stage_entered_at:
        raise UsageError(
            f"--at {at:%Y-%m-%d %H:%M} is before the lead entered its current stage "
            f"({lead.stage_entered_at:%Y-%m-%d %H:%M})."
        )
    problems = check_entry_rules(lead, target)
    if problems and not force:
        raise RuleViolation(
            f"{target.name} refuses lead #{lead.id}: {'; '.join(problems)}. Use --force to move it anyway."
        )
    data: dict[str, Any] = {}
    if problems:
        data["forced"] = problems
    if automatic:
        data["automatic"] = True
    source_stage_id = lead.stage_id
    lead.stage_id = stored_id(target)
    lead.stage_entered_at = at
    # A move pipectl makes by itself is not the seller's activity: it leaves the idle clock running.
    record(
        session,
        lead,
        "stage_change",
        at,
        note=note,
        data=data or None,
        from_stage_id=source_stage_id,
        to_stage_id=target.id,
        touch=not automatic,
    )
    return target


def mark_won(
    session: Session, lead: Lead, *, value_cents: int | None = None, at: datetime | None = None, note: str | None = None
) -> Lead:
    """Close a lead as won, optionally at its final value."""
    if lead.status == "won":
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is already won.")
    require_open(lead, "win")
    at = _closing_time(lead, at)
    data = _closing_data(session, lead, "won", at)
    if value_cents is not None and value_cents != lead.value_cents:
        data["value_cents"] = [lead.value_cents, value_cents]
        lead.value_cents = value_cents
    lead.status, lead.closed_at = "won", at
    record(session, lead, "won", at, note=note, data=data or None, to_stage_id=lead.stage_id)
    return lead


def mark_lost(session: Session, lead: Lead, *, reason: str | None, at: datetime | None = None) -> Lead:
    """Close a lead as lost; the reason is required, because lost reasons are ranked later."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise RuleViolation('A lost lead needs a reason: --reason "went with a competitor".')
    if lead.status == "lost":
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is already lost ({lead.lost_reason}).")
    require_open(lead, "lose")
    at = _closing_time(lead, at)
    data = _closing_data(session, lead, "lost", at)
    lead.status, lead.closed_at, lead.lost_reason = "lost", at, reason
    record(session, lead, "lost", at, note=reason, data=data or None, to_stage_id=lead.stage_id)
    return lead


def reopen_lead(session: Session, lead: Lead, *, at: datetime | None = None, note: str | None = None) -> Lead:
    """Bring a won or lost lead back into its stage as open."""
    if lead.status == "open":
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is already open.")
    if lead.status == "archived":
        raise RuleViolation(f"Lead #{lead.id} {lead.name} is archived; bring it back with `pipectl restore`.")
    at = at or clock.now()
    if lead.closed_at and at < lead.closed_at:
        raise UsageError(f"--at {at:%Y-%m-%d %H:%M} is before the lead was closed ({lead.closed_at:%Y-%m-%d}).")
    previous = lead.status
    lead.status, lead.closed_at, lead.lost_reason = "open", None, None
    lead.stage_entered_at = at
    record(session, lead, "reopened", at, note=note, data={"was": previous}, to_stage_id=lead.stage_id)
    return lead


def _closing_data(session: Session, lead: Lead, closed_by: str, at: datetime) -> dict:
    """Close the lead's open next action; the closing activity's data names it (`closed_action`)."""
    assert lead.id is not None, "the lead is stored"
    closed = close_open_actions(session, [lead.id], closed_by, at)
    return {"closed_action": closed[lead.id]} if lead.id in closed else {}


def _closing_time(lead: Lead, at: datetime | None) -> datetime:
    return not_before_added(lead, at or clock.now())


def not_before_added(lead: Lead, at: datetime) -> datetime:
    """Nothing happened to a lead before it was added: `won --at` and `log --at` are refused then."""
    if at < lead.created_at:
        raise UsageError(f"--at {at:%Y-%m-%d %H:%M} is before the lead was added ({lead.created_at:%Y-%m-%d}).")
    return at
