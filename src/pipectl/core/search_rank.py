"""The best leads for a search on SQLite, found without joining every match to its row.

Example: best_ids(session, '"ada"* "lovelace"*', status="open", limit=20) → [316, 6405, …]

The ranking is `core/search_query.py`'s (one SQL statement over both FTS5 tables, each lead at its
best match, a lead's own details before its notes), worked out in tiers so that a common word does
not cost a row read per match. A million leads hold 50,000 Lovelaces; the one-statement form joined
every matching note to `activities` to learn its lead, and grouped all the matches, before keeping 20:

- A lead's own details rank before any note (`NOTE_TIER`), so when they give `limit` leads the notes
  are not read at all; otherwise the notes only fill the places left.
- Matches come out of FTS5 in rank order and are looked up (a note's lead, a lead's status) a chunk
  at a time, only until the list is full: `--status won` reads a few hundred matches' status, not all.

Each match is still ranked (bm25), as the one statement ranks it, so the hits are the same ones, in
the same order, ties broken by lead id.
"""

import heapq
import json
from collections.abc import Iterator, Sequence

from sqlalchemy import Result, Row, text
from sqlmodel import Session

from pipectl.core.search_query import ANY_STATUS, NOTE_TIER

# Matches looked up at a time: most searches fill their list from the first chunk; one that does not
# (a status few matches have) reads ever larger ones.
FIRST_CHUNK, LAST_CHUNK = 256, 16384

# The weights are search_query.LEAD_WEIGHTS, written out: SQL text is never built here.
_LEADS = """
    SELECT rowid, bm25(lead_search, 10.0, 6.0, 6.0, 6.0, 3.0, 3.0, 2.0) AS rank FROM lead_search
    WHERE lead_search MATCH :query ORDER BY rank, rowid
"""
_LEADS_LIMITED = _LEADS + " LIMIT :limit"
_NOTES_FIRST = """
    SELECT rowid, bm25(activity_search) AS rank FROM activity_search
    WHERE activity_search MATCH :query ORDER BY rank, rowid LIMIT :limit
"""
# The one statement's notes half; the CROSS JOINs keep SQLite reading each matching note, then its row.
# `LIMIT -1` (no limit) keeps the inner SELECT whole: merged into the grouping, bm25 would be called
# outside the full-text query, where it cannot run.
_NOTES_GROUPED = """
    SELECT lead_id FROM (
        SELECT activities.lead_id AS lead_id, 1000000 + bm25(activity_search) AS rank
        FROM activity_search CROSS JOIN activities ON activities.id = activity_search.rowid
        WHERE activity_search MATCH :query LIMIT -1
    ) GROUP BY lead_id ORDER BY min(rank), lead_id LIMIT :limit
"""
_NOTES_GROUPED_STATUS = """
    SELECT lead_id FROM (
        SELECT activities.lead_id AS lead_id, 1000000 + bm25(activity_search) AS rank
        FROM activity_search CROSS JOIN activities ON activities.id = activity_search.rowid
        CROSS JOIN leads ON leads.id = activities.lead_id
        WHERE activity_search MATCH :query AND leads.status = :status LIMIT -1
    ) GROUP BY lead_id ORDER BY min(rank), lead_id LIMIT :limit
"""
# The ids of a chunk go in as one JSON array (one statement, whatever the chunk's size). CROSS JOIN keeps
# SQLite to this order (each id, then its row): left free, it may read every lead of a status instead.
_STATUS_OF = text(
    "SELECT leads.id FROM json_each(:ids) AS chunk CROSS JOIN leads ON leads.id = chunk.value "
    "WHERE leads.status = :status"
)
_LEAD_OF = text(
    "SELECT activities.id, activities.lead_id FROM json_each(:ids) AS chunk "
    "CROSS JOIN activities ON activities.id = chunk.value"
)
_LEAD_OF_STATUS = text(
    "SELECT activities.id, activities.lead_id FROM json_each(:ids) AS chunk "
    "CROSS JOIN activities ON activities.id = chunk.value CROSS JOIN leads ON leads.id = activities.lead_id "
    "WHERE leads.status = :status"
)


def best_ids(session: Session, query: str, *, status: str, limit: int) -> list[int]:
    """The ids of the best `limit` leads for the FTS5 `query`, best first (ties by id)."""
    found = _by_details(session, query, status, limit)
    if len(found) < limit:
        found += _by_notes(session, query, status, limit - len(found), exclude=set(found))
    return found


def _by_details(session: Session, query: str, status: str, limit: int) -> list[int]:
    """The best leads whose own details match, best first: the first tier, whole."""
    if status == ANY_STATUS:
        return list(session.execute(text(_LEADS_LIMITED), {"query": query, "limit": limit}).scalars())
    found: list[int] = []
    for chunk in _chunks(session.execute(text(_LEADS), {"query": query})):
        ids = [lead_id for lead_id, _rank in chunk]
        kept = set(session.execute(_STATUS_OF, {"ids": json.dumps(ids), "status": status}).scalars())
        found += [lead_id for lead_id in ids if lead_id in kept][: limit - len(found)]
        if len(found) == limit:
            break
    return found


def _by_notes(session: Session, query: str, status: str, wanted: int, *, exclude: set[int]) -> list[int]:
    """The best `wanted` leads found only by a note, at their best note's rank (ties by lead id).

    The best notes are looked at first: they usually settle the list. When they do not (notes that tie
    by the thousand, as a template's do), one statement groups every matching note by its lead."""
    best: dict[int, float] = {}  # lead id: its rank, in the order first met (so by rank)
    last = float("inf")  # once the list is full, the worst rank it holds
    lookup = _LEAD_OF if status == ANY_STATUS else _LEAD_OF_STATUS
    chunk = session.execute(text(_NOTES_FIRST), {"query": query, "limit": FIRST_CHUNK}).all()
    leads = dict(session.execute(lookup, {"ids": json.dumps([row[0] for row in chunk]), "status": status}).all())
    for activity_id, rank in chunk:
        # The tier is added as the one statement adds it: two notes may then tie, and ties go by id.
        key = NOTE_TIER + rank
        if len(best) >= wanted and key > last:
            return _first(best, wanted)
        lead_id = leads.get(activity_id)
        if lead_id is None or lead_id in exclude or lead_id in best:
            continue
        best[lead_id] = key
        if len(best) == wanted:
            last = key  # later matches only tie it or rank after it
    if len(chunk) < FIRST_CHUNK:  # every matching note was looked at
        return _first(best, wanted)
    grouped = _NOTES_GROUPED if status == ANY_STATUS else _NOTES_GROUPED_STATUS
    ranked = session.execute(text(grouped), {"query": query, "status": status, "limit": wanted + len(exclude)})
    return [lead_id for lead_id in ranked.scalars() if lead_id not in exclude][:wanted]


def _first(best: dict[int, float], wanted: int) -> list[int]:
    return [lead_id for _rank, lead_id in heapq.nsmallest(wanted, ((rank, lead_id) for lead_id, rank in best.items()))]


def _chunks(result: Result) -> Iterator[Sequence[Row]]:
    size = FIRST_CHUNK
    while chunk := result.fetchmany(size):
        yield chunk
        size = min(size * 4, LAST_CHUNK)
    result.close()
