"""The morning screen and the call briefing: status, brief."""

from typing import Annotated

import typer

from pipectl.cli.options import DbOption, LeadArgument, format_flag

# One document each: JSON or JSON Lines for programs (no CSV: the screens are nested).
BriefFormatOption = Annotated[
    str, format_flag("table", "json", "jsonl", help="Output format: table for people; json or jsonl for programs.")
]


def status(fmt: BriefFormatOption = "table", db: DbOption = None) -> None:
    """One screen for the morning: due actions, stalled leads, pipeline, quota, the week, score crossings.

    Next actions overdue or due today (the first five, with both counts); stalled leads that
    need a decision (with the reason); open leads, value and weighted value per stage; this
    period against the saved quota (`forecast --quota … --save`); leads won and lost in the
    last seven days; and leads whose score crossed a threshold (nurture, MQL, SQL) since this
    time yesterday. It fits 80 columns and 40 lines; -f json gives the same as one document.

    Example: pipectl status
    """
    from pipectl import clock
    from pipectl.cli.briefing_views import status_view
    from pipectl.cli.runtime import pipeline
    from pipectl.core.status import compute_status
    from pipectl.output import emit

    with pipeline(db, write=False) as session:
        data = compute_status(session, clock.now())
    emit(fmt, data, table=status_view)


def brief(lead: LeadArgument, fmt: BriefFormatOption = "table", db: DbOption = None) -> None:
    """Everything worth knowing before a call: who, stage, BANT, score and why, latest activities, similar wins.

    Who they are and how to reach them; the stage and days there; BANT answers and what is
    still open; the score with the three rules that weigh most; the last five activities; the
    open next action; competition notes; and won leads with the same industry, company size
    band or source, with the kinds of activity most of them had before they were won.

    Example: pipectl brief 42
    """
    from pipectl import clock
    from pipectl.cli.briefing_views import brief_view
    from pipectl.cli.runtime import pipeline
    from pipectl.core.brief import compute_brief
    from pipectl.core.lookup import find_lead
    from pipectl.output import emit

    with pipeline(db, write=False) as session:
        data = compute_brief(session, find_lead(session, lead), clock.now())
    emit(fmt, data, table=brief_view)


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command()(brief)
