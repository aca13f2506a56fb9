"""The code passes its linter and its type checker, so `pytest` (the README's test command, and CI) runs both.

Both read their settings from pyproject.toml: `ruff check` lints src, tests, benchmarks and examples;
mypy checks src/pipectl. A tool that is not installed skips its test (`pip install -e '.[test]'`
brings both).
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec(tool) is None:
        pytest.skip(f"{tool} is not installed; `pip install -e '.[test]'` brings it")
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    result = _run("ruff", "format", "--check", "--no-cache")
    assert result.returncode == 0, "run `ruff format`:\n" + result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = _run("mypy")  # its cache (.mypy_cache, ignored by git) makes a second run quick
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout, result.stdout
