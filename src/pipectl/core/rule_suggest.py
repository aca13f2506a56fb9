"""Scoring rules proposed from the win model's strongest factors, as a TOML file a seller edits.

Each proposed rule is one feature value the history finds telling (its
log-odds at least `MIN_LOG_ODDS` either way, seen on at least `MIN_LEADS`
closed leads), worth its log-odds × 10 points, rounded: a value that makes a
win about e times likelier is worth 10 points. Stages, tags and activity bands
are left out: rules do not match them (behavioural rules weigh activities).
"""

import json

from sqlalchemy import select
from sqlmodel import Session

from pipectl.core.prediction_features import NONE, SIZE_BANDS
from pipectl.core.rules import parse_rules
from pipectl.storage.models import PredictionFactor

factors = PredictionFactor.__table__
MIN_LOG_ODDS = 0.4
MIN_LEADS = 5
POINTS_PER_LOG_ODDS = 10
FIELDS = {"source": "source", "industry": "industry", "owner": "owner", "size": "company_size"}


def strongest(session: Session, limit: int) -> list[dict]:
    """The most telling feature values a demographic rule can match, strongest first."""
    rows = session.connection().execute(
        select(factors.c.feature, factors.c.value, factors.c.won, factors.c.lost, factors.c.contribution)
    )
    found = []
    for feature, value, won, lost, contribution in rows:
        if feature not in FIELDS and not feature.startswith("field:"):
            continue
        if won + lost < MIN_LEADS or abs(contribution) < MIN_LOG_ODDS:
            continue
        found.append({"feature": feature, "value": value, "won": won, "lost": lost, "contribution": contribution})
    found.sort(key=lambda item: (-abs(item["contribution"]), item["feature"], item["value"]))
    return found[:limit]


def _condition(feature: str, value: str) -> dict:
    field = FIELDS.get(feature, feature)
    if value == NONE:
        return {"field": field, "missing": True}
    if feature == "size":
        bounds = sorted(low for low, _ in SIZE_BANDS)
        low = next(low for low, label in SIZE_BANDS if label == value)
        higher = [bound for bound in bounds if bound > low]
        return {"field": field, "min": max(low, 1), **({"max": higher[0] - 1} if higher else {})}
    return {"field": field, "equals": value}


def suggest(session: Session, model: dict, limit: int = 10) -> str:
    """The suggested `[scoring]` rules as TOML (checked to load), with a comment on each."""
    import tomli_w

    lines = [
        f"# Scoring rules suggested by `pipectl rules suggest` from {model['won'] + model['lost']:,} closed leads",
        f"# ({model['won']:,} won, {model['lost']:,} lost), learned {model['trained_at'][:10]}.",
        "# Each rule is worth its log-odds x 10 points, rounded. Edit freely, then load with",
        "#   pipectl rules load FILE.toml",
        "# Loading a [scoring] table replaces the scoring rules in force: copy the rules you keep",
        "# from `pipectl rules export` into this file first.",
        "",
    ]
    names: set[str] = set()
    for item in strongest(session, limit):
        points = max(-100, min(100, round(item["contribution"] * POINTS_PER_LOG_ODDS)))
        if points == 0:
            continue
        label = item["feature"].removeprefix("field:")
        name = f"{label} {item['value']}"[:80]
        if name.lower() in names:
            continue
        names.add(name.lower())
        rule = {"name": name, **_condition(item["feature"], item["value"]), "points": points}
        lines.append(
            f"# {item['won']} won, {item['lost']} lost with {label} {json.dumps(item['value'], ensure_ascii=False)}: "
            f"log-odds {item['contribution']:+.2f}"
        )
        # One key per line under its own header, as in examples/scoring.toml (tomli_w writes a lone
        # table as `key = value` lines).
        lines.append("[[scoring.demographic]]")
        lines.append(tomli_w.dumps(rule).strip())
        lines.append("")
    if not names:
        lines.append("# No field value is telling enough yet to suggest a rule.")
    text = "\n".join(lines).rstrip() + "\n"
    parse_rules(text, "the suggested rules")  # a suggestion that could not be loaded would be a bug
    return text
