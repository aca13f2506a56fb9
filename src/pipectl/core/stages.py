"""Stages: 2 to 6 open ones, in order, each with a probability, idle days and actions.

A removed stage keeps its row (position NULL, `removed` true) so the history
of leads that passed through it keeps its name; adding a stage of the same
name again brings that row back.
"""

from sqlalchemy import (
    BigInteger,
    bindparam,
    case,
    func,
    insert,
    literal,
    null,
    select as core_select,  # sqlmodel's select types at most four columns
    true,
    update,
)
from sqlmodel import Session, col, select

from pipectl import clock
from pipectl.dates import to_timestamp
from pipectl.errors import NotFound, RuleViolation, UsageError
from pipectl.folding import fold
from pipectl.storage.models import Activity, Lead, Stage

MIN_STAGES, MAX_STAGES = 2, 6
LEADS, ACTIVITIES = Lead.__table__, Activity.__table__


def open_stages(session: Session) -> list[Stage]:
    """The pipeline's stages in order."""
    return list(session.exec(select(Stage).where(col(Stage.removed) == False).order_by(col(Stage.position))))  # noqa: E712


def find_stage(session: Session, name: str) -> Stage:
    """An open stage by name, case-insensitively."""
    wanted = fold(name.strip())
    for stage in open_stages(session):
        if fold(stage.name) == wanted:
            return stage
    names = ", ".join(stage.name for stage in open_stages(session))
    raise NotFound(f"There is no stage {name!r}; the stages are: {names}.")


def first_stage(session: Session) -> Stage:
    stages = open_stages(session)
    if not stages:
        raise RuleViolation("The pipeline has no stages; add some with `pipectl stages add`.")
    return stages[0]


def lead_counts(session: Session) -> dict[int, int]:
    """Open leads per stage id, counted in SQL."""
    rows = session.exec(
        select(col(Lead.stage_id), func.count()).where(col(Lead.status) == "open").group_by(col(Lead.stage_id))
    )
    return dict(rows.all())


def add_stage(
    session: Session,
    name: str,
    *,
    position: int | None = None,
    probability: int | None = None,
    idle_days: int | None = None,
    actions: list[str] | None = None,
) -> Stage:
    """Add an open stage, at the end or at `position` (1 is first)."""
    name = _check_name(name)
    stages = open_stages(session)
    if any(fold(stage.name) == fold(name) for stage in stages):
        raise RuleViolation(f"There is already a stage called {name!r}.")
    if len(stages) >= MAX_STAGES:
        raise RuleViolation(f"A pipeline has at most {MAX_STAGES} stages (more is noise); remove one first.")
    stage = _named(session, name)
    if stage is None:
        stage = Stage(name=name)
    stage.removed = False
    stage.probability = _check_probability(probability if probability is not None else stage.probability)
    stage.idle_days = _check_idle_days(idle_days if idle_days is not None else stage.idle_days)
    stage.actions = list(actions) if actions is not None else list(stage.actions or [])
    session.add(stage)
    _place(session, stages, stage, position)
    return stage


def set_order(session: Session, ordered: list[Stage]) -> None:
    """Number these open stages 1..n in the order given (all of them)."""
    _place(session, ordered, None, None)


def rename_stage(session: Session, old: str, new: str) -> Stage:
    stage = find_stage(session, old)
    new = _check_name(new)
    clash = _named(session, new, besides=stage.id)
    if clash is not None:
        detail = " (a removed stage keeps that name for history)" if clash.removed else ""
        raise RuleViolation(f"There is already a stage called {clash.name!r}{detail}.")
    stage.name = new
    session.add(stage)
    return stage


def move_stage(session: Session, name: str, position: int) -> Stage:
    """Put a stage at `position` (1 is first) among the open stages."""
    stage = find_stage(session, name)
    others = [other for other in open_stages(session) if other.id != stage.id]
    _place(session, others, stage, position)
    return stage


def remove_stage(session: Session, name: str, *, to: str | None = None) -> tuple[Stage, int]:
    """Remove a stage; its leads (of any status) go to stage `to`. Returns the stage and leads moved.

    The leads move in SQL, however many there are: one INSERT … SELECT writes their `stage_change`
    activities and one UPDATE moves them (open leads enter the new stage now; closed ones keep their
    dates). A bookkeeping move, not contact: `last_activity_at` stays. No field a score reads changes,
    so the moved leads are re-scored only when a rule counts `stage_change` activities.
    """
    stage = find_stage(session, name)
    stages = open_stages(session)
    if len(stages) <= MIN_STAGES:
        raise RuleViolation(f"A pipeline needs at least {MIN_STAGES} stages (fewer is too coarse).")
    session.flush()
    in_stage = select(LEADS.c.id).where(LEADS.c.stage_id == stage.id)
    moving = session.execute(select(func.count()).select_from(in_stage.subquery())).scalar_one()
    target = None
    if to is not None:
        target = find_stage(session, to)
        if target.id == stage.id:
            raise UsageError(f"--to must name another stage than {stage.name!r}.")
    if moving and target is None:
        raise RuleViolation(f"{stage.name} holds {moving} lead(s); say where they go with --to STAGE.")
    if moving:
        assert target is not None  # refused above
        # Imported here: reading the stages (`show`, `list`) needs none of the scoring machinery.
        from pipectl.core.rescoring import counts_kind, mark

        if counts_kind(session, "stage_change"):
            mark(session, session.execute(in_stage).scalars())
        _move_all(session, stage, target)
    stage.removed = True
    stage.position = None
    session.add(stage)
    _place(session, [other for other in stages if other.id != stage.id], None, None)
    return stage, moving


def _move_all(session: Session, stage: Stage, target: Stage) -> None:
    now = bindparam("now_ts", to_timestamp(clock.now()), type_=BigInteger)
    in_stage = LEADS.c.stage_id == stage.id
    history = core_select(
        LEADS.c.id,
        literal("stage_change"),
        now,
        literal(f"stage {stage.name} removed"),
        null(),
        true(),
        literal(stage.id),
        literal(target.id),
        literal(None, type_=ACTIVITIES.c.data.type),
        now,
    ).where(in_stage)
    session.execute(
        insert(ACTIVITIES).from_select(
            ["lead_id", "kind", "at", "note", "due", "done", "from_stage_id", "to_stage_id", "data", "recorded_at"],
            history,
        )
    )
    session.execute(
        update(LEADS)
        .where(in_stage)
        .values(
            stage_id=target.id,
            updated_at=now,
            stage_entered_at=case((LEADS.c.status == "open", now), else_=LEADS.c.stage_entered_at),
        )
    )
    # Leads the session already holds must not keep their old stage.
    held = session.identity_map
    for key in list(held.keys()):
        lead = held.get(key)
        if key[0] is Lead and lead is not None and lead.stage_id == stage.id:
            session.expire(lead)


def set_stage(
    session: Session,
    name: str,
    *,
    probability: int | None = None,
    idle_days: int | None = None,
    actions: list[str] | None = None,
    requires_bant: bool | None = None,
    min_score: int | None = None,
    clear_min_score: bool = False,
) -> Stage:
    """Change a stage's probability, idle days, actions or entry rules."""
    stage = find_stage(session, name)
    if probability is not None:
        stage.probability = _check_probability(probability)
    if idle_days is not None:
        stage.idle_days = _check_idle_days(idle_days)
    if actions is not None:
        stage.actions = list(actions)
    if requires_bant is not None:
        stage.requires_bant = requires_bant
    if min_score is not None:
        if not 0 <= min_score <= 100:
            raise UsageError(f"A minimum score is between 0 and 100, not {min_score}.")
        stage.min_score = min_score
    if clear_min_score:
        stage.min_score = None
    session.add(stage)
    return stage


def _place(session: Session, others: list[Stage], stage: Stage | None, position: int | None) -> None:
    """Number the open stages 1..n, with `stage` inserted at `position` (default: last)."""
    ordered = list(others)
    if stage is not None:
        slot = len(ordered) + 1 if position is None else position
        if not 1 <= slot <= len(ordered) + 1:
            raise UsageError(f"A position is between 1 and {len(ordered) + 1}, not {position}.")
        ordered.insert(slot - 1, stage)
    for number, item in enumerate(ordered, start=1):
        item.position = number
        session.add(item)
    session.flush()


def _named(session: Session, name: str, *, besides: int | None = None) -> Stage | None:
    """Any stage, removed ones too, with this name ignoring case. Compared in Python: the table holds a
    handful of rows, and SQL's lower() folds differently on SQLite and PostgreSQL."""
    wanted = fold(name)
    return next(
        (
            stage
            for stage in session.exec(select(Stage).order_by(col(Stage.id)))
            if fold(stage.name) == wanted and stage.id != besides
        ),
        None,
    )


def _check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise UsageError("A stage needs a name.")
    if len(cleaned) > 80:
        raise UsageError("A stage name is at most 80 characters.")
    if fold(cleaned) in {"open", "won", "lost", "archived"}:
        raise UsageError(f"{cleaned!r} is a lead status, not a stage: use `pipectl {cleaned.lower()}`.")
    return cleaned


def _check_probability(value: int) -> int:
    if not 0 <= value <= 100:
        raise UsageError(f"A win probability is a percentage between 0 and 100, not {value}.")
    return value


def _check_idle_days(value: int) -> int:
    if not 1 <= value <= 3650:
        raise UsageError(f"Idle days are between 1 and 3650, not {value}.")
    return value
