"""After `undo`, the search index holds what the data holds again: `db check` finds it clean, and a search
finds exactly what it found before the command (issue 18: "the index matches the data after … undo")."""

import json
from pathlib import Path

import pytest

DEMO = Path(__file__).parent.parent / "src" / "pipectl" / "data" / "demo.jsonl"
LATER = "2026-12-20T09:00:00"  # four weeks on: the archives `clean` made are old enough to purge

# Words the demo holds (names, companies, notes; `acme` is Tim Berners-Lee, whom `clean` archives) and
# words the commands below bring in.
PROBES = ["ada", "lovelace", "northwind", "grace", "globex", "group", "initech", "sparck", "garcia", "proposal", "acme"]
NEW_WORDS = ["zora", "harlem", "quentin", "illustrators", "kierkegaard", "tessellate"]

# name: (steps before, the command undone[, PIPECTL_NOW for both]). Lead 1 is Ada Lovelace at Northwind,
# lead 2 Grace Hopper at Globex (the demo's first two).
CASES = {
    "add": ([], ["add", "Zora Neale", "--company", "Harlem Press", "-t", "tessellate"]),
    "edit name and company": ([], ["edit", "1", "--name", "Quentin Blake", "--company", "Illustrators Ltd"]),
    "log a note": ([], ["log", "2", "call", "--note", "Tessellate the rollout"]),
    "merge": ([["log", "2", "call", "--note", "Tessellate the rollout"]], ["merge", "1", "2"]),
    "clean": ([], ["clean", "--yes"]),
    "restore": ([["clean", "--yes"]], ["restore", "7"]),
    "clean --purge": ([["clean", "--yes"]], ["clean", "--purge", "--older-than", "7d", "--yes"], LATER),
    "import": ([], ["import", "new.csv"]),
}
IMPORT_CSV = (
    "name,company,tags,title\n"
    "Zora Neale,Harlem Press,tessellate,\n"
    "Søren Kierkegaard,Quentin Illustrators,,Head of Tessellation\n"
)


def found(ok, word: str) -> list[dict]:
    return json.loads(ok("search", word, "--status", "all", "--limit", "200", "-f", "json").stdout)


def everything_found(ok) -> dict[str, list[dict]]:
    return {word: found(ok, word) for word in PROBES + NEW_WORDS}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_after_undo_the_index_holds_what_the_data_holds(ok, tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new.csv").write_text(IMPORT_CSV, encoding="utf-8")
    ok("import", DEMO)
    setup, command, *now = case
    for step in setup:
        ok(*step)
    if now:
        monkeypatch.setenv("PIPECTL_NOW", now[0])
    before = everything_found(ok)
    ok(*command)
    assert everything_found(ok) != before, "the command under test changed no search"
    assert ok("db", "check").stdout.startswith("ok:")

    ok("undo")
    assert ok("db", "check").stdout.startswith("ok:")
    assert everything_found(ok) == before


def test_undoing_a_merge_finds_the_other_lead_by_its_own_note_again(ok):
    """The merged lead's note moved to the kept lead and back: each time the search follows it."""
    ok("import", DEMO)
    ok("log", "2", "call", "--note", "Tessellate the rollout")
    assert [hit["id"] for hit in found(ok, "tessellate")] == [2]
    ok("merge", "1", "2")
    assert [(hit["id"], hit["status"]) for hit in found(ok, "tessellate")] == [(1, "open")]
    assert found(ok, "grace")[0]["archived_reason"] == "merged into #1"
    ok("undo")
    assert [(hit["id"], hit["status"]) for hit in found(ok, "tessellate")] == [(2, "open")]
    grace = found(ok, "grace")[0]
    assert (grace["id"], grace["status"], grace["archived_reason"]) == (2, "open", None)
