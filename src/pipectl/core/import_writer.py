"""Bulk writing of imported leads and activities: batched INSERTs in the command's one transaction.

Never one ORM object per row: each batch is one multi-row INSERT … RETURNING id
(SQLite ≥ 3.35 and PostgreSQL both have it) for the leads, and executemany
INSERTs for their tags, custom fields and history. Duplicates are found in
SQL per batch on the folded keys (`email_key IN …`, `name_key IN …`, both
indexed; see pipectl/folding.py), folded the same way in Python; since
earlier batches are already inserted in the same transaction, the same
query also finds duplicates between rows of the file that are far apart.

No two sellers on one customer (core/customers.py): a row matching a lead that was there before
the import and that another seller owns (not the row's owner, else not whoever is acting) is a
row problem naming them, unless duplicates are skipped; with `join` any row matching a lead that
was there is logged on it (a `joined` activity) instead of being added, as `add --join` does.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlmodel import Session, col

from pipectl.actor import current_actor
from pipectl.contract import DATA_POINTS
from pipectl.core.import_rows import ActivityRow, LeadRow
from pipectl.core.kinds import QUIET
from pipectl.core.rescoring import mark
from pipectl.folding import fold, lead_keys
from pipectl.storage.models import Activity, Lead, LeadField, LeadTag, Stage
from pipectl.storage.types import Timestamp

LEADS = Lead.__table__
ACTIVITIES = Activity.__table__
DUPLICATE_MODES = ("error", "skip", "update")
# What `--on-duplicate update` overwrites: the data points a file gives (by `leads` column).
UPDATABLE = tuple(str(spec.stored) for spec in DATA_POINTS)  # every data point has a column
# An imported lead's history (created, won/lost, next action): its columns, and the data it is marked
# with, as SQLAlchemy's JSON type writes it on SQLite.
HISTORY_COLUMNS = (
    "lead_id",
    "kind",
    "at",
    "note",
    "due",
    "done",
    "from_stage_id",
    "to_stage_id",
    "data",
    "recorded_at",
)
IMPORTED = {"imported": True}
# The bitmap of keys an import into an empty pipeline has inserted: 4 MB, whatever the file's size.
SEEN_BITS = 1 << 25
SEEN_MASK = SEEN_BITS - 1
IMPORTED_JSON = json.dumps(IMPORTED)


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    activities: int = 0
    activities_skipped: int = 0
    unknown_paths: int = 0  # closed leads without the stage they closed from
    joined: int = 0  # rows logged on the lead already there (--join)
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (row, what it duplicates)


class Writer:
    """Writes batches of prepared rows; keeps the file's ids when the tables were empty (a restore)."""

    def __init__(
        self, session: Session, now: datetime, *, on_duplicate: str = "error", history: bool = True, join: bool = False
    ):
        self.session, self.now, self.on_duplicate, self.history, self.join = session, now, on_duplicate, history, join
        # Owner (key, as written) of each lead already there that a row matched, from the duplicate queries.
        self.owners: dict[int, tuple[str | None, str | None]] = {}
        self.counts = Counts()
        self._instants: dict[datetime, int] = {}
        self.last_old_id = session.execute(select(func.coalesce(func.max(LEADS.c.id), 0))).scalar_one()
        self.keep_lead_ids = session.execute(select(func.count()).select_from(LEADS)).scalar_one() == 0
        self.keep_activity_ids = session.execute(select(func.count()).select_from(ACTIVITIES)).scalar_one() == 0
        # File lead id → its id here, for the activities of an `--what all` file (none: a skipped duplicate).
        self.id_map: dict[int, int] = {}
        self.stage_ids: dict[str, int] = {
            fold(name): stage_id for stage_id, name in session.execute(select(col(Stage.id), col(Stage.name)))
        }
        # Into an empty SQLite pipeline (not updating), the only leads a row can duplicate are the ones
        # this import inserted: mark the hashes of their folded email and (name, company) in a bitmap of
        # fixed size, and ask SQL only about the keys whose mark is set (the real duplicates, and a few
        # collisions). Asking about every key of every batch made the (name, company) IN lists probe the
        # index names × companies times; a set of the hashes grew with the file.
        self.inserted: bytearray | None = None
        if self.last_old_id == 0 and on_duplicate != "update" and session.get_bind().dialect.name == "sqlite":
            self.inserted = bytearray(SEEN_BITS // 8)

    # ---- leads ----------------------------------------------------------------------------------

    def write_leads(
        self,
        rows: list[LeadRow],
        stage_ids: dict[str, int],
        default_stage_id: int,
    ) -> list[tuple[int, str, str]]:
        """Insert (or skip, or update) a batch; returns the rows it could not take, as (row, column, problem)."""
        problems: list[tuple[int, str, str]] = []
        fresh: list[LeadRow] = []
        fresh_keys: list[dict] = []
        updates: list[tuple[int, LeadRow]] = []
        # Each row's folded keys, worked out once: they are compared, looked up, remembered and stored.
        keys = [lead_keys(row.values) for row in rows]
        by_email, by_pair = self._existing(rows, keys)
        seen_email: dict[str, int] = {}
        seen_pair: dict[tuple[str, str], int] = {}
        used_ids = self._taken_ids(rows)
        for row, row_keys in zip(rows, keys, strict=True):
            email = row_keys["email_key"] or ""
            pair = (row_keys["name_key"] or "", row_keys["company_key"] or "")
            earlier = seen_email.get(email) if email else None
            if earlier is None and pair[1]:
                earlier = seen_pair.get(pair)
            existing = (by_email.get(email) if email else None) or (by_pair.get(pair) if pair[1] else None)
            if earlier is None and existing is not None and existing <= self.last_old_id:
                if self.join:
                    self._join(existing, row)
                    continue
                taken = self._someone_elses(existing, row)
                if taken is not None and self.on_duplicate != "skip":
                    problems.append((row.number, "email" if email in by_email else "name", taken))
                    continue
            if earlier is not None or existing is not None:
                what = (
                    f"row {fresh[earlier].number}"
                    if earlier is not None
                    else f"lead #{existing}"
                    if existing <= self.last_old_id
                    else "an earlier row of the file"
                )
                reason = (
                    "same email as"
                    if email and (seen_email.get(email) is not None or email in by_email)
                    else "same name and company as"
                )
                if self.on_duplicate == "error":
                    self.counts.duplicates.append((row.number, f"{reason} {what}"))
                elif self.on_duplicate == "skip":
                    self.counts.skipped += 1
                elif earlier is not None:
                    fresh[earlier] = _merged(fresh[earlier], row)
                    fresh_keys[earlier] = lead_keys(fresh[earlier].values)
                else:
                    assert existing is not None  # no earlier row, so a lead already there
                    updates.append((existing, row))
                continue
            if row.file_id is not None and self.keep_lead_ids and row.file_id in used_ids:
                problems.append((row.number, "id", f"lead id {row.file_id} appears twice"))
                continue
            if email:
                seen_email[email] = len(fresh)
            if pair[1]:
                seen_pair[pair] = len(fresh)
            used_ids.add(row.file_id)
            fresh.append(row)
            fresh_keys.append(row_keys)
        self._insert(fresh, fresh_keys, stage_ids, default_stage_id)
        self._remember(fresh_keys)
        self._update(updates)
        return problems

    def _someone_elses(self, lead_id: int, row: LeadRow) -> str | None:
        """The refusal when the lead a row matches is another seller's than the row's (None: it is not)."""
        from pipectl.core.customers import seller_of

        owner_key, owner = self.owners.get(lead_id, (None, None))
        if owner_key is None or owner_key == seller_of(row.values["owner"]):
            return None
        return (
            f"lead #{lead_id} is {owner}'s: two sellers never work one customer "
            f"(--join logs the row on their lead, or ask {owner} to hand it over)"
        )

    def _join(self, lead_id: int, row: LeadRow) -> None:
        """--join: log the row on the lead already there (a `joined` activity with what the row gave)."""
        from pipectl.core.customers import join

        lead = self.session.get(Lead, lead_id)
        assert lead is not None, "matched by the duplicate query in this transaction"
        given = {key: row.values[key] for key in UPDATABLE if row.values[key] is not None}
        join(self.session, lead, given)
        self.counts.joined += 1

    def _remember(self, keys: list[dict]) -> None:
        """Note the folded keys of the leads just inserted."""
        if self.inserted is None:
            return
        seen = self.inserted
        for row_keys in keys:
            email, company = row_keys["email_key"], row_keys["company_key"]
            if email is not None:
                bit = hash(email) & SEEN_MASK
                seen[bit >> 3] |= 1 << (bit & 7)
            if company is not None:
                bit = hash((row_keys["name_key"], company)) & SEEN_MASK
                seen[bit >> 3] |= 1 << (bit & 7)

    def _existing(self, rows: list[LeadRow], keys: list[dict]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        emails = {row_keys["email_key"] for row, row_keys in zip(rows, keys, strict=True) if row.values["email"]}
        pairs = {
            (row_keys["name_key"], row_keys["company_key"])
            for row, row_keys in zip(rows, keys, strict=True)
            if row.values["company"]
        }
        by_email: dict[str, int] = {}
        by_pair: dict[tuple[str, str], int] = {}
        if self.inserted is not None:  # only keys a lead of this import may have: the others match nothing
            emails = {email for email in emails if self._seen(email)}
            pairs = {pair for pair in pairs if self._seen(pair)}
        if emails:
            for lead_id, email, owner_key, owner in self.session.execute(
                select(LEADS.c.id, LEADS.c.email_key, LEADS.c.owner_key, LEADS.c.owner)
                .where(LEADS.c.email_key.in_(emails))
                .order_by(LEADS.c.id)
            ):
                by_email.setdefault(email, lead_id)
                self.owners[lead_id] = (owner_key, owner)
        if pairs:
            # Both IN lists use the (name_key, company_key) index; a name alone would match
            # every namesake in a large pipeline.
            for lead_id, name, company, owner_key, owner in self.session.execute(
                select(LEADS.c.id, LEADS.c.name_key, LEADS.c.company_key, LEADS.c.owner_key, LEADS.c.owner)
                .where(
                    LEADS.c.name_key.in_({name for name, _ in pairs}),
                    LEADS.c.company_key.in_({company for _, company in pairs}),
                )
                .order_by(LEADS.c.id)
            ):
                if (name, company) in pairs:
                    by_pair.setdefault((name, company), lead_id)
                    self.owners[lead_id] = (owner_key, owner)
        return by_email, by_pair

    def _seen(self, key) -> bool:
        """Whether `key` may be one this import inserted (its bit is set: `_note_inserted`)."""
        assert self.inserted is not None
        bit = hash(key) & SEEN_MASK
        return bool(self.inserted[bit >> 3] & (1 << (bit & 7)))

    def _taken_ids(self, rows: list[LeadRow]) -> set:
        wanted = [row.file_id for row in rows if row.file_id is not None]
        if not (self.keep_lead_ids and wanted):
            return set()
        return set(self.session.execute(select(LEADS.c.id).where(LEADS.c.id.in_(wanted))).scalars())

    def _insert(
        self, rows: list[LeadRow], keys: list[dict], stage_ids: dict[str, int], default_stage_id: int
    ) -> list[int]:
        """Insert new leads with their tags, fields and history; returns their ids."""
        if not rows:
            return []
        keep = self.keep_lead_ids and all(row.file_id is not None for row in rows)
        if not keep:
            self.keep_lead_ids = False  # new ids from here on: later file ids would not line up
        ids = [row.file_id for row in rows if row.file_id is not None] if keep else self._allocate(LEADS, len(rows))
        # Each lead straight to a tuple of its columns (no dict per row): the rows share their keys.
        names = list(rows[0].values)
        pick = itemgetter(*names)
        instants = [index for index, name in enumerate(names) if isinstance(LEADS.c[name].type, Timestamp)]
        seconds = self._seconds
        stages = [stage_ids[fold(row.stage)] if row.stage else default_stage_id for row in rows]
        parameters = []
        for row, row_keys, lead_id, stage_id in zip(rows, keys, ids, stages, strict=True):
            values = list(pick(row.values))
            for index in instants:
                values[index] = seconds(values[index])
            values += row_keys.values()
            values += (lead_id, stage_id)
            parameters.append(tuple(values))
        # Ids chosen up front make this a plain executemany: RETURNING in parameter order would make
        # SQLAlchemy fall back to one INSERT per row on SQLite.
        self._execute_many(LEADS, names + list(keys[0]) + ["id", "stage_id"], parameters)
        tags = [(lead_id, tag) for row, lead_id in zip(rows, ids, strict=True) for tag in row.tags]
        if tags:
            self._execute_many(LeadTag.__table__, ["lead_id", "tag"], tags)
        fields = [
            (lead_id, key, value) for row, lead_id in zip(rows, ids, strict=True) for key, value in row.custom.items()
        ]
        if fields:
            self._execute_many(LeadField.__table__, ["lead_id", "key", "value"], fields)
        if self.history:
            self._insert_history(rows, ids, stages)
        else:
            for row, lead_id in zip(rows, ids, strict=True):
                if row.file_id is not None:
                    self.id_map[row.file_id] = lead_id  # an `--what all` file: its activities follow
        self.counts.added += len(rows)
        # Open leads are scored before the commit, like after any other change; a closed lead keeps
        # the score the file gives it (a restore stays faithful).
        mark(self.session, [lead_id for lead_id, row in zip(ids, rows, strict=True) if row.values["status"] == "open"])
        return ids

    def _execute_many(self, table, columns: list[str], parameters: list) -> None:
        """One executemany straight to the driver: SQLAlchemy's per-row parameter processing would
        cost more than the INSERT itself. Instants must already be epoch seconds (`_seconds`)."""
        marker = "?" if self.session.get_bind().dialect.paramstyle == "qmark" else "%s"
        statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
        self.session.connection().exec_driver_sql(statement, parameters)

    def _insert_many(self, table, rows: list[dict]) -> None:
        """`_execute_many` for rows given as dicts (with datetimes)."""
        columns = list(rows[0])
        instants = [index for index, column in enumerate(columns) if isinstance(table.c[column].type, Timestamp)]
        pick = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
        parameters = []
        for row in rows:
            values = pick(row)
            if instants:
                values = list(values)
                for index in instants:
                    values[index] = self._seconds(values[index])
                values = tuple(values)
            parameters.append(values)
        self._execute_many(table, columns, parameters)

    def _insert_activities(self, rows: list[dict]) -> None:
        """Activities carry a JSON column: straight to the driver on SQLite (JSON is text there, written
        as SQLAlchemy's JSON type writes it); through SQLAlchemy elsewhere, which knows each backend's JSON."""
        if self.session.get_bind().dialect.name != "sqlite":
            self.session.execute(insert(ACTIVITIES), rows)
            return
        # A row that names no actor is the importer's doing, as the column default says elsewhere (a
        # file's activity always names one, None when the file does not say who).
        actor = current_actor()
        self._insert_many(
            ACTIVITIES,
            [
                dict(row, data=None if row["data"] is None else json.dumps(row["data"]), actor=row.get("actor", actor))
                for row in rows
            ],
        )

    def _insert_history(self, rows: list[LeadRow], ids: list[int], stages: list[int]) -> None:
        """The activities that make each imported lead's history, in order: created, won/lost, its next
        action (as tuples of HISTORY_COLUMNS; the same rows `_insert_activities` would write)."""
        seconds = self._seconds
        now = seconds(self.now)
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        imported = IMPORTED_JSON if sqlite else IMPORTED
        # The person importing made this history; named on every row, as the column default would on
        # PostgreSQL (the driver-level insert on SQLite bypasses SQLAlchemy's defaults).
        actor = current_actor()
        history: list[tuple] = []
        for row, lead_id, stage_id in zip(rows, ids, stages, strict=True):
            values = row.values
            status = values["status"]
            # A closed lead whose row gives no stage has an unknown path: its history names no stage (the
            # lead is filed under the default one only so that `reopen` has somewhere to put it), and the
            # stage figures of `metrics` leave it out instead of counting it in the first stage.
            unknown_path = row.stage is None and status in ("won", "lost")
            self.counts.unknown_paths += unknown_path
            to_stage = None if unknown_path else stage_id
            history.append(
                (
                    lead_id,
                    "created",
                    seconds(values["created_at"]),
                    None,
                    None,
                    True,
                    None,
                    to_stage,
                    imported,
                    now,
                    actor,
                )
            )
            if status in ("won", "lost"):
                history.append(
                    (
                        lead_id,
                        status,
                        seconds(values["closed_at"]),
                        values["lost_reason"] if status == "lost" else None,
                        None,
                        True,
                        None,
                        to_stage,
                        imported,
                        now,
                        actor,
                    )
                )
            if row.next_action:
                history.append(
                    (
                        lead_id,
                        "task",
                        now,
                        row.next_action,
                        seconds(row.next_action_due or self.now),
                        False,
                        None,
                        None,
                        None,
                        now,
                        actor,
                    )
                )
        columns = [*HISTORY_COLUMNS, "actor"]
        if sqlite:
            self._execute_many(ACTIVITIES, columns, history)
        else:
            self.session.execute(insert(ACTIVITIES), [dict(zip(columns, entry, strict=True)) for entry in history])

    def _seconds(self, value):
        """A datetime as the epoch seconds `Timestamp` stores (others as they are), remembering the last
        ones: files and defaults repeat instants (`now`, a date without a time)."""
        if value.__class__ is not datetime:
            return value
        found = self._instants.get(value)
        if found is None:
            if len(self._instants) >= 10_000:
                self._instants.clear()
            found = self._instants[value] = int(value.timestamp())
        return found

    def _allocate(self, table, count: int) -> list[int]:
        """`count` new ids for `table`, never reusing one (the tables are AUTOINCREMENT / sequences).

        The import runs in one write transaction (BEGIN IMMEDIATE on SQLite), so no other writer
        can take these ids before the INSERT; on PostgreSQL they are drawn from the sequence.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            sequence = func.pg_get_serial_sequence(table.name, "id")
            return list(
                self.session.execute(
                    select(func.nextval(sequence)).select_from(func.generate_series(1, count))
                ).scalars()
            )
        highest = self.session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        if self.session.get_bind().dialect.name == "sqlite":
            from sqlalchemy import text

            used = self.session.execute(
                text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table.name}
            ).scalar()
            highest = max(highest, used or 0)
        return list(range(highest + 1, highest + 1 + count))

    def _update(self, updates: list[tuple[int, LeadRow]]) -> None:
        """--on-duplicate update: overwrite the data points the file gives; tags and fields are added."""
        for lead_id, row in updates:
            changes = {key: row.values[key] for key in UPDATABLE if row.values[key] is not None}
            self.session.execute(
                update(LEADS).where(LEADS.c.id == lead_id).values(**changes, **lead_keys(changes), updated_at=self.now)
            )
            if row.tags:
                pairs = [(lead_id, tag) for tag in row.tags]
                self.session.execute(delete(LeadTag).where(tuple_(LeadTag.lead_id, LeadTag.tag).in_(pairs)))
                self.session.execute(insert(LeadTag.__table__), [{"lead_id": lead_id, "tag": t} for t in row.tags])
            if row.custom:
                keys = list(row.custom)
                self.session.execute(
                    delete(LeadField).where(col(LeadField.lead_id) == lead_id, col(LeadField.key).in_(keys))
                )
                self.session.execute(
                    insert(LeadField.__table__),
                    [{"lead_id": lead_id, "key": key, "value": value} for key, value in row.custom.items()],
                )
            self.session.execute(
                insert(ACTIVITIES),
                [
                    {
                        "lead_id": lead_id,
                        "kind": "edited",
                        "at": self.now,
                        "note": "updated by import",
                        "due": None,
                        "done": True,
                        "from_stage_id": None,
                        "to_stage_id": None,
                        "data": {"imported": True, "fields": sorted(changes) + [f"field:{key}" for key in row.custom]},
                        "recorded_at": self.now,
                    }
                ],
            )
            self.counts.updated += 1
        self._mark_open([lead_id for lead_id, _ in updates])

    # ---- activities -----------------------------------------------------------------------------

    def write_activities(self, rows: list[ActivityRow], *, from_same_file: bool) -> list[tuple[int, str, str]]:
        """Insert activities; lead ids of an `--what all` file are translated to the new leads' ids."""
        problems: list[tuple[int, str, str]] = []
        by_email = self._leads_by_email({row.lead_email for row in rows if row.lead_id is None})
        wanted = {row.lead_id for row in rows if row.lead_id is not None and not from_same_file}
        present = (
            set(self.session.execute(select(LEADS.c.id).where(LEADS.c.id.in_(wanted))).scalars()) if wanted else set()
        )
        values, keep = [], self.keep_activity_ids and all(row.file_id is not None for row in rows)
        for row in rows:
            lead_id = row.lead_id
            if lead_id is not None and from_same_file:
                lead_id = self.id_map.get(lead_id)
                if lead_id is None:
                    self.counts.activities_skipped += 1  # its lead was a skipped duplicate
                    continue
            elif lead_id is not None and lead_id not in present:
                problems.append((row.number, "lead_id", f"there is no lead #{lead_id}"))
                continue
            elif lead_id is None:
                lead_id = by_email.get(row.lead_email) if row.lead_email is not None else None
                if lead_id is None:
                    problems.append((row.number, "lead_email", f"no lead has the email {row.lead_email}"))
                    continue
            item = dict(
                row.values,
                lead_id=lead_id,
                from_stage_id=self._stage_id(row.from_stage),
                to_stage_id=self._stage_id(row.to_stage),
            )
            if keep:
                item["id"] = row.file_id
            values.append(item)
        if not values:
            return problems
        if not keep:
            self.keep_activity_ids = False
        self._insert_activities(values)
        self.counts.activities += len(values)
        touched = {item["lead_id"] for item in values}
        if not from_same_file:
            self._touch(touched)
        self._mark_open(touched)
        return problems

    def _mark_open(self, lead_ids) -> None:
        """Mark the open ones of these leads (at most a batch) for the re-score before the commit."""
        if lead_ids:
            mark(
                self.session,
                self.session.execute(
                    select(LEADS.c.id).where(LEADS.c.id.in_(list(lead_ids)), LEADS.c.status == "open")
                ).scalars(),
            )

    def _leads_by_email(self, emails: set) -> dict[str, int]:
        emails.discard(None)
        if not emails:
            return {}
        found: dict[str, int] = {}
        for lead_id, email in self.session.execute(
            select(LEADS.c.id, LEADS.c.email_key).where(LEADS.c.email_key.in_(emails)).order_by(LEADS.c.id)
        ):
            found.setdefault(email, lead_id)
        return found

    def _stage_id(self, name: str | None) -> int | None:
        """A stage of the history by name; one the pipeline never had is kept as a removed stage."""
        if name is None:
            return None
        stage_id = self.stage_ids.get(fold(name))
        if stage_id is None:
            stage_id = self.session.execute(
                insert(Stage.__table__).returning(Stage.__table__.c.id),
                {
                    "name": name[:80],
                    "position": None,
                    "probability": 0,
                    "idle_days": 14,
                    "actions": [],
                    "requires_bant": False,
                    "min_score": None,
                    "removed": True,
                },
            ).scalar_one()
            self.stage_ids[fold(name)] = stage_id
        return stage_id

    def _touch(self, lead_ids: set[int]) -> None:
        """Keep `last_activity_at` of leads that got activities current, in one UPDATE."""
        latest = (
            select(func.max(ACTIVITIES.c.at))
            .where(
                ACTIVITIES.c.lead_id == LEADS.c.id,
                ACTIVITIES.c.done == True,  # noqa: E712
                ACTIVITIES.c.kind.not_in(QUIET),
            )
            .scalar_subquery()
        )
        self.session.execute(
            update(LEADS)
            .where(LEADS.c.id.in_(lead_ids), latest > LEADS.c.last_activity_at)
            .values(last_activity_at=latest)
        )

    def fix_sequences(self) -> None:
        """After inserting explicit ids on PostgreSQL, move the id sequences past them."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for table in (LEADS, ACTIVITIES):
            highest = select(func.coalesce(func.max(table.c.id), 1)).scalar_subquery()
            self.session.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)))


def _merged(first: LeadRow, later: LeadRow) -> LeadRow:
    """Two rows of one file for the same lead (--on-duplicate update): the later one's values win."""
    values = dict(first.values)
    values.update({key: value for key, value in later.values.items() if value is not None})
    return LeadRow(
        number=first.number,
        file_id=first.file_id,
        values=values,
        stage=later.stage or first.stage,
        tags=first.tags + [tag for tag in later.tags if tag not in first.tags],
        custom={**first.custom, **later.custom},
        next_action=later.next_action or first.next_action,
        next_action_due=later.next_action_due or first.next_action_due,
    )
