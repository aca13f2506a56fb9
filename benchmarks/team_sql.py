"""The hand-written SQL benchmarks/team_load.py measures the team commands against, per backend.

Each script does what the pipectl command writes, in one transaction: the owner on the lead (and
`updated_at`), one `assignments` row and one `assigned` activity per lead handed out, and for
round-robin the turn counter advanced by the number handed out, whose old value says whose turn
is first (owners in name order, as `core/owners.loads` lists them). Two things pipectl does are left
out because they do not change the answer here: the re-score of the touched leads (the default
rules do not read the owner: the scores are compared and stay equal) and the undo journal (the
journal triggers only write while a pipectl command is running). So the ratio counts them against
pipectl.
"""

from benchmarks.generate import NOW_TS

ACTOR = "seller0"
# The candidates, best score first (ties: the oldest), as `claim --next` and round-robin order them.
OPEN_UNOWNED = "FROM leads WHERE status = 'open' AND owner_key IS NULL ORDER BY score DESC, id"


def _limit(limit: int | None) -> str:
    return f" LIMIT {limit}" if limit is not None else ""


def claim_sqlite(lead_id: int | None) -> list[str]:
    """`claim ID` (lead_id) or `claim --next` (None) by ACTOR, for the sqlite3 shell."""
    pick = f"SELECT id FROM leads WHERE id = {lead_id}" if lead_id is not None else f"SELECT id {OPEN_UNOWNED} LIMIT 1"
    return [
        "BEGIN IMMEDIATE;",
        f"SELECT paused FROM owners WHERE name_key = '{ACTOR}';",
        f"CREATE TEMP TABLE pick AS {pick};",
        f"UPDATE leads SET owner = '{ACTOR}', owner_key = '{ACTOR}', updated_at = {NOW_TS} "
        "WHERE id IN (SELECT id FROM pick) AND status = 'open' AND owner_key IS NULL;",
        f"INSERT INTO assignments (lead_id, owner_key, at) SELECT id, '{ACTOR}', {NOW_TS} FROM pick;",
        "INSERT INTO activities (lead_id, kind, at, note, done, data, recorded_at) "
        f"SELECT id, 'assigned', {NOW_TS}, 'to {ACTOR} (claim)', 1, "
        f"json_object('to', '{ACTOR}', 'from', NULL, 'how', 'claim'), {NOW_TS} FROM pick;",
        "COMMIT;",
    ]


def claim_postgres(lead_id: int | None) -> str:
    """The same for psql: the candidate taken FOR UPDATE SKIP LOCKED, as pipectl does."""
    pick = (
        f"SELECT id FROM leads WHERE id = {lead_id} FOR UPDATE"
        if lead_id is not None
        else f"SELECT id {OPEN_UNOWNED} LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    return f"""BEGIN;
SELECT paused FROM owners WHERE name_key = '{ACTOR}';
WITH pick AS ({pick}),
handed AS (
    UPDATE leads SET owner = '{ACTOR}', owner_key = '{ACTOR}', updated_at = {NOW_TS} FROM pick
    WHERE leads.id = pick.id AND leads.status = 'open' AND leads.owner_key IS NULL RETURNING leads.id
),
assigned AS (INSERT INTO assignments (lead_id, owner_key, at) SELECT id, '{ACTOR}', {NOW_TS} FROM handed)
INSERT INTO activities (lead_id, kind, at, note, done, data, recorded_at)
SELECT id, 'assigned', {NOW_TS}, 'to {ACTOR} (claim)', true,
       json_build_object('to', '{ACTOR}', 'from', NULL, 'how', 'claim'), {NOW_TS} FROM handed;
COMMIT;
"""


def round_robin_sqlite(limit: int | None) -> list[str]:
    """`assign --round-robin [--limit N]` for the sqlite3 shell: lead n of the candidates goes to
    owner (turn + n) mod owners, turn being the counter before it is advanced."""
    return [
        "BEGIN IMMEDIATE;",
        "CREATE TEMP TABLE team AS SELECT name, name_key, row_number() OVER (ORDER BY name_key) - 1 AS k "
        "FROM owners WHERE paused = 0;",
        f"CREATE TEMP TABLE pick AS SELECT id, row_number() OVER (ORDER BY score DESC, id) - 1 AS n "
        f"FROM (SELECT id, score {OPEN_UNOWNED}{_limit(limit)});",
        "CREATE TEMP TABLE turn AS SELECT value AS start FROM counters WHERE name = 'round_robin';",
        "UPDATE counters SET value = value + (SELECT count(*) FROM pick) WHERE name = 'round_robin';",
        "CREATE TEMP TABLE handed AS SELECT p.id, t.name, t.name_key FROM pick p, turn, team t "
        "WHERE t.k = (turn.start + p.n) % (SELECT count(*) FROM team);",
        f"UPDATE leads SET owner = h.name, owner_key = h.name_key, updated_at = {NOW_TS} FROM handed h "
        "WHERE leads.id = h.id AND leads.owner_key IS NULL;",
        f"INSERT INTO assignments (lead_id, owner_key, at) SELECT id, name_key, {NOW_TS} FROM handed;",
        "INSERT INTO activities (lead_id, kind, at, note, done, data, recorded_at) "
        f"SELECT id, 'assigned', {NOW_TS}, 'to ' || name || ' (round-robin)', 1, "
        f"json_object('to', name, 'how', 'round-robin'), {NOW_TS} FROM handed;",
        "COMMIT;",
    ]


def round_robin_postgres(limit: int | None) -> str:
    """The same for psql: the candidates FOR UPDATE SKIP LOCKED, the turn by UPDATE … RETURNING."""
    return f"""BEGIN;
CREATE TEMP TABLE pick ON COMMIT DROP AS
SELECT id, row_number() OVER (ORDER BY score DESC, id) - 1 AS n
FROM (SELECT id, score {OPEN_UNOWNED}{_limit(limit)} FOR UPDATE SKIP LOCKED) candidates;
WITH team AS (
    SELECT name, name_key, row_number() OVER (ORDER BY name_key) - 1 AS k, count(*) OVER () AS size
    FROM owners WHERE NOT paused
),
turn AS (
    UPDATE counters SET value = value + (SELECT count(*) FROM pick) WHERE name = 'round_robin'
    RETURNING value - (SELECT count(*) FROM pick) AS start
),
handed AS (
    UPDATE leads SET owner = t.name, owner_key = t.name_key, updated_at = {NOW_TS}
    FROM pick p, turn, team t
    WHERE leads.id = p.id AND leads.owner_key IS NULL AND t.k = (turn.start + p.n) % t.size
    RETURNING leads.id, t.name, t.name_key
),
assigned AS (INSERT INTO assignments (lead_id, owner_key, at) SELECT id, name_key, {NOW_TS} FROM handed)
INSERT INTO activities (lead_id, kind, at, note, done, data, recorded_at)
SELECT id, 'assigned', {NOW_TS}, 'to ' || name || ' (round-robin)', true,
       json_build_object('to', name, 'how', 'round-robin'), {NOW_TS} FROM handed;
COMMIT;
"""


# What both sides must agree on after a run: who owns which lead, the history written, the turn,
# and that no score moved.
STATE = [
    "SELECT id, owner, owner_key, updated_at FROM leads WHERE owner_key IS NOT NULL ORDER BY id",
    "SELECT lead_id, owner_key, at FROM assignments ORDER BY lead_id, owner_key",
    "SELECT lead_id, kind, note, at FROM activities WHERE kind = 'assigned' ORDER BY lead_id, note",
    "SELECT value FROM counters WHERE name = 'round_robin'",
    "SELECT count(*), sum(score) FROM leads",
]
