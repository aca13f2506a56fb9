"""Output: Rich tables for people, JSON / JSON Lines / CSV for programs.

Machine formats are written straight to stdout, never through Rich (which
would wrap long lines and read `[brackets]` as markup). Messages and warnings
go to stderr so a pipe only ever carries data. Rich is imported only when a
table is drawn, to keep `--help` fast.
"""

import csv
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

MACHINE_FORMATS = ("json", "jsonl", "csv")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def stdout_console():
    from rich.console import Console

    return Console(highlight=False)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def escape(text: Any) -> str:
    """User text made safe for Rich markup: `[bold]Acme` prints as written."""
    from rich.markup import escape as rich_escape

    return rich_escape("" if text is None else str(text))


def message(text: str) -> None:
    """A status line for people, on stderr (plain text, no markup)."""
    print(text, file=sys.stderr)


def warning(text: str) -> None:
    print(f"Warning: {text}", file=sys.stderr)


def write_json(items: Iterable[Any]) -> None:
    """A JSON array, written item by item so long results stream."""
    out = sys.stdout
    first = True
    out.write("[")
    for item in items:
        out.write("\n" if first else ",\n")
        out.write(json.dumps(item, ensure_ascii=False, default=str))
        first = False
    out.write("]\n" if first else "\n]\n")


def write_json_object(item: Any) -> None:
    sys.stdout.write(json.dumps(item, ensure_ascii=False, indent=2, default=str) + "\n")


def write_jsonl(items: Iterable[Any]) -> None:
    for item in items:
        sys.stdout.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")


def neutralise(cell: Any) -> Any:
    """Make a text cell inert in a spreadsheet by prefixing a quote (`'=SUM(A1)`)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def write_csv(rows: Iterable[dict], columns: list[str], out=None) -> None:
    """CSV with a header; text cells that a spreadsheet would run as formulas are neutralised."""
    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(_csv_cell(row.get(column))) for column in columns])


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        # Tags, reasons, actions: one cell, joined the way import splits tags back.
        return TAG_SEPARATOR.join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.2f}"
    return value


TAG_SEPARATOR = "; "
FIELD_PREFIX = "field:"


def flatten_lead(lead: dict) -> dict:
    """A lead dict for CSV: tags joined, each custom field its own `field:KEY` column."""
    flat = {key: value for key, value in lead.items() if key not in ("tags", "fields")}
    flat["tags"] = TAG_SEPARATOR.join(lead.get("tags") or [])
    for key, value in (lead.get("fields") or {}).items():
        flat[FIELD_PREFIX + key] = value
    return flat


def lead_csv_columns(base_columns: Iterable[str], field_keys: Iterable[str]) -> list[str]:
    return list(base_columns) + [FIELD_PREFIX + key for key in sorted(field_keys)]


def emit(fmt: str, rows: Iterable[dict], *, table: Callable[[list[dict]], None],
         csv_columns: list[str] | None = None, flatten: Callable[[dict], dict] | None = None) -> None:
    """Print rows in the chosen format; `table` draws them for people."""
    if fmt == "json":
        write_json(rows)
    elif fmt == "jsonl":
        write_jsonl(rows)
    elif fmt == "csv":
        rows = list(rows)
        flat = [flatten(row) for row in rows] if flatten else rows
        columns = csv_columns or _columns_of(flat)
        if flatten is flatten_lead:
            keys = {key[len(FIELD_PREFIX):] for row in flat for key in row if key.startswith(FIELD_PREFIX)}
            columns = lead_csv_columns(csv_columns or [], keys)
        write_csv(flat, columns)
    else:
        table(list(rows))


def _columns_of(rows: list[dict]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns
