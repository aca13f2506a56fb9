"""`score --apply`: open leads move forward to the furthest stage whose minimum score they meet.

Found and moved in SQL: one query picks every lead's target stage, then one
UPDATE moves them and one INSERT writes their `stage_change` activities, however
many leads move.
"""

from datetime import datetime

from sqlalchemy import BigInteger, and_, bindparam, func, insert, or_, select, update
from sqlmodel import Session

from pipectl import clock
from pipectl.contract import BANT_CRITERIA
from pipectl.core import rescoring, scoring_sql
from pipectl.core.scoring import ScoreModel, current_rules
from pipectl.dates import to_timestamp
from pipectl.storage.models import Activity, Lead, Stage

LEADS, ACTIVITIES, STAGES = Lead.__table__, Activity.__table__, Stage.__table__


def forward_moves(
    session: Session, model: ScoreModel, now: datetime, *, stored: bool, lead_id: int | None = None
) -> list[dict]:
    """Open leads whose score reaches a later stage's minimum (and its BANT rule, where it has one).

    Each lead's target is the furthest such stage. With `stored`, the stored score is read; without,
    the score is computed on the fly (a dry run stores nothing). Returns `[{id, name, score, from, to}]`.
    """
    current, target = STAGES.alias("current_stage"), STAGES.alias("target_stage")
    if stored:
        stored_scores = select(LEADS.c.id.label("id"), LEADS.c.score.label("score")).where(LEADS.c.status == "open")
        if lead_id is not None:
            stored_scores = stored_scores.where(LEADS.c.id == lead_id)
        scored = stored_scores.subquery("scores")
    else:
        computed = scoring_sql.raw_scores(model, now, lead_id)
        scored = select(computed.c.id.label("id"), scoring_sql.clamped(computed.c.raw).label("score")).subquery(
            "scores"
        )
    bant_met = and_(*(LEADS.c[criterion] == "yes" for criterion in BANT_CRITERIA))
    query = (
        select(
            LEADS.c.id,
            LEADS.c.name,
            scored.c.score,
            current.c.name.label("from_stage"),
            func.max(target.c.position).label("target_position"),
        )
        .join(scored, scored.c.id == LEADS.c.id)
        .join(current, current.c.id == LEADS.c.stage_id)
        .join(
            target,
            and_(
                target.c.removed == False,  # noqa: E712
                target.c.position > current.c.position,
                target.c.min_score.is_not(None),
                scored.c.score >= target.c.min_score,
                or_(target.c.requires_bant == False, bant_met),  # noqa: E712
            ),
        )
        .group_by(LEADS.c.id, LEADS.c.name, scored.c.score, current.c.name)
        .order_by(LEADS.c.id)
    )
    names = dict(
        session.connection().execute(select(STAGES.c.position, STAGES.c.name).where(STAGES.c.removed == False)).all()  # noqa: E712
    )
    return [
        {
            "id": row.id,
            "name": row.name,
            "score": int(row.score),
            "from": row.from_stage,
            "to": names[row.target_position],
        }
        for row in session.connection().execute(query)
    ]


def advance_leads(session: Session, *, dry_run: bool = False, lead_id: int | None = None) -> list[dict]:
    """Move open leads forward to the furthest stage whose minimum score they meet, never back.

    Only stages with a `min_score` are targets. Each move is an automatic stage change; a dry run
    computes the scores without storing them and moves nothing. Returns `[{id, name, score, from, to}]`.
    """
    now = clock.now()
    if dry_run:
        return forward_moves(session, current_rules(session), now, stored=False, lead_id=lead_id)
    # The moves read stored scores: bring them up to date first (this command's changes included).
    rescoring.rescore_marked(session)
    if lead_id is None:
        rescoring.rescore_open_leads(session)
    else:
        rescoring.rescore_leads(session, [lead_id])
    moves = forward_moves(session, current_rules(session), now, stored=True, lead_id=lead_id)
    if moves:
        _move(session, moves, now)
    return moves


def _move(session: Session, moves: list[dict], now: datetime) -> None:
    """The moves as one executemany UPDATE of the leads and one INSERT of their `stage_change` rows."""
    session.flush()
    stage_ids = dict(
        session.connection().execute(select(STAGES.c.name, STAGES.c.id).where(STAGES.c.removed == False)).all()  # noqa: E712
    )
    from_ids = dict(
        session.connection()
        .execute(select(LEADS.c.id, LEADS.c.stage_id).where(LEADS.c.id.in_([move["id"] for move in moves])))
        .all()
    )
    now_ts = to_timestamp(now)
    stamp = bindparam("now_ts", type_=BigInteger)
    session.connection().execute(
        update(LEADS)
        .where(LEADS.c.id == bindparam("lead_id"))
        # A move pipectl makes is not the seller's activity: the idle clock (`last_activity_at`) keeps running.
        .values(stage_id=bindparam("to_stage_id"), stage_entered_at=stamp, updated_at=stamp),
        [{"lead_id": move["id"], "to_stage_id": stage_ids[move["to"]], "now_ts": now_ts} for move in moves],
    )
    session.connection().execute(
        insert(ACTIVITIES),
        [
            {
                "lead_id": move["id"],
                "kind": "stage_change",
                "at": now_ts,
                "due": None,
                "done": True,
                "note": f"score {move['score']} reached {move['to']}'s minimum",
                "data": {"automatic": True},
                "from_stage_id": from_ids[move["id"]],
                "to_stage_id": stage_ids[move["to"]],
                "recorded_at": now_ts,
            }
            for move in moves
        ],
    )
    # Leads the session holds must not keep their old stage; the moved ones are re-scored at the commit.
    for move in moves:
        lead = session.identity_map.get((Lead, (move["id"],), None))
        if lead is not None:
            session.expire(lead)
    rescoring.mark(session, [move["id"] for move in moves])
