"""Qualification and follow-up commands: qualify (BANT), plan, done, and next (the agenda)."""

import sys
from datetime import datetime, time, timedelta
from typing import Annotated, Any

import typer

from pipectl.cli.options import (
    COUNT_MAX,
    AtOption,
    DbOption,
    LeadArgument,
    MineOption,
    NoteOption,
    format_flag,
    owner_or_mine,
    parse_span,
    parse_when,
)
from pipectl.cli.runtime import stdin_is_terminal
from pipectl.dates import Span

# Rows per section in the table view.
TABLE_ROWS = 100
# Stalled leads, and leads without a next action, in the table when --limit is not given.
TABLE_LIMIT = 20


def _answer_flag(name: str, example: str) -> Any:
    return typer.Option(
        f"--{name}",
        metavar="ANSWER",
        show_default=False,
        help=f'yes, no or unknown, optionally with a note: --{name} "{example}".',
    )


DueOption = Annotated[
    datetime | None,
    typer.Option(
        "--due",
        parser=parse_when,
        metavar="DATE",
        show_default=False,
        help='When it is due: friday, tomorrow, 3d, 2026-12-03, or "2026-12-03 10:00" for an appointment.',
    ),
]


BudgetOption = Annotated[str | None, _answer_flag("budget", "yes: 20k this quarter")]
AuthorityOption = Annotated[str | None, _answer_flag("authority", "no: talking to an intern")]
NeedOption = Annotated[str | None, _answer_flag("need", "yes: replacing spreadsheets")]
TimelineOption = Annotated[str | None, _answer_flag("timeline", "yes: 2027-01-15")]


def qualify(
    lead: LeadArgument,
    budget: BudgetOption = None,
    authority: AuthorityOption = None,
    need: NeedOption = None,
    timeline: TimelineOption = None,
    at: AtOption = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", hidden=True, help="Ask the questions even when stdin is not a terminal.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Record BANT answers (budget, authority, need, timeline); without flags, ask them one by one.

    Example: pipectl qualify 42 --budget "yes: 20k this quarter" --authority "no: talking to an intern"
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.contract import BANT_CRITERIA
    from pipectl.core.lookup import find_lead
    from pipectl.core.qualification import disqualifying, is_qualified, parse_answer, qualify_lead
    from pipectl.errors import UsageError
    from pipectl.render import message, warning

    given = {"budget": budget, "authority": authority, "need": need, "timeline": timeline}
    answers = {name: parse_answer(name, text) for name, text in given.items() if text is not None}
    if not answers:
        if not (interactive or stdin_is_terminal()):
            raise UsageError(
                'Give --budget/--authority/--need/--timeline (e.g. --budget "yes: 20k"), '
                "or run it on a terminal to be asked."
            )
        answers = _ask(db, lead)
    with pipeline(db) as session:
        target = find_lead(session, lead)
        changes = qualify_lead(session, target, answers, at=at)
        label, qualified, signals = f"#{target.id} {target.name}", is_qualified(target), disqualifying(target)
        # Only unanswered criteria are still open: a "no" is an answer (the warning below says so).
        still_open = [name for name in BANT_CRITERIA if getattr(target, name) not in ("yes", "no")]
    if not changes:
        message(f"BANT of lead {label} is unchanged.")
        return
    described = ", ".join(f"{name} {change['to']['status']}" for name, change in changes.items())
    verdict = (
        "qualified"
        if qualified
        else "not qualified" + (f" (still open: {', '.join(still_open)})" if still_open else "")
    )
    message(f"Updated BANT of lead {label}: {described}; {verdict}.")
    if signals:
        warning(f"{' and '.join(signals)} answered no: lead {label} is disqualified (`pipectl list --disqualified`).")


def _ask(db: str | None, lead: str) -> dict:
    """Ask the four questions, each with the current answer as its default (read before any write)."""
    from pipectl.cli.runtime import pipeline
    from pipectl.contract import BANT_CRITERIA
    from pipectl.core.lookup import find_lead
    from pipectl.core.qualification import QUESTIONS, answer_text, current_answers, parse_answer
    from pipectl.errors import UsageError
    from pipectl.terminal import visible

    with pipeline(db, write=False) as session:
        target = find_lead(session, lead)
        current, label = current_answers(target), f"#{target.id} {target.name}"
    typer.echo(
        f"BANT for lead {visible(label)}: answer yes, no or unknown, optionally followed by ': note'. "
        "Enter keeps the current answer.",
        err=True,
    )
    answers = {}
    for name in BANT_CRITERIA:

        def check(text: str, name: str = name):
            try:
                return parse_answer(name, text)
            except UsageError as error:
                raise typer.BadParameter(str(error)) from None

        # The current answer is the default as stored, but shown with its control characters made visible.
        default = answer_text(current[name])
        answers[name] = typer.prompt(
            f"{QUESTIONS[name]} [{visible(default, one_line=True)}]",
            default=default,
            show_default=False,
            value_proc=check,
            err=True,
        )
    return answers


def plan(
    lead: LeadArgument,
    action: Annotated[
        str, typer.Argument(metavar="ACTION", show_default=False, help='What to do next, e.g. "Send proposal".')
    ],
    due: DueOption = None,
    db: DbOption = None,
) -> None:
    """Set a lead's next action and when it is due; planning again replaces it.

    Example: pipectl plan 42 "Send proposal" --due friday
    """
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.agenda import plan_action
    from pipectl.core.lookup import find_lead
    from pipectl.render import message, warning

    with pipeline(db) as session:
        target = find_lead(session, lead)
        task, replaced = plan_action(session, target, action, due)
        label, note, when = f"#{target.id} {target.name}", task.note, task.due
    assert when is not None  # a planned action always has its due date
    if replaced:
        message(
            f"Replaced the previous next action of lead {label}: {replaced['note']} "
            f"(due {_when(datetime.fromisoformat(replaced['due']))})."
        )
    message(f"Planned for lead {label}: {note}, due {_when(when)}.")
    if when.date() < clock.now().date():
        warning("that due date has passed; it shows as overdue in `pipectl next`.")


def done(
    lead: LeadArgument,
    note: NoteOption = None,
    at: AtOption = None,
    next_action: Annotated[
        str | None,
        typer.Option(
            "--next", metavar="ACTION", show_default=False, help="Plan the following action in the same step."
        ),
    ] = None,
    due: DueOption = None,
    db: DbOption = None,
) -> None:
    """Complete a lead's next action (it counts as activity); --next plans the following one.

    Example: pipectl done 42 --note "sent v2" --next "Follow up on the proposal" --due 3d
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.agenda import complete_action, plan_action
    from pipectl.core.lookup import find_lead
    from pipectl.errors import UsageError
    from pipectl.render import message

    if due is not None and next_action is None:
        raise UsageError('--due goes with --next: --next "Follow up" --due 3d.')
    if next_action is not None and due is None:
        raise UsageError('--next needs a date: --next "Follow up" --due 3d.')
    with pipeline(db) as session:
        target = find_lead(session, lead)
        finished = complete_action(session, target, at=at, note=note)
        following = plan_action(session, target, next_action, due)[0] if next_action is not None else None
        label, finished_note = f"#{target.id} {target.name}", finished.note
        planned = (following.note, following.due) if following and following.due else None
    message(f"Done on lead {label}: {finished_note}.")
    if planned:
        message(f"Planned for lead {label}: {planned[0]}, due {_when(planned[1])}.")


NextFormatOption = Annotated[
    str,
    format_flag(
        "table",
        "json",
        "jsonl",
        "csv",
        "ics",
        help="table for people; json, jsonl or csv for programs; ics for a calendar.",
    ),
]


def next_actions(
    within: Annotated[
        Span,
        typer.Option(
            "--within",
            metavar="DURATION",
            parser=parse_span,
            help="How far after today upcoming actions reach: 1d, 3d, 2w, 1m.",
        ),
    ] = "7d",  # type: ignore[assignment]  # Typer passes a default through `parser`
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            max=COUNT_MAX,
            show_default=False,
            help=f"At most this many stalled leads, and leads without a next action (default: {TABLE_LIMIT} in "
            "the table, all in json, jsonl and csv).",
        ),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", metavar="NAME", help="Only leads of this owner.")] = None,
    mine: MineOption = False,
    fmt: NextFormatOption = "table",
    db: DbOption = None,
) -> None:
    """The agenda: overdue, today's and upcoming actions, stalled leads, then leads with no next action.

    Example: pipectl next --within 3d --mine
    """
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.agenda import AGENDA_KEYS, agenda, agenda_dicts, cap_sections
    from pipectl.core.views import EXTRA_KEYS, field_keys
    from pipectl.output import emit, lead_layout

    now = clock.now()
    if limit is None and fmt == "table":
        limit = TABLE_LIMIT
    # The upcoming window starts tomorrow; `1m` reaches the same day a calendar month later.
    span = within.ahead_of(datetime.combine(now.date(), time()) + timedelta(days=1))
    with pipeline(db, write=False) as session:
        # A calendar holds planned actions only.
        rows = agenda(
            session, within=span, limit=limit, now=now, unplanned=fmt != "ics", owner=owner_or_mine(owner, mine)
        )
        # A person reads a screenful: long sections are cut, and say how to see them whole.
        hidden: dict[str, int] = {}
        if fmt == "table":
            rows = cap_sections(rows, TABLE_ROWS, hidden)
        emit(
            fmt,
            agenda_dicts(session, rows),
            table=lambda shown: agenda_table(shown, hidden),
            csv_layout=lead_layout(lambda: field_keys(session), EXTRA_KEYS + AGENDA_KEYS + ("reasons",)),
            writers={"ics": lambda shown: _write_ics(session, shown, now)},
        )


def _write_ics(session, rows, now: datetime) -> None:
    from pipectl.core.calendar import agenda_ics

    _write_bytes(agenda_ics(session, rows, now))


def agenda_table(rows: list[dict], hidden: dict[str, int] | None = None) -> None:
    """One Rich table per agenda section, in agenda order; `hidden` counts rows cut from each."""
    from itertools import groupby

    from pipectl.cli.table_layout import hidden_note
    from pipectl.render import stdout_console

    console = stdout_console()
    if not rows:
        console.print("Nothing planned, and no open leads.", style="dim")
        return
    dropped: list[str] = []
    for section, group in groupby(rows, key=lambda row: row["section"]):
        more = (hidden or {}).get(section)
        fitted = _section_table(section, list(group), more or 0)
        console.print(fitted.table)
        dropped += fitted.dropped
        if more:
            console.print(f"… and {more:,} more; `pipectl next -f json` lists them all.", style="dim")
        console.print()
    hidden_note(console, dropped)


def _agenda_columns():
    from pipectl.cli.table_layout import NAME_WIDTH, Column

    # Who comes first: names and companies are narrowed last. The action (or why the lead stalled) is
    # never left out, but wraps at spaces before Stage, Overdue and Due are left out; Score and Value
    # make way first of all.
    return {
        "ID": Column("ID", priority=10, justify="right", keep=True),
        "Name": Column("Name", priority=9, min_width=NAME_WIDTH, keep=True),
        "Company": Column("Company", priority=8, min_width=14, keep=True),
        "Stage": Column("Stage", priority=4, min_width=8),
        "Value": Column("Value", priority=2, justify="right"),
        "Score": Column("Score", priority=1, justify="right"),
        "Action": Column("Action", priority=3, min_width=16, keep=True),
        "Due": Column("Due", priority=6),
        "Overdue": Column("Overdue", priority=5, justify="right"),
        "Why it stalled": Column("Why it stalled", priority=3, min_width=16, keep=True, style="yellow"),
        "Next action": Column("Next action", priority=2, min_width=12),
        "Last activity": Column("Last activity", priority=6),
    }


def _section_table(section: str, rows: list[dict], hidden: int = 0):
    """One agenda section: planned actions with their due date and days overdue; stalled leads with
    why they stalled; leads without a next action with when they were last touched."""
    from pipectl.cli.table_layout import fitted_table
    from pipectl.cli.tables import money, short_date
    from pipectl.core.agenda import SECTION_TITLES

    columns = _agenda_columns()
    tail = {"needs_decision": ("Why it stalled", "Next action"), "no_next_action": ("Last activity",)}.get(
        section, ("Action", "Due", "Overdue")
    )
    table_rows = []
    for row in rows:
        cells = [str(row["id"]), row["name"], row["company"], row["stage"], money(row["value"]), str(row["score"])]
        if section == "needs_decision":
            planned = row["next_action"] or ""
            if row["next_action_due"]:
                planned += f" ({short_date(row['next_action_due'])})"
            cells += ["; ".join(row.get("reasons") or []), planned]
        elif section == "no_next_action":
            cells.append(short_date(row["last_activity_at"]))
        else:
            overdue = f"{row['days_overdue']}d" if row["days_overdue"] else ""
            cells += [row["next_action"] or "", short_date(row["next_action_due"]), overdue]
        table_rows.append(cells)
    headers = ("ID", "Name", "Company", "Stage", "Value", "Score") + tail
    return fitted_table(
        [columns[header] for header in headers],
        table_rows,
        title=f"{SECTION_TITLES[section]} ({len(rows) + hidden:,})",
        title_style="bold red" if section == "overdue" else "bold",
    )


def _write_bytes(data: bytes) -> None:
    # iCalendar lines end in CRLF: write the bytes as they are, not through text-mode newline handling.
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _when(moment: datetime) -> str:
    """`Fri 2026-11-27`, with the time for an appointment."""
    from pipectl.core.agenda import is_appointment

    return f"{moment:%a %Y-%m-%d %H:%M}" if is_appointment(moment) else f"{moment:%a %Y-%m-%d}"


def register(app: typer.Typer) -> None:
    app.command()(qualify)
    app.command()(plan)
    app.command()(done)
    app.command("next")(next_actions)
