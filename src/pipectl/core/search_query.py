"""The search query: typed text as quoted prefix words, and the leads that match them, ranked in SQL.

The ranking is defined by one statement per backend (`_SQLITE_HITS`, `_POSTGRESQL_HITS`, grouped by
lead). PostgreSQL runs it; SQLite gets the same leads from `core/search_rank.py`, in tiers that skip
the rows which cannot make the list.

What a person types never reaches the query language: it is split into words here (letters and
digits; quotes, `*`, `-`, `NEAR` are punctuation or plain words) and each word is quoted, so no input
can break the query or change its meaning. `pipectl.core.search` builds the hits people see on it.
"""

from sqlalchemy import Float, Integer, bindparam, func, select, text
from sqlmodel import Session, col

from pipectl.contract import STATUSES
from pipectl.errors import UsageError
from pipectl.folding import search_form, words
from pipectl.storage.models import Lead

MAX_WORDS = 16  # a query, not a document: more words than this is a paste gone wrong
# bm25 weights per column of `lead_search` (name, company, email, phone, title, tags, fields): a match
# in the name counts most.
LEAD_WEIGHTS = "10.0, 6.0, 6.0, 6.0, 3.0, 3.0, 2.0"
# A lead whose own details match comes before one only mentioned in a note: the two indexes' scores
# do not compare (each is relative to its own table), so notes rank in a tier of their own after.
NOTE_TIER = 1_000_000
ANY_STATUS = "all"

# Written out in full (no formatting: SQL text is never built here); the numbers are LEAD_WEIGHTS and
# NOTE_TIER above, which the benchmark's hand-written query uses too.
_SQLITE_HITS = """
    SELECT rowid AS lead_id, bm25(lead_search, 10.0, 6.0, 6.0, 6.0, 3.0, 3.0, 2.0) AS rank FROM lead_search
    WHERE lead_search MATCH :query
    UNION ALL
    SELECT activities.lead_id AS lead_id, 1000000 + bm25(activity_search) AS rank
    FROM activity_search JOIN activities ON activities.id = activity_search.rowid
    WHERE activity_search MATCH :query
"""
# ts_rank is higher for a better match: negated, it orders like bm25 (lower first). Normalisation 1
# divides it by 1 + log(length): like bm25, a word in a short text counts more (`Initech` before
# `Initech Group`), which gives the same order as SQLite on the test corpus.
_POSTGRESQL_HITS = """
    SELECT leads.id AS lead_id, -ts_rank(leads.search_vector, to_tsquery('simple', :query), 1) AS rank FROM leads
    WHERE leads.search_vector @@ to_tsquery('simple', :query)
    UNION ALL
    SELECT activities.lead_id AS lead_id,
           1000000 - ts_rank(activities.search_vector, to_tsquery('simple', :query), 1) AS rank
    FROM activities WHERE activities.search_vector @@ to_tsquery('simple', :query)
"""
# The same matches unranked, for `list --search` (which sorts as asked): no bm25 or ts_rank to work out
# for each of them.
_SQLITE_MATCHING = """
    SELECT rowid AS lead_id FROM lead_search WHERE lead_search MATCH :query
    UNION ALL
    SELECT activities.lead_id AS lead_id FROM activity_search JOIN activities ON activities.id = activity_search.rowid
    WHERE activity_search MATCH :query
"""
_POSTGRESQL_MATCHING = """
    SELECT leads.id AS lead_id FROM leads WHERE leads.search_vector @@ to_tsquery('simple', :query)
    UNION ALL
    SELECT activities.lead_id AS lead_id FROM activities
    WHERE activities.search_vector @@ to_tsquery('simple', :query)
"""


def search_terms(typed: str) -> list[str]:
    """The words of a query as the index holds them, each once; a query with no word is refused."""
    found = list(dict.fromkeys(search_form(word) for word in words(typed)))
    if not found:
        raise UsageError(f"Nothing to search for in {typed!r}: give at least one word (letters or digits).")
    if len(found) > MAX_WORDS:
        raise UsageError(f"A search takes at most {MAX_WORDS} words; this one has {len(found)}.")
    return found


def _query_text(session: Session, terms: list[str]) -> str:
    """The index's query for `terms`: every word, as a prefix. The words are letters and digits only
    (`search_terms`), and quoted besides, so nothing in them is read as query syntax."""
    if _dialect(session) == "postgresql":
        return " & ".join(f"'{term}':*" for term in terms)
    return " ".join(f'"{term}"*' for term in terms)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _hits(session: Session, terms: list[str]):
    """A text clause giving (lead_id, rank) for every lead text or activity note that matches."""
    sql = _POSTGRESQL_HITS if _dialect(session) == "postgresql" else _SQLITE_HITS
    return text(sql).bindparams(bindparam("query", _query_text(session, terms)))


def matching_ids(session: Session, typed: str):
    """A SELECT of the ids of the leads matching `typed` (for `list --search`), unranked."""
    sql = _POSTGRESQL_MATCHING if _dialect(session) == "postgresql" else _SQLITE_MATCHING
    query = _query_text(session, search_terms(typed))
    hits = text(sql).bindparams(bindparam("query", query)).columns(lead_id=Integer).subquery("hits")
    return select(hits.c.lead_id)


def ranked_ids(session: Session, typed: str, *, status: str = ANY_STATUS, limit: int = 20) -> list[int]:
    """The ids of the best `limit` leads for `typed`, best first (ties by id)."""
    terms = search_terms(typed)
    if status != ANY_STATUS and status not in STATUSES:
        raise UsageError(f"--status is one of {', '.join(STATUSES)} or {ANY_STATUS}, not {status!r}.")
    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    if _dialect(session) == "sqlite":
        from pipectl.core.search_rank import best_ids

        wanted = None if status == ANY_STATUS else status
        return best_ids(session, _query_text(session, terms), status=wanted, limit=limit)
    hits = _hits(session, terms).columns(lead_id=Integer, rank=Float).subquery("hits")
    query = select(hits.c.lead_id).group_by(hits.c.lead_id).order_by(func.min(hits.c.rank), hits.c.lead_id)
    if status != ANY_STATUS:
        # Leads are joined only to filter by status: a common word matches many thousands of leads, and
        # reading each one's row to rank them would cost more than the ranking itself.
        query = query.join(Lead, col(Lead.id) == hits.c.lead_id).where(col(Lead.status) == status)
    return list(session.execute(query.limit(limit)).scalars())
