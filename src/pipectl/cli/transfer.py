"""Data in and out: `import` and `export` (CSV, JSON, JSON Lines; `-` is stdin / stdout)."""

import contextlib
from datetime import datetime
from typing import Annotated

import typer

from pipectl.cli import completion as complete
from pipectl.cli.options import DbOption, format_flag, parse_past

# Above this many bytes (about 5,000 rows) an import on a terminal shows a progress bar.
PROGRESS_BYTES = 1_000_000


def _preview_columns():
    from pipectl.cli.table_layout import NAME_WIDTH, Column

    # Who the rows are stays; dates and status give way first on a narrow terminal.
    return (
        Column("row", priority=9, justify="right", keep=True),
        Column("name", priority=9, min_width=NAME_WIDTH, keep=True),
        Column("company", priority=8, min_width=14, keep=True),
        Column("email", priority=6, min_width=16),
        Column("value", priority=5, justify="right"),
        Column("stage", priority=7, min_width=8),
        Column("status", priority=4),
        Column("created", priority=3),
        Column("closed", priority=2),
    )


ExportFormatOption = Annotated[
    str | None, format_flag("csv", "json", "jsonl", help="csv, json or jsonl (default: csv; jsonl for --what all).")
]


def export_data(
    what: Annotated[
        str,
        typer.Option(
            "--what", autocompletion=complete.complete_what, help="leads, activities, or all (leads then activities)."
        ),
    ] = "leads",
    fmt: ExportFormatOption = None,
    stage: Annotated[
        str | None, typer.Option("--stage", autocompletion=complete.complete_stage, help="Only this stage.")
    ] = None,
    status: Annotated[
        str, typer.Option("--status", autocompletion=complete.complete_status, help="open, won, lost, archived or all.")
    ] = "all",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only leads with this tag; repeat for more.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only leads of this owner.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only leads from this source.")] = None,
    min_score: Annotated[
        int | None, typer.Option("--min-score", min=0, max=100, help="Only leads scoring at least this.")
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Write here (- is stdout).")] = "-",
    db: DbOption = None,
) -> None:
    """Export leads and/or activities as CSV, JSON or JSON Lines, streamed to stdout or a file.

    Example: pipectl export --what all --format jsonl -o backup.jsonl
    """
    import sys

    from pipectl.cli.runtime import database_files, pipeline
    from pipectl.core.exporting import check_what
    from pipectl.core.views import LeadFilter
    from pipectl.errors import UsageError
    from pipectl.files import check_output, replacing
    from pipectl.render import message

    what = check_what(what)
    fmt = fmt or ("jsonl" if what == "all" else "csv")
    if what == "all" and fmt == "csv":
        raise UsageError(
            "--what all needs --format jsonl or json (a CSV holds one table); "
            "export leads and activities to two CSV files instead."
        )
    wanted = LeadFilter(
        stage=stage, status=status.lower(), tags=tag or [], owner=owner, source=source, min_score=min_score
    )
    # Checked before the database is opened: the export never lands on the database or beside it.
    target = (
        None
        if output == "-"
        else check_output(output, what="the export", option="--output", protected=database_files(db))
    )
    with pipeline(db, write=False) as session:
        if target is None:
            write_export(session, sys.stdout, what=what, fmt=fmt, wanted=wanted)
            sys.stdout.flush()
            return
        # Written beside the target and moved over it only when complete: a failed export
        # (a bad filter, a full disk) never destroys the file that was there.
        with replacing(target) as out:
            count = write_export(session, out, what=what, fmt=fmt, wanted=wanted)
    message(f"Exported {count:,} row(s) to {output}.")


def import_data(
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="A CSV, JSON or JSON Lines file; - reads stdin.", show_default=False)
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            autocompletion=complete.complete_transfer_format,
            help="csv, json or jsonl (default: from the file name, else from the content).",
            show_default=False,
        ),
    ] = None,
    what: Annotated[
        str | None,
        typer.Option(
            "--what",
            autocompletion=complete.complete_what,
            help="leads, activities or all (default: from the file).",
            show_default=False,
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="COLUMN=FIELD",
            help=(
                "Read COLUMN into FIELD (name, company, email, value, stage, created_at, …, field:KEY, ignore); repeat."
            ),
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", metavar="COLUMN", help="Drop this column; repeat.")
    ] = None,
    stage_map: Annotated[
        list[str] | None,
        typer.Option(
            "--stage-map",
            metavar="OLD=NEW",
            help=("Put leads of the file's stage OLD in stage NEW (or NEW = won / lost); repeat."),
        ),
    ] = None,
    create_stages: Annotated[
        bool,
        typer.Option(
            "--create-stages",
            help=(
                "Add the file's unknown stages (at most 6 stages in all), in the order they first appear, each with "
                "a probability between its neighbours'."
            ),
        ),
    ] = False,
    stage_order: Annotated[
        str | None,
        typer.Option(
            "--stage-order",
            metavar="A,B,C",
            help=(
                "With --create-stages: where the new stages go, named in pipeline order (existing stages may be "
                "named too, to place the new ones between them)."
            ),
            show_default=False,
        ),
    ] = None,
    on_duplicate: Annotated[
        str,
        typer.Option(
            "--on-duplicate",
            autocompletion=complete.complete_duplicate_mode,
            help=("A row with the email, or name and company, of a lead already there: error, skip or update."),
        ),
    ] = "error",
    join: Annotated[
        bool,
        typer.Option(
            "--join",
            help="A row matching a lead already there is logged on that lead instead (another seller's too).",
        ),
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help=("Import the good rows; write the bad ones, with an error column, to the rejects file."),
        ),
    ] = False,
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help=("Where --skip-invalid writes the bad rows (default: FILE.rejects.csv in the current folder)"),
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help=("Show how the columns map and the first rows as they would be stored; write nothing.")
        ),
    ] = False,
    default_stage: Annotated[
        str | None,
        typer.Option(
            "--default-stage",
            metavar="STAGE",
            autocompletion=complete.complete_stage,
            help=("Stage for open rows without one (default: the first stage)."),
            show_default=False,
        ),
    ] = None,
    default_created: Annotated[
        datetime | None,
        typer.Option(
            "--default-created",
            metavar="DATE",
            parser=parse_past,
            help="Created date for rows whose created cell is empty (otherwise such rows are refused).",
            show_default=False,
        ),
    ] = None,
    name_from: Annotated[
        str | None,
        typer.Option(
            "--name-from",
            metavar="COLUMN",
            help=("Name rows that have no name after this column (an id): 'Deal ID 4563'."),
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Import leads and activities from CSV, JSON or JSON Lines, all or nothing, in one transaction.

    Headers of Zoho, Salesforce, Pipedrive and HubSpot exports and common snake_case ones are
    recognised as they are; --dry-run shows which column went where (and never creates the
    database). Every problem of a file is reported at once. A won or lost row without the
    stage it closed from has an unknown path: metrics leave it out of the stage figures and
    say so. A row closed before it was created, or with an empty created cell, is refused.
    A row matching a lead another seller owns is refused naming them (two sellers never work
    one customer); --join logs such rows on the leads already there instead.

    Example: pipectl import contacts.csv --map "Org=company" --stage-map "Negotiation=Proposal" --dry-run
    """
    from pathlib import Path

    from pipectl.cli.runtime import database_files, pipeline
    from pipectl.core.assignment import auto_assign_after, newest_lead_id
    from pipectl.core.import_sources import open_source
    from pipectl.core.importing import ImportOptions, RejectsFile, import_file
    from pipectl.errors import UsageError
    from pipectl.files import check_output
    from pipectl.render import message, warning

    if rejects is not None and not skip_invalid:
        raise UsageError("--rejects only makes sense with --skip-invalid; add --skip-invalid.")
    order = [name.strip() for name in (stage_order or "").split(",") if name.strip()]
    if stage_order is not None and not order:
        raise UsageError("--stage-order names the stages in order, separated by commas: --stage-order A,B,C.")
    if order and not create_stages:
        raise UsageError("--stage-order orders the stages --create-stages adds; add --create-stages.")
    options = ImportOptions(
        what=what.lower() if what else None,
        maps=map_ or [],
        ignore=ignore or [],
        stage_map=stage_map or [],
        create_stages=create_stages,
        on_duplicate=on_duplicate.lower(),
        join=join,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        default_stage=default_stage,
        stage_order=order,
        default_created=default_created,
        name_from=name_from,
    )
    # In the current folder, not beside the input: that folder may be read-only (a mounted export).
    rejects_name = (
        rejects if rejects is not None else (f"{Path(file).name}.rejects.csv" if file != "-" else "rejects.csv")
    )
    rejects_path = Path(rejects_name)
    if skip_invalid and not dry_run:
        # Never the database, a file beside it, or the file being imported.
        kept = database_files(db) + ([(Path(file), "the file being imported")] if file != "-" else [])
        rejects_path = check_output(rejects_name, what="the rejects file", option="--rejects", protected=kept)
    source = open_source(file, fmt.lower() if fmt else None)
    for text in source.warnings:
        warning(text)
    reject_file = RejectsFile(rejects_path, source.headers) if skip_invalid and not dry_run else None
    try:
        # A dry run on a missing database works on an empty one in memory and creates nothing.
        with pipeline(db, dry_run=dry_run) as session, _progress(source) as progress:
            last_id = newest_lead_id(session)
            result = import_file(session, source, options, rejects=reject_file, progress=progress)
            handed = None if dry_run or result.failure is not None else auto_assign_after(session, last_id)
            if reject_file is not None and result.failure is None:
                reject_file.finish()
        if reject_file is not None and result.failure is None:
            reject_file.keep()
    finally:
        if reject_file is not None:
            reject_file.close()
    for notice in result.notices:
        message(notice)
    if dry_run:
        _show_dry_run(result)
        if result.failure is not None:
            raise result.failure
        return
    counts = result.counts
    parts = [f"{counts.added:,} lead(s) added"]
    if counts.updated:
        parts.append(f"{counts.updated:,} updated")
    if counts.skipped:
        parts.append(f"{counts.skipped:,} duplicate(s) skipped")
    if counts.joined:
        parts.append(f"{counts.joined:,} logged on the lead already there (--join)")
    if counts.activities:
        parts.append(f"{counts.activities:,} activit{'y' if counts.activities == 1 else 'ies'} added")
    if counts.activities_skipped:
        parts.append(
            f"{counts.activities_skipped:,} activities of "
            f"{'existing' if options.on_duplicate == 'update' else 'skipped'} leads left out"
        )
    if result.created_stages:
        parts.append(f"stage(s) created: {', '.join(result.created_stages)}")
    message(f"Imported from {source.name}: " + "; ".join(parts) + ".")
    if handed is not None and (handed["assigned"] or handed["left"]):
        counts_by: dict[str, int] = {}
        for row in handed["assigned"]:
            counts_by[row["owner"]] = counts_by.get(row["owner"], 0) + 1
        shares = ", ".join(f"{name} {count:,}" for name, count in counts_by.items()) or "nobody"
        message(f"Handed out by round-robin: {shares}.")
        if handed["left"]:
            warning(f"{handed['left']:,} new lead(s) left unowned: every active owner is full.")
    if counts.unknown_paths:
        message(
            f"{counts.unknown_paths:,} won or lost lead(s) came without the stage they closed from: their path "
            "is unknown, so metrics leave them out of the stage figures (and say so). Import the stage "
            "with --map COLUMN=stage if the file has it."
        )
    if result.rejected:
        warning(f"{result.rejected:,} row(s) were not imported; they are in {rejects_path} with an error column.")


def _progress(source):
    """A progress bar over the file's bytes on a terminal for a large file; otherwise nothing."""
    import sys

    if not (source.size and source.size > PROGRESS_BYTES and sys.stderr.isatty()):
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def bar():
        from rich.progress import Progress

        from pipectl.render import stderr_console

        with Progress(console=stderr_console(), transient=True) as progress:
            task = progress.add_task("Importing", total=source.size)
            yield lambda done: progress.update(task, completed=done)

    return bar()


def _show_dry_run(result) -> None:
    """The dry run on stdout: how each column maps, then the first rows as they would be stored."""
    from pipectl.cli.table_layout import Column, hidden_note, print_table
    from pipectl.cli.tables import money
    from pipectl.render import message, stdout_console

    console = stdout_console()
    mapping_columns = (
        Column("column", priority=9, min_width=12, keep=True),
        Column("becomes", priority=8, min_width=16, keep=True),
    )
    for kind, mapping in result.mappings.items():
        print_table(
            console,
            mapping_columns,
            [[column, target] for column, target in mapping.describe()],
            title=f"Columns → {kind} fields",
        )
    if result.preview:
        rows = [
            [
                str(row["row"]),
                row["name"],
                row["company"],
                row["email"],
                money(row["value"]),
                row["stage"],
                row["status"],
                (row["created_at"] or "")[:10],
                (row["closed_at"] or "")[:10],
            ]
            for row in result.preview
        ]
        hidden_note(console, print_table(console, _preview_columns(), rows, title="First rows as they would be stored"))
    counts = result.counts
    if result.failure is not None:
        message("Dry run: the import would be refused (see the error below); nothing was written.")
        return
    message(
        f"Dry run: {counts.added:,} lead(s) would be added, {counts.updated:,} updated, "
        f"{counts.skipped:,} skipped, {counts.activities:,} activities added; nothing was written."
    )


def write_export(session, out, *, what: str, fmt: str, wanted) -> int:
    """The chosen records, through the one output path, to `out`; returns how many were written."""
    from pipectl.core.exporting import (
        ACTIVITY_KEYS,
        LEAD_CSV_EXTRA,
        activity_records,
        all_records,
        flat_activity,
        lead_records,
    )
    from pipectl.core.lead_csv import lead_cells
    from pipectl.core.views import field_keys
    from pipectl.output import Csv, emit, lead_layout

    if what == "all":
        from pipectl.core.pipeline_settings import settings_record

        data = (
            all_records(session, wanted)
            if fmt == "jsonl"
            else {
                "settings": settings_record(session),
                "leads": lead_records(session, wanted),
                "activities": activity_records(session, wanted),
            }
        )
        return emit(fmt, data, out=out)
    if what == "leads":
        return emit(
            fmt,
            lead_records(session, wanted),
            out=out,
            csv_layout=lead_layout(
                lambda: field_keys(session),
                LEAD_CSV_EXTRA,
                texts=lambda keys: lead_cells(session, wanted, keys),
            ),
        )
    return emit(fmt, activity_records(session, wanted), out=out, csv_layout=Csv(ACTIVITY_KEYS, flatten=flat_activity))


def register(app: typer.Typer) -> None:
    app.command("import")(import_data)
    app.command("export")(export_data)
