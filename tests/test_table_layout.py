"""The table layout helper: which columns narrow, which are left out, and what a pipe gets."""

import io

from hypothesis import given, settings, strategies as st
from rich.cells import cell_len
from rich.console import Console

from pipectl.cli.table_layout import Column, cell_lines, fitted_table

COLUMNS = [
    Column("ID", priority=10, justify="right", keep=True),
    Column("Name", priority=9, min_width=30, keep=True),
    Column("Company", priority=8, min_width=14, keep=True),
    Column("Stage", priority=6, min_width=8),
    Column("Value", priority=4, justify="right"),
    Column("Note", priority=2, min_width=12, wrap=False),
]
ROWS = [
    [
        "1",
        "Zoë Łukasiewicz-Ångström",
        "Ærøskøbing Fjordværk A/S",
        "Qualification",
        "12,000",
        "Send the revised proposal with the new pricing",
    ],
    ["2", "Ada", "Acme", "Discovery", "", ""],
]


def draw(columns, rows, width: int | None, **options) -> tuple[str, list[str]]:
    fitted = fitted_table(columns, rows, width=width, **options)
    out = io.StringIO()
    Console(file=out, width=width or 10_000, height=25, highlight=False).print(fitted.table)
    return out.getvalue(), fitted.dropped


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_piped_tables_have_every_cell_whole():
    text, dropped = draw(COLUMNS, ROWS, None)
    assert dropped == []
    assert "Send the revised proposal with the new pricing" in text and "…" not in text
    assert len(lines(text)) == 4  # header, rule, one line per row


def test_lowest_priority_narrows_then_leaves_first():
    text, dropped = draw(COLUMNS, ROWS, 100)
    assert dropped == [] and "│ Send the revise…" in text  # the note narrowed, with an ellipsis
    text, dropped = draw(COLUMNS, ROWS, 88)
    assert dropped == ["Note"]
    text, dropped = draw(COLUMNS, ROWS, 80)
    assert dropped == ["Value", "Note"]
    text, dropped = draw(COLUMNS, ROWS, 64)
    assert dropped == ["Stage", "Value", "Note"]
    assert "Zoë Łukasiewicz-Ångström" in text and "Ærøskøbing Fjordværk A/S" in text
    assert all(cell_len(line) <= 64 for line in lines(text))


def test_kept_columns_are_never_left_out_and_names_narrow_last():
    text, dropped = draw(COLUMNS, ROWS, 50)
    assert set(dropped) == {"Stage", "Value", "Note"}
    assert all(cell_len(line) <= 50 for line in lines(text))
    assert "Zoë Łukasiewicz-Ångström" in text  # the company wraps between words before the name does
    assert "Ærøskøbing" in text and "Fjordværk A/S" in text


def test_a_column_left_out_comes_back_when_a_wider_one_made_room():
    columns = [
        Column("Who", priority=9, keep=True),
        Column("Overdue", priority=3, justify="right"),
        Column("Due", priority=4),
    ]
    rows = [["Grace Hopper", "2d", "2026-11-21 10:00"]]
    text, dropped = draw(columns, rows, 28)
    assert dropped == ["Due"] and "2d" in text


def test_columns_empty_in_every_row_are_not_drawn():
    rows = [["1", "Ada", "", "Discovery", "–", ""], ["2", "Bo", "", "Contact", "", ""]]
    text, dropped = draw(COLUMNS, rows, None)
    header = lines(text)[0]
    assert "Company" not in header and "Value" not in header and "Note" not in header
    assert dropped == []  # not drawn because empty, which is not "hidden to fit"


def test_a_table_without_rows_still_has_its_headers():
    text, _ = draw(COLUMNS[:3], [], None)
    assert "Name" in text and "Company" in text


def test_multi_line_cells_and_user_text():
    columns = [Column("Name", priority=9, min_width=30, keep=True), Column("Why", priority=8, min_width=20)]
    rows = [["[bold]Boss\x1b[2J", cell_lines(["no reply\nin weeks", "no budget"])]]
    text, _ = draw(columns, rows, None)
    assert "[bold]Boss␛[2J" in text
    assert "no reply⏎in weeks" in text and "no budget" in text


WORD = st.text(st.sampled_from("abcdefghijklmnoprstuvzäöüåøéñłŁ-'"), min_size=1, max_size=14)
NAME = st.lists(WORD.map(lambda word: word[:10]), min_size=1, max_size=2).map(" ".join)
COMPANY = st.lists(WORD, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.tuples(NAME, COMPANY, st.integers(0, 10**7)), min_size=1, max_size=6), width=st.integers(48, 160)
)
def test_any_width_fits_and_never_splits_a_word(names, width):
    """From 48 columns up, where ID, names (up to 21 here) and a readable company fit: every name whole,
    every word of a company whole, and no line wider than the terminal."""
    rows = [
        [str(index), name, company, "Qualification", f"{value:,}", "Call back " * 3]
        for index, (name, company, value) in enumerate(names, 1)
    ]
    text, _ = draw(COLUMNS, rows, width)
    assert all(cell_len(line) <= width for line in lines(text))
    for _, name, company, *_ in rows:
        assert any(name in line for line in lines(text)), (name, text)
        for word in company.split():
            assert any(word in line for line in lines(text)), (word, text)
