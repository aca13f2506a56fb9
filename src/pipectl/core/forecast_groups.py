"""`forecast --by source|owner`: the open pipeline per source or owner, weighted two ways.

One SQL aggregate per (group, stage) gives the open leads, their value and
how many have none; each group's weighted value is then its stages' values ×
the stage probability, and "by history" × the stage's historical win rate
(the overall one where a stage has no closed history), as in the forecast.
"""

from sqlalchemy import func, select
from sqlmodel import Session

from pipectl.core.funnel import EVERY_LEAD
from pipectl.core.metrics import LEADS
from pipectl.errors import UsageError
from pipectl.money import to_number

GROUPS = ("source", "owner")


def check_group(text: str) -> str:
    wanted = text.strip().lower()
    if wanted not in GROUPS:
        raise UsageError(f"{text!r} is not a forecast breakdown: use source or owner.")
    return wanted


def forecast_groups(
    session: Session,
    by: str,
    probability: dict[int, int],
    historical: dict[int, float | None],
    win_rate: float | None,
    owned=EVERY_LEAD,
) -> list[dict]:
    """One row per source or owner of the open leads: leads, value, without a value, weighted, by history."""
    by = check_group(by)
    key = LEADS.c[f"{by}_key"]  # folded: "Web" and "web" are one source
    query = (
        select(
            key,
            func.min(LEADS.c[by]),
            LEADS.c.stage_id,
            func.count(),
            func.coalesce(func.sum(LEADS.c.value_cents), 0),
            func.count() - func.count(LEADS.c.value_cents),
        )
        .where(LEADS.c.status == "open", owned)
        .group_by(key, LEADS.c.stage_id)
    )
    groups: dict = {}
    for group_key, label, stage_id, count, value, without in session.execute(query):
        entry = groups.setdefault(
            group_key,
            {"group": label, "leads": 0, "value": 0, "without_value": 0, "weighted": 0.0, "weighted_historical": 0.0},
        )
        entry["group"] = min(entry["group"], label) if entry["group"] and label else entry["group"] or label
        entry["leads"] += count
        entry["value"] += int(value)
        entry["without_value"] += int(without)
        entry["weighted"] += int(value) * probability.get(stage_id, 0) / 100
        share = historical.get(stage_id, win_rate)
        entry["weighted_historical"] += 0.0 if share is None else int(value) * share
    rows = [
        {
            "group": entry["group"],
            "leads": entry["leads"],
            "value": to_number(entry["value"]),
            "without_value": entry["without_value"],
            "weighted": to_number(round(entry["weighted"])),
            "weighted_historical": None if win_rate is None else to_number(round(entry["weighted_historical"])),
        }
        for entry in groups.values()
    ]
    # Sorted here, one row per group, so a NULL group sorts the same on every database.
    return sorted(rows, key=lambda row: (-(row["value"] or 0), row["group"] is None, row["group"] or ""))
