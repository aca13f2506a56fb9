"""The tables: stages, leads (with their tags and custom fields), activities, settings, owners, assignments, counters.

Money is whole cents in a BIGINT so sums never drift; instants are epoch
seconds (see `Timestamp`). Every change the schema needs after the first
release goes through a migration in `storage/migrations/versions/`.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table, event, text
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from pipectl.actor import current_actor
from pipectl.folding import KEYED, fold, key_of, phone_key, plain
from pipectl.storage.types import Timestamp

# Rows are built from the database or by the core, never validated by pydantic: its validation schema
# would be built for nothing at every start-up (half the cost of importing this module), so it is
# built only if something ever asks for it.
DEFERRED = SQLModelConfig(defer_build=True)  # pydantic's ConfigDict, with the keys SQLModel adds


def _timestamp(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(Timestamp, nullable=nullable, index=index))


class Stage(SQLModel, table=True):
    """An open stage of the pipeline; a removed stage stays so that history keeps its name."""

    model_config = DEFERRED

    __tablename__ = "stages"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    # Order among open stages; NULL once the stage is removed.
    position: int | None = Field(default=None)
    probability: int = Field(default=0)  # win probability in percent
    idle_days: int = Field(default=14)  # idle longer than this means stalled
    actions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    requires_bant: bool = Field(default=False)
    min_score: int | None = Field(default=None)
    removed: bool = Field(default=False)


class Lead(SQLModel, table=True):
    """A person or company that might buy, with its stage, outcome and BANT answers."""

    model_config = DEFERRED

    __tablename__ = "leads"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]
    __table_args__ = (
        # The board's top cards per stage come in order from this index (migration 0003).
        Index("ix_leads_stage_status_value", "stage_id", "status", "value_cents", "score"),
        Index("ix_leads_status_score", "status", "score"),
        # `list --limit 50` walks open leads in id order instead of sorting them all.
        Index("ix_leads_status_id", "status", "id"),
        Index("ix_leads_status_last_activity", "status", "last_activity_at"),
        # Lookups, duplicate checks and filters compare the folded keys (see pipectl/folding.py).
        Index("ix_leads_email_key", "email_key"),
        Index("ix_leads_name_company_key", "name_key", "company_key"),
        Index("ix_leads_owner_key", "owner_key"),
        Index("ix_leads_source_key", "source_key"),
        # `show edith` finds Édith Piaf by a prefix of her name's lookup form (migration 0003).
        Index("ix_leads_name_plain", "name_plain"),
        # `claim --next` and `assign --round-robin` walk unowned open leads best score first (migration 0013).
        Index("ix_leads_status_owner_score", "status", "owner_key", "score"),
        # `brief`'s similar won leads (same industry, size band or source) and `status`'s week of closed
        # leads read index ranges, not every won lead (migration 0009).
        Index("ix_leads_status_industry", "status", text("lower(industry)")),
        Index("ix_leads_status_size", "status", "company_size"),
        Index("ix_leads_status_source", "status", "source_key"),
        Index("ix_leads_status_closed", "status", "closed_at"),
        # `duplicates`: the same phone, or the same name at the same company, accents aside (migration 0010).
        Index("ix_leads_phone_key", "phone_key"),
        Index("ix_leads_name_company_plain", "name_plain", "company_plain"),
        # `list --sort probability` walks open leads in order (migration 0011).
        Index("ix_leads_status_win_probability", "status", "win_probability"),
        # Ids are never reused after a purge, so an old id in a script cannot hit a new lead.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String, nullable=False))
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    industry: str | None = None
    company_size: int | None = None
    location: str | None = None
    source: str | None = None
    owner: str | None = None
    value_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    stage_id: int = Field(sa_column=Column(Integer, ForeignKey("stages.id"), nullable=False))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, default="open"))
    score: int = Field(default=0)
    created_at: datetime = _timestamp(nullable=False)
    updated_at: datetime = _timestamp(nullable=False)
    stage_entered_at: datetime = _timestamp(nullable=False)
    last_activity_at: datetime = _timestamp(nullable=False)
    closed_at: datetime | None = _timestamp()
    lost_reason: str | None = None
    archived_at: datetime | None = _timestamp()
    archived_reason: str | None = None
    # When the score last fell under the nurture threshold; NULL while above it.
    nurture_since: datetime | None = _timestamp()
    # BANT: each criterion is yes / no / unknown, with a note.
    budget: str = Field(default="unknown", sa_column=Column(String(8), nullable=False, default="unknown"))
    budget_note: str | None = None
    authority: str = Field(default="unknown", sa_column=Column(String(8), nullable=False, default="unknown"))
    authority_note: str | None = None
    need: str = Field(default="unknown", sa_column=Column(String(8), nullable=False, default="unknown"))
    need_note: str | None = None
    timeline: str = Field(default="unknown", sa_column=Column(String(8), nullable=False, default="unknown"))
    timeline_note: str | None = None
    # fold() of name, company, email, owner and source (migration 0002): one case-insensitive
    # comparison on every backend. Kept current by `_fill_keys` below; never typed by anyone.
    name_key: str | None = None
    company_key: str | None = None
    email_key: str | None = None
    owner_key: str | None = None
    source_key: str | None = None
    # plain() of the name: folded, accents dropped, one space between words (migration 0003).
    name_plain: str | None = None
    # plain() of the company, and the phone's digits (folding.phone_key), for `duplicates` (migration 0010).
    company_plain: str | None = None
    phone_key: str | None = None
    # The learned win probability (0–1) of an open lead, kept by pipectl.core.prediction (migration 0011).
    win_probability: float | None = None


@event.listens_for(Lead, "before_insert")
@event.listens_for(Lead, "before_update")
def _fill_keys(_mapper, _connection, lead: Lead) -> None:
    # Every ORM write of a lead keeps its keys; bulk writers add `folding.lead_keys(values)` themselves.
    for column in KEYED:
        setattr(lead, key_of(column), fold(getattr(lead, column)))
    lead.name_plain = plain(lead.name)
    lead.company_plain = plain(lead.company)
    lead.phone_key = phone_key(lead.phone)


class LeadTag(SQLModel, table=True):
    """One tag on one lead; a table rather than a list so `--tag` filters use an index."""

    model_config = DEFERRED

    __tablename__ = "lead_tags"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]

    lead_id: int = Field(sa_column=Column(Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True))
    tag: str = Field(sa_column=Column(String, primary_key=True, index=True))


class LeadField(SQLModel, table=True):
    """A custom data point (`--field KEY=VALUE`); scoring rules match on these in SQL."""

    model_config = DEFERRED

    __tablename__ = "lead_fields"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]
    __table_args__ = (Index("ix_lead_fields_key_value", "key", "value"),)

    lead_id: int = Field(sa_column=Column(Integer, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True))
    key: str = Field(sa_column=Column(String, primary_key=True))
    value: str = Field(sa_column=Column(String, nullable=False))


class Activity(SQLModel, table=True):
    """Anything that happened to a lead, or is planned (`done` false, with a `due` time)."""

    model_config = DEFERRED

    __tablename__ = "activities"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]
    __table_args__ = (
        Index("ix_activities_lead_at", "lead_id", "at"),
        Index("ix_activities_kind_at", "kind", "at"),
        Index("ix_activities_done_due", "done", "due"),
        # "Has this lead an open task (due before …)?" in one probe per lead (migration 0003).
        Index("ix_activities_lead_done_due", "lead_id", "done", "due"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(sa_column=Column(Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    at: datetime = _timestamp(nullable=False)
    note: str | None = None
    due: datetime | None = _timestamp()
    done: bool = Field(default=True)
    from_stage_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("stages.id"), nullable=True))
    to_stage_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("stages.id"), nullable=True))
    # Details of changes the tool makes: fields edited, BANT answers, a forced move.
    data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    recorded_at: datetime = _timestamp(nullable=False)
    # Who did it (`--as`, PIPECTL_USER or the login name; migration 0013). The column default fills
    # every insert, the ORM's and the bulk writers' alike; rows from before 0013 have NULL.
    actor: str | None = Field(default=None, sa_column=Column(String(80), nullable=True, default=current_actor))


class PredictionFactor(SQLModel, table=True):
    """One row of the win model's frequency table: closed leads won and lost with a feature's value,
    and that value's contribution to the log-odds (migration 0011)."""

    model_config = DEFERRED

    __tablename__ = "prediction_factors"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]

    feature: str = Field(sa_column=Column(String(80), primary_key=True))
    value: str = Field(sa_column=Column(String, primary_key=True))
    won: int = Field(default=0)
    lost: int = Field(default=0)
    contribution: float = Field(default=0.0)


class Setting(SQLModel, table=True):
    """A named setting or rule set (scoring, cleanup, quota), stored as JSON."""

    model_config = DEFERRED

    __tablename__ = "settings"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class Owner(SQLModel, table=True):
    """A seller leads can be handed to, with an optional capacity; a paused one gets no new leads."""

    model_config = DEFERRED

    __tablename__ = "owners"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(80), nullable=False))
    # fold(name): `sam` and `Sam` are one owner, as `leads.owner_key` compares them.
    name_key: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    paused: bool = Field(default=False)
    max_open: int | None = Field(default=None)  # most open leads at once
    max_new_per_week: int | None = Field(default=None)  # most leads handed over in 7 days
    created_at: datetime = _timestamp(nullable=False)


class Counter(SQLModel, table=True):
    """A named counter advanced with `UPDATE … RETURNING` (the round-robin turn): one row, no race."""

    model_config = DEFERRED

    __tablename__ = "counters"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


class Assignment(SQLModel, table=True):
    """One hand-over of a lead to an owner: what a capacity of new leads per week counts."""

    model_config = DEFERRED

    __tablename__ = "assignments"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]
    __table_args__ = (Index("ix_assignments_owner_at", "owner_key", "at"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    owner_key: str = Field(sa_column=Column(String(80), nullable=False))
    at: datetime = _timestamp(nullable=False)


class Command(SQLModel, table=True):
    """One write command, as the journal knows it: what was typed, who ran it and when (migration 0010)."""

    model_config = DEFERRED

    __tablename__ = "commands"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), nullable=False))
    argv: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    actor: str = Field(sa_column=Column(String, nullable=False))
    at: datetime = _timestamp(nullable=False)
    # Set by `pipectl undo`; the command's journal rows are gone by then (there is no redo).
    undone_at: datetime | None = _timestamp()
    undone_by: str | None = None
    # SQLite: the leads and activities the command added are those with ids in (from, to]; the
    # journal has no row for them (storage/journal.py). NULL on PostgreSQL, which journals them.
    leads_from: int | None = None
    leads_to: int | None = None
    activities_from: int | None = None
    activities_to: int | None = None


class JournalEntry(SQLModel, table=True):
    """One row a command inserted (I), updated (U) or deleted (D), in write order.

    Written by triggers on the pipeline's tables (storage/journal.py), never by the ORM. `old` is the
    row before an update or a delete, as the database holds it (JSON text on SQLite, `json` on
    PostgreSQL); `new` is an inserted row's key (its whole row on PostgreSQL). A row's state after
    the command is the next entry's `old`, or the row as it is now.
    """

    model_config = DEFERRED

    __tablename__ = "journal"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]
    __table_args__ = (
        Index("ix_journal_command_id", "command_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    command_id: int = Field(sa_column=Column(Integer, ForeignKey("commands.id"), nullable=False))
    tbl: str = Field(sa_column=Column(String(32), nullable=False))
    op: str = Field(sa_column=Column(String(1), nullable=False))
    old: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


class CommandRunning(SQLModel, table=True):
    """The command whose writes the triggers journal: one row, inside its own transaction only.

    Inserted when a write transaction starts and deleted just before it commits, so no other
    connection ever sees it, and a write outside a command (a migration, an undo) journals nothing.
    """

    model_config = DEFERRED

    __tablename__ = "command_running"
    if TYPE_CHECKING:  # set by SQLModel, which does not declare it
        __table__: ClassVar[Table]

    command_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    # The highest lead and activity ids when the command began: rows past them are its own (SQLite).
    leads_floor: int | None = None
    activities_floor: int | None = None


def stored_id(row: Stage | Lead | Activity) -> int:
    """The id of a row read from the database: SQLModel types every id `int | None`, for rows not yet added."""
    assert row.id is not None, f"{type(row).__name__} is not stored yet"
    return row.id
