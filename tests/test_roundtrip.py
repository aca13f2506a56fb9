"""Round trip: export, import into an empty database, export again — identical, whatever the text."""

import io
import json
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from pipectl.cli.transfer import write_export
from pipectl.core.import_sources import open_source
from pipectl.core.importing import ImportOptions, import_file
from pipectl.core.views import LeadFilter
from pipectl.storage.schema import open_database

# Awkward text: separators, quotes, newlines, formula triggers, non-Latin letters.
AWKWARD = (
    st.text(
        alphabet=st.sampled_from(list("ab ,;\"'\n=+-@éßЖ中😀$%")),
        min_size=1,
        max_size=12,
    )
    .map(lambda text: text if "\n" in text else " ".join(text.split()))
    .filter(lambda text: text.strip())
)
OPTIONAL = st.none() | AWKWARD
# Names and companies are one line (issue 13); every other text keeps its line breaks.
ONE_LINE = AWKWARD.map(lambda text: " ".join(text.split())).filter(bool)
TAG = st.text(alphabet=st.sampled_from(list("abcxyz- é")), min_size=1, max_size=8).filter(lambda t: t.strip())
FIELD_KEY = st.sampled_from(["plan", "Region", "seats.count", "a-b_c"])

LEAD = st.fixed_dictionaries(
    {
        "name": ONE_LINE,
        "company": st.none() | ONE_LINE,
        "email": st.none() | st.emails(),
        "title": OPTIONAL,
        "value_cents": st.none() | st.integers(0, 10**12),
        "company_size": st.none() | st.integers(0, 10**6),
        "tags": st.lists(TAG, max_size=3),
        "fields": st.dictionaries(FIELD_KEY, AWKWARD, max_size=2),
        "days_ago": st.integers(1, 400),
        "outcome": st.sampled_from([None, "won", "lost"]),
        "reason": AWKWARD,
        "note": AWKWARD,
    }
)


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory):
    """An empty pipeline file, copied for every database the round trips need (migrating is slow)."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    open_database(str(path)).close()
    return path


def build(path: Path, leads: list[dict], *, history: bool) -> None:
    from pipectl.core.history import record
    from pipectl.core.leads import add_lead, validate_fields
    from pipectl.core.outcomes import mark_lost, mark_won

    database = open_database(str(path))
    try:
        with database.session() as session:
            now = datetime(2026, 11, 23, 9)
            for spec in leads:
                fields = validate_fields(
                    name=spec["name"],
                    company=spec["company"],
                    email=spec["email"],
                    title=spec["title"],
                    value_cents=spec["value_cents"],
                    company_size=spec["company_size"],
                )
                custom = {key: value.strip() for key, value in spec["fields"].items()}
                lead, _ = add_lead(
                    session,
                    fields,
                    tags=spec["tags"],
                    custom=custom,
                    at=now - timedelta(days=spec["days_ago"]),
                    force=True,
                )
                if history:
                    record(session, lead, "note", now - timedelta(hours=1), note=spec["note"])
                if spec["outcome"] == "won":
                    mark_won(session, lead, at=now - timedelta(hours=2))
                elif spec["outcome"] == "lost":
                    mark_lost(session, lead, reason=spec["reason"], at=now - timedelta(hours=2))
    finally:
        database.close()


def exported(path: Path, what: str, fmt: str) -> str:
    database = open_database(str(path))
    try:
        with database.session(write=False) as session:
            out = io.StringIO()
            write_export(session, out, what=what, fmt=fmt, wanted=LeadFilter(status="all"))
            return out.getvalue()
    finally:
        database.close()


def imported(path: Path, text: str, fmt: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix="." + fmt, delete=False, encoding="utf-8", newline="") as file:
        file.write(text)
    database = open_database(str(path))
    try:
        with database.session() as session:
            import_file(session, open_source(file.name), ImportOptions(on_duplicate="error"))
    finally:
        database.close()
        Path(file.name).unlink()


def round_trip(empty_db: Path, leads: list[dict], what: str, fmt: str, history: bool) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "a.db", Path(folder) / "b.db"
        shutil.copy(empty_db, source)
        shutil.copy(empty_db, target)
        build(source, leads, history=history)
        first = exported(source, what, fmt)
        imported(target, first, fmt)
        return first, exported(target, what, fmt)


def unique(leads: list[dict]) -> bool:
    emails = [lead["email"].lower() for lead in leads if lead["email"]]
    pairs = [(lead["name"].lower(), lead["company"].lower()) for lead in leads if lead["company"]]
    return len(set(emails)) == len(emails) and len(set(pairs)) == len(pairs)


# Each example builds and migrates-free copies two databases; few examples, no slow shrinking.
SETTINGS = settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@given(leads=st.lists(LEAD, min_size=1, max_size=4).filter(unique))
@SETTINGS
def test_everything_round_trips_through_json_formats(empty_db, fmt, leads):
    first, second = round_trip(empty_db, leads, "all", fmt, history=True)
    assert second == first
    if fmt == "json":
        assert len(json.loads(first)["leads"]) == len(leads)


@given(leads=st.lists(LEAD, min_size=1, max_size=4).filter(unique))
@SETTINGS
def test_leads_round_trip_through_csv(empty_db, leads):
    first, second = round_trip(empty_db, leads, "leads", "csv", history=False)
    assert second == first


def test_a_real_pipeline_round_trips_through_the_cli(ok, new_lead, tmp_path, monkeypatch):
    ada = new_lead("Ada", "--company", "=Evil()", "--email", "ada@example.com", "--tag", "warm", "--at", "-9d")
    ok("move", str(ada), "Qualification", "--at", "-5d")
    ok("qualify", str(ada), "--budget", "yes", "--need", "no")
    ok("plan", str(ada), "demo", "--due", "friday")
    bob = new_lead("Bob", "--field", "plan=pro")
    ok("lost", str(bob), "--reason", "went with a competitor")
    first = ok("export", "--what", "all").stdout
    (tmp_path / "backup.jsonl").write_text(first, encoding="utf-8")
    monkeypatch.setenv("PIPECTL_DB", str(tmp_path / "restored.db"))
    ok("import", str(tmp_path / "backup.jsonl"))
    assert ok("export", "--what", "all").stdout == first
    shown = json.loads(ok("show", str(ada), "-f", "json").stdout)
    assert shown["bant"]["budget"]["status"] == "yes" and shown["next_action"] == "demo"
    assert shown["company"] == "=Evil()"


DEMO = Path(__file__).parent.parent / "src" / "pipectl" / "data" / "demo.jsonl"


def demo_records(kind: str) -> list[dict]:
    """The demo file's leads or activities, so the tests follow the file when it is rebuilt."""
    records = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    return [record for record in records if record["type"] == kind]


def test_the_demo_data_set_loads_and_exports_identically(ok):
    demo = DEMO
    leads = demo_records("lead")
    result = ok("import", str(demo))
    assert f"{len(leads)} lead(s) added" in result.stderr and len(leads) == 40
    open_leads = [lead for lead in leads if lead["status"] == "open"]
    assert len(json.loads(ok("list", "-f", "json").stdout)) == len(open_leads) > 20
    assert ok("export", "--what", "all").stdout == demo.read_text(encoding="utf-8")


def test_a_full_export_into_a_pipeline_that_has_leads(ok, new_lead, db_location):
    """Ids move aside for the leads already there; skipped duplicates do not take activities."""
    from backends import query

    demo = DEMO
    first = demo_records("lead")[0]
    new_lead("Someone else", "--email", "someone@example.com")
    ok("import", str(demo))
    moved = json.loads(ok("show", "2", "-f", "json").stdout)
    assert moved["name"] == first["name"] and {item["lead_id"] for item in moved["activities"]} == {2}
    result = ok("import", str(demo), "--on-duplicate", "skip")
    activities = len(demo_records("activity"))
    assert "40 duplicate(s) skipped" in result.stderr
    assert f"{activities} activities of skipped leads left out" in result.stderr
    assert query(db_location, "select count(*) from activities") == [(activities + 1,)]
