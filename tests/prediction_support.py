"""Synthetic pipelines with a known generating process, for the win model's tests."""

import random
from datetime import timedelta

from pipectl import clock
from pipectl.core.history import record
from pipectl.core.leads import add_lead, validate_fields
from pipectl.core.outcomes import mark_lost, mark_won
from pipectl.core.rescoring import rescore_marked

# The planted process: the source matters most, then the industry; the owner is noise.
SOURCE_ODDS = {"Referral": 0.85, "Website": 0.5, "Cold list": 0.1}
INDUSTRY_SHIFT = {"SaaS": 0.1, "Retail": -0.1}


def win_chance(source: str, industry: str) -> float:
    return min(0.95, max(0.05, SOURCE_ODDS[source] + INDUSTRY_SHIFT[industry]))


def build(session, closed: int = 120, seed: int = 7, open_per_kind: int = 1) -> dict:
    """`closed` closed leads drawn from the process (oldest first), then one open lead per (source,
    industry); returns {(source, industry): open lead}."""
    rng = random.Random(seed)
    start = clock.now() - timedelta(days=closed + 30)
    for index in range(closed):
        source, industry = rng.choice(list(SOURCE_ODDS)), rng.choice(list(INDUSTRY_SHIFT))
        owner = rng.choice(["ann", "bob"])
        at = start + timedelta(days=index)
        lead, _ = add_lead(
            session,
            validate_fields(name=f"Past {index}", source=source, industry=industry, owner=owner),
            at=at,
            force=True,
        )
        if source == "Referral":
            record(session, lead, "meeting", at)
        if rng.random() < win_chance(source, industry):
            mark_won(session, lead, at=at + timedelta(hours=1))
        else:
            mark_lost(session, lead, reason="no", at=at + timedelta(hours=1))
    rescore_marked(session)
    opened = {}
    for source in SOURCE_ODDS:
        for industry in INDUSTRY_SHIFT:
            for copy in range(open_per_kind):
                lead, _ = add_lead(
                    session,
                    validate_fields(name=f"Open {source} {industry} {copy}", source=source, industry=industry),
                    force=True,
                )
                opened.setdefault((source, industry), lead)
    rescore_marked(session)
    session.flush()
    return opened
