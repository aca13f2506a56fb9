"""`pipectl search`: ranked leads for a few words, with where each matched (words highlighted in the table)."""

from typing import Annotated

import typer

from pipectl.cli import completion as complete
from pipectl.cli.options import COUNT_MAX, DbOption, FormatOption

# Around the first matching word, this much of a long note is shown in the table.
SNIPPET = 70
WHERE_LABELS = {"next_action": "next action", "tag": "tag"}


def search(
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT", help="Words to find (each a prefix: `torv` finds Torvalds).", show_default=False
        ),
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=COUNT_MAX, help="At most this many leads.")] = 20,
    status: Annotated[
        str,
        typer.Option(
            "--status", autocompletion=complete.complete_status, help="open, won, lost, archived or all (default)."
        ),
    ] = "all",
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Find leads by any word of their name, company, email, phone, title, tags, fields or activity notes.

    A lead matches when every word is in its own details, or all are in one of its activity notes
    (or its next action); the best matches come first. Accents and case do not matter.

    Example: pipectl search "month-end close"
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.search import search as run_search, search_terms
    from pipectl.output import Csv, emit

    typed = " ".join(words)
    terms = search_terms(typed)  # nothing to search for is a usage error before the database is opened
    with pipeline(db, write=False) as session:
        hits = run_search(session, typed, status=status.lower(), limit=limit)
    emit(
        fmt,
        hits,
        table=lambda rows: _table(rows, terms),
        csv_layout=Csv(columns=CSV_COLUMNS, flatten=_flat),
    )


CSV_COLUMNS = ("id", "name", "company", "stage", "status", "score", "where", "text")


def _flat(hit: dict) -> dict:
    first = hit["matches"][0] if hit["matches"] else {}
    return {
        **{key: hit[key] for key in CSV_COLUMNS if key in hit},
        "where": [match["where"] for match in hit["matches"]],
        "text": first.get("text"),
    }


def _table(hits: list[dict], terms: list[str]) -> None:
    from pipectl.cli.table_layout import NAME_WIDTH, Column, hidden_note, print_table
    from pipectl.cli.tables import short_date
    from pipectl.render import stdout_console

    console = stdout_console()
    if not hits:
        console.print("No leads match.", style="dim")
        return
    columns = [
        Column("ID", priority=10, justify="right", keep=True),
        Column("Name", priority=9, min_width=NAME_WIDTH, keep=True),
        Column("Company", priority=6, min_width=14),
        Column("Status", priority=5, min_width=8),
        Column("Matched in", priority=7, min_width=10),
        Column("Text", priority=8, min_width=24, keep=True),
    ]
    rows = []
    for hit in hits:
        shown = [match for match in hit["matches"] if match["where"] not in ("name", "company")]
        labels = [_label(match, short_date) for match in shown] or [
            ", ".join(match["where"] for match in hit["matches"]) or "–"
        ]
        status = hit["stage"] if hit["status"] == "open" else hit["status"]
        if hit["archived_reason"] and hit["archived_reason"].startswith("merged into"):
            status = hit["archived_reason"]
        rows.append(
            [
                str(hit["id"]),
                _marked(hit["name"], terms),
                _marked(hit["company"], terms),
                status,
                _lines([_plain(label) for label in labels]),
                _lines([_marked(_snippet(match["text"], terms), terms) for match in shown]),
            ]
        )
    dropped = print_table(console, columns, rows)
    console.print(f"{len(hits)} lead(s), best match first", style="dim")
    hidden_note(console, dropped)


def _label(match: dict, short_date) -> str:
    where = match["where"]
    if where == "activity":
        return f"{match['kind'].replace('_', ' ')} {short_date(match['at'])}"
    if where == "next_action":
        return f"next action {short_date(match['at'])}".strip()
    return WHERE_LABELS.get(where, where)


def _snippet(text: str | None, terms: list[str]) -> str:
    """A long note cut to the part around its first matching word."""
    from pipectl.core.search import spans

    value = " ".join((text or "").split())
    if len(value) <= SNIPPET:
        return value
    found = spans(value, terms)
    start = max(0, found[0].start - SNIPPET // 3) if found else 0
    end = min(len(value), start + SNIPPET)
    return ("…" if start else "") + value[start:end] + ("…" if end < len(value) else "")


def _marked(value: str | None, terms: list[str]):
    """User text as a cell, its matching words in bold (markup is never read from the text itself)."""
    from rich.text import Text

    from pipectl.core.search import spans
    from pipectl.terminal import visible

    shown = visible(value or "", one_line=True)
    cell = Text(shown)
    if shown == (value or ""):  # offsets hold only while nothing was made visible
        for span in spans(shown, terms):
            cell.stylize("bold reverse", span.start, span.end)
    return cell


def _plain(value: str):
    from rich.text import Text

    return Text(value)


def _lines(cells: list):
    from rich.text import Text

    return Text("\n").join(cells) if cells else Text("")


def register(app: typer.Typer) -> None:
    app.command()(search)
