"""`import`: read a file, validate every row, and write leads and activities in one transaction.

The default is all or nothing: any bad row, unknown stage or duplicate makes
the import refuse with the list, and the transaction is rolled back.
`skip_invalid` imports the good rows and hands the bad ones to a rejects
file with an `error` column. Rows are read, checked and written in batches,
so a file of a million rows never sits in memory.
"""

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlmodel import Session

from pipectl import clock
from pipectl.contract import neutralise, unneutralise
from pipectl.core.import_activities import activity_row
from pipectl.core.import_mapping import Mapping, build_mapping, normalise_header, outcome_of, parse_stage_map
from pipectl.core.import_outcomes import stage_of
from pipectl.core.import_rows import ActivityRow, LeadContext, LeadRow, cell, lead_row
from pipectl.core.import_sources import Record, Source
from pipectl.core.import_stages import ImportStages
from pipectl.core.import_writer import DUPLICATE_MODES, Counts, Writer
from pipectl.core.stages import find_stage, first_stage
from pipectl.dates import iso
from pipectl.errors import DuplicateLead, PipectlError, RuleViolation, UsageError
from pipectl.files import Replacement, write_failure
from pipectl.folding import fold
from pipectl.money import to_number
from pipectl.storage.models import stored_id

BATCH = 1000
# The indexes an import reads through, by (table, first column): never set aside (`_defer_indexes`).
_READ_THROUGH = {("leads", "email_key"), ("leads", "name_key"), ("activities", "lead_id")}
MAX_LISTED = 20
WHATS = ("leads", "activities", "all")


@dataclass
class ImportOptions:
    what: str | None = None  # leads, activities, all; None: worked out from the file
    maps: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    stage_map: list[str] = field(default_factory=list)
    create_stages: bool = False
    on_duplicate: str = "error"
    join: bool = False  # rows matching a lead already there are logged on it (--join)
    skip_invalid: bool = False
    dry_run: bool = False
    default_stage: str | None = None
    preview_rows: int = 5
    stage_order: list[str] = field(default_factory=list)  # where --create-stages puts the new stages
    default_created: datetime | None = None  # for rows whose created cell is empty
    name_from: str | None = None  # the column that names rows without a name


@dataclass
class ImportResult:
    """What an import did (or, dry, would do)."""

    counts: Counts
    mappings: dict[str, Mapping] = field(default_factory=dict)  # "lead"/"activity" → its mapping
    preview: list[dict] = field(default_factory=list)
    created_stages: list[str] = field(default_factory=list)
    rejected: int = 0
    failure: PipectlError | None = None  # dry run: the error a real import would stop with
    notices: list[str] = field(default_factory=list)  # what the import decided for the user, said once


class RejectsFile:
    """The rows `--skip-invalid` left out, with their original columns and an `error` column.

    Private like the database (the rows hold personal data), created exclusively beside the target
    and moved into place only when the import commits: a failed import leaves no rejects file behind.
    """

    def __init__(self, path: Path, headers: list[str]):
        self.path, self.headers = path, list(headers)
        self._file: IO | None = None
        self._writer: csv.DictWriter | None = None
        self._replacement: Replacement | None = None

    def add(self, cells: dict, error: str) -> None:
        """One left-out row: its cells as the import read them, written by the CSV rule against
        formulas (which the import reverses), so the fixed file imports to the same text."""
        if self._writer is None:
            headers = self.headers or [key for key in cells if key != "error"]
            self._replacement = Replacement(self.path)
            # A rejected row may hold what UTF-8 cannot (a lone surrogate): written escaped, not lost.
            self._file = self._replacement.open(errors="backslashreplace")
            self._writer = csv.DictWriter(self._file, headers + ["error"], extrasaction="ignore")
            self._writer.writeheader()
        row = {
            key: neutralise(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            if value is not None
            else None
            for key, value in cells.items()
        }
        try:
            self._writer.writerow({**row, "error": error})
        except OSError as problem:
            self.close()
            raise write_failure(self.path, problem) from None

    def finish(self) -> None:
        """Write the rejects out before the import commits: a full disk then refuses the whole import."""
        if self._replacement is not None:
            self._replacement.finish()

    def keep(self) -> None:
        """The import committed: the rejects file takes its name."""
        if self._replacement is not None:
            replacement, self._replacement, self._file = self._replacement, None, None
            replacement.commit()

    def close(self) -> None:
        """Drop a rejects file that was not kept (the import failed)."""
        if self._replacement is not None:
            replacement, self._replacement, self._file = self._replacement, None, None
            replacement.discard()


class _Run:
    """One import in progress: batches, the problems found, the stages met."""

    def __init__(
        self,
        session: Session,
        source: Source,
        options: ImportOptions,
        rejects: RejectsFile | None,
        progress: Callable[[int], None] | None,
    ):
        if options.on_duplicate not in DUPLICATE_MODES:
            raise UsageError(f"--on-duplicate is one of {', '.join(DUPLICATE_MODES)}, not {options.on_duplicate!r}.")
        if options.join and options.on_duplicate != "error":
            raise UsageError(
                "--join logs a row matching a lead already there on that lead; "
                f"--on-duplicate {options.on_duplicate} does something else with it: choose one."
            )
        if options.what is not None and options.what not in WHATS:
            raise UsageError(f"--what is one of {', '.join(WHATS)}, not {options.what!r}.")
        self.session, self.source, self.options = session, source, options
        self.rejects, self.progress = rejects, progress
        self.now = clock.now()
        self.stage_map = parse_stage_map(options.stage_map)
        self.result = ImportResult(counts=Counts())
        self.problems: list[str] = []
        self.problem_count = 0
        self.writer: Writer | None = None
        self.typed = False  # the file says per record whether it is a lead or an activity
        self.mappings: dict[tuple, Mapping] = {}
        self.contexts: dict[int, LeadContext] = {}
        self.kinds: dict[tuple, str] = {}
        self.leads: list[tuple[Record, LeadRow]] = []
        self.activities: list[tuple[Record, ActivityRow]] = []
        self.stages = ImportStages(session, create=options.create_stages, order=options.stage_order)
        default = find_stage(session, options.default_stage) if options.default_stage else first_stage(session)
        self.default_stage_id = stored_id(default)
        self._check_stage_map()

    def _check_stage_map(self) -> None:
        for old, new in self.stage_map.items():
            if outcome_of(new) or fold(new) in self.stages.ids:
                continue
            if self.options.create_stages:
                self.stages.known(new)
                continue
            raise UsageError(
                f"--stage-map {old}={new}: there is no stage {new!r}; the stages are: "
                f"{', '.join(self.stages.existing)}."
            )

    # ---- reading --------------------------------------------------------------------------------

    def run(self) -> ImportResult:
        rebuild_indexes = self._defer_indexes()
        for record in self.source.records:
            kind = self._kind_of(record)
            if kind == "lead":
                self._take_lead(record)
            elif kind == "activity":
                self._take_activity(record)
            if len(self.leads) >= BATCH:
                self._flush_leads()
            if len(self.activities) >= BATCH:
                self._flush_leads()
                self._flush_activities()
        self._flush_leads()
        self._flush_activities()
        rebuild_indexes()
        if self.writer is not None:
            self.writer.fix_sequences()
        self.result.mappings = {kind: mapping for (kind, _), mapping in self.mappings.items()}
        arranged = self.stages.arrange()
        if arranged:
            self.result.notices.append(arranged)
        self.result.created_stages = list(self.stages.created)
        return self.result

    def _defer_indexes(self) -> Callable[[], None]:
        """Into an empty pipeline, build the indexes once the rows are in rather than row by row (most
        of the cost of a large import), but those the duplicate checks read through."""
        from sqlalchemy import select
        from sqlmodel import col

        from pipectl.storage.bulk import defer_indexes
        from pipectl.storage.models import Lead

        if self.session.execute(select(col(Lead.id)).limit(1)).first() is not None:
            return lambda: None
        # Kept: the leads' folded keys (duplicate checks) and the activities by lead (the re-scoring
        # of each batch counts them).
        return defer_indexes(
            self.session.connection(),
            ("leads", "activities", "lead_tags", "lead_fields"),
            keep=lambda table, columns: (table, columns[0]) in _READ_THROUGH,
        )

    def _kind_of(self, record: Record) -> str | None:
        what = self.options.what
        if record.kind == "settings":
            self._settings(record)
            return None
        if record.kind:
            self.typed = True
            wanted = {"leads": "lead", "activities": "activity"}.get(what or "all")
            return record.kind if wanted in (None, record.kind) else None
        if what in ("leads", "activities"):
            return what[:-1] if what == "leads" else "activity"
        headers = tuple(record.cells)
        if headers not in self.kinds:  # worked out once per set of columns, not per row
            keys = {key.lower() for key in headers}
            self.kinds[headers] = (
                "activity" if "kind" in keys and not keys & {"name", "first name", "last name"} else "lead"
            )
        return self.kinds[headers]

    def _settings(self, record: Record) -> None:
        """A full export's settings record (stages, rules, quota): restored into an empty pipeline."""
        from pipectl.core.pipeline_settings import restore_settings

        self.typed = True
        if self.options.what not in (None, "all"):
            return
        if self.writer is not None or self.leads:
            self.result.notices.append(f"Row {record.number}: a settings record after the leads was left out.")
            return
        self.result.notices.append(restore_settings(self.session, record.cells, self.source.name))
        self.stages = ImportStages(self.session, create=self.options.create_stages, order=self.options.stage_order)
        default = (
            find_stage(self.session, self.options.default_stage)
            if self.options.default_stage
            else first_stage(self.session)
        )
        self.default_stage_id = stored_id(default)

    def _mapping(self, kind: str, record: Record) -> Mapping:
        headers = self.source.headers or list(record.cells)
        key = (kind, tuple(headers))
        mapping = self.mappings.get(key)
        if mapping is None:
            mapping = build_mapping(
                headers,
                what="leads" if kind == "lead" else "activities",
                maps=self.options.maps if kind == "lead" or not self.typed else [],
                ignore=self.options.ignore if kind == "lead" or not self.typed else [],
            )
            self.mappings[key] = mapping
            if kind == "lead":
                self._check_lead_mapping(mapping, headers)
        return mapping

    def _check_lead_mapping(self, mapping: Mapping, headers: list[str]) -> None:
        """`--name-from` must name a column; a file without created dates is told, once, what it gets."""
        name_from = self.options.name_from
        if name_from is not None and name_from not in headers:
            column = next(
                (header for header in headers if normalise_header(header) == normalise_header(name_from)), None
            )
            if column is None:
                raise UsageError(
                    f"--name-from {name_from!r}: the file has no such column; its columns are: {', '.join(headers)}."
                )
            self.options.name_from = column
        if "created_at" not in mapping.fields and not self.typed:
            when = self.options.default_created or self.now
            source = "--default-created" if self.options.default_created else "the import time"
            self.result.notices.append(
                f"The file has no created-date column: every lead is created {when:%Y-%m-%d %H:%M} ({source}). "
                "Name the column with --map COLUMN=created_at if it has another name."
            )

    def _take_lead(self, record: Record) -> None:
        mapping = self._mapping("lead", record)
        context = self.contexts.get(id(mapping))
        if context is None:  # one per mapping, so that what it remembers of dates lasts the whole import
            context = self.contexts[id(mapping)] = LeadContext(
                mapping, self.stage_map, self.now, self.options.default_created, self.options.name_from
            )
        cells = self._cells(record)
        row, problems = lead_row(record.number, cells, context)
        if problems:
            # Its stage is still checked, so one report names the unknown stages and the bad rows together.
            self.stages.known(stage_of(cell(cells, mapping.fields.get("stage")), self.stage_map)[0], create=False)
            self._bad(record, [(problem.column, problem.text) for problem in problems])
            return
        assert row is not None  # no problems, so a row
        if not self.stages.known(row.stage):
            return
        if len(self.result.preview) < self.options.preview_rows:
            self.result.preview.append(self._preview(row))
        self.leads.append((record, row))

    def _take_activity(self, record: Record) -> None:
        mapping = self._mapping("activity", record)
        row, problems = activity_row(record.number, self._cells(record), mapping, self.now)
        if problems:
            self._bad(record, [(problem.column, problem.text) for problem in problems])
            return
        assert row is not None  # no problems, so a row
        self.activities.append((record, row))

    def _cells(self, record: Record) -> dict:
        """The record's cells; in a CSV, with what the export neutralised against formulas undone."""
        if self.source.format != "csv":
            return record.cells
        cells = record.cells
        quoted = [key for key, value in cells.items() if value[:1] == "'"]
        if not quoted:
            return cells
        return {**cells, **{key: unneutralise(cells[key]) for key in quoted}}

    def _bad(self, record: Record, problems: list[tuple[str, str]]) -> None:
        text = "; ".join(f"{column}: {problem}" for column, problem in problems)
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(f"row {record.number}: {text}")
        if self.options.skip_invalid:
            self.result.rejected += 1
            if self.rejects is not None:
                self.rejects.add(self._cells(record), text)

    def _preview(self, row: LeadRow) -> dict:
        values = row.values
        stage = self.stages.names[self.stages.ids[fold(row.stage)] if row.stage else self.default_stage_id]
        return {
            "row": row.number,
            "name": values["name"],
            "company": values["company"],
            "email": values["email"],
            "value": to_number(values["value_cents"]),
            "stage": stage,
            "status": values["status"],
            "created_at": iso(values["created_at"]),
            "closed_at": iso(values["closed_at"]),
            "tags": row.tags,
            "fields": row.custom,
        }

    # ---- writing --------------------------------------------------------------------------------

    def _writer(self) -> Writer:
        if self.writer is None:
            self.writer = Writer(
                self.session,
                self.now,
                on_duplicate=self.options.on_duplicate,
                join=self.options.join,
                # A full export brings its own history; leads alone get one made.
                history=not (self.typed and self.options.what in (None, "all")),
            )
            self.result.counts = self.writer.counts
        return self.writer

    def _flush_leads(self) -> None:
        if not self.leads:
            return
        batch, self.leads = self.leads, []
        records = {row.number: record for record, row in batch}
        problems = self._writer().write_leads([row for _, row in batch], self.stages.ids, self.default_stage_id)
        mapping = next(iter(self.mappings.values()))
        for number, column, text in problems:
            self._bad(records[number], [(mapping.fields.get(column, column), text)])
        self._rescore()
        self._report_progress()

    def _flush_activities(self) -> None:
        if not self.activities:
            return
        batch, self.activities = self.activities, []
        records = {row.number: record for record, row in batch}
        same_file = self.typed and self.options.what in (None, "all")
        problems = self._writer().write_activities([row for _, row in batch], from_same_file=same_file)
        for number, column, text in problems:
            self._bad(records[number], [(column, text)])
        self._rescore()
        self._report_progress()

    def _rescore(self) -> None:
        """Score the batch's leads now rather than all of them at the commit: the same scores (a lead's
        score is its own), and the set of leads waiting for one stays a batch long."""
        from pipectl.core.rescoring import rescore_marked

        rescore_marked(self.session)

    def _report_progress(self) -> None:
        if self.progress is not None:
            self.progress(self.source.position())


def import_file(
    session: Session,
    source: Source,
    options: ImportOptions,
    *,
    rejects: RejectsFile | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import `source` into the pipeline; raises (and writes nothing) unless every row can go in.

    With `options.dry_run` nothing is kept either way, and the error a real run would raise is
    returned in `result.failure` so the caller can still show the mapping and the preview.
    """
    run = _Run(session, source, options, rejects, progress)
    failure = None
    try:
        result = run.run()
        failure = _failure(run)
    except PipectlError as error:
        if not options.dry_run:
            raise
        result, failure = run.result, error
    if options.dry_run:
        session.rollback()
        result.failure = failure
        return result
    if failure is not None:
        raise failure
    return result


def _failure(run: _Run) -> PipectlError | None:
    """The one error that refuses the whole import, if any, naming every problem of the file at once:
    stages it lacks, bad rows, duplicates; and, with --skip-invalid, a file none of whose rows went in."""
    found = run.stages.failures()
    listing = "\n  ".join(
        run.problems
        + ([f"and {run.problem_count - len(run.problems)} more"] if run.problem_count > len(run.problems) else [])
    )
    counts = run.result.counts
    if run.problem_count and not run.options.skip_invalid:
        found.append(
            f"{run.problem_count} row(s) cannot be imported:\n  {listing}\n"
            "Fix them, or import the others with --skip-invalid (the bad rows go to a rejects file)."
        )
    elif run.problem_count and not found and counts.added + counts.updated + counts.activities == 0:
        found.append(f"None of the rows could be imported ({run.problem_count} bad):\n  {listing}")
    duplicates = counts.duplicates
    if duplicates:
        shown = [f"row {number}: {what}" for number, what in duplicates[:MAX_LISTED]]
        if len(duplicates) > MAX_LISTED:
            shown.append(f"and {len(duplicates) - MAX_LISTED} more")
        found.append(
            f"{len(duplicates)} row(s) look like leads already there:\n  " + "\n  ".join(shown) + "\n"
            "Choose --on-duplicate skip (leave them out) or --on-duplicate update (update the existing "
            "leads)."
        )
    if not found:
        return None
    error = DuplicateLead if len(found) == 1 and duplicates else RuleViolation
    if len(found) == 1:
        return error(_nothing_imported(found[0]))
    return error(
        "Nothing was imported; the file has "
        + f"{len(found)} problems:\n"
        + "\n".join(f"{number}. {text}" for number, text in enumerate(found, start=1))
    )


def _nothing_imported(text: str) -> str:
    """One problem, said as before: its first line ends with "; nothing was imported"."""
    first, newline, rest = text.partition("\n")
    if first.endswith(":"):
        return f"{first[:-1]}; nothing was imported:{newline}{rest}"
    return f"{text} Nothing was imported."
