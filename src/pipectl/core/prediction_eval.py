"""How good the win model is on this pipeline's own history, beside the rule score.

The closed leads are split by close date: the model learns from the older part
(with the same SQL as `predict --train`, nothing stored) and predicts the newer
part, where its ranking (ROC AUC), its accuracy as a probability (Brier score)
and its calibration (predicted against actual, by decile) are measured. The
rule score (0–100, read as a probability ÷ 100) is measured on the same leads.
"""

import math
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from pipectl.core.kinds import LOGGABLE
from pipectl.core.prediction import check_history, fit, frequency_table, outcome_counts, prior, sigmoid
from pipectl.core.prediction_features import FeatureSet, closed, feature_rows, seen_kinds
from pipectl.dates import iso
from pipectl.errors import RuleViolation, UsageError
from pipectl.storage.models import Lead

leads = Lead.__table__
DECILES = 10


def roc_auc(scores: list[float], outcomes: list[bool]) -> float:
    """The chance a won lead ranks above a lost one (ties count half): Mann–Whitney U over ranks."""
    order = sorted(range(len(scores)), key=lambda index: scores[index])
    ranks = [0.0] * len(scores)
    position = 0
    while position < len(order):
        end = position
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[position]]:
            end += 1
        shared = (position + end) / 2 + 1  # tied scores share their average rank
        for index in order[position : end + 1]:
            ranks[index] = shared
        position = end + 1
    won = sum(outcomes)
    lost = len(outcomes) - won
    if won == 0 or lost == 0:
        raise RuleViolation("the held-out leads need at least one won and one lost lead to compare rankings.")
    rank_sum = sum(rank for rank, outcome in zip(ranks, outcomes, strict=True) if outcome)
    return (rank_sum - won * (won + 1) / 2) / (won * lost)


def brier(probabilities: list[float], outcomes: list[bool]) -> float:
    """Mean squared distance between the probability and what happened (0 is perfect, 0.25 a coin)."""
    return sum((p - float(o)) ** 2 for p, o in zip(probabilities, outcomes, strict=True)) / len(outcomes)


def calibration(probabilities: list[float], outcomes: list[bool]) -> list[dict]:
    """Leads sorted by probability into ten near-equal groups: mean predicted against share won."""
    order = sorted(range(len(probabilities)), key=lambda index: probabilities[index])
    groups = []
    for decile in range(DECILES):
        chosen = order[len(order) * decile // DECILES : len(order) * (decile + 1) // DECILES]
        if not chosen:
            continue
        groups.append(
            {
                "decile": decile + 1,
                "leads": len(chosen),
                "predicted": sum(probabilities[index] for index in chosen) / len(chosen),
                "actual": sum(outcomes[index] for index in chosen) / len(chosen),
            }
        )
    return groups


def split_instant(session: Session, holdout: float | None, before: datetime | None) -> datetime:
    """Where the newer part begins: the given date, or the close date of the oldest held-out lead."""
    if before is not None:
        return before
    assert holdout is not None, "a holdout share or a date"
    total = session.connection().execute(select(func.count()).where(closed())).scalar_one()
    held = math.ceil(total * holdout)
    if total == 0 or held == 0:
        raise RuleViolation("not enough history: there are no closed leads to hold out.")
    row = (
        session.connection()
        .execute(
            select(leads.c.closed_at)
            .where(closed())
            .order_by(leads.c.closed_at, leads.c.id)
            .offset(total - held)
            .limit(1)
        )
        .first()
    )
    assert row is not None, "the offset is inside the closed leads"
    return row[0]


def parse_holdout(text: str) -> float:
    """`30%` or `0.3` → 0.3; the share must leave something on both sides."""
    cleaned = text.strip()
    try:
        share = float(cleaned[:-1]) / 100 if cleaned.endswith("%") else float(cleaned)
    except ValueError:
        raise UsageError(f"--holdout is a share of the closed leads such as 30% or 0.3, not {text!r}.") from None
    if not 0 < share < 1:
        raise UsageError(f"--holdout must be above 0% and below 100%, not {text!r}.")
    return share


def evaluate(session: Session, *, holdout: float | None, before: datetime | None, fields: tuple[str, ...]) -> dict:
    """Train on the closed leads before the split, measure the model and the rule score after it."""
    cut = split_instant(session, holdout, before)
    train_where, test_where = closed(before=cut), closed(since=cut)
    won, lost = outcome_counts(session, leads.c.closed_at < cut)
    check_history(won, lost, "the older part of the history")
    features = FeatureSet(fields=fields, kinds=seen_kinds(session, LOGGABLE))
    fitted = fit(frequency_table(session, features, train_where), won, lost)
    logits: dict[int, float] = {}
    rows = feature_rows(features, test_where).subquery("features")
    for lead_id, feature, value in session.connection().execute(select(rows.c.lead_id, rows.c.feature, rows.c.value)):
        contribution = fitted.get((feature, value))
        logits[lead_id] = logits.get(lead_id, 0.0) + (contribution[2] if contribution else 0.0)
    held = session.connection().execute(
        select(leads.c.id, leads.c.status, leads.c.score).where(test_where).order_by(leads.c.id)
    )
    base = prior(won, lost)
    model_p, rule_p, outcomes = [], [], []
    for lead_id, status, score in held:
        model_p.append(sigmoid(base + logits.get(lead_id, 0.0)))
        rule_p.append((score or 0) / 100)
        outcomes.append(status == "won")
    if not outcomes:
        raise RuleViolation(f"no lead closed on or after {iso(cut)}: nothing is left to test the model on.")
    return {
        "split": iso(cut),
        "train": {"closed": won + lost, "won": won, "lost": lost},
        "test": {"closed": len(outcomes), "won": sum(outcomes), "lost": len(outcomes) - sum(outcomes)},
        "model": _measures(model_p, outcomes),
        "rules": _measures(rule_p, outcomes),
    }


def _measures(probabilities: list[float], outcomes: list[bool]) -> dict:
    return {
        "auc": roc_auc(probabilities, outcomes),
        "brier": brier(probabilities, outcomes),
        "calibration": calibration(probabilities, outcomes),
    }
