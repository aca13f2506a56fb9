"""`pipectl score` and `pipectl rules …`: scores that explain themselves, and the rules file."""

from pathlib import Path
from typing import Annotated

import typer

from pipectl.cli.options import DbOption, FormatOption

rules_app = typer.Typer(
    help="The scoring, stage and cleanup rules, kept in the database, written as TOML.", no_args_is_help=True
)

MOVE_COLUMNS = ["id", "name", "score", "from", "to"]
# How many of the ranking a table shows when --limit is not given (machine formats give them all).
TABLE_LIMIT = 20


def score(
    lead: Annotated[
        str | None,
        typer.Argument(
            metavar="LEAD", show_default=False, help="Lead id (or its exact email or name); default: every open lead."
        ),
    ] = None,
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
    from pipectl.cli.runtime import pipeline
    from pipectl.errors import UsageError

    if dry_run and not apply:
        raise UsageError("--dry-run goes with --apply: pipectl score --apply --dry-run.")
    if explain and apply:
        raise UsageError("--explain and --apply do different things; run them one at a time.")
    if explain and lead is None:
        raise UsageError("--explain needs a LEAD: pipectl score 42 --explain.")
    with pipeline(db, write=not dry_run) as session:
        if apply:
            _apply(session, lead, dry_run, fmt)
        elif lead is not None:
            _one(session, lead, explain, fmt)
        else:
            if limit is None and fmt == "table":
                limit = TABLE_LIMIT
            _all(session, limit, fmt)


def _one(session, reference: str, explain: bool, fmt: str) -> None:
    from pipectl.core.leads import find_lead
    from pipectl.core.rescoring import rescore_leads
    from pipectl.core.scoring_sql import explain as explain_score
    from pipectl.output import Csv, emit

    lead = find_lead(session, reference)
    rescore_leads(session, [lead.id])
    result = explain_score(session, lead.id)
    result = {"id": lead.id, "name": lead.name, **{key: value for key, value in result.items() if key != "id"}}
    if not explain:
        result.pop("breakdown")
    # In CSV, --explain is the breakdown rule by rule; without it, the score as one row.
    layout = Csv(["rule", "points", "detail"], rows=lambda shown: shown["breakdown"]) if explain else Csv()
    emit(fmt, result, table=_score_card, csv_layout=layout)


def _score_card(result: dict) -> None:
    from rich.table import Table

    from pipectl.render import escape, stdout_console

    console = stdout_console()
    band = f" [dim]({result['band']})[/dim]" if result["band"] else ""
    console.print(f"#{result['id']} {escape(result['name'])}: score [bold]{result['score']}[/bold]{band}")
    if "breakdown" not in result:
        return
    if not result["breakdown"]:
        console.print("No rule gives this lead any points.", style="dim")
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("Rule", overflow="fold")
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Why", overflow="fold", style="dim")
    for part in result["breakdown"]:
        table.add_row(escape(part["rule"]), f"{part['points']:+d}", escape(part["detail"]))
    table.add_section()
    table.add_row("Total", f"{result['raw']:+d}", "clamped to 0–100" if result["raw"] != result["score"] else "")
    console.print(table)


def _all(session, limit: int | None, fmt: str) -> None:
    from pipectl.cli.tables import lead_table
    from pipectl.core.rescoring import rescore_open_leads
    from pipectl.core.views import EXTRA_KEYS, LeadFilter, field_keys, lead_rows
    from pipectl.output import emit, lead_layout
    from pipectl.render import message

    count = rescore_open_leads(session)
    message(f"Scored {count:,} open lead(s)." + (f" The {limit:,} highest:" if limit and limit < count else ""))
    wanted = LeadFilter(status="open", sort="score", limit=limit or None)
    emit(
        fmt,
        lead_rows(session, wanted),
        table=lead_table,
        csv_layout=lead_layout(lambda: field_keys(session), EXTRA_KEYS),
    )


def _apply(session, reference: str | None, dry_run: bool, fmt: str) -> None:
    from pipectl.core.leads import find_lead
    from pipectl.core.advancing import advance_leads
    from pipectl.output import Csv, emit
    from pipectl.render import message

    lead_id = find_lead(session, reference).id if reference is not None else None
    moves = advance_leads(session, dry_run=dry_run, lead_id=lead_id)
    verb = "Would move" if dry_run else "Moved"
    message(f"{verb} {len(moves)} lead(s)." + (" Nothing was changed (--dry-run)." if dry_run else ""))
    emit(fmt, moves, table=lambda rows: _moves_table(rows, verb), csv_layout=Csv(MOVE_COLUMNS))


def _moves_table(rows: list[dict], verb: str) -> None:
    from rich.table import Table

    from pipectl.render import escape, message, stdout_console

    if not rows:
        message("No lead's score reaches a later stage's minimum.")
        return
    console = stdout_console()
    table = Table(show_edge=False, pad_edge=False, header_style="bold", title=verb, title_justify="left")
    for column, justify in (("ID", "right"), ("Name", "left"), ("Score", "right"), ("From", "left"), ("To", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(str(row["id"]), escape(row["name"]), str(row["score"]), escape(row["from"]), escape(row["to"]))
    console.print(table)


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
    from rich.table import Table

    from pipectl.core.rules import rule_rows
    from pipectl.render import escape, stdout_console

    console = stdout_console()
    limits = document["thresholds"]
    console.print(
        f"[bold]Thresholds[/bold]  nurture below {limits['nurture_below']} · "
        f"MQL from {limits['mql']} · SQL from {limits['sql']}"
    )
    table = Table(title="Scoring rules", title_justify="left", show_edge=False, pad_edge=False, header_style="bold")
    for column, justify in (
        ("Type", "left"),
        ("Rule", "left"),
        ("When", "left"),
        ("Points", "right"),
        ("Cap", "right"),
        ("Within", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rule_rows(document):
        table.add_row(
            row["section"],
            escape(row["name"]),
            escape(row["condition"]),
            f"{row['points']:+d}",
            "" if row["cap"] is None else str(row["cap"]),
            row["within"] or "",
        )
    console.print(table)
    stages = Table(title="Stages", title_justify="left", show_edge=False, pad_edge=False, header_style="bold")
    for column, justify in (
        ("Stage", "left"),
        ("Win %", "right"),
        ("Idle days", "right"),
        ("BANT", "left"),
        ("Min score", "right"),
    ):
        stages.add_column(column, justify=justify)
    for name, stage in document["stages"].items():
        stages.add_row(
            escape(name),
            str(stage["probability"]),
            str(stage["idle_days"]),
            "required" if stage["requires_bant"] else "",
            "" if stage.get("min_score") is None else str(stage["min_score"]),
        )
    console.print(stages)
    cleanup = "  ".join(f"{key} = {value}" for key, value in document["cleanup"].items())
    console.print(f"[bold]Cleanup[/bold]  {escape(cleanup)}")


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
    from pipectl.render import message

    if str(file) == "-":
        text, source = sys.stdin.read(), "stdin"
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


def register(app: typer.Typer) -> None:
    app.command()(score)
    app.add_typer(rules_app, name="rules")
