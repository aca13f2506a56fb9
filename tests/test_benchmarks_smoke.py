"""The benchmark suite keeps working: every topic runs at 1,000 leads and pipectl's answers match the SQL's.

Each measurement runs once (`--repeat 1`): this checks the answers and that
RESULTS.md is written, never the timings (those are for `python -m
benchmarks.run` on a quiet machine).
"""

import json
import tempfile
from pathlib import Path

import pytest

from benchmarks import harness
from benchmarks.run import run, topics


@pytest.fixture(autouse=True)
def restore_harness_settings():
    saved = harness.PYCACHE, harness.MAX_REPEAT, harness.INSTALL_TOOLS
    harness.INSTALL_TOOLS = False  # the smoke run never installs sqlite-utils (no network in a test)
    yield
    harness.PYCACHE, harness.MAX_REPEAT, harness.INSTALL_TOOLS = saved


@pytest.mark.skipif(harness.SQLITE3 is None, reason=harness.MISSING_SQLITE3)
def test_every_topic_runs_at_1000_leads_with_matching_answers(tmp_path):
    out = tmp_path / "results"
    # Bytecode compiled once is reused by later runs (as by an installed package).
    results = run(
        [1000], data=tmp_path / "data", out=out, repeat=1, pycache=Path(tempfile.gettempdir()) / "pipectl-bench-pycache"
    )

    assert results["errors"] == [], results["errors"]
    ran = {(item["benchmark"], item["baseline"].split(" ")[0]) for item in results["rows"]}
    for name in (
        "next",
        "board",
        "list --limit 50",
        "list --stale --limit 50",
        "show (single lead)",
        "add (single lead)",
        "move (single lead)",
        "log (single lead)",
        "score (re-score every open lead)",
        "predict --train (learn, score every open lead)",
        "clean --dry-run (all six rules)",
        "metrics --format json",
        "forecast --format json",
        "review",
        "export --format csv (all leads)",
        "export --format jsonl (all leads)",
        "import CSV (all leads, validated, with history)",
    ):
        assert (name, "sqlite3") in ran, f"{name} was not compared with the sqlite3 shell"
    for name in ("show", "add", "move", "log"):
        assert (f"{name} (single lead)", "python") in ran
    assert {item["topic"] for item in results["rows"]} == set(topics())
    assert {item["size"] for item in results["rows"]} == {0, 1000}
    for item in results["rows"]:
        assert item["pipectl_s"] > 0 and item["baseline_s"] > 0 and item["baseline_script"]

    page = (out / "RESULTS.md").read_text()
    assert "## Goals (issue 14)" in page and "## The baselines, exactly" in page and "sqlite3 -bail" in page
    assert json.loads((out / "results.json").read_text())["rows"] == results["rows"]


def test_a_missing_sqlite3_shell_is_named_with_how_to_install_it(monkeypatch, tmp_path, capsys):
    from benchmarks.run import main

    monkeypatch.setattr(harness, "SQLITE3", None)
    assert main(["--sizes", "1000", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Error: ") and "sqlite3" in error and "apt-get install sqlite3" in error
    assert not (tmp_path / "out").exists()
