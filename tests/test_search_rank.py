"""SQLite's tiered search ranking (core/search_rank.py) finds the leads the one ranking statement finds.

The statement (`search_query._SQLITE_HITS`, grouped by lead) is the definition; the tiers only avoid
work. They are compared on a generated pipeline (notes from templates, so thousands tie) for words
that match names, notes, both or nothing, every status and several limits, and with chunks made tiny
so that every path (a list filled from the first chunk, growing chunks, notes read again) runs.
"""

import pytest
from sqlalchemy import Float, Integer, func, select

from benchmarks.generate import generate

pytestmark = pytest.mark.sqlite_only("compares SQLite's FTS5 ranking paths")

WORDS = ["lovelace", "ada lovelace", "tor", "group", "send proposal", "call", "follow up", "12", "zzz", "a"]
STATUSES = ["all", "open", "won", "lost", "archived"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from pipectl.storage.schema import open_database

    path = generate(tmp_path_factory.mktemp("rank") / "rank.db", 600)
    database = open_database(str(path))
    yield database
    database.close()


def one_statement(session, typed: str, status: str, limit: int) -> list[int]:
    """The ranking as one statement: every match of either index, each lead at its best (ties by id)."""
    from pipectl.core.search_query import _hits, search_terms
    from pipectl.storage.models import Lead

    hits = _hits(session, search_terms(typed)).columns(lead_id=Integer, rank=Float).subquery("hits")
    query = select(hits.c.lead_id).group_by(hits.c.lead_id).order_by(func.min(hits.c.rank), hits.c.lead_id)
    if status != "all":
        query = query.join(Lead, Lead.id == hits.c.lead_id).where(Lead.status == status)
    return list(session.execute(query.limit(limit)).scalars())


@pytest.mark.parametrize("sizes", [(256, 16384, 16), (2, 8, 1)], ids=["as shipped", "tiny chunks"])
def test_the_tiers_find_what_the_one_statement_finds(pipeline, monkeypatch, sizes):
    from pipectl.core import search_rank
    from pipectl.core.search_query import ranked_ids

    for name, size in zip(("FIRST_CHUNK", "LAST_CHUNK", "NOTES_PER_LEAD"), sizes, strict=True):
        monkeypatch.setattr(search_rank, name, size)
    compared = 0
    with pipeline.session(write=False) as session:
        for typed in WORDS:
            for status in STATUSES:
                for limit in (1, 3, 20, 500):
                    expected = one_statement(session, typed, status, limit)
                    assert ranked_ids(session, typed, status=status, limit=limit) == expected, (typed, status, limit)
                    compared += bool(expected)
    assert compared > 100  # most of the comparisons found leads: the equality is not between empty lists
