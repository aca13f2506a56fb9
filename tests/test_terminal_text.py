"""Terminal injection (issue 12, item 4): user text reaches the terminal with its controls made visible.

Names and companies refuse control characters since issue 13, but a database kept from 0.1 may hold
a name imported from a hostile file, with an OSC 52 clipboard write, a clear-screen, a window title or
a bare carriage return, and titles and notes still take them. Tables, cards, panel titles and stderr
messages show them (ESC as ␛, BEL as ␇, C1 as `\\x9b`) instead of sending them; machine formats keep
their own escaping.
"""

import json
import unicodedata

import pytest
from hypothesis import given, strategies as st

from pipectl.terminal import visible

CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: put "rm -rf ~" on the clipboard
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
CSI_C1 = "\u009b31m"  # the one-byte CSI of 8-bit terminals
RLO = "\u202e"  # right-to-left override
HOSTILE_NAME = f"Mallory{CLIPBOARD}{CLEAR} Evil{TITLE}"
HOSTILE_COMPANY = f"[bold]Acme{CSI_C1}{RLO}\rCorp"
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


def test_escape_and_controls_are_shown_as_pictures():
    assert visible("Ada\x1b]52;c;aGk=\x07") == "Ada␛]52;c;aGk=␇"
    assert visible("a\x00b\x7fc\x08") == "a␀b␡c␈"
    assert visible("50\u009b31m") == "50\\x9b31m"
    assert visible(f"abc{RLO}def") == "abc\\u202edef"
    assert visible("tab\there") == "tab here"


def test_newlines_stay_in_text_and_become_marks_in_one_line_cells():
    assert visible("two\nlines") == "two\nlines"
    assert visible("two\r\nlines") == "two\nlines"
    assert visible("two\nlines", one_line=True) == "two⏎lines"
    assert visible("over\rwrite", one_line=True) == "over␍write"


def test_plain_and_accented_text_is_unchanged():
    for text in ("Ada Lovelace", "Zoë Łukasiewicz-Ångström", "山田 太郎", "[bold]Acme", "", "a\u00a0b"):
        assert visible(text) == text
    assert visible(None) == ""
    assert visible(42) == "42"


def test_a_lone_surrogate_is_shown_not_crashed_on():
    shown = visible("bad\udc9b")
    assert shown == "bad\\udc9b"
    shown.encode("utf-8")


@given(st.text())
def test_visible_text_carries_no_control_character(text):
    for one_line in (False, True):
        shown = visible(text, one_line=one_line)
        allowed = set() if one_line else {"\n"}
        assert all(unicodedata.category(char) not in ("Cc", "Cs") or char in allowed for char in shown)
        assert visible(shown, one_line=one_line) == shown  # applying it twice changes nothing
        shown.encode("utf-8")


@pytest.fixture
def hostile(ok, new_lead, db_location):
    lead_id = new_lead("Mallory", "--company", "Acme", "--value", "5k", "--title", f"CTO{CLEAR}", "--tag", "vip")
    _as_an_old_version_stored_it(db_location, lead_id, HOSTILE_NAME, HOSTILE_COMPANY)
    ok("plan", lead_id, f"Call{TITLE} back", "--due", "today")
    ok("log", lead_id, "note", "--note", f"first line\nsecond{CLIPBOARD} line")
    return lead_id


def _as_an_old_version_stored_it(location: str, lead_id: int, name: str, company: str) -> None:
    """Write the name and company as 0.1 accepted them (the key twins too, as it would have)."""
    from backends import execute
    from pipectl.folding import fold, plain

    values = {"name": name, "company": company, "id": lead_id}
    values.update(name_key=fold(name), company_key=fold(company), name_plain=plain(name))
    execute(
        location,
        "UPDATE leads SET name = :name, company = :company, name_key = :name_key, company_key = :company_key, "
        "name_plain = :name_plain WHERE id = :id",
        parameters=values,
    )


def test_names_and_companies_with_controls_are_refused_by_every_way_in(cli, ok, new_lead, tmp_path):
    for name, company in ((HOSTILE_NAME, "Acme"), ("Mallory", HOSTILE_COMPANY), ("two\nlines", "Acme")):
        refused = cli("add", name, "--company", company)
        assert refused.exit_code == 2 and refused.stderr.startswith("Error: ")
        assert_nothing_raw(refused.stderr)
    lead_id = new_lead("Mallory", "--company", "Acme")
    assert cli("edit", lead_id, "--company", f"Acme{RLO}Corp").exit_code == 2
    (tmp_path / "hostile.csv").write_text(f"name,company\n{HOSTILE_NAME},Acme\n", encoding="utf-8")
    imported = cli("import", "hostile.csv")
    assert imported.exit_code == 1 and "control character" in imported.stderr
    assert_nothing_raw(imported.stderr)
    assert [lead["company"] for lead in json.loads(ok("list", "-f", "json").stdout)] == ["Acme"]


def assert_nothing_raw(text: str) -> None:
    for raw in RAW:
        assert raw not in text, f"{raw!r} reached the terminal raw:\n{text!r}"


@pytest.mark.parametrize("width", [None, 60, 120], ids=["piped", "60cols", "120cols"])
@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["board"],
        ["next"],
        ["show", "1"],
        ["list", "--status", "all"],
        ["score"],
        ["score", "1", "--explain"],
        ["clean", "--dry-run"],
    ],
)
def test_tables_and_cards_show_escape_sequences(hostile, ok, terminal, command, width):
    if width:
        terminal(width)
    out = ok(*command).stdout
    assert_nothing_raw(out)
    if command[0] in ("list", "board", "next", "show", "score"):
        assert "␛]52;c;" in out
    if command[0] in ("list", "next", "show"):
        assert "[bold]Acme" in out  # Rich markup in user text is printed as written


def test_card_title_and_fields_show_escape_sequences(hostile, ok):
    out = ok("show", str(hostile)).stdout
    assert_nothing_raw(out)
    assert f"#{hostile} Mallory␛]52;c;cm0gLXJmIH4=␇␛[2J␛[H Evil␛]0;pwned␇" in out.splitlines()[0]
    assert "CTO␛[2J␛[H" in out
    # The note keeps its line break in the timeline, with the escape shown on the second line.
    assert "second␛]52;c;cm0gLXJmIH4=␇ line" in out


def test_stderr_messages_and_errors_show_escape_sequences(hostile, cli):
    edited = cli("edit", str(hostile), "--title", "CEO")
    assert edited.exit_code == 0
    assert_nothing_raw(edited.stderr)
    assert "Updated lead #1 Mallory␛]52;" in edited.stderr
    duplicate = cli("add", HOSTILE_NAME, "--company", HOSTILE_COMPANY)
    assert duplicate.exit_code == 2  # refused as not plain text before the duplicate check
    assert duplicate.stderr.startswith("Error: ") and len(duplicate.stderr.splitlines()) == 1
    assert_nothing_raw(duplicate.stderr)
    warned = cli("qualify", str(hostile), "--budget", "no")
    assert "Warning:" in warned.stderr
    assert_nothing_raw(warned.stderr)


def test_machine_formats_keep_their_own_escaping(hostile, ok):
    out = ok("list", "-f", "json").stdout
    (lead,) = json.loads(out)
    assert lead["name"] == HOSTILE_NAME  # stored and given back exactly; JSON escapes ESC itself
    assert '"Mallory\\u001b]52;c;' in out
