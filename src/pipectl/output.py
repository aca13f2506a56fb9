"""The one output path: every command hands its rows or its document to `emit`.

- `table`: the command's own Rich view, for people.
- `json`: an array of the rows (one per line), or the document (indented).
- `jsonl`: one compact object per line: each row, or the document on one line.
- `csv`: a header, then one line per row. A document gives its rows through the command's `Csv`
  layout; a nested one (metrics, forecast, rules) can use `long_rows`: one value per line.
- anything else a command declares (`md`, `ics`): its own writer.

Machine formats are written straight to the stream, never through Rich (which would wrap long
lines and read `[brackets]` as markup), row by row so long results stream, and only once the
first row exists, so a command that fails before it has any row leaves stdout empty. Text cells
of a CSV are neutralised against formulas by the contract's one rule, which import reverses.
"""

import csv
import itertools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from pipectl.contract import (
    TAG_SEPARATOR,
    csv_columns,
    flat_lead,
    header_field_keys,
    lead_cells,
    neutralise,
)
from pipectl.errors import UsageError

MACHINE_FORMATS = ("json", "jsonl", "csv")
_END = object()


@dataclass(frozen=True)
class Csv:
    """How a command's data becomes CSV.

    `columns`: the header, or a function giving it (worked out only when CSV is asked for); None:
    the keys of the rows, in the order they first appear (the rows are then read into memory
    first). `rows`: for a document, the rows of its CSV (default: the document as one row).
    `flatten`: a row as its CSV cells (a lead's custom fields as `field:KEY` columns). `cells`: given
    the header, a function giving a row's cells in its order, the same as flattening then reading each
    column, without the dict in between (for long streams). `values`: given the header, the rows
    themselves as lists of values in its order, used in place of the rows when CSV is written (a
    long stream's cheaper form: no dict is built per row). `texts`: given the header, the rows as
    their finished cells (text, formulas already guarded), written as they are (`core.lead_csv`)."""

    columns: Iterable[str] | Callable[[], Iterable[str]] | None = None
    rows: Callable[[Any], Iterable[dict]] | None = None
    flatten: Callable[[dict], dict] | None = None
    cells: Callable[[list[str]], Callable[[dict], list]] | None = None
    values: Callable[[list[str]], Iterable[list]] | None = None
    texts: Callable[[list[str]], Iterable[list[str]]] | None = None


def emit(
    fmt: str,
    data: Iterable[dict] | dict,
    *,
    table: Callable[[Any], None] | None = None,
    csv_layout: Csv | None = None,
    writers: dict[str, Callable[[Any], None]] | None = None,
    out: TextIO | None = None,
) -> int:
    """Write `data` (rows, or one document: a dict) in the format `fmt`; returns how many rows it wrote.

    A format the command gave no way to write is a usage error naming the ones it has (the
    `--format` option refuses those first; this is the guard behind it)."""
    out = out or sys.stdout
    writers = writers or {}
    # Rows can always be CSV (their keys are the header); a document only through a layout.
    available = {
        "table": table is not None,
        "json": True,
        "jsonl": True,
        "csv": csv_layout is not None or not isinstance(data, dict),
        **dict.fromkeys(writers, True),
    }
    if not available.get(fmt):
        names = [name for name, on in available.items() if on]
        raise UsageError(f"--format {fmt}: this command writes {_one_of(names)}.")
    if fmt == "table" and table is not None:
        table(data if isinstance(data, dict) else list(data))
        return 0
    if fmt in writers:
        writers[fmt](data)
        return 0
    if isinstance(data, dict):
        if fmt == "json":
            return _write_json_document(out, data)
        if fmt == "jsonl":
            return _write_jsonl(out, [data])
        layout = csv_layout or Csv()
        return write_csv(
            out, layout.rows(data) if layout.rows else [data], layout.columns, layout.flatten, layout.cells
        )
    if fmt == "json":
        return _write_json_array(out, data)
    if fmt == "jsonl":
        return _write_jsonl(out, data)
    layout = csv_layout or Csv()
    if layout.texts is not None and layout.columns is not None:
        header = list(layout.columns() if callable(layout.columns) else layout.columns)
        return _write_rows(out, header, layout.texts(header), finished=True)
    if layout.values is not None and layout.columns is not None:
        header = list(layout.columns() if callable(layout.columns) else layout.columns)
        return _write_rows(out, header, layout.values(header))
    return write_csv(out, data, layout.columns, layout.flatten, layout.cells)


def _one_of(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# One encoder for every row: `json.dumps` with options builds a new one per call. Rows are plain data
# read from the database, never holding themselves, so the check for circular references is skipped.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str, check_circular=False).encode


def dumps(item: Any) -> str:
    """One compact JSON text, as `json.dumps(item, ensure_ascii=False, default=str)` writes it."""
    return _ENCODE(item)


def _first(rows: Iterable) -> tuple[Any, Iterator]:
    """The first row (or _END) and the rest: pulling it first runs the query, so an error comes
    before anything is written."""
    iterator = iter(rows)
    return next(iterator, _END), iterator


def _write_json_array(out: TextIO, rows: Iterable, end: str = "\n") -> int:
    first, rest = _first(rows)
    if first is _END:
        out.write("[]" + end)
        return 0
    out.write("[\n" + dumps(first))
    count = 1
    for row in rest:
        out.write(",\n" + dumps(row))
        count += 1
    out.write("\n]" + end)
    return count


def _write_json_document(out: TextIO, document: dict) -> int:
    """A document, indented; one whose values stream (`export --what all`) is written as it streams."""
    streamed = [key for key, value in document.items() if isinstance(value, Iterator)]
    if not streamed:
        out.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")
        return 0
    count = 0
    out.write("{")
    for index, (key, value) in enumerate(document.items()):
        out.write(("" if index == 0 else ", ") + dumps(key) + ": ")
        if isinstance(value, Iterator):
            count += _write_json_array(out, value, end="")
        else:
            out.write(dumps(value))
    out.write("}\n")
    return count


def _write_jsonl(out: TextIO, rows: Iterable) -> int:
    count = 0
    for row in rows:
        out.write(dumps(row) + "\n")
        count += 1
    return count


def write_csv(
    out: TextIO,
    rows: Iterable[dict],
    columns: Iterable[str] | Callable | None = None,
    flatten: Callable[[dict], dict] | None = None,
    cells: Callable[[list[str]], Callable[[dict], list]] | None = None,
) -> int:
    """CSV with a header: lists joined as tags are, booleans as true/false, text neutralised."""
    wanted = columns() if callable(columns) else columns
    if cells is not None and wanted is not None:
        header = list(wanted)
        return _write_rows(out, header, map(cells(header), rows))
    if flatten is not None:
        rows = map(flatten, rows)
    if wanted is None:
        rows = list(rows)
        wanted = _columns_of(rows)
    header = list(wanted)
    return _write_rows(out, header, (list(map(row.get, header)) for row in rows))


def _write_rows(out: TextIO, header: list[str], rows: Iterable[list], *, finished: bool = False) -> int:
    """The header, then each row's values (in the header's order) as cells (`finished`: the values are
    the cells already, all text).

    A row none of whose cells holds a comma, a quote or a line break is exactly its cells joined by
    commas, and is written so: the csv module looks up every character of every cell in the line
    terminator, which was a quarter of a large export. Any other row goes through the csv module."""
    first, rest = _first(rows)
    writer = csv.writer(_LineFeeds(out), lineterminator="\r\n")
    writer.writerow(header)
    if first is _END:
        return 0
    commas = len(header) - 1
    lines: list[str] = []
    count = 0
    for row in itertools.chain((first,), rest):
        if finished:
            cells = row
            line = ",".join(cells)
        else:
            cells = _cells(row)
            line = ",".join(map(str, cells))
        count += 1
        if line.count(",") == commas and (line or commas) and '"' not in line and "\n" not in line and "\r" not in line:
            lines.append(line)
            if len(lines) >= _LINES:
                _write_lines(out, lines)
        else:
            _write_lines(out, lines)
            writer.writerow(cells)
    _write_lines(out, lines)
    return count


_LINES = 256  # rows written at once


def _write_lines(out: TextIO, lines: list[str]) -> None:
    """Write the lines, each ending in a line feed, and forget them."""
    if lines:
        lines.append("")
        out.write("\n".join(lines))
        lines.clear()


def _cells(values: list) -> list:
    """`_cell` of each value. This runs once per cell of a million-row export: the commonest cells (None,
    whole numbers, and text that starts with a letter or a digit, which no spreadsheet runs: each of
    `contract.RISKY_STARTS` sorts before "A" and is not a digit) are handled here, the others by `_cell`."""
    return [
        ""
        if value is None
        else value
        if ((kind := value.__class__) is str and (value >= "A" or "0" <= value < ":")) or kind is int
        else _cell(value)
        for value in values
    ]


class _LineFeeds:
    """Rows end in a line feed. The writer is told CR LF, so that it quotes a cell holding a lone
    carriage return (with a plain line feed it would not, and the file would read back broken);
    each row's CR LF then becomes LF (the writer writes one row per call)."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, line: str) -> None:
        self.out.write(line[:-2] + "\n")


def _cell(value: Any) -> Any:
    # Type checks by class, most common first: this runs once per cell of a million-row export.
    if value is None:
        return ""
    kind = value.__class__
    if kind is str:
        return neutralise(value) if value else value
    if kind is bool:
        return "true" if value else "false"
    if kind is float and value.is_integer():
        return f"{value:.2f}"
    if kind is list:
        return neutralise(TAG_SEPARATOR.join(str(item) for item in value))
    if kind is dict:
        return neutralise(dumps(value))
    return value


def _columns_of(rows: list[dict]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


LONG_COLUMNS = ["section", "item", "key", "value"]


def long_rows(document: dict) -> Iterator[dict]:
    """A nested document as CSV rows, one value each: `section`, `item`, `key`, `value`.

    `section` is the path to a value's group (`open`, `stages`, `velocity`), `item` names the entry
    of a list it belongs to (the entry's first text: a stage, a month, a reason) or the name of a named
    entry (`stages: {"Discovery": {...}}`), and `key` is the
    value's own name. `{"open": {"leads": 3}}` gives `open,,leads,3`; `{"stages": [{"stage":
    "Discovery", "leads": 5}]}` gives `stages,Discovery,leads,5`; a top-level number has no section.
    """
    yield from _long([], document)


def _long(path: list[str], value: Any, item: str = "", inner: tuple[str, ...] = ()) -> Iterator[dict]:
    if path and not item and isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        # Named entries (`stages: {Discovery: {...}}`): each name is an item, as in a list of entries.
        for name, entry in value.items():
            yield from _long(path, entry, str(name))
        return
    if isinstance(value, dict):
        for key, nested in value.items():
            if item:
                yield from _long(path, nested, item, inner + (str(key),))
            else:
                yield from _long(path + [str(key)], nested)
        return
    if isinstance(value, list) and value and all(isinstance(entry, dict) for entry in value) and not item:
        for index, entry in enumerate(value, start=1):
            label = next((key for key, nested in entry.items() if isinstance(nested, str)), None)
            name = entry[label] if label is not None else str(index)
            rest = {key: nested for key, nested in entry.items() if key != label}
            yield from _long(path, rest, name)
        return
    if item:
        yield {"section": ".".join(path), "item": item, "key": ".".join(inner), "value": value}
    else:
        yield {"section": ".".join(path[:-1]), "item": "", "key": path[-1] if path else "", "value": value}


def lead_layout(
    field_keys: Callable[[], Iterable[str]],
    extra: Iterable[str] = (),
    values: Callable[[list[str]], Iterable[list]] | None = None,
    texts: Callable[[list[str]], Iterable[list[str]]] | None = None,
) -> Csv:
    """The one CSV layout of a lead: the contract's columns, a `field:KEY` column for every custom
    field in use (`field_keys()`, asked only when CSV is written), then the command's `extra`.
    `values(field_keys)`: the same leads as lists of values under those columns (a long stream's
    cheaper form; `core.views.lead_values`). `texts(field_keys)`: the same leads as their finished cells
    (`core.lead_csv.lead_cells`)."""
    return Csv(
        columns=lambda: csv_columns(field_keys(), extra),
        flatten=flat_lead,
        cells=lead_cells,
        values=None if values is None else lambda header: values(header_field_keys(header)),
        texts=None if texts is None else lambda header: texts(header_field_keys(header)),
    )
