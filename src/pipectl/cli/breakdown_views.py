"""Views of the breakdowns: `metrics --by` and `forecast --by`, as tables and as CSV rows.

In CSV a breakdown is one row per group (its first column named after the
dimension: `source`, `owner`, `field:region`), not one value per line, so a
spreadsheet opens it as the table it is. On a narrow terminal the cycle and
value columns give way before the counts and rates (`table_layout`).
"""

from pipectl.cli.insight_views import amount, percent
from pipectl.cli.table_layout import (
    SECTION,
    Column,
    cell,
    from_markup,
    hidden_note,
    print_table,
)
from pipectl.render import stdout_console
from pipectl.terminal import visible

BREAKDOWN_COLUMNS = [
    "created",
    "won",
    "lost",
    "open",
    "archived",
    "conversion",
    "win_rate",
    "won_value",
    "average_won_value",
    "won_without_value",
    "cycle_mean_days",
    "cycle_median_days",
    "cycle_p90_days",
    "few_closed",
]
FORECAST_GROUP_COLUMNS = ["leads", "value", "without_value", "weighted", "weighted_historical"]
NONE_LABEL = "(none)"
FEW_MARK = "*"
# The counts and rates are what a breakdown is for; values and cycles give way first.
_FIGURES = (
    (Column("Created", priority=8, justify="right", keep=True), lambda row: str(row["created"])),
    (Column("Won", priority=8, justify="right", keep=True), lambda row: str(row["won"])),
    (Column("Lost", priority=7, justify="right"), lambda row: str(row["lost"])),
    (Column("Open", priority=7, justify="right"), lambda row: str(row["open"])),
    (Column("Conv.", priority=8, justify="right", keep=True), lambda row: _rate(row["conversion"], row)),
    (Column("Win %", priority=8, justify="right", keep=True), lambda row: _rate(row["win_rate"], row)),
    (Column("Won value", priority=6, justify="right"), lambda row: amount(row["won_value"], "0")),
    (Column("Cycle", priority=5, justify="right"), lambda row: _days(row["cycle_mean_days"])),
    (Column("Median", priority=4, justify="right"), lambda row: _days(row["cycle_median_days"])),
    (Column("Avg won", priority=3, justify="right"), lambda row: _whole(row["average_won_value"])),
)
_OPEN_FIGURES = (
    (Column("Leads", priority=8, justify="right", keep=True), lambda row: str(row["leads"])),
    (Column("No value", priority=5, justify="right"), lambda row: str(row["without_value"])),
    (Column("Value", priority=7, justify="right"), lambda row: amount(row["value"], "0")),
    (Column("Weighted", priority=8, justify="right", keep=True), lambda row: amount(row["weighted"], "0")),
    (Column("By history", priority=6, justify="right"), lambda row: amount(row["weighted_historical"])),
)


def breakdown_csv_rows(data: dict) -> list[dict]:
    return [{data["by"]: row["group"], **row} for row in data["groups"]]


def forecast_group_rows(data: dict) -> list[dict]:
    return [{data["by"]: row["group"], **row} for row in data["groups"]]


def _days(value) -> str:
    return "–" if value is None else f"{value:g}"


def _whole(value) -> str:
    """An average to the unit: its cents are noise in a table (JSON and CSV keep them)."""
    return amount(None if value is None else float(round(value)))


def _rate(share, row: dict) -> str:
    return percent(share) + (FEW_MARK if row["few_closed"] and share is not None else "")


def _label(group):
    return from_markup(f"[dim]{NONE_LABEL}[/dim]") if group is None else cell(group)


def _group_column(by: str) -> Column:
    return Column(by.capitalize() if ":" not in by else by, priority=9, min_width=12, keep=True)


def breakdown_view(data: dict) -> None:
    """One line per group and a total line; rates resting on fewer than 5 closed leads are marked *."""
    console = stdout_console()
    title = f"Leads by {data['by']}"
    period = data["period"]
    if period["since"] or period["until"]:
        title += (
            f", created {(period['since'] or '')[:10] or 'from the start'} to {(period['until'] or '')[:10] or 'now'}"
        )
    if period["owner"]:
        title += f", owner {period['owner']}"
    rows: list[list | None] = [
        [_label(row["group"]), *(figure(row) for _, figure in _FIGURES)] for row in data["groups"]
    ]
    rows += [SECTION, [from_markup("[bold]All[/bold]"), *(figure(data["total"]) for _, figure in _FIGURES)]]
    hidden = print_table(
        console,
        (_group_column(data["by"]), *(column for column, _ in _FIGURES)),
        rows,
        title=visible(title, one_line=True),
    )
    console.print(
        "Conv. = won ÷ created; win % = won ÷ closed (won or lost). Cycle and median: days from created to won.",
        style="dim",
        markup=False,
    )
    hidden_note(console, hidden)
    for note in data["notes"]:
        console.print(f"Note: {visible(note)}", style="dim", markup=False)


def forecast_groups_view(console, data: dict) -> list[str]:
    """The open pipeline per group (drawn inside the forecast's view); returns the columns it left out."""
    rows = [[_label(row["group"]), *(figure(row) for _, figure in _OPEN_FIGURES)] for row in data["groups"]]
    if not rows:
        rows.append([from_markup("[dim]no open leads[/dim]"), "", "", "", "", ""])
    return print_table(
        console,
        (_group_column(data["by"]), *(column for column, _ in _OPEN_FIGURES)),
        rows,
        title=f"Open pipeline by {data['by']}",
    )
