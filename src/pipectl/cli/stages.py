"""`pipectl stages …`: list, add, rename, move, remove and set the pipeline's stages."""

from typing import Annotated

import typer

from pipectl.cli import completion as complete
from pipectl.cli.options import DbOption, FormatOption

app = typer.Typer(help="Manage the pipeline's stages (2 to 6, in order).", no_args_is_help=True)

StageArgument = Annotated[
    str, typer.Argument(metavar="STAGE", help="Stage name.", show_default=False, autocompletion=complete.complete_stage)
]
ProbabilityOption = Annotated[int | None, typer.Option("--probability", "-p", help="Win probability in percent.")]
IdleOption = Annotated[int | None, typer.Option("--idle-days", help="Idle days after which a lead here is stalled.")]
ActionOption = Annotated[
    list[str] | None, typer.Option("--action", help="A designated action for this stage; repeat for more.")
]


@app.command("list")
def list_stages(fmt: FormatOption = "table", db: DbOption = None) -> None:
    """List the stages in order with their probability, idle days, entry rules and open leads.

    Example: pipectl stages list
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.stages import lead_counts, open_stages
    from pipectl.output import emit
    from pipectl.storage.models import stored_id

    with pipeline(db, write=False) as session:
        counts = lead_counts(session)
        rows = [
            {
                "position": stage.position,
                "name": stage.name,
                "probability": stage.probability,
                "idle_days": stage.idle_days,
                "requires_bant": stage.requires_bant,
                "min_score": stage.min_score,
                "actions": list(stage.actions or []),
                "open_leads": counts.get(stored_id(stage), 0),
            }
            for stage in open_stages(session)
        ]
    emit(fmt, rows, table=_stage_table)


def _stage_table(rows: list[dict]) -> None:
    from pipectl.cli.table_layout import Column, hidden_note, print_table
    from pipectl.render import stdout_console

    # The stage and its rules stay; the suggested actions give way first on a narrow terminal.
    columns = (
        Column("#", priority=9, justify="right", keep=True),
        Column("Stage", priority=9, min_width=8, keep=True),
        Column("Win %", priority=7, justify="right"),
        Column("Idle days", priority=5, justify="right"),
        Column("Entry rules", priority=6),
        Column("Open leads", priority=4, justify="right"),
        Column("Actions", priority=3, min_width=16),
    )
    table_rows = []
    for row in rows:
        rules = [name for name, on in (("BANT", row["requires_bant"]),) if on]
        if row["min_score"] is not None:
            rules.append(f"score ≥ {row['min_score']}")
        table_rows.append(
            [
                str(row["position"]),
                row["name"],
                str(row["probability"]),
                str(row["idle_days"]),
                ", ".join(rules),
                str(row["open_leads"]),
                "; ".join(row["actions"]),
            ]
        )
    console = stdout_console()
    hidden_note(console, print_table(console, columns, table_rows))


@app.command("add")
def add_stage(
    name: StageArgument,
    position: Annotated[
        int | None, typer.Option("--position", help="Where it goes (1 is first; default last).")
    ] = None,
    probability: ProbabilityOption = None,
    idle_days: IdleOption = None,
    action: ActionOption = None,
    db: DbOption = None,
) -> None:
    """Add a stage (at most 6).

    Example: pipectl stages add Negotiation --probability 85 --idle-days 21
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core import stages
    from pipectl.render import message

    with pipeline(db) as session:
        stage = stages.add_stage(
            session, name, position=position, probability=probability, idle_days=idle_days, actions=action
        )
        label, where = stage.name, stage.position
    message(f"Added stage {label} at position {where}.")


@app.command("rename")
def rename_stage(
    name: StageArgument,
    new_name: Annotated[str, typer.Argument(metavar="NEW_NAME", help="The new name.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Rename a stage; its leads and history follow.

    Example: pipectl stages rename Contact Demo
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core import stages
    from pipectl.render import message

    with pipeline(db) as session:
        stage = stages.rename_stage(session, name, new_name)
        label = stage.name
    message(f"Renamed stage {name} to {label}.")


@app.command("move")
def move_stage(
    name: StageArgument,
    position: Annotated[int, typer.Argument(metavar="POSITION", help="New position (1 is first).", show_default=False)],
    db: DbOption = None,
) -> None:
    """Change a stage's place in the order.

    Example: pipectl stages move Proposal 3
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core import stages
    from pipectl.render import message

    with pipeline(db) as session:
        stage = stages.move_stage(session, name, position)
        label, where = stage.name, stage.position
    message(f"Moved stage {label} to position {where}.")


@app.command("remove")
def remove_stage(
    name: StageArgument,
    to: Annotated[
        str | None, typer.Option("--to", autocompletion=complete.complete_stage, help="Where the stage's leads go.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Remove a stage; the leads in it go to the stage named with --to.

    Example: pipectl stages remove Contact --to Qualification
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core import stages
    from pipectl.render import message

    with pipeline(db) as session:
        stage, moved = stages.remove_stage(session, name, to=to)
        label = stage.name
    message(f"Removed stage {label}" + (f"; moved {moved} lead(s) to {to}." if moved else "."))


@app.command("set")
def set_stage(
    name: StageArgument,
    probability: ProbabilityOption = None,
    idle_days: IdleOption = None,
    action: ActionOption = None,
    require_bant: Annotated[
        bool | None,
        typer.Option(
            "--require-bant/--no-require-bant", help="Entry rule: all four BANT answers yes.", show_default=False
        ),
    ] = None,
    min_score: Annotated[int | None, typer.Option("--min-score", help="Entry rule: a minimum lead score.")] = None,
    no_min_score: Annotated[bool, typer.Option("--no-min-score", help="Drop the minimum score rule.")] = False,
    db: DbOption = None,
) -> None:
    """Set a stage's probability, idle days, designated actions or entry rules.

    Example: pipectl stages set Proposal --probability 70 --require-bant --min-score 60
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core import stages
    from pipectl.errors import UsageError
    from pipectl.render import message

    if min_score is not None and no_min_score:
        raise UsageError("--min-score and --no-min-score exclude each other; choose one.")
    if (probability, idle_days, action, require_bant, min_score) == (None,) * 5 and not no_min_score:
        raise UsageError("Nothing to set: give --probability, --idle-days, --action, --require-bant or --min-score.")
    with pipeline(db) as session:
        stage = stages.set_stage(
            session,
            name,
            probability=probability,
            idle_days=idle_days,
            actions=action,
            requires_bant=require_bant,
            min_score=min_score,
            clear_min_score=no_min_score,
        )
        label = stage.name
    message(f"Updated stage {label}.")
