"""The benchmark suite keeps working: every topic runs at 1,000 leads and pipectl's answers match the SQL's.

Each topic is a test of its own (one `python -m benchmarks.run --only TOPIC`), so the topics run in
parallel on xdist's workers instead of one after another in one long test; each worker generates the
1,000-lead pipeline and warms the bytecode cache once, and its topics reuse them. Each measurement
runs once (`--repeat 1`): this checks the answers and that RESULTS.md is written, never the timings
(those are for `python -m benchmarks.run` on a quiet machine).
"""

import json
import tempfile
from pathlib import Path

import pytest

from benchmarks import harness, run as bench_run
from benchmarks.run import run, topics

# The benchmarks each topic must compare with the sqlite3 shell (at least these; a topic may have more).
COMPARED_WITH_SQLITE3 = {
    "agenda": ["next"],
    "board": ["board"],
    "leads": ["list --limit 50", "list --stale --limit 50"],
    "single": ["show (single lead)", "add (single lead)", "move (single lead)", "log (single lead)"],
    "score": ["score (re-score every open lead)"],
    "predict": ["predict --train (learn, score every open lead)"],
    "clean": ["clean --dry-run (all six rules)"],
    "metrics": ["metrics --format json", "forecast --format json"],
    "review": ["review"],
    "transfer": [
        "export --format csv (all leads)",
        "export --format jsonl (all leads)",
        "import CSV (all leads, validated, with history)",
    ],
}
# …and with the start-up floor (`python -c 'import sqlmodel'`).
COMPARED_WITH_PYTHON = {
    "single": ["show (single lead)", "add (single lead)", "move (single lead)", "log (single lead)"]
}


@pytest.fixture(autouse=True)
def restore_harness_settings():
    saved = harness.PYCACHE, harness.MAX_REPEAT, harness.INSTALL_TOOLS
    harness.INSTALL_TOOLS = False  # the smoke run never installs sqlite-utils (no network in a test)
    yield
    harness.PYCACHE, harness.MAX_REPEAT, harness.INSTALL_TOOLS = saved


@pytest.fixture(scope="session")
def bench_data(tmp_path_factory) -> Path:
    """This worker's data folder: the generated 1,000-lead pipeline is built there once and reused."""
    return tmp_path_factory.mktemp("bench-data")


_warmed: list[bool] = []


@pytest.fixture
def warm_once(monkeypatch):
    """run() warms the bytecode cache before measuring; once per worker is enough (the cache is shared)."""
    real = bench_run._warm_up

    def once() -> None:
        if not _warmed:
            real()
            _warmed.append(True)

    monkeypatch.setattr(bench_run, "_warm_up", once)


def test_the_expectations_name_only_real_topics():
    assert set(COMPARED_WITH_SQLITE3) <= set(topics()) and set(COMPARED_WITH_PYTHON) <= set(topics())
    assert len(topics()) >= 15


@pytest.mark.skipif(harness.SQLITE3 is None, reason=harness.MISSING_SQLITE3)
@pytest.mark.parametrize("topic", topics())
def test_every_topic_runs_at_1000_leads_with_matching_answers(topic, bench_data, warm_once, tmp_path):
    import importlib

    out = tmp_path / "results"
    # Bytecode compiled once is reused by later runs (as by an installed package).
    results = run(
        [1000],
        only=[topic],
        data=bench_data,
        out=out,
        repeat=1,
        pycache=Path(tempfile.gettempdir()) / "pipectl-bench-pycache",
    )

    assert results["errors"] == [], results["errors"]
    ran = {(item["benchmark"], item["baseline"].split(" ")[0]) for item in results["rows"]}
    for name in COMPARED_WITH_SQLITE3.get(topic, []):
        assert (name, "sqlite3") in ran, f"{name} was not compared with the sqlite3 shell"
    for name in COMPARED_WITH_PYTHON.get(topic, []):
        assert (name, "python") in ran, f"{name} was not compared with the start-up floor"
    assert {item["topic"] for item in results["rows"]} == {topic}
    module = importlib.import_module(f"benchmarks.bench_{topic}")
    if getattr(module, "ONLY_EMPTY", False):
        sizes = {0}
    elif getattr(module, "RUNS_ON_EMPTY", False):
        sizes = {0, 1000}
    else:
        sizes = {1000}
    assert {item["size"] for item in results["rows"]} == sizes
    for item in results["rows"]:
        assert item["pipectl_s"] > 0 and item["baseline_s"] > 0 and item["baseline_script"]

    page = (out / "RESULTS.md").read_text()
    assert "## Goals (issue 14)" in page and "## The baselines, exactly" in page
    # Every kind of baseline is written out (the page shows one script per benchmark and baseline).
    for item in results["rows"]:
        assert item["baseline_script"].strip().splitlines()[0] in page
    if topic in COMPARED_WITH_SQLITE3:
        assert "sqlite3 -bail" in page
    assert json.loads((out / "results.json").read_text())["rows"] == results["rows"]


def test_a_missing_sqlite3_shell_is_named_with_how_to_install_it(monkeypatch, tmp_path, capsys):
    from benchmarks.run import main

    monkeypatch.setattr(harness, "SQLITE3", None)
    assert main(["--sizes", "1000", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Error: ") and "sqlite3" in error and "apt-get install sqlite3" in error
    assert not (tmp_path / "out").exists()
