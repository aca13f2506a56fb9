"""The board: one column per open stage, headed by count, value and weighted value, with cards.

Column heads are one grouped SQL query; each column's cards are the top
leads by value (a LIMIT per stage, so a million leads cost the same as ten),
and stalled / nurture marks are worked out for the shown cards only.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlmodel import Session

from pipectl.core.periods import DAY, raw, ts
from pipectl.errors import UsageError
from pipectl.folding import fold
from pipectl.money import to_number
from pipectl.storage.models import Lead, LeadTag, stored_id

# The tables themselves, not via core.metrics: importing that pulled in the funnel and breakdown modules.
LEADS, TAGS = Lead.__table__, LeadTag.__table__


@dataclass
class BoardFilter:
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    limit: int | None = 10  # cards per stage; None: every lead

    def conditions(self) -> list:
        terms = [LEADS.c.status == "open"]
        if self.owner:
            terms.append(LEADS.c.owner_key == fold(self.owner))
        for tag in self.tags:
            terms.append(exists().where(TAGS.c.lead_id == LEADS.c.id, TAGS.c.tag == tag.strip().lower()))
        return terms


def nurture_below(session: Session) -> int:
    """The score under which a lead is in nurture (the scoring rules' threshold)."""
    from pipectl.core.scoring import nurture_threshold

    return nurture_threshold(session)


def stalled(session: Session, now: datetime, lead_ids: list[int]) -> dict[int, list[str]]:
    """Id → why the lead is stalled, for the given leads (the hygiene rules)."""
    from pipectl.core.hygiene import stale_reasons

    return stale_reasons(session, now, lead_ids) if lead_ids else {}


def build_board(session: Session, now: datetime, wanted: BoardFilter | None = None) -> dict:
    """The board as data: columns in stage order, each with its totals and top cards."""
    from pipectl.core.stages import open_stages

    wanted = wanted or BoardFilter()
    if wanted.limit is not None and wanted.limit < 1:
        raise UsageError("--limit must be at least 1.")
    stages = open_stages(session)
    # Naming the stages lets SQLite count and sum each one inside the covering (stage_id, status,
    # value_cents, score) index; `status = 'open'` alone made it read every open lead's row through the
    # status index and sort them by stage (88 % of the board's SQL time at 100,000 leads).
    totals = {
        stage_id: (count, int(value))
        for stage_id, count, value in session.execute(
            select(LEADS.c.stage_id, func.count(), func.coalesce(func.sum(LEADS.c.value_cents), 0))
            .where(LEADS.c.stage_id.in_([stage.id for stage in stages]), *wanted.conditions())
            .group_by(LEADS.c.stage_id)
        )
    }
    days_in_stage = (ts(now) - raw(LEADS.c.stage_entered_at)) // DAY
    cards_by_stage: dict[int, list[dict]] = {}
    for stage in stages:
        if not totals.get(stage.id, (0, 0))[0]:
            continue
        query = (
            select(
                LEADS.c.id,
                LEADS.c.name,
                LEADS.c.company,
                LEADS.c.value_cents,
                LEADS.c.score,
                days_in_stage,
                LEADS.c.owner,
            )
            .where(LEADS.c.stage_id == stage.id, *wanted.conditions())
            .order_by(LEADS.c.value_cents.desc().nulls_last(), LEADS.c.score.desc(), LEADS.c.id)
            .limit(wanted.limit)
        )
        cards_by_stage[stored_id(stage)] = [
            {
                "id": lead_id,
                "name": name,
                "company": company,
                "value": to_number(value),
                "score": score,
                "days_in_stage": max(int(days), 0),
                "owner": owner,
            }
            for lead_id, name, company, value, score, days, owner in session.execute(query)
        ]
    shown = [card["id"] for cards in cards_by_stage.values() for card in cards]
    reasons = stalled(session, now, shown)
    threshold = nurture_below(session)
    columns = []
    for stage in stages:
        count, value = totals.get(stage.id, (0, 0))
        cards = cards_by_stage.get(stored_id(stage), [])
        for card in cards:
            card["stalled"] = card["id"] in reasons
            card["stale_reasons"] = reasons.get(card["id"], [])
            card["nurture"] = card["score"] < threshold
        columns.append(
            {
                "stage": stage.name,
                "probability": stage.probability,
                "leads": count,
                "value": to_number(value),
                "weighted_value": to_number(round(value * stage.probability / 100)),
                "more": count - len(cards),
                "cards": cards,
            }
        )
    return {
        "columns": columns,
        "nurture_below": threshold,
        "filters": {"owner": wanted.owner, "tags": list(wanted.tags), "limit": wanted.limit},
        "total": {
            "leads": sum(c["leads"] for c in columns),
            "value": to_number(sum(totals.get(stage.id, (0, 0))[1] for stage in stages)),
        },
    }
