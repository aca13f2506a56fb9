"""Rich views of leads for people: the list table and the lead card."""

from datetime import datetime

from pipectl.cli.table_layout import NAME_WIDTH, Column, cell, cell_lines, from_markup, hidden_note, print_table
from pipectl.contract import BANT_CRITERIA, BANT_LABELS, FIELDS
from pipectl.money import format_money
from pipectl.render import UNBOUNDED_WIDTH, escape, stdout_console
from pipectl.terminal import terminal_width

# A panel's corner, rule and spaces around its title.
PANEL_FRAME = 6

# The facts a lead card lists when they have a value, as the contract marks them: (label, key).
CARD_FIELDS = tuple((field.title, field.key) for field in FIELDS if field.shown)


def short_date(value: str | None) -> str:
    """`2026-11-23` from an ISO date-time, with the time when it is not midnight."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    return f"{moment:%Y-%m-%d}" if (moment.hour, moment.minute) == (0, 0) else f"{moment:%Y-%m-%d %H:%M}"


def percent(probability: float | None) -> str:
    """0.4567 as `46%`; nothing when there is no probability."""
    return "" if probability is None else f"{probability:.0%}"


def money(value: float | None) -> str:
    return "" if value is None else format_money(round(value * 100))


# The list's columns; the lowest priority gives way first on a narrow terminal. Names and companies
# come last: the Next action, then Days, Due, Score, Value and Status are left out before a company
# is narrowed, and the stage before a name is.
LEAD_COLUMNS = {
    "ID": Column("ID", priority=10, justify="right", keep=True),
    "Name": Column("Name", priority=9, min_width=NAME_WIDTH, keep=True),
    "Company": Column("Company", priority=7, min_width=14, keep=True),
    "Stage": Column("Stage", priority=8, min_width=8),
    "Status": Column("Status", priority=6),
    "Value": Column("Value", priority=5, justify="right"),
    "Score": Column("Score", priority=4, justify="right"),
    # The learned win probability (`pipectl predict`), shown once a model has been trained.
    "Win": Column("Win", priority=4, justify="right"),
    "Days": Column("Days", priority=2, justify="right"),
    "Due": Column("Due", priority=3),
    "Next": Column("Next", priority=1, min_width=12, wrap=False),
    # `list --stale`: the reasons are what the seller decides on, so they outrank the stage.
    "Why stalled": Column("Why stalled", priority=8, min_width=20, keep=True),
}


def lead_table(rows: list[dict]) -> None:
    """The `list` table: one lead per row, names and companies whole; a narrow terminal drops columns first."""
    from rich.text import Text

    console = stdout_console()
    if not rows:
        console.print("No leads match.", style="dim")
        return
    show_status = any(row["status"] != "open" for row in rows)
    # `list --stale`: the reasons take the next action's place; company, value and score make way.
    show_stale = any("stale_reasons" in row for row in rows)
    headers = ["ID", "Name"] + ([] if show_stale else ["Company"]) + ["Stage"] + (["Status"] if show_status else [])
    show_win = not show_stale and any(row.get("probability") is not None for row in rows)
    headers += ["Days", "Why stalled"] if show_stale else ["Value", "Score"] + (["Win"] if show_win else [])
    headers += [] if show_stale else ["Days", "Due", "Next"]
    table_rows = []
    for row in rows:
        cells = [str(row["id"]), row["name"]] + ([] if show_stale else [row["company"]]) + [row["stage"]]
        if show_status:
            cells.append(row["status"])
        if show_stale:
            cells += [str(row["days_in_stage"] or 0), cell_lines(row["stale_reasons"])]
        else:
            score = Text.assemble(str(row["score"]), ("~", "dim") if row.get("nurture") else " ")
            cells += [money(row["value"]), score]
            if show_win:
                cells.append(percent(row.get("probability")))
            cells += [
                str(row["days_in_stage"] or 0),
                short_date(row["next_action_due"]),
                row["next_action"],
            ]
        table_rows.append(cells)
    dropped = print_table(console, [LEAD_COLUMNS[header] for header in headers], table_rows)
    footer = f"{len(rows)} lead(s)"
    if not show_stale and "Score" not in dropped and any(row.get("nurture") for row in rows):
        footer += "; ~ nurture (score under the nurture threshold: nurture them, do not work them)"
    console.print(footer, style="dim")
    hidden_note(console, dropped)


TIMELINE_COLUMNS = (
    Column("When", priority=9, keep=True),
    Column("What", priority=8, keep=True),
    Column("Detail", priority=7, min_width=20, keep=True),
    # Who did it (issue 17), when several people did: the first to go on a narrow terminal.
    Column("By", priority=6, min_width=6),
)


def lead_card(detail: dict, probability: int | None) -> None:
    """One lead: the fields, stage and days in it, BANT, next action, then the timeline."""
    from rich.cells import cell_len
    from rich.panel import Panel
    from rich.table import Table

    console = stdout_console()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    status = detail["status"]
    if status == "open":
        stage_line = f"{escape(detail['stage'], one_line=True)} for {detail['days_in_stage']} day(s)"
        if probability is not None:
            stage_line += f" [dim]({probability}% win probability)[/dim]"
    else:
        stage_line = f"{status} from {escape(detail['stage'], one_line=True)}"
        if detail["closed_at"]:
            stage_line += f" on {short_date(detail['closed_at'])}"
    title = f"#{detail['id']} {escape(detail['name'], one_line=True)}"
    if cell_len(title) + PANEL_FRAME > (terminal_width() or UNBOUNDED_WIDTH):
        # A panel cuts a title that does not fit: the name moves into the card, whole.
        title = f"#{detail['id']}"
        facts.add_row("Name", escape(detail["name"], one_line=True))
    facts.add_row("Stage", stage_line)
    for label, key in CARD_FIELDS:
        if detail.get(key) not in (None, ""):
            facts.add_row(label, escape(detail[key], one_line=True))
    facts.add_row("Value", money(detail["value"]) or "[dim]none[/dim]")
    facts.add_row("Score", str(detail["score"]))
    if detail.get("probability") is not None:
        facts.add_row(
            "Win chance", f"{percent(detail['probability'])} [dim](learned: pipectl predict ID --explain)[/dim]"
        )
    if detail["tags"]:
        facts.add_row("Tags", escape(", ".join(detail["tags"]), one_line=True))
    for key, value in detail["fields"].items():
        facts.add_row(escape(key, one_line=True), escape(value, one_line=True))
    if detail["lost_reason"]:
        facts.add_row("Lost because", escape(detail["lost_reason"], one_line=True))
    if detail["archived_reason"]:
        facts.add_row("Archived because", escape(detail["archived_reason"], one_line=True))
    kept = merged_into_id(detail)
    if kept is not None:
        facts.add_row("Merged into", f"#{kept}: its history is there now (pipectl show {kept})")
    if detail.get("stale"):
        facts.add_row(
            "[yellow]Stalled[/yellow]",
            "\n".join(f"[yellow]{escape(reason, one_line=True)}[/yellow]" for reason in detail["stale_reasons"]),
        )
    facts.add_row("BANT", bant_line(detail["bant"]))
    if detail["next_action"]:
        due = f" (due {short_date(detail['next_action_due'])})" if detail["next_action_due"] else ""
        facts.add_row("Next action", escape(detail["next_action"], one_line=True) + due)
    else:
        facts.add_row("Next action", "[yellow]none planned[/yellow]")
    facts.add_row("Added", short_date(detail["created_at"]))
    facts.add_row("Last activity", short_date(detail["last_activity_at"]))
    console.print(Panel(facts, title=title, title_align="left", expand=False))
    # "By" is drawn only when more than one person worked the lead: a seller alone would read their
    # own login on every line (a column empty in every row is not drawn). JSON always has `actor`.
    actors = {activity["actor"] for activity in detail["activities"] if activity["actor"]}
    shared = len(actors) > 1
    dropped = print_table(
        console,
        TIMELINE_COLUMNS,
        [
            [
                short_date(activity["at"]),
                activity["kind"].replace("_", " "),
                from_markup(describe(activity)),
                cell(activity["actor"] or "") if shared else "",
            ]
            for activity in detail["activities"]
        ],
        title="Timeline (newest first)",
    )
    hidden_note(console, dropped)


def merged_into_id(detail: dict) -> int | None:
    """The lead a merged lead went into (its archived reason says `merged into #ID`)."""
    reason = detail.get("archived_reason") or ""
    digits = reason.removeprefix("merged into #")
    return int(digits) if detail["status"] == "archived" and digits != reason and digits.isdigit() else None


def bant_line(bant: dict) -> str:
    marks = {"yes": "[green]yes[/green]", "no": "[red]no[/red]", "unknown": "[dim]?[/dim]"}
    parts = []
    for name in BANT_CRITERIA:
        answer = bant[name]
        part = f"{BANT_LABELS[name]} {marks.get(answer['status'], answer['status'])}"
        if answer["note"]:
            part += f" ({escape(answer['note'], one_line=True)})"
        parts.append(part)
    verdict = "[green]qualified[/green]" if bant["qualified"] else "[dim]not qualified[/dim]"
    return " · ".join(parts) + f" — {verdict}"


def describe(activity: dict) -> str:
    """One line on what an activity was, from its note, stages and data."""
    parts = []
    if activity["from_stage"] or activity["to_stage"]:
        if activity["kind"] == "stage_change":
            parts.append(
                f"{escape(activity['from_stage'] or '?', one_line=True)} → "
                f"{escape(activity['to_stage'] or '?', one_line=True)}"
            )
        elif activity["kind"] == "created":
            parts.append(f"in {escape(activity['to_stage'], one_line=True)}")
    data = activity.get("data") or {}
    if data.get("forced"):
        parts.append("[yellow]forced[/yellow]: " + escape("; ".join(data["forced"])))
    if data.get("automatic"):
        parts.append("automatic")
    if "changes" in data:
        parts.append(escape(", ".join(data["changes"])))
    if activity["kind"] == "call" and data.get("outcome"):
        parts.append(escape(str(data["outcome"])))
    if data.get("closed"):
        # Closed with the lead, not completed: say so, or it reads as done.
        parts.append(
            f"[dim]not done: closed when the lead was {escape(str(data['closed'].get('by')))}, "
            f"was due {short_date(activity['due'])}[/dim]"
        )
    if data.get("closed_action"):
        parts.append(f"closed its next action: {escape(str(data['closed_action'].get('note')), one_line=True)}")
    if not activity["done"]:
        parts.append(f"planned, due {short_date(activity['due'])}")
    if activity["note"]:
        parts.append(escape(activity["note"]))
    return " — ".join(parts)
