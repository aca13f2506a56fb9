"""Data in and out: `import` and `export` (CSV, JSON, JSON Lines; `-` is stdin / stdout)."""

from typing import Annotated

import typer

from pipectl.cli.options import DbOption, format_option

# Above this many bytes (about 5,000 rows) an import on a terminal shows a progress bar.
PROGRESS_BYTES = 1_000_000


def export_data(
    what: Annotated[str, typer.Option("--what", help="leads, activities, or all (leads then activities).")] = "leads",
    fmt: format_option("csv", "json", "jsonl", help="csv, json or jsonl (default: csv; jsonl for --what all).") = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Only this stage.")] = None,
    status: Annotated[str, typer.Option("--status", help="open, won, lost, archived or all.")] = "all",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only leads with this tag; repeat for more.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only leads of this owner.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only leads from this source.")] = None,
    min_score: Annotated[int | None, typer.Option("--min-score", help="Only leads scoring at least this.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Write here (- is stdout).")] = "-",
    db: DbOption = None,
) -> None:
    """Export leads and/or activities as CSV, JSON or JSON Lines, streamed to stdout or a file.

    Example: pipectl export --what all --format jsonl -o backup.jsonl
    """
    import os
    import sys

    from pipectl.cli.runtime import pipeline
    from pipectl.core.exporting import check_what
    from pipectl.core.views import LeadFilter
    from pipectl.errors import UsageError
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
    with pipeline(db, write=False) as session:
        if output == "-":
            write_export(session, sys.stdout, what=what, fmt=fmt, wanted=wanted)
            sys.stdout.flush()
            return
        # Written beside the target and moved over it only when complete: a failed export
        # (a bad filter, a full disk) never destroys the file that was there.
        partial = f"{output}.partial"
        try:
            out = open(partial, "w", encoding="utf-8", newline="")
        except OSError as error:
            raise typer.BadParameter(f"cannot write {output}: {error.strerror}", param_hint="--output") from None
        try:
            with out:
                count = write_export(session, out, what=what, fmt=fmt, wanted=wanted)
            os.replace(partial, output)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
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
            help="csv, json or jsonl (default: from the file name, else from the content).",
            show_default=False,
        ),
    ] = None,
    what: Annotated[
        str | None,
        typer.Option("--what", help="leads, activities or all (default: from the file).", show_default=False),
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
            help=("Add the file's unknown stages at the end of the pipeline (at most 6 stages in all)."),
        ),
    ] = False,
    on_duplicate: Annotated[
        str,
        typer.Option(
            "--on-duplicate",
            help=("A row with the email, or name and company, of a lead already there: error, skip or update."),
        ),
    ] = "error",
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
            help=("Where --skip-invalid writes the bad rows (default: FILE.rejects.csv)"),
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
            help=("Stage for rows without one (default: the first stage)."),
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Import leads and activities from CSV, JSON or JSON Lines, all or nothing, in one transaction.

    Example: pipectl import contacts.csv --map "Org=company" --stage-map "Negotiation=Proposal" --dry-run
    """
    from pathlib import Path

    from pipectl.cli.runtime import pipeline
    from pipectl.core.import_sources import open_source
    from pipectl.core.importing import ImportOptions, RejectsFile, import_file
    from pipectl.errors import UsageError
    from pipectl.render import message, warning

    if rejects and not skip_invalid:
        raise UsageError("--rejects only makes sense with --skip-invalid; add --skip-invalid.")
    options = ImportOptions(
        what=what.lower() if what else None,
        maps=map_ or [],
        ignore=ignore or [],
        stage_map=stage_map or [],
        create_stages=create_stages,
        on_duplicate=on_duplicate.lower(),
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        default_stage=default_stage,
    )
    source = open_source(file, fmt.lower() if fmt else None)
    for text in source.warnings:
        warning(text)
    rejects_path = Path(rejects or (f"{file}.rejects.csv" if file != "-" else "rejects.csv"))
    reject_file = RejectsFile(rejects_path, source.headers) if skip_invalid and not dry_run else None
    try:
        with pipeline(db) as session, _progress(source) as progress:
            result = import_file(session, source, options, rejects=reject_file, progress=progress)
        if reject_file is not None and result.failure is None:
            reject_file.keep()
    finally:
        if reject_file is not None:
            reject_file.close()
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
    if result.rejected:
        warning(f"{result.rejected:,} row(s) were not imported; they are in {rejects_path} with an error column.")


def _progress(source):
    """A progress bar over the file's bytes on a terminal for a large file; otherwise nothing."""
    import contextlib
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
    from rich.table import Table

    from pipectl.cli.tables import money
    from pipectl.render import escape, message, stdout_console

    console = stdout_console()
    for kind, mapping in result.mappings.items():
        table = Table(title=f"Columns → {kind} fields", title_justify="left")
        table.add_column("column")
        table.add_column("becomes")
        for column, target in mapping.describe():
            table.add_row(escape(column), escape(target))
        console.print(table)
    if result.preview:
        table = Table(title="First rows as they would be stored", title_justify="left")
        for column in ("row", "name", "company", "email"):
            table.add_column(column, overflow="fold")
        for column in ("value", "stage", "status", "created", "closed"):
            table.add_column(column, no_wrap=True)
        for row in result.preview:
            value = money(row["value"])
            table.add_row(
                str(row["row"]),
                escape(row["name"]),
                escape(row["company"]),
                escape(row["email"]),
                value,
                escape(row["stage"]),
                row["status"],
                (row["created_at"] or "")[:10],
                (row["closed_at"] or "")[:10],
            )
        console.print(table)
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
    from pipectl.core.views import field_keys, lead_values
    from pipectl.output import Csv, emit, lead_layout

    if what == "all":
        data = (
            all_records(session, wanted)
            if fmt == "jsonl"
            else {"leads": lead_records(session, wanted), "activities": activity_records(session, wanted)}
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
                values=lambda keys: lead_values(session, wanted, keys, restore=True),
            ),
        )
    return emit(fmt, activity_records(session, wanted), out=out, csv_layout=Csv(ACTIVITY_KEYS, flatten=flat_activity))


def register(app: typer.Typer) -> None:
    app.command("import")(import_data)
    app.command("export")(export_data)
