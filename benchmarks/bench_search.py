"""Searching: `search` against the hand-written FTS5 query in the sqlite3 shell, on the same file.

Example: python -m benchmarks.run --sizes 10000,100000,1000000 --only search

The baseline is the ranking a person would write by hand over pipectl's index (migration 0010):
both FTS5 tables matched with bm25, a lead's own details before its notes, the best 20 leads with
their name, company, stage, status and score. pipectl does that and more (tags, fields, next
action, and where each lead matched). Lead ids are compared before a ratio is reported.
"""

import sys
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import best_of, check_same, row, time_cli, time_shell, time_sqlite3
from pipectl.core.search_query import LEAD_WEIGHTS, NOTE_TIER

# The start-up floor, as bench_single has it: the goal is "under 100 ms beyond start-up".
FLOOR = "import sqlmodel"
FLOOR_NAME = "python -c 'import sqlmodel'"
RUNS = 3

LIMIT = 20
SEARCH_SQL = """SELECT l.id, l.name, l.company, s.name, l.status, l.score
FROM (
  SELECT lead_id, min(rank) AS rank FROM (
    SELECT rowid AS lead_id, bm25(lead_search, {weights}) AS rank FROM lead_search WHERE lead_search MATCH '{query}'
    UNION ALL
    SELECT a.lead_id, {tier} + bm25(activity_search) FROM activity_search
    JOIN activities a ON a.id = activity_search.rowid WHERE activity_search MATCH '{query}'
  ){status} GROUP BY lead_id ORDER BY rank, lead_id LIMIT {limit}
) hits
JOIN leads l ON l.id = hits.lead_id JOIN stages s ON s.id = l.stage_id
ORDER BY hits.rank, hits.lead_id;"""
# `--status`, by hand: the matches' leads joined before they are grouped.
STATUS_SQL = " JOIN leads ls ON ls.id = lead_id WHERE ls.status = '{status}'"
SEARCHES = {
    # benchmark name: the words typed, then options
    "search (a surname: 1 lead in 20)": ["lovelace"],
    "search (a name and surname)": ["ada", "lovelace"],
    "search (a rare word: one lead's email)": ["123456"],
    "search (a prefix)": ["tor"],
    "search (an accented name)": ["Lövelace"],
    "search (a common word: 1 lead in 8)": ["group"],
    "search (a surname, --status won)": ["hopper", "--status", "won"],
    "search (next actions' notes)": ["send", "proposal"],
}


def run(db: Path, size: int) -> list[dict]:
    """Rows for each search: against the same ranking in the sqlite3 shell, and against the start-up floor."""
    rows = []
    for name, typed in SEARCHES.items():
        command = ["search", *typed, "--limit", str(LIMIT), "--format", "json"]
        words, status = (typed[:-2], typed[-1]) if "--status" in typed else (typed, None)
        query = " ".join(f'"{word}"*' for word in words)
        where = STATUS_SQL.format(status=status) if status else ""
        sql = SEARCH_SQL.format(weights=LEAD_WEIGHTS, query=query, tier=NOTE_TIER, limit=LIMIT, status=where)
        # Interleaved, so that the three see the same load on a busy machine.
        runs, shells, floors = [], [], []
        for _attempt in range(min(RUNS, harness.MAX_REPEAT or RUNS)):
            runs.append(time_cli(command, db, repeat=1))
            shells.append(time_sqlite3(db, [sql], repeat=1))
            floors.append(time_shell([sys.executable, "-c", FLOOR], repeat=1))
        pipectl, baseline, floor = best_of(runs), best_of(shells), best_of(floors)
        floor.script = f"python -c {FLOOR!r}"
        check_same(name, [hit["id"] for hit in pipectl.json()], [found[0] for found in baseline.answers[0]])
        line = "pipectl " + " ".join(command)
        rows += [
            row(name, size, pipectl, baseline, "sqlite3 shell (same FTS5 ranking)", command=line),
            row(name, size, pipectl, floor, FLOOR_NAME, command=line),
        ]
    return rows
