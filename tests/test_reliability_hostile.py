"""Hostile input: each failure a user can cause gives one `Error:` line, exit 1 or 2, and changes nothing.

The findings of issue 12 one by one, then a bounded run of the fuzz generator
in benchmarks/fuzz.py (hostile files, hostile paths, damaged databases); the
long run is `python -m benchmarks.fuzz --runs 5000 --seed N`.
"""

import json
import os
import sys
from pathlib import Path

import pytest

from backends import execute

ROOT = Path(__file__).resolve().parents[1]
FUZZ_RUNS = 200


def _refused(result, before, snapshot, code: int | None = None) -> str:
    """One Error line, exit 1 or 2 (or `code`), and every row as it was; returns the message."""
    assert result.exit_code == code if code is not None else result.exit_code in (1, 2), result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert snapshot() == before
    return errors[0]


@pytest.fixture
def before(new_lead, snapshot):
    new_lead("Existing", "--company", "Ltd", "--value", "1k")
    return snapshot()


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "name,data,words",
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("deep.jsonl", b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "nested too deeply"),
        ("size.json", b'[{"name": "Huge", "company_size": 100000000000000000000000000}]', "company_size"),
        ("value.json", b'[{"name": "Inf", "value": 1e400}]', "amount"),
        ("surrogate.json", b'[{"name": "S\\ud800x"}]', "surrogate"),
        ("nul.csv", b"name,company\n\x00\x00,X\n", "control character"),
    ],
)
def test_hostile_import_files_are_refused_whole(cli, tmp_path, before, snapshot, name, data, words):
    message = _refused(cli("import", _file(tmp_path, name, data)), before, snapshot)
    assert words in message or words in cli("import", _file(tmp_path, name, data)).stderr


def test_a_hostile_row_is_rejected_alone_with_skip_invalid(ok, tmp_path, before, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the rejects file is written to the current folder
    rows = [
        {"name": "Fine"},
        {"name": "Huge", "company_size": 10**26},
        {"name": "Inf", "value": float("inf")},
        {"name": "S\ud800x"},
    ]
    source = tmp_path / "mixed.json"
    source.write_text(json.dumps(rows), encoding="utf-8")
    ok("import", source, "--skip-invalid")
    names = [lead["name"] for lead in json.loads(ok("list", "--format", "json").stdout)]
    assert sorted(names) == ["Existing", "Fine"]
    rejected = (tmp_path / "mixed.json.rejects.csv").read_text(encoding="utf-8")
    assert "\\ud800" in rejected and "Huge" in rejected


def test_non_utf8_on_stdin_after_the_first_64_kb(cli, before, snapshot):
    data = b"name\n" + b"Plain\n" * 12_000 + b"Bad \xff\xfe\n"
    message = _refused(cli("import", "-", "--format", "csv", input=data), before, snapshot, 1)
    assert "stdin is not valid UTF-8 after the first 64 KB" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file(cli, tmp_path, before, snapshot):
    locked = _file(tmp_path, "locked.csv", b"name\nA\n")
    locked.chmod(0)
    _refused(cli("import", locked), before, snapshot, 1)
    _refused(cli("rules", "load", locked), before, snapshot, 1)


@pytest.mark.parametrize(
    "data,words",
    [
        (b"[thresholds]\nmql = " + b"9" * 5000 + b"\n", "thousands of digits"),
        (b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
        (b"[thresholds]\nmql = 1e400\n", "finite"),
    ],
)
def test_hostile_rules_files(cli, tmp_path, before, snapshot, data, words):
    message = _refused(cli("rules", "load", _file(tmp_path, "rules.toml", data)), before, snapshot, 1)
    assert words in message or words in cli("rules", "load", tmp_path / "rules.toml").stderr


def test_rules_from_stdin_that_is_not_utf8(cli, before, snapshot):
    _refused(cli("rules", "load", "-", input=b"[thresholds]\nmql = 30\n\xff\n"), before, snapshot, 1)


@pytest.mark.parametrize(
    "args",
    [
        ["show", "1", "--activities", str(10**30)],
        ["add", "Big", "--size", str(10**26)],
        ["add", "Big", "--value", "1e400"],
        ["list", "--limit", str(10**30)],
    ],
)
def test_huge_numbers_on_the_command_line(cli, before, snapshot, args):
    _refused(cli(*args), before, snapshot)


@pytest.mark.parametrize("name", ["\x00", "\x00\x00\x00", "a\x00b", "\x1b\x07", "\x07\x08\x7f", " \x1b ", "x\ud800"])
def test_names_of_nul_or_only_control_characters_or_surrogates_are_refused(cli, before, snapshot, name):
    _refused(cli("add", "--", name), before, snapshot, 2)
    _refused(cli("edit", "1", "--name", name), before, snapshot, 2)


def test_a_name_holding_an_escape_sequence_is_refused_and_a_title_keeps_it_exactly(cli, ok):
    """Names are plain text (issue 13); other fields are stored and given back as typed, shown made visible."""
    refused = cli("add", "Mallory\x1b[2J Evil")
    assert refused.exit_code == 2 and "control character" in refused.stderr
    title = "CTO\x1b[2J Evil"
    lead = int(ok("add", "Mallory", "--title", title).stdout.strip())
    assert json.loads(ok("show", str(lead), "--format", "json").stdout)["title"] == title


def test_an_empty_db_option_is_a_usage_error(cli, before, snapshot):
    _refused(cli("--db", "", "list"), before, snapshot, 2)
    _refused(cli("list", "--db", ""), before, snapshot, 2)
    _refused(cli("--db", "a\x00b.db", "list"), before, snapshot, 2)


def test_json_lists_and_objects_in_custom_fields_come_back_as_json(ok, tmp_path):
    fields = {"list": [1, "two", [3]], "object": {"a": 1, "b": [True, None]}, "text": "plain"}
    source = tmp_path / "fields.json"
    source.write_text(json.dumps([{"name": "Fields", "fields": fields}]), encoding="utf-8")
    ok("import", source)
    stored = json.loads(ok("show", "Fields", "--format", "json").stdout)["fields"]
    assert {key: json.loads(value) for key, value in stored.items() if key != "text"} == {
        "list": fields["list"],
        "object": fields["object"],
    }
    exported = ok("export", "--format", "jsonl").stdout.splitlines()
    assert json.loads(exported[0])["fields"] == stored
    # Export and import again: the same text, not a repr of a repr.
    again = tmp_path / "again.jsonl"
    again.write_text("\n".join(exported) + "\n", encoding="utf-8")
    ok("--db", tmp_path / "other.db", "import", again)
    shown = json.loads(ok("--db", tmp_path / "other.db", "show", "Fields", "--format", "json").stdout)
    assert shown["fields"] == stored


# --- the fuzz generator, bounded -------------------------------------------------------------------


def test_fuzzed_hostile_files_paths_and_damaged_databases(tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.fuzz import run
    finally:
        sys.path.remove(str(ROOT))
    report = run(FUZZ_RUNS, seed=12)
    assert report["broken"] == []
    kinds = {key.split()[0] for key in report["counts"]}
    assert kinds >= {"import", "output", "backup", "damaged", "stdin", "rules", "dry"}
    # The damaged copies really were refused somewhere, and the good cases really ran.
    assert any(key.startswith("damaged exit 1") for key in report["counts"])
    assert any(key.endswith("exit 0") for key in report["counts"])


def test_line_breaks_in_user_text_cannot_write_markdown_blocks(ok, new_lead, db_location):
    """A name, company or note with line breaks stays inside its bullet in `review --format md`.

    Names and companies refuse line breaks now, but a database kept from 0.1 may hold them."""
    lead = new_lead("Eve", "--company", "Evil", "--at", "2026-11-20")
    execute(
        db_location,
        "UPDATE leads SET name = :name, company = :company WHERE id = :id",
        parameters={"name": "Eve\n# Owned", "company": "Evil\n- injected bullet", "id": lead},
    )
    ok("lost", lead, "--reason", "price\n\n## Fake heading\r\n> quote", "--at", "2026-11-21")
    out = ok("review", "--format", "md").stdout
    lines = out.splitlines()
    assert not any(line.startswith(("# Owned", "- injected", "## Fake", "> quote")) for line in lines)
    headings = [line for line in lines if line.startswith("#")]
    assert all(line.startswith(("# Pipeline review", "## ")) and "Fake" not in line for line in headings)
    assert "Eve ⏎ # Owned" in out
