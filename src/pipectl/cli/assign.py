"""`assign`, `claim`, `release`: handing leads to the team's owners (core/assignment.py)."""

from typing import Annotated

import typer

from pipectl.cli import completion as complete
from pipectl.cli.options import COUNT_MAX, DbOption, FormatOption

OptionalLead = Annotated[
    str | None, typer.Argument(metavar="LEAD", help="Lead id (or its exact email or name).", show_default=False)
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Even to a paused or full owner (or someone else's lead, for release).")
]


def assign(
    lead: OptionalLead = None,
    to: Annotated[str | None, typer.Option("--to", metavar="NAME", help="The owner to hand the lead to.")] = None,
    round_robin: Annotated[
        bool, typer.Option("--round-robin", help="Hand unowned open leads out in turn among active owners with room.")
    ] = False,
    stage: Annotated[
        str | None,
        typer.Option("--stage", autocompletion=complete.complete_stage, help="Round-robin: only this stage."),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Round-robin: only with this tag.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Round-robin: only from this source.")] = None,
    min_score: Annotated[
        int | None, typer.Option("--min-score", min=0, max=100, help="Round-robin: only scoring at least this.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, max=COUNT_MAX, help="Round-robin: at most this many, best first.")
    ] = None,
    force: ForceOption = False,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Hand a lead to an owner (--to NAME), or unowned open leads out in turn (--round-robin).

    Every hand-over is an `assigned` activity on the lead. Round-robin goes best score first,
    among active owners with room, strictly in turn however many people assign at once.

    Example: pipectl assign 42 --to sam; pipectl assign --round-robin --source webinar
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.errors import UsageError

    if round_robin and (lead is not None or to is not None):
        raise UsageError("--round-robin hands out unowned leads in turn: give it no LEAD and no --to.")
    filters = stage is not None or tag or source is not None or min_score is not None or limit is not None
    if not round_robin:
        if lead is None or to is None:
            raise UsageError("Give a LEAD and --to NAME, or --round-robin (with filters) to hand leads out in turn.")
        if filters:
            raise UsageError("--stage, --tag, --source, --min-score and --limit choose leads for --round-robin only.")
    # An empty filter (`--source "$SRC"` with SRC unset) would match nothing or be dropped and hand out
    # every lead: refused instead.
    if (source is not None and not source.strip()) or any(not text.strip() for text in tag or []):
        raise UsageError("--source and --tag need a value; leave the option out to hand out leads from any.")
    if round_robin and force:
        raise UsageError("--force is for one lead given --to a paused or full owner; round-robin respects capacity.")
    with pipeline(db) as session:
        if round_robin:
            from pipectl.core.assignment import Candidates, round_robin as hand_out
            from pipectl.core.stages import find_stage

            wanted = Candidates(
                stage_id=find_stage(session, stage).id if stage else None,
                tags=[text.strip().lower() for text in tag or []],
                source=source,
                min_score=min_score,
                limit=limit,
            )
            result = hand_out(session, wanted)
            rows, left = result["assigned"], result["left"]
        else:
            from pipectl.core.assignment import assign_to
            from pipectl.core.lookup import find_lead

            assert lead is not None and to is not None  # checked above
            rows, left = [assign_to(session, find_lead(session, lead), to, force=force)], 0
    _report(rows, fmt, left=left)


def claim(
    lead: OptionalLead = None,
    next_: Annotated[bool, typer.Option("--next", help="Take the best unowned open lead by score.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Even while you are paused or full.")] = False,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Take an unowned lead as yours (--as NAME, PIPECTL_USER or the login name); fails if someone has it.

    First come, first served: of two sellers claiming one lead at once, one gets it and the
    other is told who did. --next takes the best unowned open lead by score.

    Example: pipectl claim 42; pipectl --as sam claim --next
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.assignment import claim as take, claim_next
    from pipectl.errors import UsageError

    if next_ == (lead is not None):
        raise UsageError("Give a LEAD to claim, or --next for the best unowned one (not both).")
    with pipeline(db) as session:
        if next_:
            row = claim_next(session, force=force)
        else:
            from pipectl.core.lookup import find_lead

            assert lead is not None  # checked above
            row = take(session, find_lead(session, lead), force=force)
    _report([row], fmt)


def release(
    lead: OptionalLead = None,
    owner: Annotated[
        str | None, typer.Option("--owner", metavar="NAME", help="Give back every open lead of this owner.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Release someone else's lead.")] = False,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Give a lead back: it has no owner again, for round-robin or a claim.

    Example: pipectl release 42; pipectl release --owner sam
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.errors import UsageError

    if (owner is None) == (lead is None):
        raise UsageError("Give a LEAD to release, or --owner NAME to release all their open leads (not both).")
    if owner is not None and force:
        raise UsageError("--force is for one lead someone else owns; --owner NAME releases theirs already.")
    with pipeline(db) as session:
        if owner is not None:
            from pipectl.core.assignment import release_all

            rows = release_all(session, owner)
        else:
            from pipectl.core.assignment import release as give_back
            from pipectl.core.lookup import find_lead

            assert lead is not None  # checked above
            rows = [give_back(session, find_lead(session, lead), force=force)]
    _report(rows, fmt)


def _report(rows: list[dict], fmt: str, *, left: int = 0) -> None:
    from pipectl.output import emit
    from pipectl.render import message, warning

    if fmt == "table":
        for row in rows[:20]:
            if row["owner"] is None:
                message(f"Released lead #{row['id']} {row['name']} (was {row['previous']}'s).")
            elif row["previous"]:
                message(f"Lead #{row['id']} {row['name']}: handed from {row['previous']} to {row['owner']}.")
            else:
                message(f"Lead #{row['id']} {row['name']} is now {row['owner']}'s.")
        if len(rows) > 20:
            message(f"… and {len(rows) - 20} more; -f csv lists them all.")
        if not rows:
            message("No unowned open lead matched; nothing was handed out.")
        counts: dict[str, int] = {}
        for row in rows:
            if row["owner"] is not None:
                counts[row["owner"]] = counts.get(row["owner"], 0) + 1
        if len(rows) > 1 and counts:
            message("Handed out: " + ", ".join(f"{name} {count}" for name, count in counts.items()) + ".")
    else:
        emit(fmt, rows)
    if left:
        warning(f"{left} lead(s) left unowned: every active owner is full (see `pipectl owners list`).")


def register(app: typer.Typer) -> None:
    for command in (assign, claim, release):
        app.command()(command)
