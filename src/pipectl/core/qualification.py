"""BANT qualification: Budget, Authority, Need and Timeline, each yes / no / unknown with a note.

A lead is qualified when all four are yes. Every change of an answer is one
`bant` activity (the old and new answers in its data), so the history shows
when a lead was qualified and by which answer.
"""

from datetime import datetime

from sqlmodel import Session

from pipectl import clock
from pipectl.contract import ANSWERS, BANT_CRITERIA
from pipectl.core.history import check_not_future, record
from pipectl.errors import UsageError
from pipectl.storage.models import Lead

# What a seller is asked for each criterion, interactively.
QUESTIONS = {
    "budget": "Budget: is there money for this?",
    "authority": "Authority: are you talking to the decision maker?",
    "need": "Need: do they need what you sell?",
    "timeline": "Timeline: will they decide soon?",
}
# A no on these is a disqualification signal that cleanup reads (`list --disqualified`).
DISQUALIFYING = ("budget", "authority")

Answer = tuple[str, str | None]


def parse_answer(criterion: str, text: str) -> Answer:
    """`"yes: 20k this quarter"` → ("yes", "20k this quarter"); the status before the first colon.

    A bare status gives a note of None ("keep or clear the note", see `qualify_lead`);
    `"yes:"` gives an empty note, which clears it.
    """
    status, colon, note = str(text).partition(":")
    status = status.strip().lower()
    if status not in ANSWERS:
        raise UsageError(
            f"--{criterion} {text!r}: answer yes, no or unknown, optionally followed by a note "
            f'(--{criterion} "yes: {_EXAMPLE_NOTES[criterion]}").'
        )
    return status, (" ".join(note.split()) if colon else None)


_EXAMPLE_NOTES = {
    "budget": "20k this quarter",
    "authority": "CFO signs",
    "need": "replacing spreadsheets",
    "timeline": "2027-01-15",
}


def current_answers(lead: Lead) -> dict[str, dict]:
    """Each criterion's {status, note} as the lead has them now."""
    return {name: {"status": getattr(lead, name), "note": getattr(lead, f"{name}_note")} for name in BANT_CRITERIA}


def answer_text(answer: dict) -> str:
    """An answer as a person types it: `yes: 20k this quarter`, or just `unknown`."""
    return f"{answer['status']}: {answer['note']}" if answer["note"] else answer["status"]


def is_qualified(lead: Lead) -> bool:
    return all(getattr(lead, name) == "yes" for name in BANT_CRITERIA)


def qualify_lead(
    session: Session, lead: Lead, answers: dict[str, Answer], *, at: datetime | None = None
) -> dict[str, dict]:
    """Set BANT answers; returns {criterion: {"from": answer, "to": answer}} for those that changed.

    A note of None keeps the old note while the status stays the same and clears it when the
    status changes (an old "no: talking to an intern" note is wrong once authority is yes).
    All changes are written as one `bant` activity; nothing changed writes nothing.
    """
    unknown = set(answers) - set(BANT_CRITERIA)
    if unknown:
        raise UsageError(f"Unknown BANT criteria {sorted(unknown)}; use {', '.join(BANT_CRITERIA)}.")
    if at is not None:
        check_not_future(at)
        if at < lead.created_at:
            raise UsageError(f"--at {at:%Y-%m-%d %H:%M} is before the lead was added ({lead.created_at:%Y-%m-%d}).")
    before = current_answers(lead)
    changes: dict[str, dict] = {}
    for name in BANT_CRITERIA:
        if name not in answers:
            continue
        status, note = answers[name]
        if status not in ANSWERS:
            raise UsageError(f"--{name}: answer yes, no or unknown, not {status!r}.")
        old = before[name]
        if note is None:
            note = old["note"] if status == old["status"] else None
        new = {"status": status, "note": note or None}
        if new != old:
            changes[name] = {"from": old, "to": new}
    if not changes:
        return changes
    was_qualified = is_qualified(lead)
    for name, change in changes.items():
        setattr(lead, name, change["to"]["status"])
        setattr(lead, f"{name}_note", change["to"]["note"])
    qualified = is_qualified(lead)
    record(
        session,
        lead,
        "bant",
        at or clock.now(),
        note=summary(changes, was_qualified, qualified),
        data={"answers": changes, "qualified": qualified},
    )
    return changes


def summary(changes: dict[str, dict], was_qualified: bool, qualified: bool) -> str:
    """One line for the timeline: `budget unknown → yes (20k); now qualified`."""
    parts = []
    for name, change in changes.items():
        part = f"{name} {change['from']['status']} → {change['to']['status']}"
        if change["to"]["note"]:
            part += f" ({change['to']['note']})"
        parts.append(part)
    line = "; ".join(parts)
    if qualified and not was_qualified:
        line += "; now qualified"
    elif was_qualified and not qualified:
        line += "; no longer qualified"
    return line


def disqualifying(lead: Lead) -> list[str]:
    """The criteria answered no that mark a lead as disqualified (budget, authority)."""
    return [name for name in DISQUALIFYING if getattr(lead, name) == "no"]
