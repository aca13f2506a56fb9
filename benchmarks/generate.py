"""Build a realistic synthetic pipeline of N leads for the benchmarks.

Example: python -m benchmarks.generate --leads 100000 --out /tmp/bench/100000.db

The schema comes from pipectl's own migrations (`open_database`), so the file
is exactly what pipectl would make; the rows are then bulk-inserted with plain
`sqlite3` in one transaction, shaped like the rows pipectl itself writes:
instants as epoch seconds, a `created` activity into the first stage,
`stage_change` rows along each lead's path (some skip stages), `won`/`lost`
rows for closed leads, BANT answers, outreach/response/signal activities,
planned tasks, tags and custom fields. Dates lie before the fixed
`PIPECTL_NOW` the harness uses, and the same seed always gives the same file.
A file already built with the same parameters is reused.
"""

import argparse
import fcntl
import json
import os
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pipectl.core.import_writer import HISTORY_COLUMNS
from pipectl.core.search_index import SQLITE_REBUILD
from pipectl.folding import KEYED, fold, key_of, phone_key, plain

# The "now" of every benchmark run (the harness sets PIPECTL_NOW to it, with TZ=UTC).
FIXED_NOW = "2026-11-23T09:00:00"
NOW_TS = int(datetime.fromisoformat(FIXED_NOW).replace(tzinfo=UTC).timestamp())
DAY = 86400
# Bump when the shape of the generated data changes, so old files are rebuilt.
GENERATOR_VERSION = 6
CHUNK = 5000

FIRST_NAMES = (
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Edsger",
    "Hedy",
    "Tim",
    "Katherine",
    "Donald",
    "Sophie",
    "Guido",
    "Anita",
    "Bjarne",
)
LAST_NAMES = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "McCarthy",
    "Perlman",
    "Dijkstra",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Knuth",
    "Wilson",
    "van Rossum",
    "Borg",
    "Stroustrup",
)
COMPANY_WORDS = (
    "Analytical",
    "Quantum",
    "Northwind",
    "Contoso",
    "Initech",
    "Globex",
    "Umbrella",
    "Stark",
    "Wayne",
    "Acme",
    "Hooli",
    "Pied",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
)
COMPANY_KINDS = ("Labs", "Systems", "Industries", "Group", "Partners", "Logistics", "Health", "Foods")
TITLES = ("CEO", "CTO", "Head of Sales", "IT Manager", "Procurement Lead", "Founder", "VP Engineering", None)
INDUSTRIES = ("software", "manufacturing", "retail", "healthcare", "finance", "education", "logistics", None)
LOCATIONS = ("Berlin", "London", "Paris", "New York", "Toronto", "Madrid", "Vienna", "Oslo", None)
SOURCES = ("website", "referral", "event", "linkedin", "cold-call", "partner", "webinar")
OWNERS = ("alice", "bob", "carol", "dave", "erin", "frank")
TAGS = ("warm", "cold", "enterprise", "smb", "referral", "partner", "event", "inbound", "priority")
DEPARTMENTS = ("Sales", "IT", "Finance", "Marketing", "Operations", "HR")
REGIONS = ("EMEA", "AMER", "APAC")
LOST_REASONS = ("price", "went with a competitor", "no budget", "no decision", "timing", "no response")
ARCHIVE_REASONS = ("stale: no activity", "duplicate", "bounced email")
# Activity kinds from core/history.py, weighted roughly as a sales team logs them.
CONTACT_KINDS = ("call", "email", "email", "message", "reply", "meeting", "demo", "note")
SIGNAL_KINDS = (
    "email_open",
    "email_open",
    "web_visit",
    "web_visit",
    "form_submission",
    "trial_request",
    "content_download",
    "event_registration",
    "social_engagement",
)
TASK_NOTES = ("Follow up call", "Send the proposal", "Book a demo", "Check in after the trial")
BANT = ("budget", "authority", "need", "timeline")

LEAD_COLUMNS = (
    "id",
    "name",
    "company",
    "email",
    "phone",
    "title",
    "industry",
    "company_size",
    "location",
    "source",
    "owner",
    "value_cents",
    "stage_id",
    "status",
    "score",
    "created_at",
    "updated_at",
    "stage_entered_at",
    "last_activity_at",
    "closed_at",
    "lost_reason",
    "archived_at",
    "archived_reason",
    "nurture_since",
    "budget",
    "budget_note",
    "authority",
    "authority_note",
    "need",
    "need_note",
    "timeline",
    "timeline_note",
    # The folded keys pipectl writes beside the columns people look leads up by (pipectl/folding.py).
    *(key_of(column) for column in KEYED),
    "name_plain",  # the name's lookup form (pipectl.folding.plain, migration 0003)
    "company_plain",  # the company's, and the phone's digits, for `duplicates` (migration 0010)
    "phone_key",
)
KEYED_POSITIONS = tuple(LEAD_COLUMNS.index(column) for column in KEYED)
# An activity row as pipectl's own import writes it, in the same column order.
ACTIVITY_COLUMNS = HISTORY_COLUMNS


def generate(path: Path, leads: int, seed: int = 7) -> Path:
    """Build (or reuse) a synthetic pipeline of `leads` leads at `path`; the same seed gives the same data."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = _meta_path(path)
    from pipectl.storage.schema import known_revisions

    # A new migration (an index, a column) rebuilds the file: its schema must be the one pipectl makes.
    wanted = {"leads": leads, "seed": seed, "version": GENERATOR_VERSION, "schema": sorted(known_revisions())}
    # Several people may run the benchmarks at once on one machine: one builds, the others wait and reuse.
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and meta.exists() and _still_matches(path, meta, wanted):
            return path
        building = path.with_name(f"{path.name}.building-{os.getpid()}")
        for stale in (path, meta, building, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)

        from pipectl.storage.schema import open_database

        open_database(str(building)).close()
        _fill(building, leads, seed)
        os.replace(building, path)
        meta.write_text(json.dumps(wanted) + "\n")
    return path


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".generated.json")


def _still_matches(path: Path, meta: Path, wanted: dict) -> bool:
    try:
        if json.loads(meta.read_text()) != wanted:
            return False
        connection = sqlite3.connect(path)
        try:
            # A benchmark that wrote to the file (it should use a scratch copy) makes it stale.
            return connection.execute("SELECT count(*) FROM leads").fetchone()[0] == wanted["leads"]
        finally:
            connection.close()
    except (OSError, ValueError, sqlite3.Error):
        return False


def _fill(path: Path, leads: int, seed: int) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # A throwaway build: no durability needed until the end, and indexes are cheaper built once.
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -200000")
        connection.execute("PRAGMA foreign_keys = OFF")
        stages = [row[0] for row in connection.execute("SELECT id FROM stages WHERE removed = 0 ORDER BY position")]
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('leads', 'activities', 'lead_tags', 'lead_fields')"
        ).fetchall()
        # The search index's triggers too: the index is filled once at the end, as `db reindex` does.
        triggers = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        connection.execute("BEGIN")
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for name, _sql in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        builder = _Builder(random.Random(seed), stages)
        for start in range(1, leads + 1, CHUNK):
            lead_rows, activity_rows, tag_rows, field_rows = [], [], [], []
            for lead_id in range(start, min(start + CHUNK, leads + 1)):
                lead, activities, tags, fields = builder.lead(lead_id)
                lead_rows.append(lead)
                activity_rows.extend(activities)
                tag_rows.extend(tags)
                field_rows.extend(fields)
            connection.executemany(_insert("leads", LEAD_COLUMNS), lead_rows)
            connection.executemany(_insert("activities", ACTIVITY_COLUMNS), activity_rows)
            connection.executemany("INSERT INTO lead_tags (lead_id, tag) VALUES (?, ?)", tag_rows)
            connection.executemany("INSERT INTO lead_fields (lead_id, key, value) VALUES (?, ?, ?)", field_rows)
        for _name, sql in indexes:
            connection.execute(sql)
        for statement in SQLITE_REBUILD:
            connection.execute(statement)
        for _name, sql in triggers:
            connection.execute(sql)
        connection.execute("COMMIT")
        # Back to what pipectl runs with.
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


class _Builder:
    """Makes one lead's rows at a time from one random stream, so a seed fixes the whole file."""

    def __init__(self, rng: random.Random, stages: list[int]):
        self.rng = rng
        self.stages = stages

    def lead(self, lead_id: int) -> tuple[tuple, list[tuple], list[tuple], list[tuple]]:
        rng, stages = self.rng, self.stages
        created = NOW_TS - rng.randint(1, 540) * DAY - rng.randint(0, DAY - 1)
        roll = rng.random()
        status = "open" if roll < 0.58 else "won" if roll < 0.72 else "lost" if roll < 0.93 else "archived"
        # How far along the pipeline it got, and which stages it passed (some skip one).
        reached = rng.choices(range(len(stages)), weights=(40, 25, 20, 15)[: len(stages)])[0]
        path = (
            [0] + sorted(rng.sample(range(1, reached + 1), k=max(0, reached - rng.randint(0, 1)))) if reached else [0]
        )
        if path[-1] != reached:
            path.append(reached)
        # Closed leads ended some time ago; open ones may still be active or long idle.
        recent = status == "open" and rng.random() < 0.7
        end = max(NOW_TS - rng.randint(0, 10 if recent else 120) * DAY, created + 3600)
        events: list[tuple] = []  # (at, kind, note, from, to, data)
        events.append((created, "created", None, None, stages[0], None))
        step_times = sorted(rng.randint(created + 60, end) for _ in path[1:])
        for previous, current, at in zip(path, path[1:], step_times, strict=False):  # consecutive pairs
            events.append((at, "stage_change", None, stages[previous], stages[current], None))
        for _ in range(rng.randint(2, 6)):
            kind = rng.choice(CONTACT_KINDS if rng.random() < 0.6 else SIGNAL_KINDS)
            events.append(
                (rng.randint(created + 30, end), kind, f"{kind.replace('_', ' ')} #{lead_id}", None, None, None)
            )
        answers = {name: "unknown" for name in BANT}
        if reached >= 1 or rng.random() < 0.3:
            for name in BANT:
                answers[name] = rng.choice(("yes", "yes", "no", "unknown"))
        if reached == len(stages) - 1:
            answers = {name: "yes" for name in BANT}  # the last stage requires BANT
        changed = {name: value for name, value in answers.items() if value != "unknown"}
        if changed:
            # The shape `qualify` writes: each change from/to, the summary line as the note.
            unknown = {"status": "unknown", "note": None}
            qualified = len(changed) == len(BANT) and all(value == "yes" for value in changed.values())
            note = "; ".join(f"{name} unknown → {value}" for name, value in changed.items())
            events.append(
                (
                    rng.randint(created + 30, end),
                    "bant",
                    note + ("; now qualified" if qualified else ""),
                    None,
                    None,
                    json.dumps(
                        {
                            "answers": {
                                name: {"from": unknown, "to": {"status": value, "note": None}}
                                for name, value in changed.items()
                            },
                            "qualified": qualified,
                        }
                    ),
                )
            )
        closed_at = lost_reason = archived_at = archived_reason = None
        if status in ("won", "lost"):
            closed_at = end
            if status == "lost":
                lost_reason = rng.choice(LOST_REASONS)
            events.append((end, status, lost_reason, None, stages[reached], None))
        elif status == "archived":
            archived_at = end
            archived_reason = rng.choice(ARCHIVE_REASONS)
            # As `clean` archives: from the lead's stage, with the reasons.
            events.append(
                (end, "archived", archived_reason, stages[reached], None, json.dumps({"reasons": [archived_reason]}))
            )
        events.sort(key=lambda event: event[0])

        stage_entered = max(at for at, kind, *_ in events if kind in ("created", "stage_change"))
        # Archiving is bookkeeping, not contact: it leaves last_activity_at where it was.
        last_activity = max(at for at, kind, *_ in events if kind != "archived")
        updated = max(at for at, *_ in events)
        rows = [
            (lead_id, kind, at, note, None, 1, source, target, data or "null", at)
            for at, kind, note, source, target, data in events
        ]
        if status == "open" and rng.random() < 0.35:
            due = NOW_TS + rng.randint(-20, 30) * DAY
            rows.append(
                (
                    lead_id,
                    "task",
                    last_activity,
                    rng.choice(TASK_NOTES),
                    due,
                    0,
                    None,
                    None,
                    '{"revision": 0}',
                    last_activity,
                )
            )

        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
        domain = company.lower().replace(" ", "") + ".example"
        value = rng.randint(10, 2000) * 10_000 if rng.random() < 0.75 else None
        lead = (
            lead_id,
            f"{first} {last}",
            company,
            f"{first.lower()}.{lead_id}@{domain}",
            f"+1 555 {lead_id % 10_000_000:07d}" if rng.random() < 0.6 else None,
            rng.choice(TITLES),
            rng.choice(INDUSTRIES),
            rng.choice((5, 20, 50, 200, 1000, 5000, None)),
            rng.choice(LOCATIONS),
            rng.choice(SOURCES),
            rng.choice(OWNERS),
            value,
            stages[reached],
            status,
            0,
            created,
            updated,
            stage_entered,
            last_activity,
            closed_at,
            lost_reason,
            archived_at,
            archived_reason,
            None,
            answers["budget"],
            None,
            answers["authority"],
            None,
            answers["need"],
            None,
            answers["timeline"],
            None,
        )
        lead += tuple(fold(lead[position]) for position in KEYED_POSITIONS)
        lead += (plain(lead[1]), plain(lead[2]), phone_key(lead[4]))
        tags = [(lead_id, tag) for tag in rng.sample(TAGS, k=rng.choice((0, 1, 1, 2, 3)))]
        fields = [(lead_id, "department", rng.choice(DEPARTMENTS))]
        if rng.random() < 0.5:
            fields.append((lead_id, "region", rng.choice(REGIONS)))
        return lead, rows, tags, fields


def main(argv: list[str] | None = None) -> int:
    """Generate a synthetic pipeline from the command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, required=True, help="How many leads.")
    parser.add_argument("--out", type=Path, required=True, help="The SQLite file to write.")
    parser.add_argument("--seed", type=int, default=7, help="Random seed (same seed, same file).")
    options = parser.parse_args(argv)
    os.environ.setdefault("TZ", "UTC")
    started = time.perf_counter()
    generate(options.out, options.leads, options.seed)
    print(f"{options.out}: {options.leads} leads in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
