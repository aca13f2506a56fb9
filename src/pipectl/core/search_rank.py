"""The best leads for a search on SQLite, in tiers: what cannot make the list is not read.

Example: best_ids(session, '"ada"* "lovelace"*', status="open", limit=20) → [316, 6405, …]
(`core/search_query.py` calls it with the query it builds; this module imports nothing of pipectl's.)

The ranking is `core/search_query.py`'s one statement (both FTS5 tables, each lead at its best match,
a lead's own details before its notes, ties by lead id). Run as it is written, it joins every matching
note to its activity and groups every match before keeping 20; a million leads hold 50,000 Lovelaces.
Here the same leads come in tiers:

- A lead's own details rank before any note (`NOTE_TIER`): when they give `limit` leads, the notes
  are not read at all; otherwise the notes only fill the places left.
- With `--status`, the details' matches come in rank order and their status is read a chunk at a
  time, only until the list is full (`--status won` reads a few hundred leads, not 50,000).
- The notes' matches are sorted by rank, then lead, and read only until `limit` leads are found: a
  lead first met there is at its best note, so no grouping of every match is needed.

Every match is still ranked (bm25), as the one statement ranks it: the hits are the same ones, in the
same order (tests/test_search_rank.py compares them).
"""

import json
from collections.abc import Iterator, Sequence

from sqlalchemy import Result, Row, text
from sqlmodel import Session

# Leads whose status is read at a time: most searches fill their list from the first chunk; one that
# does not (a status few matches have) reads ever larger ones.
FIRST_CHUNK, LAST_CHUNK = 256, 16384
# Notes read at first per lead wanted (a lead may have several matching notes); more when too few.
NOTES_PER_LEAD = 16

# The weights are search_query.LEAD_WEIGHTS and the tier its NOTE_TIER, written out: SQL text is never
# built here.
_LEADS = """
    SELECT rowid, bm25(lead_search, 10.0, 6.0, 6.0, 6.0, 3.0, 3.0, 2.0) AS rank FROM lead_search
    WHERE lead_search MATCH :query ORDER BY rank, rowid
"""
_LEADS_LIMITED = _LEADS + " LIMIT :limit"
# A chunk's ids go in as one JSON array (one statement, whatever the chunk's size). The CROSS JOINs
# keep SQLite to the order written (each match, then its row): left free, it may read every lead of
# the status through an index instead, which took seconds.
_STATUS_OF = text(
    "SELECT leads.id FROM json_each(:ids) AS chunk CROSS JOIN leads ON leads.id = chunk.value "
    "WHERE leads.status = :status"
)
_NOTES = """
    SELECT activities.lead_id, 1000000 + bm25(activity_search) AS rank
    FROM activity_search CROSS JOIN activities ON activities.id = activity_search.rowid
    WHERE activity_search MATCH :query ORDER BY rank, activities.lead_id LIMIT :limit
"""
_NOTES_STATUS = """
    SELECT activities.lead_id, 1000000 + bm25(activity_search) AS rank
    FROM activity_search CROSS JOIN activities ON activities.id = activity_search.rowid
    CROSS JOIN leads ON leads.id = activities.lead_id
    WHERE activity_search MATCH :query AND leads.status = :status ORDER BY rank, activities.lead_id LIMIT :limit
"""


def best_ids(session: Session, query: str, *, status: str | None, limit: int) -> list[int]:
    """The ids of the best `limit` leads for the FTS5 `query` (of `status`, None for any), best first."""
    found = _by_details(session, query, status, limit)
    if len(found) < limit:
        found += _by_notes(session, query, status, limit - len(found), exclude=set(found))
    return found


def _by_details(session: Session, query: str, status: str | None, limit: int) -> list[int]:
    """The best leads whose own details match, best first: the first tier, whole."""
    if status is None:
        return list(session.execute(text(_LEADS_LIMITED), {"query": query, "limit": limit}).scalars())
    found: list[int] = []
    ranked = session.execute(text(_LEADS), {"query": query})
    try:
        for chunk in _chunks(ranked):
            ids = [lead_id for lead_id, _rank in chunk]
            kept = set(session.execute(_STATUS_OF, {"ids": json.dumps(ids), "status": status}).scalars())
            found += [lead_id for lead_id in ids if lead_id in kept][: limit - len(found)]
            if len(found) == limit:
                break
    finally:
        ranked.close()  # the rest of the matches are not read: the statement ends here, not when collected
    return found


def _by_notes(session: Session, query: str, status: str | None, wanted: int, *, exclude: set[int]) -> list[int]:
    """The best `wanted` leads found by a note only, each at its best note (ties by lead id)."""
    sql = text(_NOTES if status is None else _NOTES_STATUS)
    rows = NOTES_PER_LEAD * (wanted + len(exclude))
    while True:
        notes = session.execute(sql, {"query": query, "status": status, "limit": rows}).all()
        found: list[int] = []
        for lead_id, _rank in notes:
            if lead_id not in exclude and lead_id not in found:
                found.append(lead_id)
                if len(found) == wanted:
                    return found
        if len(notes) < rows:  # every matching note was read
            return found
        rows *= 8


def _chunks(result: Result) -> Iterator[Sequence[Row]]:
    size = FIRST_CHUNK
    while chunk := result.fetchmany(size):
        yield chunk
        size = min(size * 4, LAST_CHUNK)
