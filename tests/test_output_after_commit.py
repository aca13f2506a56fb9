"""A reader that leaves early (`pipectl score | head -2`) never rolls a write back.

Each command runs as a real process whose stdout is a pipe the reader has
already closed, so its first write of data raises a broken pipe. The command
must exit 0 quietly, and what it wrote must be in the database: data is
printed after the commit, never inside the write transaction.
"""

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from benchmarks.generate import generate
from conftest import FIXED_NOW


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("pipe") / "pipeline.db", 300)


@pytest.fixture
def pipeline_copy(generated, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copyfile(generated, copy)
    return copy


def run_into_closed_pipe(db, *args: str) -> subprocess.CompletedProcess:
    """Run `pipectl --db DB ARGS…` with stdout a pipe whose reader is gone before anything is written."""
    env = {**os.environ, "PIPECTL_NOW": FIXED_NOW, "TZ": "UTC", "PIPECTL_DB": str(db)}
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader left: every write to the pipe fails with EPIPE
    try:
        return subprocess.run(
            [sys.executable, "-m", "pipectl", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)


def rows(db, sql: str) -> list[tuple]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


OPEN_SCORES = "SELECT id, score, nurture_since FROM leads WHERE status = 'open' ORDER BY id"


def test_score_into_a_closed_pipe_keeps_the_new_scores(pipeline_copy, tmp_path, generated):
    assert {score for _id, score, _nurture in rows(pipeline_copy, OPEN_SCORES)} == {0}

    result = run_into_closed_pipe(pipeline_copy, "score", "--limit", "0", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    assert "Scored" in result.stderr

    # The same re-score run to the end, with a reader that stays.
    finished = tmp_path / "finished.db"
    shutil.copyfile(generated, finished)
    complete = subprocess.run(
        [sys.executable, "-m", "pipectl", "--db", str(finished), "score", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIPECTL_NOW": FIXED_NOW, "TZ": "UTC"},
    )
    assert complete.returncode == 0, complete.stderr
    stored = rows(pipeline_copy, OPEN_SCORES)
    assert stored == rows(finished, OPEN_SCORES)
    assert any(score > 0 for _id, score, _nurture in stored)


def test_scoring_one_lead_into_a_closed_pipe_keeps_its_score(pipeline_copy):
    lead_id = rows(pipeline_copy, "SELECT min(id) FROM leads WHERE status = 'open'")[0][0]
    result = run_into_closed_pipe(pipeline_copy, "score", str(lead_id), "--explain", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert rows(pipeline_copy, f"SELECT score > 0 FROM leads WHERE id = {lead_id}") == [(1,)]


def test_score_apply_into_a_closed_pipe_keeps_the_moves(pipeline_copy):
    # A minimum score on the second stage that some open leads in the first one reach.
    connection = sqlite3.connect(pipeline_copy)
    with connection:
        connection.execute("UPDATE stages SET min_score = 1 WHERE position = 2")
    connection.close()
    before = rows(pipeline_copy, "SELECT count(*) FROM activities WHERE kind = 'stage_change'")[0][0]
    result = run_into_closed_pipe(pipeline_copy, "score", "--apply", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("Moved ") and not result.stderr.startswith("Moved 0 ")
    assert rows(pipeline_copy, "SELECT count(*) FROM activities WHERE kind = 'stage_change'")[0][0] > before


def test_clean_into_a_closed_pipe_keeps_the_archive(pipeline_copy):
    archived = "SELECT count(*) FROM leads WHERE status = 'archived'"
    before = rows(pipeline_copy, archived)[0][0]
    result = run_into_closed_pipe(pipeline_copy, "clean", "--yes", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert rows(pipeline_copy, archived)[0][0] > before


def test_add_and_forecast_save_into_a_closed_pipe_keep_their_writes(pipeline_copy):
    result = run_into_closed_pipe(pipeline_copy, "add", "Closed Pipe Ltd")
    assert result.returncode == 0, result.stderr
    assert rows(pipeline_copy, "SELECT count(*) FROM leads WHERE name = 'Closed Pipe Ltd'") == [(1,)]

    result = run_into_closed_pipe(pipeline_copy, "forecast", "--quota", "50k", "--save", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert rows(pipeline_copy, "SELECT count(*) FROM settings WHERE value LIKE '%5000000%'") == [(1,)]
