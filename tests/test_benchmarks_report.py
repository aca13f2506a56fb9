"""The benchmark results: a partial run merges into the earlier ones, and a missed goal says why.

No benchmark runs here: rows are made up, the way `harness.row` shapes them.
"""

import json

from benchmarks import report
from benchmarks.missed import WHY_MISSED
from benchmarks.run import _merge


def _row(topic: str, benchmark: str, size: int, cpu_ratio: float, **extra) -> dict:
    return {
        "topic": topic,
        "benchmark": benchmark,
        "size": size,
        "baseline": "sqlite3 shell (same answer)",
        "pipectl_s": 1.0,
        "pipectl_cpu_s": cpu_ratio * 0.1,
        "baseline_s": 0.1,
        "baseline_cpu_s": 0.1,
        "ratio": cpu_ratio,
        "cpu_ratio": cpu_ratio,
        "pipectl_peak_mb": 60.0,
        "baseline_peak_mb": 6.0,
        "baseline_script": "SELECT 1;",
        **extra,
    }


def _previous(path, rows: list[dict], errors: list[dict] | None = None) -> None:
    machine = {"date": "2026-11-28 10:00 UTC", "commit": "old1234"}
    path.write_text(json.dumps({"machine": machine, "rows": rows, "errors": errors or []}))


def test_a_partial_run_replaces_only_the_topics_and_sizes_it_measured(tmp_path):
    earlier = tmp_path / "results.json"
    _previous(
        earlier,
        [
            _row("board", "board", 100_000, 9.0),
            _row("board", "board", 1_000_000, 9.7),
            _row("clean", "clean --dry-run (all six rules)", 100_000, 2.7),
        ],
        [{"topic": "transfer", "size": 1_000_000, "error": "stopped"}],
    )
    stamp = {"commit": "new5678", "date": "2026-11-29 06:00 UTC"}

    merged = _merge(earlier, [_row("board", "board", 100_000, 1.1, run=stamp)], [], ["board"], [100_000])

    by_key = {(item["topic"], item["size"]): item for item in merged["rows"]}
    assert set(by_key) == {("board", 100_000), ("board", 1_000_000), ("clean", 100_000)}
    assert by_key[("board", 100_000)]["cpu_ratio"] == 1.1 and by_key[("board", 100_000)]["run"] == stamp
    # Rows this run did not measure keep their numbers and name the run that did.
    kept = {"commit": "old1234", "date": "2026-11-28 10:00 UTC"}
    assert by_key[("board", 1_000_000)]["cpu_ratio"] == 9.7 and by_key[("board", 1_000_000)]["run"] == kept
    assert by_key[("clean", 100_000)]["run"] == kept
    assert merged["errors"] == [{"run": kept, "topic": "transfer", "size": 1_000_000, "error": "stopped"}]


def test_a_row_that_names_its_run_keeps_it_through_later_merges(tmp_path):
    earlier = tmp_path / "results.json"
    first = {"commit": "abc0001", "date": "2026-11-27 09:00 UTC"}
    _previous(earlier, [_row("clean", "clean --dry-run (all six rules)", 100_000, 2.7, run=first)])

    merged = _merge(
        earlier, [_row("board", "board", 100_000, 1.1, run={"commit": "x", "date": "y"})], [], ["board"], [100_000]
    )

    assert [item["run"] for item in merged["rows"] if item["topic"] == "clean"] == [first]


def test_a_broken_earlier_file_is_replaced_not_merged(tmp_path):
    earlier = tmp_path / "results.json"
    earlier.write_text("{not json")

    merged = _merge(earlier, [_row("board", "board", 100_000, 1.1)], [], ["board"], [100_000])

    assert [item["topic"] for item in merged["rows"]] == ["board"]


def _results(rows: list[dict]) -> dict:
    return {"machine": {"date": "2026-11-29 06:00 UTC", "commit": "new5678"}, "rows": rows, "errors": []}


def test_a_missed_goal_says_what_was_tried_and_where_the_time_goes():
    page = report.markdown(_results([_row("board", "board", 1_000_000, 9.7)]))

    assert "| `board` ≤ 1.2× SQL at 1,000,000 leads | 1,000,000: 9.7× CPU" in page
    section = page.split("### Goals missed: what was tried and where the time goes", 1)[1]
    assert f"- **board**: {WHY_MISSED['board']}" in section.split("## Every measurement")[0]


def test_no_why_section_when_every_measured_goal_is_met():
    page = report.markdown(_results([_row("board", "board", 1_000_000, 1.1)]))

    assert "| `board` ≤ 1.2× SQL at 1,000,000 leads | 1,000,000: 1.1× CPU" in page and "| yes |" in page
    assert "Goals missed" not in page


def test_a_missed_goal_without_an_entry_asks_for_one(monkeypatch):
    monkeypatch.delitem(WHY_MISSED, "board")

    page = report.markdown(_results([_row("board", "board", 1_000_000, 9.7)]))

    assert "- **board**: no entry in `benchmarks/missed.py` yet: add one." in page


def test_rows_from_several_runs_are_named_in_the_header_and_in_their_column():
    old = {"commit": "old1234", "date": "2026-11-28 10:00 UTC"}
    new = {"commit": "new5678", "date": "2026-11-29 06:00 UTC"}
    page = report.markdown(
        _results([_row("board", "board", 100_000, 1.1, run=new), _row("board", "board", 1_000_000, 1.1, run=old)])
    )

    assert "The rows come from 2 runs (`old1234` (2026-11-28 10:00 UTC), `new5678` (2026-11-29 06:00 UTC))" in page
    assert "| `new5678` 2026-11-29 06:00 UTC |" in page and "| `old1234` 2026-11-28 10:00 UTC |" in page


def test_every_entry_of_the_why_mapping_belongs_to_a_goal():
    goals = {benchmark for _what, benchmark, *_rest in report.GOALS} | {
        benchmark for _what, benchmark, *_rest in report.LIMITS
    }
    assert set(WHY_MISSED) <= goals
    assert all(text.strip() and "TODO" not in text for text in WHY_MISSED.values())
