"""What was tried, and where the time goes, for each issue-14 goal the suite may report missed.

Example: WHY_MISSED["board"]  →  "Tried: … Where the time goes: …"

report.py prints the entry of every goal the results mark missed, under the
goals table, so RESULTS.md says why next to the number. Keys are benchmark
names (report.GOALS and report.LIMITS). Keep each entry short and measured:
say what was changed, and split the remaining CPU time into start-up, SQLite's
own work and pipectl's per-row Python, with the run and size it was measured
at. Update an entry when a change moves its numbers; remove it when its goal
is met for good.
"""

_STARTUP = (
    "Tried: single-lead commands find their lead through core.lookup without building the lead-validation "
    "model, load the re-scoring SQL only where a command marks a lead, run the stale rules only for an open "
    "lead, import difflib only for a suggestion, and check the schema on SQLite with one query (alembic is "
    "imported only to create or upgrade); a test pins each in a fresh interpreter. Measured in-process after "
    "`import sqlmodel` (12 interleaved rounds, loaded machine): show 240 → 220 ms, add 193 → 183 ms, log "
    "181 → 174 ms (min). Where the time goes, for `show` beyond the `import sqlmodel` floor (about 0.40 s on a "
    "quiet machine): building the SQLModel table classes 64–71 ms, typer's parameter parsing code 24–36 ms, "
    "the scoring rules' pydantic models 31–50 ms (the nurture threshold), Rich 33 ms to import and 12 ms to "
    "draw, SQLAlchemy's SQLite dialect 12–20 ms; then the run: SQLAlchemy compiling 16 statements 31–45 ms "
    "(every new process compiles again), the stale-reason queries 35–40 ms, the first ORM query setting up "
    "the mappers 12 ms. Writes add the journal's statements and the re-scoring UPDATE (about 20 ms to build). "
    "1.15× leaves about 60 ms beyond the floor: only single-lead paths written in SQLAlchemy Core or plain "
    "SQL, without the ORM's models, would fit in it."
)


WHY_MISSED: dict[str, str] = {
    "board": (
        "Tried: the column totals counted inside the (stage_id, status, value_cents, score) index by naming "
        "the open stages (before, `status = 'open'` read every open lead's row through a status index and "
        "sorted them by stage: 3.3 of the board's 3.5 s of SQL at 1,000,000 leads, cold cache), checked by a "
        "query-plan test; the cards were already a LIMIT per stage from that index. Measured side by side on "
        "a loaded machine at 1,000,000 leads: 1.36 s CPU before, 1.04 s after, the sqlite3 shell 0.14 s. "
        "Where the time goes now: the totals query costs what the baseline's does (0.08 s CPU in the shell), "
        "the stalled marks' won-lead averages about 0.1 s; the rest is start-up: the `import sqlmodel` floor "
        "(0.48 s on a quiet machine, 0.6 s on that loaded one), pipectl's own imports (about 0.2 s more: the "
        "models, scoring) and building the twenty-odd statements through SQLAlchemy. A goal of 1.2× a 0.1 s "
        "baseline lies below the floor of any Python process: the 'beyond the start-up floor' figure is the "
        "one this command can still move."
    ),
    "clean --dry-run (all six rules)": (
        "Tried: the rules run window by window of ids with their queries built once (flat memory, 65 MB), "
        "and each rule's query was compared with the baseline's (no-response already walks each lead's "
        "activities by (lead_id, at), its last answer looked up once per lead). Reading the rows straight "
        "from the driver instead of SQLAlchemy's rows saved nothing measurable. Where the time goes, at "
        "100,000 leads (50,110 flagged): the seven rule queries take 0.72 s CPU in SQLite (the baseline's "
        "single UNION 0.75 s), building each flagged lead's reasons from the rule rows about 0.3 s, the "
        "output dicts and JSON 0.15 s, start-up about 0.65 s. At 1,000,000 leads the per-lead Python "
        "(about 4.5 s) is what stands above 1.5×: meeting it means the reasons' text made in SQL and fewer "
        "layers per lead, not faster queries."
    ),
    "export --format csv (all leads)": (
        "Tried: plain rows (no ORM objects), tags and fields in the same statement, each instant formatted "
        "once from cached hour texts, a CSV line written without the csv module when no cell needs quoting "
        "(`csv.writer.writerows` on the same cells measured 0.83 s against 0.44 s for joining them); then "
        "(`core.lead_csv`) the cells made in the query: text guarded against formulas in SQL, counts as "
        "text, one primary-key lookup per custom field instead of a JSON object, so Python formats only "
        "the instants, the money and the tags. Measured side by side at 100,000 leads on a loaded machine "
        "(best of 5, CPU): the shell 0.80 s, pipectl 3.08 s before, 2.43 s after (3.0×; medians 0.84, "
        "3.64 and 2.63 s: 3.1×). Where the time goes now: SQLite's query 0.7 s CPU (the guards add 0.15 s "
        "to the old 0.57 s), Python's row objects from the driver about 0.4 s, the instants, money and tags "
        "about 0.4 s (eight instants a lead, two cache lookups each), the lines about 0.2 s, start-up "
        "about 0.6 s."
    ),
    "export --format jsonl (all leads)": (
        "Tried: as for CSV, plus one shared JSON encoder. Where the time goes, at 100,000 leads: SQLite's "
        "query 0.8 s CPU, making each lead's dict (contract keys, BANT block) about 0.75 s, `json` encoding "
        "about 19 µs a lead (1.9 s; the C encoder with ensure_ascii=False, which the output format needs, "
        "is 40 % slower than with escapes), start-up about 0.65 s."
    ),
    "import CSV (all leads, validated, with history)": (
        "Tried: leads, tags and custom fields written by executemany straight to the driver with ids chosen "
        "up front, each row's keys folded once, duplicates looked up only for keys a fixed-size bitmap has "
        "seen, an empty pipeline's indexes set aside and built once, rows streamed in batches (flat memory). "
        "Where the time goes, measured on 10,000 rows (CPU, same file, same empty pipeline): 4.1 s in all, of "
        "which the search index's triggers take 1.9 s (the same import with them dropped: 2.0 s) because a "
        "lead's search document is written by its insert and written again by every tag and custom field "
        "inserted after it; then validating each row (dates, money, BANT, custom fields: about 1 s) and "
        "start-up (0.6 s). At 1,000,000 rows the same split holds (CPU 1.82× sqlite-utils's, 663 s of wall "
        "time on a loaded machine, memory flat at 95 MB): 60 s is out of reach while every row pays the search "
        "index's triggers. The journal costs nothing measurable (its goal row). Next step, not taken: on an "
        "import into an empty pipeline, set the search triggers aside like the indexes and index the "
        "imported ids with one INSERT … SELECT per index before the commit, in the same transaction."
    ),
    **{f"{name} (single lead)": _STARTUP for name in ("show", "move", "log")},
    "add (single lead)": _STARTUP
    + (
        " At 1,000,000 leads `add` costs 0.7 s more than at 10,000: the warning about a company another seller "
        "works (issue 17) counts open owned leads at the new lead's company, and with no index led by "
        "`company_key` SQLite walks every owned open lead through (status, owner_key, score). An index on "
        "`leads(company_key)` (a migration) is the fix, not made in this run."
    ),
}
