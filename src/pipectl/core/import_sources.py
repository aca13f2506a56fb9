"""Reading an import file: CSV (delimiter and encoding sniffed), JSON or JSON Lines, from a path or stdin.

Records come out one at a time with the row number a person would look for:
in a CSV the header is row 1 and the first data row is row 2, as a
spreadsheet shows it; in JSON Lines it is the line number; in a JSON array
the item's position (1-based). JSON Lines and CSV stream; a JSON document is
read whole, so large files are better given as JSON Lines.
"""

import codecs
import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl.errors import PipectlError, UsageError

FORMATS = ("csv", "json", "jsonl")
SAMPLE_BYTES = 64 * 1024
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass
class Record:
    """One row of the file: its number, its kind (`lead`, `activity`, `settings` or none) and its cells."""

    number: int
    kind: str
    cells: dict


@dataclass
class Source:
    """An opened import file: its format, columns (for CSV), and its records as an iterator."""

    name: str
    format: str
    encoding: str
    headers: list[str]
    records: Iterator[Record]
    warnings: list[str] = field(default_factory=list)
    size: int | None = None  # bytes, when known (for the progress bar)
    position: Callable[[], int] = lambda: 0  # bytes read so far


class _Prefixed(io.RawIOBase):
    """A stream that gives back an already-read sample before the rest (stdin cannot seek)."""

    def __init__(self, head: bytes, rest):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size], self._head = self._head[:size], self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class BadFile(PipectlError):
    """The file cannot be read as an import: missing, empty, malformed (a refused action, exit 1)."""


def open_source(path: str, fmt: str | None = None) -> Source:
    """Open `path` (`-` for stdin) and work out its format and encoding."""
    if path == "-":
        raw = getattr(sys.stdin, "buffer", None) or io.BytesIO(sys.stdin.read().encode())
        name, size = "stdin", None
    else:
        file = Path(path)
        if not file.is_file():
            raise BadFile(
                f"There is no file {path!r}; give the path of a CSV, JSON or JSON Lines file, or - for stdin."
            )
        try:
            # Not a `with`: the file stays open while the records stream out of it, and goes with them.
            raw, name, size = open(file, "rb"), str(file), file.stat().st_size  # noqa: SIM115
        except OSError as error:
            raise BadFile(f"Cannot read {path}: {error.strerror or error}.") from None
    sample = raw.read(SAMPLE_BYTES)
    stream: io.BufferedReader[Any] = io.BufferedReader(_Prefixed(sample, raw), buffer_size=SAMPLE_BYTES)
    fmt = fmt or _format_of(path, sample)
    if fmt not in FORMATS:
        raise UsageError(f"--format is one of {', '.join(FORMATS)}, not {fmt!r}.")
    warnings: list[str] = []
    encoding = _encoding_of(sample, raw if path != "-" else None, warnings, name)
    if path != "-":
        raw.seek(0)
        stream = io.BufferedReader(raw, buffer_size=SAMPLE_BYTES)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    position = (lambda: raw.tell()) if path != "-" else (lambda: 0)
    if fmt == "csv":
        headers, records = _csv_records(text, sample.decode(encoding, errors="replace"))
    elif fmt == "jsonl":
        headers, records = [], _jsonl_records(text)
    else:
        headers, records = [], _json_records(text)
    return Source(
        name=name,
        format=fmt,
        encoding=encoding,
        headers=headers,
        records=_readable(records, name),
        warnings=warnings,
        size=size,
        position=position,
    )


def _readable(records: Iterator[Record], name: str) -> Iterator[Record]:
    """The records, with a file that turns out unreadable half-way refused in words, not a traceback."""
    try:
        yield from records
    except UnicodeDecodeError as error:
        # From a path the whole file is checked up front; stdin can only be sampled (its first 64 KB).
        where = " after the first 64 KB" if name == "stdin" else ""
        raise BadFile(
            f"{name} is not valid UTF-8{where} ({error.reason}); convert it to UTF-8, "
            "or save it to a file and import the file."
        ) from None
    except RecursionError:
        raise BadFile(
            f"{name} is nested too deeply (lists or objects hundreds of levels down); pipectl reads flat records."
        ) from None
    except OSError as error:
        raise BadFile(f"Cannot read {name}: {error.strerror or error}.") from None


def _format_of(path: str, sample: bytes) -> str:
    suffix = Path(path).suffix.lower() if path != "-" else ""
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    text = sample.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        first_line = text.split("\n", 1)[0]
        try:
            json.loads(first_line)
            return "jsonl"
        except ValueError:
            return "json"
    return "csv"


def _encoding_of(sample: bytes, raw, warnings: list[str], name: str) -> str:
    """UTF-8 (with or without a BOM); otherwise Windows-1252 or Latin-1, with a warning."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        if raw is None:
            decoder.decode(sample[:-4] if len(sample) == SAMPLE_BYTES else sample)
        else:
            raw.seek(0)
            while chunk := raw.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        warnings.append(f"{name} is not UTF-8; read it as {encoding}. Check accented names after the import.")
        return encoding
    return "latin-1"


def _csv_records(text: io.TextIOBase, sample: str) -> tuple[list[str], Iterator[Record]]:
    try:
        dialect = csv.Sniffer().sniff(
            sample.split("\n", 20)[0] if sample.count("\n") < 2 else "\n".join(sample.split("\n")[:20]),
            delimiters=",;\t|",
        )
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(text, delimiter=delimiter)
    try:
        headers = [header.strip().lstrip("\ufeff") for header in next(reader)]
    except StopIteration:
        raise BadFile("The file is empty; it needs a header row and at least one row.") from None
    except csv.Error as error:
        raise BadFile(f"Cannot read the CSV header: {error}.") from None
    if len(set(headers)) != len(headers):
        repeated = sorted({header for header in headers if headers.count(header) > 1})
        raise BadFile(
            f"The header repeats the column(s) {', '.join(map(repr, repeated))}; "
            "rename them so each column has one name."
        )

    def records() -> Iterator[Record]:
        number = 1
        try:
            for cells in reader:
                number += 1
                if not any(cell.strip() for cell in cells):
                    continue
                # A short row leaves its last columns out; cells past the header are dropped.
                yield Record(number, "", dict(zip(headers, cells, strict=False)))
        except csv.Error as error:
            raise BadFile(f"Row {number + 1}: the CSV is malformed ({error}).") from None

    return headers, records()


def _typed(item: dict, number: int) -> Record:
    if not isinstance(item, dict):
        raise BadFile(f"Row {number}: expected a JSON object, found {type(item).__name__}.")
    kind = item.get("type")
    if kind in ("lead", "activity", "settings"):
        item = {key: value for key, value in item.items() if key != "type"}
        return Record(number, kind, item)
    return Record(number, "", item)


def _jsonl_records(text: io.TextIOBase) -> Iterator[Record]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            raise BadFile(f"Line {number} is not valid JSON ({error.args[0] if error.args else error}).") from None
        yield _typed(item, number)


def _json_records(text: io.TextIOBase) -> Iterator[Record]:
    try:
        document = json.load(text)
    except ValueError as error:
        raise BadFile(f"The file is not valid JSON ({error}).") from None
    if isinstance(document, dict) and ({"leads", "activities"} & document.keys()):
        if isinstance(document.get("settings"), dict):
            yield Record(1, "settings", document["settings"])
        for kind, key in (("lead", "leads"), ("activity", "activities")):
            for number, item in enumerate(document.get(key) or [], start=1):
                record = _typed(item, number)
                record.kind = kind
                yield record
        return
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise BadFile('The JSON must be an array of objects, one object, or {"leads": […], "activities": […]}.')
    for number, item in enumerate(document, start=1):
        yield _typed(item, number)
