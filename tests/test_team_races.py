"""`owners remove` racing a hand-out on PostgreSQL: no lead is ever left with an owner who is off the roster.

Two sessions side by side, as two sellers' commands would run. Before the owner row was locked, the
removal counted no leads while a round-robin was handing the owner some, and both committed.
SQLite needs no test of its own here: every writing command takes the write lock (BEGIN IMMEDIATE)
first, so the two cannot interleave.
"""

import threading

import pytest

WAIT_S = 1.5  # long enough to see that the second session waits for the first


@pytest.fixture
def two_sessions(backend, ok, database):
    if backend == "sqlite":
        pytest.skip("SQLite runs each writing command alone (BEGIN IMMEDIATE): nothing interleaves")
    for name in ("sam", "kim"):
        ok("owners", "add", name)
    for name in ("Ada", "Bo"):
        ok("add", name)
    return database


def _in_thread(work) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except Exception as error:  # the test reads the error
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _owners_of_leads(ok) -> set:
    import json

    return {row["owner"] for row in json.loads(ok("list", "-f", "json").stdout)}


def _roster(ok) -> set:
    import json

    return {row["name"] for row in json.loads(ok("owners", "list", "-f", "json").stdout)}


def test_remove_waits_for_a_hand_out_under_way_and_then_refuses(two_sessions, ok):
    from pipectl.core.assignment import round_robin
    from pipectl.core.owners import remove_owner
    from pipectl.errors import RuleViolation

    def remove() -> None:
        with two_sessions.session() as other:
            remove_owner(other, "kim")

    with two_sessions.session() as session:
        handed = round_robin(session)["assigned"]
        assert {row["owner"] for row in handed} == {"sam", "kim"}
        thread, outcome = _in_thread(remove)
        thread.join(WAIT_S)
        assert thread.is_alive() and not outcome  # waits for the hand-out to commit
    thread.join(30)
    assert isinstance(outcome.get("error"), RuleViolation) and "kim holds 1 open lead" in str(outcome["error"])
    assert _roster(ok) == {"sam", "kim"} and _owners_of_leads(ok) == {"sam", "kim"}


def test_a_hand_out_after_a_removal_under_way_skips_the_removed_owner(two_sessions, ok):
    from pipectl.core.assignment import round_robin
    from pipectl.core.owners import remove_owner

    def hand_out() -> list:
        with two_sessions.session() as other:
            return round_robin(other)["assigned"]

    with two_sessions.session() as session:
        remove_owner(session, "kim")
        session.flush()
        thread, outcome = _in_thread(hand_out)
        thread.join(WAIT_S)
        assert thread.is_alive() and not outcome  # waits for the removal to commit
    thread.join(30)
    assert "error" not in outcome, outcome
    assert [row["owner"] for row in outcome["result"]] == ["sam", "sam"]
    assert _roster(ok) == {"sam"} and _owners_of_leads(ok) == {"sam"}


def test_a_claim_by_an_owner_being_removed_fails_cleanly(two_sessions, ok, monkeypatch):
    from pipectl.core.assignment import claim_next
    from pipectl.core.owners import remove_owner
    from pipectl.errors import NotFound

    monkeypatch.setenv("PIPECTL_USER", "kim")

    def claim() -> dict:
        with two_sessions.session() as other:
            return claim_next(other)

    with two_sessions.session() as session:
        remove_owner(session, "kim")
        session.flush()
        thread, outcome = _in_thread(claim)
        thread.join(WAIT_S)
        assert thread.is_alive() and not outcome
    thread.join(30)
    assert isinstance(outcome.get("error"), NotFound) and "'kim' is not an owner" in str(outcome["error"])
    assert _owners_of_leads(ok) == {None}
