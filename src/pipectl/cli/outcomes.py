"""Pipeline commands: move, won, lost, reopen, and log."""

from typing import Annotated

import typer

from pipectl.cli import completion as complete
from pipectl.cli.options import AtOption, DbOption, ForceOption, LeadArgument, NoteOption, ValueOption


def move(
    lead: LeadArgument,
    stage: Annotated[
        str,
        typer.Argument(
            help="The stage to move the lead to.", show_default=False, autocompletion=complete.complete_stage
        ),
    ],
    note: NoteOption = None,
    at: AtOption = None,
    force: ForceOption = False,
    db: DbOption = None,
) -> None:
    """Move a lead to another stage; the stage's entry rules may refuse it unless --force.

    Example: pipectl move 42 Proposal --note "asked for pricing"
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead
    from pipectl.core.outcomes import move_lead
    from pipectl.render import message

    with pipeline(db) as session:
        target = find_lead(session, lead)
        stage_row = move_lead(session, target, stage, at=at, note=note, force=force)
        label, stage_name = f"#{target.id} {target.name}", stage_row.name
    message(f"Moved lead {label} to {stage_name}.")


def won(
    lead: LeadArgument,
    value: ValueOption = None,
    note: NoteOption = None,
    at: AtOption = None,
    db: DbOption = None,
) -> None:
    """Mark a lead as won, optionally at its final value.

    Example: pipectl won 42 --value 18,500
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead
    from pipectl.core.outcomes import mark_won
    from pipectl.money import format_money
    from pipectl.render import message

    with pipeline(db) as session:
        target = mark_won(session, find_lead(session, lead), value_cents=value, at=at, note=note)
        label, cents = f"#{target.id} {target.name}", target.value_cents
    message(f"Won lead {label}" + (f" for {format_money(cents)}." if cents else "."))


def lost(
    lead: LeadArgument,
    reason: Annotated[str | None, typer.Option("--reason", "-r", help="Why it was lost (required).")] = None,
    at: AtOption = None,
    db: DbOption = None,
) -> None:
    """Mark a lead as lost, with the reason.

    Example: pipectl lost 42 --reason "chose a competitor"
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead
    from pipectl.core.outcomes import mark_lost
    from pipectl.render import message

    with pipeline(db) as session:
        target = mark_lost(session, find_lead(session, lead), reason=reason, at=at)
        label = f"#{target.id} {target.name}"
    message(f"Lost lead {label}: {target.lost_reason}.")


def reopen(
    lead: LeadArgument,
    note: NoteOption = None,
    at: AtOption = None,
    db: DbOption = None,
) -> None:
    """Reopen a won or lost lead in the stage it was closed from.

    Example: pipectl reopen 42 --note "they came back"
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead
    from pipectl.core.outcomes import reopen_lead
    from pipectl.render import message

    with pipeline(db) as session:
        target = reopen_lead(session, find_lead(session, lead), at=at, note=note)
        label = f"#{target.id} {target.name}"
    message(f"Reopened lead {label}.")


def log(
    lead: LeadArgument,
    kind: Annotated[
        str,
        typer.Argument(
            help="call, email, message, reply, meeting, demo, note, competitor, or a signal such as "
            "email_open, web_visit, form_submission, trial_request.",
            metavar="KIND",
            autocompletion=complete.complete_kind,
            show_default=False,
        ),
    ],
    note: NoteOption = None,
    at: AtOption = None,
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome",
            metavar="OUTCOME",
            autocompletion=complete.complete_outcome,
            help="How a call went: connected, no-answer, voicemail, busy. A connected call counts "
            "as the lead answering.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Record an activity that happened.

    Example: pipectl log 42 call --outcome voicemail --at yesterday
    """
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.history import record
    from pipectl.core.kinds import check_outcome, normalise_kind
    from pipectl.core.lookup import find_lead
    from pipectl.core.outcomes import not_before_added
    from pipectl.render import message

    kind = normalise_kind(kind)
    outcome = check_outcome(kind, outcome)
    at = at or clock.now()
    with pipeline(db) as session:
        target = find_lead(session, lead)
        activity = record(
            session,
            target,
            kind,
            not_before_added(target, at),
            note=note,
            data={"outcome": outcome} if outcome else None,
        )
        label, activity_id = f"#{target.id} {target.name}", activity.id
    what = kind.replace("_", " ") + (f" ({outcome})" if outcome else "")
    message(f"Logged {what} #{activity_id} on lead {label}.")


def register(app: typer.Typer) -> None:
    for command in (move, won, lost, reopen, log):
        app.command()(command)
