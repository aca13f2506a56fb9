"""Full-text search: ranked leads for a few words, and where each one matched.

Example: search(session, "month-end close") → [{"id": 12, "name": …, "matches": [{"where": "call", …}]}]

The index is the database's own (migration 0010): FTS5 tables ranked by `bm25` on SQLite, generated
`tsvector` columns ranked by `ts_rank` on PostgreSQL, both kept current by the database in the
transaction of every write. A lead matches when all the words (each one a prefix: `torv` finds
Torvalds) appear in its own text (name, company, email, phone, title, tags, custom fields) or
together in one of its activity notes (a next action is a planned activity).

What a person types never reaches the query language (`core/search_query.py`). Which fields
matched is worked out afterwards, in Python,
for the few leads shown.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from pipectl.core.search_query import ANY_STATUS, ranked_ids, search_terms
from pipectl.dates import iso
from pipectl.folding import phone_key, search_form, words
from pipectl.storage.models import Activity

SHOWN_PER_LEAD = 3  # matching activities listed per lead
_ASCII_WORD = re.compile(r"[^\W_]+", re.ASCII)  # folding.words, for text that is all ASCII


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
    if value and value.isascii():  # most notes: an ASCII word's search form is its lower case, made at once
        found = set(_ASCII_WORD.findall(value.lower()))
    else:
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
