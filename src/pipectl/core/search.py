"""Full-text search: ranked leads for a few words, and where each one matched.

Example: search(session, "month-end close") → [{"id": 12, "name": …, "matches": [{"where": "call", …}]}]

The index is the database's own (migration 0010): FTS5 tables ranked by `bm25` on SQLite, generated
`tsvector` columns ranked by `ts_rank` on PostgreSQL, both kept current by the database in the
transaction of every write. A lead matches when all the words (each one a prefix: `torv` finds
Torvalds) appear in its own text (name, company, email, phone, title, tags, custom fields) or
together in one of its activity notes (a next action is a planned activity).

What a person types never reaches the query language: it is split into words here (letters and
digits; quotes, `*`, `-`, `NEAR` are punctuation or plain words) and each word is quoted, so no input
can break the query or change its meaning. Which fields matched is worked out afterwards, in Python,
for the few leads shown.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, select, text
from sqlmodel import Session, col

from pipectl.contract import STATUSES
from pipectl.dates import iso
from pipectl.errors import UsageError
from pipectl.folding import phone_key, search_form, words
from pipectl.storage.models import Activity

MAX_WORDS = 16  # a query, not a document: more words than this is a paste gone wrong
SHOWN_PER_LEAD = 3  # matching activities listed per lead
# bm25 weights per column of `lead_search` (name, company, email, phone, title, tags, fields): a match
# in the name counts most.
LEAD_WEIGHTS = "10.0, 6.0, 6.0, 6.0, 3.0, 3.0, 2.0"
# A lead whose own details match comes before one only mentioned in a note: the two indexes' scores
# do not compare (each is relative to its own table), so notes rank in a tier of their own after.
NOTE_TIER = 1_000_000
ANY_STATUS = "all"

_SQLITE_HITS = f"""
    SELECT rowid AS lead_id, bm25(lead_search, {LEAD_WEIGHTS}) AS rank FROM lead_search
    WHERE lead_search MATCH :query
    UNION ALL
    SELECT activities.lead_id AS lead_id, {NOTE_TIER} + bm25(activity_search) AS rank
    FROM activity_search JOIN activities ON activities.id = activity_search.rowid
    WHERE activity_search MATCH :query
"""
# ts_rank is higher for a better match: negated, it orders like bm25 (lower first). Normalisation 1
# divides it by 1 + log(length): like bm25, a word in a short text counts more (`Initech` before
# `Initech Group`), which gives the same order as SQLite on the test corpus.
_POSTGRESQL_HITS = f"""
    SELECT leads.id AS lead_id, -ts_rank(leads.search_vector, to_tsquery('simple', :query), 1) AS rank FROM leads
    WHERE leads.search_vector @@ to_tsquery('simple', :query)
    UNION ALL
    SELECT activities.lead_id AS lead_id,
           {NOTE_TIER} - ts_rank(activities.search_vector, to_tsquery('simple', :query), 1) AS rank
    FROM activities WHERE activities.search_vector @@ to_tsquery('simple', :query)
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
    hits = _hits(session, search_terms(typed)).columns(lead_id=Integer).subquery("hits")
    return select(hits.c.lead_id)


def ranked_ids(session: Session, typed: str, *, status: str = ANY_STATUS, limit: int = 20) -> list[int]:
    """The ids of the best `limit` leads for `typed`, best first (ties by id)."""
    terms = search_terms(typed)
    if status != ANY_STATUS and status not in STATUSES:
        raise UsageError(f"--status is one of {', '.join(STATUSES)} or {ANY_STATUS}, not {status!r}.")
    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    # Leads are joined only to filter by status: a common word matches many thousands of leads, and
    # reading each one's row to rank them would cost more than the ranking itself.
    wanted = "" if status == ANY_STATUS else "JOIN leads ON leads.id = hits.lead_id WHERE leads.status = :status"
    query = text(
        f"SELECT hits.lead_id FROM ({_hits(session, terms).text}) hits {wanted} "
        "GROUP BY hits.lead_id ORDER BY min(hits.rank), hits.lead_id LIMIT :limit"
    )
    parameters = {"query": _query_text(session, terms), "limit": limit}
    if status != ANY_STATUS:
        parameters["status"] = status
    return list(session.execute(query, parameters).scalars())


def search(session: Session, typed: str, *, status: str = ANY_STATUS, limit: int = 20) -> list[dict]:
    """The best leads for `typed`, best first, each with where it matched (`matches`)."""
    from pipectl.core.views import LeadFilter, lead_rows

    terms = search_terms(typed)
    ids = ranked_ids(session, typed, status=status, limit=limit)
    if not ids:
        return []
    rows = {row["id"]: row for row in lead_rows(session, LeadFilter(status=ANY_STATUS, ids=ids))}
    notes = _activity_matches(session, ids, terms)
    return [_hit(rows[lead_id], terms, notes.get(lead_id, [])) for lead_id in ids if lead_id in rows]


def _hit(row: dict, terms: list[str], notes: list[dict]) -> dict:
    matches = _field_matches(row, terms)
    return {
        "id": row["id"],
        "name": row["name"],
        "company": row["company"],
        "stage": row["stage"],
        "status": row["status"],
        "score": row["score"],
        "archived_reason": row["archived_reason"],
        # A lead found by its own text shows those fields; one found by its notes, those notes.
        "matches": [
            {key: value for key, value in match.items() if key != "terms"}
            for match in (matches if _covers(matches, terms) else []) + notes
        ],
    }


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def spans(value: str | None, terms: list[str]) -> list[Span]:
    """Where in `value` words begin with one of `terms` (for highlighting), in order."""
    if not value:
        return []
    import re
    import unicodedata

    normal = unicodedata.normalize("NFC", value)
    if normal != value:  # offsets must index the text as shown; a decomposed text is rare
        return []
    return [
        Span(found.start(), found.end())
        for found in re.finditer(r"[^\W_]+", value)
        if any(search_form(found.group()).startswith(term) for term in terms)
    ]


def _terms_in(value: str | None, terms: list[str]) -> set[str]:
    found = {search_form(word) for word in words(value)}
    return {term for term in terms if any(word.startswith(term) for word in found)}


def _field_matches(row: dict, terms: list[str]) -> list[dict]:
    """The lead's own fields holding a word of the query, with the words each holds."""
    candidates: list[tuple[str, str | None, set[str]]] = []
    for key in ("name", "company", "email", "title"):
        candidates.append((key, row[key], _terms_in(row[key], terms)))
    digits = phone_key(row["phone"]) or ""
    phone_terms = _terms_in(row["phone"], terms) | {term for term in terms if digits.startswith(term)}
    candidates.append(("phone", row["phone"], phone_terms))
    for tag in row["tags"]:
        candidates.append(("tag", tag, _terms_in(tag, terms)))
    for key, value in row["fields"].items():
        candidates.append((f"field:{key}", value, _terms_in(f"{key} {value}", terms)))
    return [{"where": where, "text": value, "terms": sorted(found)} for where, value, found in candidates if found]


def _covers(matches: list[dict], terms: list[str]) -> bool:
    return set(terms) <= {term for match in matches for term in match["terms"]}


def _activity_matches(session: Session, ids: list[int], terms: list[str]) -> dict[int, list[dict]]:
    """Per lead, the activities whose note holds every word: the next action first, then newest first."""
    found: dict[int, list[dict]] = {}
    for activity in _notes(session, ids):
        if _terms_in(activity.note, terms) != set(terms):
            continue
        shown = found.setdefault(activity.lead_id, [])
        if len(shown) < SHOWN_PER_LEAD:
            planned = not activity.done
            shown.append(
                {
                    "where": "next_action" if planned else "activity",
                    "text": activity.note,
                    "terms": terms,
                    "activity_id": activity.id,
                    "kind": activity.kind,
                    "at": iso(activity.due if planned else activity.at),
                }
            )
    return found


def _notes(session: Session, ids: list[int]) -> Iterator[Activity]:
    query = (
        select(Activity)
        .where(col(Activity.lead_id).in_(ids), col(Activity.note).is_not(None))
        .order_by(col(Activity.done), col(Activity.at).desc(), col(Activity.id).desc())
    )
    yield from session.execute(query).scalars()
