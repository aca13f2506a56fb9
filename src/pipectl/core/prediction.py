"""An explained win probability, learned from the pipeline's closed leads by naive Bayes.

The model: the prior log-odds of a win (won ÷ lost among closed leads), plus,
for each feature value of a lead (`prediction_features`), the log of how much
likelier that value is among won leads than among lost ones, with Laplace
smoothing (α = 1 over the values the history holds). A value the history never
saw adds nothing. The sum is the logit; the probability is its logistic.

Training is SQL aggregates (one GROUP BY over the feature rows of closed
leads) into the `prediction_factors` table; scoring is one join of the open
leads' feature rows to it, stored in `leads.win_probability`, so `list` and
`show` read a column and never retrain. The model is rebuilt by `predict
--train`, and by `predict` whenever the closed history has changed since it
was trained (its fingerprint differs). Leads a command touches get a fresh
probability before it commits, beside their score (`rescoring`).
"""

import math

from sqlalchemy import and_, case, delete, func, insert, literal, null, select, true, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from pipectl import clock
from pipectl.core.kinds import LOGGABLE
from pipectl.core.prediction_features import FeatureSet, closed, feature_rows, seen_kinds
from pipectl.core.settings import get_setting, put_setting
from pipectl.dates import iso
from pipectl.errors import RuleViolation, UsageError
from pipectl.storage.models import Lead, LeadField, PredictionFactor

leads = Lead.__table__
factors = PredictionFactor.__table__
lead_fields = LeadField.__table__

SETTING_KEY = "prediction"
CACHE_KEY = "pipectl.prediction"
MIN_CLOSED, MIN_EACH = 30, 5
ALPHA = 1.0
# The values kept per feature, most frequent first; rarer ones count as unseen (neutral). A custom
# field with a value per lead would otherwise store a million rows that each describe one lead.
MAX_VALUES = 500
# exp() of more than this overflows on PostgreSQL; a probability is 1 or 0 to many decimals long before.
LOGIT_LIMIT = 30.0
CHUNK = 10_000


class NotEnoughHistory(RuleViolation):
    """Too few closed leads to learn from."""


def sigmoid(logit: float) -> float:
    bounded = max(-LOGIT_LIMIT, min(LOGIT_LIMIT, logit))
    return 1.0 / (1.0 + math.exp(-bounded))


def outcome_counts(session: Session, where: ColumnElement | None = None) -> tuple[int, int]:
    """(won, lost) among closed leads (and `where`)."""
    condition = closed() if where is None else and_(closed(), where)
    won = func.coalesce(func.sum(case((leads.c.status == "won", 1), else_=0)), 0)
    row = session.connection().execute(select(won, func.count()).where(condition)).one()
    return int(row[0]), int(row[1]) - int(row[0])


def check_history(won: int, lost: int, what: str = "The pipeline") -> None:
    if won + lost < MIN_CLOSED or won < MIN_EACH or lost < MIN_EACH:
        raise NotEnoughHistory(
            f"not enough history: {what} has {won + lost} closed lead(s) ({won} won, {lost} lost); a win "
            f"probability needs at least {MIN_CLOSED} closed leads with {MIN_EACH} won and {MIN_EACH} lost."
        )


def frequency_table(session: Session, features: FeatureSet, where: ColumnElement) -> list[tuple[str, str, int, int]]:
    """`(feature, value, won, lost)` over the leads matching `where`: one GROUP BY in SQL."""
    rows = feature_rows(features, where).subquery("features")
    won = func.sum(rows.c.won)
    query = select(rows.c.feature, rows.c.value, won, func.count() - won).group_by(rows.c.feature, rows.c.value)
    return [(feature, value, int(w), int(lost)) for feature, value, w, lost in session.connection().execute(query)]


def fit(table: list[tuple[str, str, int, int]], won: int, lost: int) -> dict[tuple[str, str], tuple[int, int, float]]:
    """Each value's (won, lost, contribution in log-odds), Laplace-smoothed over the feature's values.

    A tag is present or absent (two values); every other feature has one value per lead.
    """
    values: dict[str, int] = {}
    for feature, _value, _won, _lost in table:
        values[feature] = values.get(feature, 0) + 1
    fitted = {}
    for feature, value, value_won, value_lost in table:
        distinct = 2 if feature == "tag" else values[feature]
        given_won = (value_won + ALPHA) / (won + ALPHA * distinct)
        given_lost = (value_lost + ALPHA) / (lost + ALPHA * distinct)
        fitted[(feature, value)] = (value_won, value_lost, math.log(given_won) - math.log(given_lost))
    return _keep_frequent(fitted)


def _keep_frequent(fitted: dict) -> dict:
    by_feature: dict[str, list] = {}
    for (feature, value), counts in fitted.items():
        by_feature.setdefault(feature, []).append((counts[0] + counts[1], value))
    kept: set[tuple[str, str]] = set()
    for feature, ranked in by_feature.items():
        ranked.sort(key=lambda item: (-item[0], item[1]))
        kept.update((feature, value) for _, value in ranked[:MAX_VALUES])
    return {key: counts for key, counts in fitted.items() if key in kept}


def prior(won: int, lost: int) -> float:
    return math.log(won / lost)


def fingerprint(session: Session) -> list:
    """What the model learned from, in a few numbers: it is stale once they change."""
    row = (
        session.connection()
        .execute(
            select(
                func.sum(case((leads.c.status == "won", 1), else_=0)),
                func.count(),
                func.max(leads.c.closed_at),
                func.sum(leads.c.id),
            ).where(closed())
        )
        .one()
    )
    return [int(row[0] or 0), int(row[1] or 0), iso(row[2]), int(row[3] or 0)]


def stored_model(session: Session) -> dict | None:
    cached = session.info.get(CACHE_KEY)
    if cached is None:
        cached = session.info[CACHE_KEY] = get_setting(session, SETTING_KEY) or {}
    return cached or None


def feature_set(model: dict) -> FeatureSet:
    return FeatureSet(fields=tuple(model.get("fields", [])), kinds=tuple(model.get("kinds", [])))


def custom_fields(session: Session, wanted: list[str]) -> tuple[str, ...]:
    """The custom fields named (`--field`), as the leads spell them; an unknown one is refused."""
    known = {key.lower(): key for key in session.execute(select(lead_fields.c.key).distinct()).scalars()}
    chosen = []
    for name in wanted:
        key = name.strip().removeprefix("field:").strip()
        if key.lower() not in known:
            choices = ", ".join(sorted(known.values())[:20]) or "none yet"
            raise UsageError(f"No lead has the custom field {key!r}; the custom fields are: {choices}.")
        if known[key.lower()] not in chosen:
            chosen.append(known[key.lower()])
    return tuple(chosen)


def train(session: Session, fields: list[str] | None = None) -> dict:
    """Learn the model from every closed lead, store it, and give every open lead its probability."""
    previous = stored_model(session) or {}
    chosen = custom_fields(session, fields) if fields is not None else tuple(previous.get("fields", []))
    won, lost = outcome_counts(session)
    check_history(won, lost)
    features = FeatureSet(fields=chosen, kinds=seen_kinds(session, LOGGABLE))
    fitted = fit(frequency_table(session, features, closed()), won, lost)
    connection = session.connection()
    connection.execute(delete(factors))
    rows = [
        {"feature": feature, "value": value, "won": counts[0], "lost": counts[1], "contribution": counts[2]}
        for (feature, value), counts in sorted(fitted.items())
    ]
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(factors), rows[start : start + CHUNK])
    model = {
        "version": 1,
        "method": "naive-bayes",
        "prior": prior(won, lost),
        "won": won,
        "lost": lost,
        "fields": list(features.fields),
        "kinds": list(features.kinds),
        "trained_at": iso(clock.now()),
        "fingerprint": fingerprint(session),
    }
    put_setting(session, SETTING_KEY, model)
    session.info[CACHE_KEY] = model
    score_leads(session, model)
    return model


def is_stale(session: Session, model: dict) -> bool:
    return model.get("fingerprint") != fingerprint(session)


def current_model(session: Session, *, retrain: bool = False, fields: list[str] | None = None) -> tuple[dict, bool]:
    """The model, trained first when asked, when there is none, or when the history changed; (model, trained)."""
    model = stored_model(session)
    if retrain or fields is not None or model is None or is_stale(session, model):
        return train(session, fields), True
    return model, False


def _probability(logit: ColumnElement) -> ColumnElement:
    bounded = case((logit > LOGIT_LIMIT, LOGIT_LIMIT), (logit < -LOGIT_LIMIT, -LOGIT_LIMIT), else_=logit)
    return literal(1.0) / (literal(1.0) + func.exp(-bounded))


def score_leads(session: Session, model: dict, lead_ids: list[int] | None = None) -> None:
    """Store the probability of every open lead (or of `lead_ids`): set-based, three statements."""
    chosen = leads.c.status == "open"
    scope = true() if lead_ids is None else leads.c.id.in_(lead_ids)
    connection = session.connection()
    base = _probability(literal(float(model["prior"])))
    connection.execute(update(leads).where(and_(chosen, scope)).values(win_probability=base))
    connection.execute(
        update(leads).where(and_(~chosen, scope, leads.c.win_probability.is_not(None))).values(win_probability=null())
    )
    rows = feature_rows(feature_set(model), and_(chosen, scope)).subquery("features")
    sums = (
        select(rows.c.lead_id.label("id"), func.sum(factors.c.contribution).label("total"))
        .join(factors, and_(factors.c.feature == rows.c.feature, factors.c.value == rows.c.value))
        .group_by(rows.c.lead_id)
        .cte("predicted")
        .prefix_with("MATERIALIZED")
    )
    logit = literal(float(model["prior"])) + sums.c.total
    connection.execute(update(leads).where(leads.c.id == sums.c.id).values(win_probability=_probability(logit)))


def refresh_leads(session: Session, lead_ids: list[int]) -> None:
    """Fresh probabilities for leads a command changed, when there is a model (a stale one included)."""
    model = stored_model(session)
    if model is None or not lead_ids:
        return
    for start in range(0, len(lead_ids), CHUNK):
        score_leads(session, model, lead_ids[start : start + CHUNK])


def lead_factors(session: Session, model: dict, lead_id: int) -> list[dict]:
    """The lead's feature values with their contributions (0 for a value the history never saw)."""
    rows = feature_rows(feature_set(model), leads.c.id == lead_id).subquery("features")
    query = select(rows.c.feature, rows.c.value, factors.c.contribution, factors.c.won, factors.c.lost).select_from(
        rows.outerjoin(factors, and_(factors.c.feature == rows.c.feature, factors.c.value == rows.c.value))
    )
    found = []
    for feature, value, contribution, won, lost in session.connection().execute(query):
        found.append(
            {
                "field": feature,
                "value": value,
                "contribution": float(contribution or 0.0),
                "won": won,
                "lost": lost,
                "seen": contribution is not None,
            }
        )
    found.sort(key=lambda part: (-abs(part["contribution"]), part["field"], part["value"]))
    return found


def explain(session: Session, lead_id: int, model: dict) -> dict:
    """`{id, probability, prior, logit, factors: [{field, value, contribution}]}`, largest factor first.

    The prior and the contributions add up to the logit, and the probability is its logistic.
    """
    parts = lead_factors(session, model, lead_id)
    logit = model["prior"] + sum(part["contribution"] for part in parts)
    return {
        "id": lead_id,
        "probability": sigmoid(logit),
        "prior": model["prior"],
        "logit": logit,
        "factors": parts,
    }
