"""`pipectl duplicates` and `pipectl merge`: likely duplicate pairs, and one lead out of two."""

from typing import Annotated

import typer

from pipectl.cli.options import DbOption, FormatOption, format_flag

MergeFormatOption = Annotated[str, format_flag("table", "json")]
LeadArg = Annotated[
    str, typer.Argument(metavar="KEEP", help="The lead to keep (id, email or name).", show_default=False)
]
OtherArg = Annotated[
    str, typer.Argument(metavar="OTHER", help="The lead merged into it, then archived.", show_default=False)
]


def duplicates(fmt: FormatOption = "table", db: DbOption = None) -> None:
    """List likely duplicate leads: the same email, phone, or name at the same company (case and accents aside).

    Example: pipectl duplicates
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.duplicates import find_duplicate_pairs
    from pipectl.output import emit

    with pipeline(db, write=False) as session:
        pairs = find_duplicate_pairs(session)
    emit(fmt, pairs, table=_pairs_table)


def _pairs_table(pairs: list[dict]) -> None:
    from pipectl.cli.table_layout import NAME_WIDTH, Column, cell_lines, hidden_note, print_table
    from pipectl.render import stdout_console

    console = stdout_console()
    if not pairs:
        console.print("No likely duplicates.", style="dim")
        return
    columns = [
        Column("Keep", priority=10, justify="right", keep=True),
        Column("Name", priority=9, min_width=NAME_WIDTH // 2, keep=True),
        Column("Other", priority=10, justify="right", keep=True),
        Column("Other's name", priority=8, min_width=NAME_WIDTH // 2, keep=True),
        Column("Why", priority=7, min_width=12, keep=True),
    ]
    rows = [
        [
            str(pair["id"]),
            _who(pair["name"], pair["company"]),
            str(pair["duplicate_id"]),
            _who(pair["duplicate_name"], pair["duplicate_company"]),
            cell_lines(pair["reasons"]),
        ]
        for pair in pairs
    ]
    dropped = print_table(console, columns, rows)
    console.print(f"{len(pairs)} pair(s); merge one with `pipectl merge KEEP OTHER` (try --dry-run first)", style="dim")
    hidden_note(console, dropped)


def _who(name: str, company: str | None) -> str:
    return f"{name} ({company})" if company else name


def merge(
    keep: LeadArg,
    other: OtherArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the changes and conflicts; change nothing.")] = False,
    prefer: Annotated[
        str,
        typer.Option("--prefer", metavar="kept|other", help="Whose value wins where both leads have different ones."),
    ] = "kept",
    fmt: MergeFormatOption = "table",
    db: DbOption = None,
) -> None:
    """Merge two leads into one: OTHER's activities, tags, fields, BANT and next action move to KEEP.

    Where both have different values the kept lead's wins, unless --prefer other. OTHER is archived
    as "merged into #KEEP"; the merge is one activity on KEEP.

    Example: pipectl merge 12 31 --dry-run
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead
    from pipectl.core.merging import PREFERENCES, apply_merge, plan_merge
    from pipectl.core.rescoring import rescore_marked
    from pipectl.errors import UsageError
    from pipectl.output import emit

    preference = prefer.strip().lower()
    if preference not in PREFERENCES:
        raise UsageError(f"--prefer is kept or other, not {prefer!r}.")
    with pipeline(db, write=not dry_run, dry_run=dry_run) as session:
        kept, merged = find_lead(session, keep), find_lead(session, other)
        plan = plan_merge(session, kept, merged, prefer_other=preference == "other")
        document = plan.document()
        document["dry_run"] = dry_run
        if not dry_run:
            apply_merge(session, plan)
            rescore_marked(session)
            document["result"] = _result(session, kept)
    emit(fmt, document, table=_plan_view)


def _result(session, lead) -> dict:
    """The kept lead after the merge: its score and stale reasons, worked out afresh."""
    from pipectl import clock
    from pipectl.core.hygiene import stale_reasons

    return {"score": lead.score, "stale_reasons": stale_reasons(session, clock.now(), [lead.id]).get(lead.id, [])}


def _plan_view(document: dict) -> None:
    from pipectl.cli.table_layout import Column, hidden_note, print_table
    from pipectl.render import message, stdout_console

    keep, other = document["keep"], document["other"]
    moved = document["moved"]
    label = f"#{other['id']} {other['name']} into #{keep['id']} {keep['name']}"
    parts = [f"{moved['activities']} activit{'y' if moved['activities'] == 1 else 'ies'}"]
    if moved["tags"]:
        parts.append("tags " + ", ".join(moved["tags"]))
    if moved["fields"]:
        parts.append("fields " + ", ".join(moved["fields"]))
    console = stdout_console()
    console.print(
        f"{'Would merge' if document['dry_run'] else 'Merged'} {label}: moves {'; '.join(parts)}.", markup=False
    )
    taken = [key for key, _change in document["changes"].items() if key not in _conflicting(document)]
    if taken:
        console.print(f"#{keep['id']} takes from #{other['id']}: {', '.join(taken)}.", markup=False)
    if document["conflicts"]:
        winner = f"#{other['id']}" if document["prefer"] == "other" else f"#{keep['id']}"
        columns = [
            Column("Field", priority=9, keep=True),
            Column(f"Kept #{keep['id']}", priority=8, min_width=12, keep=True),
            Column(f"Other #{other['id']}", priority=8, min_width=12, keep=True),
            Column("Wins", priority=7),
        ]
        rows = [
            [
                conflict["field"],
                _text(conflict["field"], conflict["kept"]),
                _text(conflict["field"], conflict["other"]),
                f"#{keep['id']}" if conflict["chosen"] == "kept" else f"#{other['id']}",
            ]
            for conflict in document["conflicts"]
        ]
        hint = "" if document["prefer"] == "other" else " (--prefer other takes the other's)"
        dropped = print_table(console, columns, rows, title=f"Conflicts: {winner}'s value wins{hint}")
        hidden_note(console, dropped)
    if document["dry_run"]:
        message("Dry run: nothing was changed.")
    else:
        result = document["result"]
        stale = "; stalled: " + "; ".join(result["stale_reasons"]) if result["stale_reasons"] else ""
        message(f"#{other['id']} is archived as merged into #{keep['id']}, now scoring {result['score']}{stale}.")


def _conflicting(document: dict) -> set[str]:
    return {conflict["field"] for conflict in document["conflicts"]}


def _text(field: str, value) -> str:
    from pipectl.cli.tables import money

    if field == "value" and isinstance(value, int | float):
        return money(value)
    return "" if value is None else str(value)


def register(app: typer.Typer) -> None:
    app.command()(duplicates)
    app.command()(merge)
