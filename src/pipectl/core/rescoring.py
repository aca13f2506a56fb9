"""Stored scores stay current: the leads a command touched are re-scored once, in SQL, before it commits.

Whatever changes a lead marks it (`mark`; `history.record` does it for every
activity) and nothing re-scores on the spot. Just before the command's
transaction commits, the marked leads are re-scored together: one set-based
UPDATE per chunk of ids, with the rules `scoring_sql` compiles. A command that
touches thousands of leads costs a few statements, not thousands of
single-lead queries.

Why a `before_commit` listener, attached by `mark` to the session itself:
storage owns the transaction (`Database.session` commits) and imports nothing
from the core, so the core hooks in through SQLAlchemy's session events. The
listener sits on the one session that marked leads, so whoever commits it (a
command, a test, a script) commits current scores, and a session that marked
nothing pays nothing; a rollback forgets the marks. A command that reads a
score it has just changed (`add`'s entry rules, `score LEAD`, `score --apply`)
calls `rescore_marked` or `rescore_leads` first.
"""

from collections.abc import Iterable

from sqlalchemy import event, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from pipectl import clock
from pipectl.core import scoring_sql
from pipectl.core.prediction import refresh_leads
from pipectl.core.scoring import current_rules
from pipectl.storage.models import Lead

MARKED = "pipectl.rescore"
# Ids per UPDATE: well under the bound parameters SQLite (32,766) and PostgreSQL (65,535) accept.
CHUNK = 10_000
LEADS = Lead.__table__


def mark(session: Session, lead_ids: Iterable[int]) -> None:
    """Note leads whose score may have changed; they are re-scored once, before the commit."""
    marked = session.info.get(MARKED)
    if marked is None:
        marked = session.info[MARKED] = set()
        if not event.contains(session, "before_commit", _before_commit):
            event.listen(session, "before_commit", _before_commit)
            event.listen(session, "after_rollback", _forget)
    marked.update(lead_ids)


def counts_kind(session: Session, kind: str) -> bool:
    """Whether a behavioural rule counts activities of `kind`: if none does, adding one moves no score."""
    return any(rule.kind == kind for rule in current_rules(session).scoring.behavioural)


def rescore_marked(session: Session) -> None:
    """Re-score the marked leads now (their pending changes are flushed first) and clear the marks."""
    marked = session.info.get(MARKED)
    if not marked:
        return
    ids = sorted(marked)
    marked.clear()
    session.flush()
    rescore_leads(session, ids)


def rescore_leads(session: Session, lead_ids: list[int]) -> None:
    """Recompute and store the scores (and nurture marks) of these leads, whatever their status."""
    if not lead_ids:
        return
    model, now = current_rules(session), clock.now()
    for start in range(0, len(lead_ids), CHUNK):
        scoring_sql.rescore_ids(session, model, now, lead_ids[start : start + CHUNK])
    # The learned win probability follows the same leads (nothing to do until a model is trained).
    refresh_leads(session, lead_ids)
    _reload_scores(session, set(lead_ids))


def rescore_open_leads(session: Session) -> int:
    """Recompute and store every open lead's score in one UPDATE; returns how many leads were scored."""
    count = scoring_sql.rescore_all(session, current_rules(session), clock.now())
    _reload_scores(session, None)
    return count


def _reload_scores(session: Session, lead_ids: set[int] | None) -> None:
    """The UPDATE bypassed the ORM: give the leads the session holds their new score and nurture mark.

    Set as committed values (not changes to write), so they stay readable after the session ends.
    """
    held = session.identity_map
    loaded = {
        key[1][0]: lead
        for key in list(held.keys())
        if key[0] is Lead and (lead_ids is None or key[1][0] in lead_ids) and (lead := held.get(key)) is not None
    }
    ids = sorted(loaded)
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(LEADS.c.id, LEADS.c.score, LEADS.c.nurture_since, LEADS.c.win_probability).where(
                LEADS.c.id.in_(ids[start : start + CHUNK])
            )
        )
        for lead_id, score, nurture_since, probability in rows:
            set_committed_value(loaded[lead_id], "score", score)
            set_committed_value(loaded[lead_id], "nurture_since", nurture_since)
            set_committed_value(loaded[lead_id], "win_probability", probability)


def _before_commit(session: Session) -> None:
    rescore_marked(session)


def _forget(session: Session) -> None:
    marked = session.info.get(MARKED)
    if marked:
        marked.clear()
