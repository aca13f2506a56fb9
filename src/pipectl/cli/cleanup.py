"""Hygiene commands: clean (archive dead leads, or purge old archives) and restore."""

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Annotated

import typer

from pipectl.cli import completion as complete
from pipectl.cli.options import DbOption, FormatOption, LeadArgument, NoteOption, parse_length
from pipectl.cli.runtime import stdin_is_terminal

# A person reads a few hundred rows at most; drawing tens of thousands in a table takes minutes.
TABLE_ROWS = 200


def clean(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be archived; change nothing.")] = False,
    purge: Annotated[
        bool, typer.Option("--purge", help="Delete archived leads for good (needs --older-than).")
    ] = False,
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage", metavar="STAGE", autocompletion=complete.complete_stage, help="Only leads in this stage."
        ),
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            "-r",
            metavar="RULE",
            autocompletion=complete.complete_rule,
            help="Only this rule; repeat for more: idle, too-long-in-stage, overdue-action, "
            "too-old, no-response, disqualified, not-audience.",
        ),
    ] = None,
    older_than: Annotated[
        timedelta | None,
        typer.Option(
            "--older-than",
            parser=parse_length,
            metavar="DURATION",
            show_default=False,
            help="Only leads with no activity for this long (30d, 2w, 6m); with --purge, archived this long ago.",
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")] = False,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Archive dead leads with their reasons; --dry-run only lists them.

    Example: pipectl clean --dry-run --rule idle --older-than 30d
    """
    from pipectl.core.hygiene import check_rules
    from pipectl.errors import UsageError

    if purge:
        if rule or stage:
            raise UsageError(
                "--purge deletes archived leads by age alone; drop --rule and --stage (they choose leads to archive)."
            )
        _purge(older_than, dry_run=dry_run, yes=yes, fmt=fmt, db=db)
        return
    rules = check_rules(rule) if rule else None
    _sweep(stage, rules, older_than, dry_run=dry_run, yes=yes, fmt=fmt, db=db)


def _sweep(stage, rules, older_than, *, dry_run: bool, yes: bool, fmt: str, db) -> None:
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.cleanup import SweepFilter, archive_leads, stream_candidates, sweep_candidates
    from pipectl.render import message

    wanted = SweepFilter(stage=stage, rules=rules, older_than=older_than)
    now = clock.now()
    if dry_run:
        counted = [0]
        with pipeline(db, write=False, dry_run=True) as session:
            # Printed as the rules find them (a read: nothing to roll back), counted on the way.
            _emit(_counting(stream_candidates(session, now, wanted), counted), fmt)
        count = counted[0]
        message(
            f"{count} lead(s) would be archived; nothing was changed."
            + (" Run the same command without --dry-run to archive them." if count else "")
        )
        return
    _require_answer(yes, "archives leads")
    if yes:
        with pipeline(db) as session:
            candidates = sweep_candidates(session, now, wanted)
            archived = archive_leads(session, candidates, now)
        _emit(candidates, fmt)
    else:
        with pipeline(db, write=False) as session:
            shown = sweep_candidates(session, now, wanted)
        if not shown:
            _emit(shown, fmt)
            message("No lead to archive.")
            return
        _emit(shown, fmt)
        if not typer.confirm(f"Archive these {len(shown)} lead(s)?", default=False, err=True):
            message("Nothing was archived.")
            return
        confirmed = {item["id"] for item in shown}
        with pipeline(db) as session:
            # Look again inside the write transaction: only leads still dead, and only those confirmed.
            candidates = [item for item in sweep_candidates(session, now, wanted) if item["id"] in confirmed]
            archived = archive_leads(session, candidates, now)
    message(
        f"Archived {archived} lead(s); `pipectl restore ID` brings one back." if archived else "No lead to archive."
    )


def _purge(older_than: timedelta | None, *, dry_run: bool, yes: bool, fmt: str, db) -> None:
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.cleanup import count_purge, purge_archived, purge_list
    from pipectl.errors import UsageError
    from pipectl.render import message

    if older_than is None:
        raise UsageError(
            "--purge needs --older-than (e.g. --older-than 1y): it deletes only leads archived longer ago than that."
        )
    cutoff = clock.now() - older_than
    if not dry_run:
        _require_answer(yes, "deletes leads for good")
    with pipeline(db, write=False, dry_run=dry_run) as session:
        counted = count_purge(session, cutoff)
        # A dry run names the leads it would delete, not only how many.
        doomed = purge_list(session, cutoff) if dry_run else None
    what = (
        f"{counted.leads} archived lead(s) archived before {cutoff:%Y-%m-%d} with {counted.activities} "
        f"activities, {counted.tags} tags and {counted.fields} custom fields ({counted.rows} rows)"
    )
    if dry_run or counted.leads == 0:
        _emit_purge(counted, fmt, dry_run=True, doomed=doomed or [])
        message(
            f"Would delete {what}; nothing was changed."
            if counted.leads
            else f"No lead was archived before {cutoff:%Y-%m-%d}; nothing to purge."
        )
        return
    if not yes and not typer.confirm(f"Delete {what} permanently?", default=False, err=True):
        message("Nothing was deleted.")
        return
    with pipeline(db) as session:
        removed = purge_archived(session, cutoff)
    _emit_purge(removed, fmt, dry_run=False)
    message(
        f"Deleted {removed.leads} archived lead(s) and {removed.rows} rows in all "
        f"({removed.activities} activities, {removed.tags} tags, {removed.fields} custom fields)."
    )


PURGE_COLUMNS = ["id", "name", "company", "stage", "archived_at", "reason"]


def _emit_purge(counted, fmt: str, *, dry_run: bool, doomed: list[dict] | None = None) -> None:
    from pipectl.output import Csv, emit

    summary = {
        "leads": counted.leads,
        "activities": counted.activities,
        "tags": counted.tags,
        "fields": counted.fields,
        "rows": counted.rows,
        "dry_run": dry_run,
    }
    if doomed is None:
        # After a purge the message on stderr says it all; programs get the counts.
        emit(fmt, summary, table=lambda _summary: None, csv_layout=Csv(rows=lambda document: [document]))
        return
    # A dry run: the table and the CSV list the leads to delete, JSON the counts and the list.
    emit(
        fmt,
        {**summary, "list": doomed},
        table=lambda document: _purge_table(document["list"]),
        csv_layout=Csv(PURGE_COLUMNS, rows=lambda document: document["list"]),
    )


def _purge_table(doomed: list[dict]) -> None:
    from pipectl.cli.table_layout import NAME_WIDTH, Column, hidden_note, print_table
    from pipectl.render import stdout_console

    if not doomed:
        return
    console = stdout_console()
    columns = (
        Column("ID", priority=9, justify="right", keep=True),
        Column("Name", priority=9, min_width=NAME_WIDTH, keep=True),
        Column("Company", priority=4, min_width=10),
        Column("Stage", priority=5, min_width=8),
        Column("Archived", priority=7),
        Column("Why", priority=6, min_width=20),
    )
    rows = [
        [
            str(item["id"]),
            item["name"],
            item["company"] or "",
            item["stage"],
            (item["archived_at"] or "")[:10],
            item["reason"] or "",
        ]
        for item in doomed[:TABLE_ROWS]
    ]
    dropped = print_table(console, columns, rows, title="Would be deleted")
    if len(doomed) > TABLE_ROWS:
        console.print(f"… and {len(doomed) - TABLE_ROWS:,} more; --format csv or json lists them all.", style="dim")
    hidden_note(console, dropped)


def _require_answer(yes: bool, what: str) -> None:
    from pipectl.errors import UsageError

    if not yes and not stdin_is_terminal():
        raise UsageError(
            f"`clean` {what}, so it asks first, and there is no terminal to ask on; "
            "add --yes to go ahead (check the list first with --dry-run)."
        )


def _counting(items: Iterator[dict], counted: list[int]) -> Iterator[dict]:
    for item in items:
        counted[0] += 1
        yield item


def _emit(candidates: Iterable[dict], fmt: str) -> None:
    from pipectl.output import Csv, emit

    if fmt == "table":
        _candidate_table(candidates)  # it keeps the rows it shows, not all of them
        return
    emit(fmt, candidates, table=_candidate_table, csv_layout=Csv(["id", "name", "stage", "reasons", "action"]))


def _candidate_table(rows: Iterable[dict]) -> None:
    from itertools import islice

    from pipectl.cli.table_layout import NAME_WIDTH, Column, cell_lines, hidden_note, print_table
    from pipectl.render import stdout_console

    console = stdout_console()
    rows = iter(rows)
    candidates = list(islice(rows, TABLE_ROWS))
    hidden = sum(1 for _ in rows)
    if not candidates:
        console.print("No lead is stalled or dead.", style="dim")
        return
    columns = (
        Column("ID", priority=9, justify="right", keep=True),
        Column("Name", priority=9, min_width=NAME_WIDTH, keep=True),
        Column("Stage", priority=6, min_width=8),
        Column("Why", priority=8, min_width=20, keep=True),
    )
    table_rows = [[str(item["id"]), item["name"], item["stage"], cell_lines(item["reasons"])] for item in candidates]
    dropped = print_table(console, columns, table_rows)
    if hidden:
        console.print(f"… and {hidden:,} more; --format csv or json lists them all.", style="dim")
    hidden_note(console, dropped)


def restore(
    lead: LeadArgument,
    note: NoteOption = None,
    db: DbOption = None,
) -> None:
    """Bring an archived lead back, open, in the stage it was archived from.

    Example: pipectl restore 42 --note "they wrote back"
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.cleanup import closed_by_archiving, restore_lead
    from pipectl.core.lookup import find_lead
    from pipectl.render import message
    from pipectl.storage.models import Stage

    with pipeline(db) as session:
        target = find_lead(session, lead)
        was = target.archived_reason
        restore_lead(session, target, note=note)
        assert target.id is not None, "the lead is stored"
        closed = closed_by_archiving(session, target.id)
        label, stage_name = f"#{target.id} {target.name}", session.get(Stage, target.stage_id).name
    message(f"Restored lead {label} to {stage_name}" + (f" (archived because: {was})." if was else "."))
    if closed:
        due = closed["due"][:16].replace("T", " ").removesuffix(" 00:00") if closed.get("due") else None
        due = f" (due {due})" if due else ""
        message(
            f'Its next action "{closed["note"]}"{due} was closed when it was archived; '
            f'plan the next step with `pipectl plan {target.id} "…" --due DATE`.'
        )


def register(app: typer.Typer) -> None:
    app.command()(clean)
    app.command()(restore)
