"""Views of the breakdowns: `metrics --by` and `forecast --by`, as tables and as CSV rows.

In CSV a breakdown is one row per group (its first column named after the
dimension: `source`, `owner`, `field:region`), not one value per line, so a
spreadsheet opens it as the table it is.
"""

from pipectl.cli.insight_views import amount, percent
from pipectl.render import escape, stdout_console

BREAKDOWN_COLUMNS = ["created", "won", "lost", "open", "archived", "conversion", "win_rate", "won_value",
                     "average_won_value", "won_without_value", "cycle_mean_days", "cycle_median_days",
                     "cycle_p90_days", "few_closed"]
FORECAST_GROUP_COLUMNS = ["leads", "value", "without_value", "weighted", "weighted_historical"]
NONE_LABEL = "(none)"
FEW_MARK = "*"


def breakdown_csv_rows(data: dict) -> list[dict]:
    return [{data["by"]: row["group"], **row} for row in data["groups"]]


def forecast_group_rows(data: dict) -> list[dict]:
    return [{data["by"]: row["group"], **row} for row in data["groups"]]


def _days(value) -> str:
    return "–" if value is None else f"{value:g}"


def _rate(share, few: bool) -> str:
    return percent(share) + (FEW_MARK if few and share is not None else "")


def breakdown_view(data: dict) -> None:
    """One line per group and a total line; rates resting on fewer than 5 closed leads are marked *."""
    from rich.table import Table

    console = stdout_console()
    title = f"Leads by {data['by']}"
    period = data["period"]
    if period["since"] or period["until"]:
        title += f", created {(period['since'] or '')[:10] or 'from the start'} to {(period['until'] or '')[:10] or 'now'}"
    if period["owner"]:
        title += f", owner {period['owner']}"
    table = Table(title=escape(title), title_justify="left", show_edge=False, pad_edge=False, header_style="bold")
    table.add_column(data["by"].capitalize() if ":" not in data["by"] else data["by"], overflow="fold")
    for label in ("Created", "Won", "Lost", "Open", "Conv.", "Win rate", "Won value", "Avg won", "Cycle",
                  "Median"):
        table.add_column(label, justify="right", no_wrap=True)

    def cells(row: dict) -> list[str]:
        return [str(row["created"]), str(row["won"]), str(row["lost"]), str(row["open"]),
                _rate(row["conversion"], row["few_closed"]), _rate(row["win_rate"], row["few_closed"]),
                amount(row["won_value"], "0"), amount(row["average_won_value"]), _days(row["cycle_mean_days"]),
                _days(row["cycle_median_days"])]

    for row in data["groups"]:
        table.add_row(escape(row["group"]) if row["group"] is not None else f"[dim]{NONE_LABEL}[/dim]", *cells(row))
    table.add_section()
    table.add_row("[bold]All[/bold]", *cells(data["total"]))
    console.print(table)
    console.print("Conv. = won ÷ created; win rate = won ÷ closed (won or lost). Cycle and median: days "
                  "from created to won.", style="dim", markup=False)
    for note in data["notes"]:
        console.print(f"Note: {note}", style="dim", markup=False)


def forecast_groups_view(console, data: dict) -> list[str]:
    from rich.table import Table

    table = Table(title=f"Open pipeline by {data['by']}", title_justify="left", show_edge=False, pad_edge=False,
                  header_style="bold")
    table.add_column(data["by"].capitalize(), overflow="fold")
    for label in ("Leads", "No value", "Value", "Weighted", "By history"):
        table.add_column(label, justify="right", no_wrap=True)
    for row in data["groups"]:
        table.add_row(escape(row["group"]) if row["group"] is not None else f"[dim]{NONE_LABEL}[/dim]",
                      str(row["leads"]), str(row["without_value"]), amount(row["value"], "0"),
                      amount(row["weighted"], "0"), amount(row["weighted_historical"]))
    if not data["groups"]:
        table.add_row("[dim]no open leads[/dim]", "", "", "", "", "")
    console.print(table)
    return []
