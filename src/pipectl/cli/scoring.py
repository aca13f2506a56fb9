"""`pipectl score` and `pipectl rules …`: scores that explain themselves, and the rules file."""

from pathlib import Path
from typing import Annotated

import typer

from pipectl.cli.options import COUNT_MAX, DbOption, FormatOption, OpenLeadsArgument
from pipectl.cli.table_layout import Column

rules_app = typer.Typer(
    help="The scoring, stage and cleanup rules, kept in the database, written as TOML.", no_args_is_help=True
)

MOVE_COLUMNS = ["id", "name", "score", "from", "to"]
# How many of the ranking a table shows when --limit is not given (machine formats give them all).
TABLE_LIMIT = 20
# `rules show`: what a rule is and does stays; its cap and window give way on a narrow terminal.
RULE_COLUMNS = (
    Column("Type", priority=6),
    Column("Rule", priority=9, min_width=14, keep=True),
    Column("When", priority=8, min_width=16, keep=True),
    Column("Points", priority=9, justify="right", keep=True),
    Column("Cap", priority=4, justify="right"),
    Column("Within", priority=5),
)
RULE_STAGE_COLUMNS = (
    Column("Stage", priority=9, min_width=8, keep=True),
    Column("Win %", priority=7, justify="right"),
    Column("Idle days", priority=6, justify="right"),
    Column("BANT", priority=5),
    Column("Min score", priority=8, justify="right"),
)


def score(
    lead: OpenLeadsArgument = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the score rule by rule.")] = False,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply", help="Move leads forward to the furthest stage whose minimum score (and BANT rule) they meet."
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --apply: list the moves, change nothing.")] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            max=COUNT_MAX,
            show_default=False,
            help=f"How many of the ranking to print (default: {TABLE_LIMIT} in a table, all in json, jsonl and csv; "
            "0: all).",
        ),
    ] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Compute lead scores: one lead, or every open lead with the ranking.

    Example: pipectl score 42 --explain
    """
    from pipectl.cli.runtime import database
    from pipectl.errors import UsageError

    if dry_run and not apply:
        raise UsageError("--dry-run goes with --apply: pipectl score --apply --dry-run.")
    if explain and apply:
        raise UsageError("--explain and --apply do different things; run them one at a time.")
    if explain and lead is None:
        raise UsageError("--explain needs a LEAD: pipectl score 42 --explain.")
    # Everything is printed after the commit: a reader that leaves early (`pipectl score | head -2`)
    # breaks the pipe, and that must never roll the new scores back.
    with database(db, write=True, dry_run=dry_run) as opened:
        if apply:
            with opened.session(write=not dry_run) as session:
                moves = _apply(session, lead, dry_run)
            _print_moves(moves, dry_run, fmt)
        elif lead is not None:
            with opened.session() as session:
                result = _one(session, lead, explain)
            _print_one(result, explain, fmt)
        else:
            if limit is None and fmt == "table":
                limit = TABLE_LIMIT
            _all(opened, limit, fmt)


def _one(session, reference: str, explain: bool) -> dict:
    from pipectl.core.lookup import find_lead
    from pipectl.core.rescoring import rescore_leads
    from pipectl.core.scoring_sql import explain as explain_score

    lead = find_lead(session, reference)
    assert lead.id is not None, "the lead is stored"
    rescore_leads(session, [lead.id])
    result = explain_score(session, lead.id)
    result = {"id": lead.id, "name": lead.name, **{key: value for key, value in result.items() if key != "id"}}
    if not explain:
        result.pop("breakdown")
    return result


def _print_one(result: dict, explain: bool, fmt: str) -> None:
    from pipectl.output import Csv, emit

    # In CSV, --explain is the breakdown rule by rule; without it, the score as one row.
    layout = Csv(["rule", "points", "detail"], rows=lambda shown: shown["breakdown"]) if explain else Csv()
    emit(fmt, result, table=_score_card, csv_layout=layout)


def _score_card(result: dict) -> None:
    from pipectl.cli.table_layout import SECTION, Column, print_table
    from pipectl.render import escape, stdout_console

    console = stdout_console()
    band = f" [dim]({result['band']})[/dim]" if result["band"] else ""
    name = escape(result["name"], one_line=True)
    console.print(f"#{result['id']} {name}: score [bold]{result['score']}[/bold]{band}")
    if "breakdown" not in result:
        return
    if not result["breakdown"]:
        console.print("No rule gives this lead any points.", style="dim")
        return
    rows: list[list[str] | None] = [
        [part["rule"], f"{part['points']:+d}", part["detail"]] for part in result["breakdown"]
    ]
    clamped = "clamped to 0–100" if result["raw"] != result["score"] else ""
    rows += [SECTION, ["Total", f"{result['raw']:+d}", clamped]]
    # Nothing gives way: a narrow terminal wraps the rule and the reason at spaces.
    print_table(
        console,
        (
            Column("Rule", priority=9, min_width=16, keep=True),
            Column("Points", priority=9, justify="right", keep=True),
            Column("Why", priority=8, min_width=16, keep=True, style="dim"),
        ),
        rows,
    )


def _all(opened, limit: int | None, fmt: str) -> None:
    from pipectl.cli.tables import lead_table
    from pipectl.core.rescoring import rescore_open_leads
    from pipectl.core.views import EXTRA_KEYS, LeadFilter, field_keys, lead_rows
    from pipectl.output import emit, lead_layout
    from pipectl.render import message

    with opened.session() as session:
        count = rescore_open_leads(session)
    message(f"Scored {count:,} open lead(s)." + (f" The {limit:,} highest:" if limit and limit < count else ""))
    # The ranking streams from its own read transaction, after the re-score is committed.
    wanted = LeadFilter(status="open", sort="score", limit=limit or None)
    with opened.session(write=False) as session:
        emit(
            fmt,
            lead_rows(session, wanted),
            table=lead_table,
            csv_layout=lead_layout(lambda: field_keys(session), EXTRA_KEYS),
        )


def _apply(session, reference: str | None, dry_run: bool) -> list[dict]:
    from pipectl.core.advancing import advance_leads
    from pipectl.core.lookup import find_lead

    lead_id = find_lead(session, reference).id if reference is not None else None
    return advance_leads(session, dry_run=dry_run, lead_id=lead_id)


def _print_moves(moves: list[dict], dry_run: bool, fmt: str) -> None:
    from pipectl.output import Csv, emit
    from pipectl.render import message

    verb = "Would move" if dry_run else "Moved"
    message(f"{verb} {len(moves)} lead(s)." + (" Nothing was changed (--dry-run)." if dry_run else ""))
    emit(fmt, moves, table=lambda rows: _moves_table(rows, verb), csv_layout=Csv(MOVE_COLUMNS))


def _moves_table(rows: list[dict], verb: str) -> None:
    from pipectl.cli.table_layout import NAME_WIDTH, Column, hidden_note, print_table
    from pipectl.render import message, stdout_console

    if not rows:
        message("No lead's score reaches a later stage's minimum.")
        return
    console = stdout_console()
    columns = (
        Column("ID", priority=9, justify="right", keep=True),
        Column("Name", priority=9, min_width=NAME_WIDTH, keep=True),
        Column("Score", priority=5, justify="right"),
        Column("From", priority=6, min_width=8),
        Column("To", priority=8, min_width=8, keep=True),
    )
    table_rows = [[str(row["id"]), row["name"], str(row["score"]), row["from"], row["to"]] for row in rows]
    hidden_note(console, print_table(console, columns, table_rows, title=verb))


@rules_app.command("show")
def show_rules(fmt: FormatOption = "table", db: DbOption = None) -> None:
    """Show the rules in force: thresholds, scoring rules, stage entry rules and cleanup limits.

    In CSV, one value per line (section, item, key, value); `pipectl rules export` writes TOML.

    Example: pipectl rules show
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.rules import rules_document
    from pipectl.output import LONG_COLUMNS, Csv, emit, long_rows

    with pipeline(db, write=False) as session:
        document = rules_document(session)
    emit(fmt, document, table=_rules_tables, csv_layout=Csv(LONG_COLUMNS, rows=long_rows))


def _rules_tables(document: dict) -> None:
    from pipectl.cli.table_layout import hidden_note, print_table
    from pipectl.core.rules import rule_rows
    from pipectl.render import escape, stdout_console

    console = stdout_console()
    limits = document["thresholds"]
    console.print(
        f"[bold]Thresholds[/bold]  nurture below {limits['nurture_below']} · "
        f"MQL from {limits['mql']} · SQL from {limits['sql']}"
    )
    rules = [
        [
            row["section"],
            row["name"],
            row["condition"],
            f"{row['points']:+d}",
            "" if row["cap"] is None else str(row["cap"]),
            row["within"] or "",
        ]
        for row in rule_rows(document)
    ]
    hidden = print_table(console, RULE_COLUMNS, rules, title="Scoring rules")
    stages = [
        [
            name,
            str(stage["probability"]),
            str(stage["idle_days"]),
            "required" if stage["requires_bant"] else "",
            "" if stage.get("min_score") is None else str(stage["min_score"]),
        ]
        for name, stage in document["stages"].items()
    ]
    hidden += print_table(console, RULE_STAGE_COLUMNS, stages, title="Stages")
    cleanup = "  ".join(f"{key} = {value}" for key, value in document["cleanup"].items())
    console.print(f"[bold]Cleanup[/bold]  {escape(cleanup)}")
    hidden_note(console, hidden)


@rules_app.command("load")
def load_rules(
    file: Annotated[
        Path, typer.Argument(metavar="FILE.toml", help="The rules file (- reads stdin).", show_default=False)
    ],
    db: DbOption = None,
) -> None:
    """Load rules from a TOML file; a bad file is refused whole and the old rules stay.

    Example: pipectl rules load examples/scoring.toml
    """
    import sys

    from pipectl.cli.runtime import pipeline
    from pipectl.core.rules import load_rules as load
    from pipectl.errors import NotFound
    from pipectl.render import message, warning

    if str(file) == "-":
        try:
            text, source = sys.stdin.read(), "stdin"
        except UnicodeDecodeError:
            raise NotFound("Cannot read stdin: it is not UTF-8 text; save the rules as UTF-8.") from None
    else:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise NotFound(f"Cannot read {file}: {reason}.") from None
        source = str(file)
    with pipeline(db) as session:
        summary = load(session, text, source)
    parts = [name for name in ("thresholds", "scoring", "cleanup") if summary[name]]
    if summary["stages"]:
        parts.append("stages " + ", ".join(summary["stages"]))
    message(f"Loaded {', '.join(parts) or 'nothing'} from {source}; re-scored {summary['scored']} open lead(s).")
    # Say what was replaced and what was removed: a [scoring] table replaces both rule lists.
    for change in summary["changes"]:
        if change.changed:
            message(f"  {change.describe()}")
    unchanged = [change.part for change in summary["changes"] if not change.changed]
    if unchanged:
        message(f"  unchanged: {', '.join(unchanged)}")
    for change in summary["changes"]:
        if change.removed_all:
            warning(
                f"The file has no {change.part}, so all {len(change.removed)} were removed. To keep them, "
                "add them to the file (`pipectl rules export` shows the rules in force) and load it again."
            )


@rules_app.command("export")
def export_rules(db: DbOption = None) -> None:
    """Print the rules in force as TOML that `rules load` reads back to the same rules.

    Example: pipectl rules export > rules.toml
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.rules import export_rules as export

    with pipeline(db, write=False) as session:
        text = export(session)
    print(text, end="")


@rules_app.command("suggest")
def suggest_rules(
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=100, help="At most this many rules, strongest first.")
    ] = 10,
    db: DbOption = None,
) -> None:
    """Print scoring rules proposed from the pipeline's history, as TOML to edit and load.

    The strongest factors of the win model (`pipectl predict`), each worth its log-odds x 10 points.

    Example: pipectl rules suggest > suggested.toml
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.prediction import current_model
    from pipectl.core.rule_suggest import suggest

    # Training when the model is missing or stale is a write; the suggestion itself changes nothing.
    with pipeline(db) as session:
        model, _ = current_model(session)
        text = suggest(session, model, limit)
    print(text, end="")


def register(app: typer.Typer) -> None:
    app.command()(score)
    app.add_typer(rules_app, name="rules")
