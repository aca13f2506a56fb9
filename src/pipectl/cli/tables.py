"""Rich views of leads for people: the list table and the lead card."""

from datetime import datetime

from pipectl.contract import BANT_CRITERIA, BANT_LABELS, FIELDS
from pipectl.money import format_money
from pipectl.render import escape, stdout_console

# The facts a lead card lists when they have a value, as the contract marks them: (label, key).
CARD_FIELDS = tuple((field.title, field.key) for field in FIELDS if field.shown)


def short_date(value: str | None) -> str:
    """`2026-11-23` from an ISO date-time, with the time when it is not midnight."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    return f"{moment:%Y-%m-%d}" if (moment.hour, moment.minute) == (0, 0) else f"{moment:%Y-%m-%d %H:%M}"


def one_line(value) -> "Text":
    """User text as a cell that is cut with an ellipsis instead of wrapping (and never read as markup)."""
    from rich.text import Text

    return Text("" if value is None else " ".join(str(value).split()), no_wrap=True, overflow="ellipsis")


def money(value: float | None) -> str:
    return "" if value is None else format_money(round(value * 100))


def lead_table(rows: list[dict]) -> None:
    """The `list` table: one line per lead, so a long list stays scannable on any width."""
    from rich.table import Table

    console = stdout_console()
    if not rows:
        console.print("No leads match.", style="dim")
        return
    show_status = any(row["status"] != "open" for row in rows)
    # `list --stale`: the reasons take the next action's place; they are what the seller decides on.
    show_stale = any("stale_reasons" in row for row in rows)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("ID", justify="right", no_wrap=True)
    # Text columns give up width first, and their cells end in an ellipsis rather than wrap:
    # one lead, one line, on any terminal.
    # Caps keep one long company name from taking the width the reasons or actions need.
    # With --stale the reasons need the width: company, value and score make way.
    text_columns = (("Name", 24),) if show_stale else (("Name", 24), ("Company", 22))
    for header, cap in text_columns + (("Stage", 14),) + ((("Status", 8),) if show_status else ()):
        table.add_column(header, min_width=4, max_width=cap)
    for header in ("Days",) if show_stale else ("Value", "Score", "Days"):
        table.add_column(header, justify="right", no_wrap=True)
    if show_stale:
        table.add_column("Why stalled", min_width=20)
    else:
        table.add_column("Due", no_wrap=True)
        table.add_column("Next", min_width=4)
    for row in rows:
        cells = [str(row["id"]), one_line(row["name"])]
        if not show_stale:
            cells.append(one_line(row["company"]))
        cells.append(one_line(row["stage"]))
        if show_status:
            cells.append(one_line(row["status"]))
        if show_stale:
            cells += [str(row["days_in_stage"] or 0), "\n".join(escape(reason) for reason in row["stale_reasons"])]
        else:
            score = str(row["score"]) + ("[dim]~[/dim]" if row.get("nurture") else " ")
            cells += [
                money(row["value"]),
                score,
                str(row["days_in_stage"] or 0),
                short_date(row["next_action_due"]),
                one_line(row["next_action"]),
            ]
        table.add_row(*cells)
    console.print(table)
    footer = f"{len(rows)} lead(s)"
    if not show_stale and any(row.get("nurture") for row in rows):
        footer += "; ~ nurture (score under the nurture threshold: nurture them, do not work them)"
    console.print(footer, style="dim")


def lead_card(detail: dict, probability: int | None) -> None:
    """One lead: the fields, stage and days in it, BANT, next action, then the timeline."""
    from rich.panel import Panel
    from rich.table import Table

    console = stdout_console()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    status = detail["status"]
    if status == "open":
        stage_line = f"{escape(detail['stage'])} for {detail['days_in_stage']} day(s)"
        if probability is not None:
            stage_line += f" [dim]({probability}% win probability)[/dim]"
    else:
        stage_line = f"{status} from {escape(detail['stage'])}"
        if detail["closed_at"]:
            stage_line += f" on {short_date(detail['closed_at'])}"
    facts.add_row("Stage", stage_line)
    for label, key in CARD_FIELDS:
        if detail.get(key) not in (None, ""):
            facts.add_row(label, escape(detail[key]))
    facts.add_row("Value", money(detail["value"]) or "[dim]none[/dim]")
    facts.add_row("Score", str(detail["score"]))
    if detail["tags"]:
        facts.add_row("Tags", escape(", ".join(detail["tags"])))
    for key, value in detail["fields"].items():
        facts.add_row(escape(key), escape(value))
    if detail["lost_reason"]:
        facts.add_row("Lost because", escape(detail["lost_reason"]))
    if detail["archived_reason"]:
        facts.add_row("Archived because", escape(detail["archived_reason"]))
    if detail.get("stale"):
        facts.add_row(
            "[yellow]Stalled[/yellow]",
            "\n".join(f"[yellow]{escape(reason)}[/yellow]" for reason in detail["stale_reasons"]),
        )
    facts.add_row("BANT", bant_line(detail["bant"]))
    if detail["next_action"]:
        due = f" (due {short_date(detail['next_action_due'])})" if detail["next_action_due"] else ""
        facts.add_row("Next action", escape(detail["next_action"]) + due)
    else:
        facts.add_row("Next action", "[yellow]none planned[/yellow]")
    facts.add_row("Added", short_date(detail["created_at"]))
    facts.add_row("Last activity", short_date(detail["last_activity_at"]))
    console.print(Panel(facts, title=f"#{detail['id']} {escape(detail['name'])}", title_align="left", expand=False))
    console.print(timeline_table(detail["activities"]))


def bant_line(bant: dict) -> str:
    marks = {"yes": "[green]yes[/green]", "no": "[red]no[/red]", "unknown": "[dim]?[/dim]"}
    parts = []
    for name in BANT_CRITERIA:
        answer = bant[name]
        part = f"{BANT_LABELS[name]} {marks.get(answer['status'], answer['status'])}"
        if answer["note"]:
            part += f" ({escape(answer['note'])})"
        parts.append(part)
    verdict = "[green]qualified[/green]" if bant["qualified"] else "[dim]not qualified[/dim]"
    return " · ".join(parts) + f" — {verdict}"


def timeline_table(activities: list[dict]):
    from rich.table import Table

    table = Table(
        title="Timeline (newest first)", title_justify="left", show_edge=False, pad_edge=False, header_style="bold"
    )
    table.add_column("When", no_wrap=True)
    table.add_column("What", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    for activity in activities:
        table.add_row(short_date(activity["at"]), activity["kind"].replace("_", " "), describe(activity))
    return table


def describe(activity: dict) -> str:
    """One line on what an activity was, from its note, stages and data."""
    parts = []
    if activity["from_stage"] or activity["to_stage"]:
        if activity["kind"] == "stage_change":
            parts.append(f"{escape(activity['from_stage'] or '?')} → {escape(activity['to_stage'] or '?')}")
        elif activity["kind"] == "created":
            parts.append(f"in {escape(activity['to_stage'])}")
    data = activity.get("data") or {}
    if data.get("forced"):
        parts.append("[yellow]forced[/yellow]: " + escape("; ".join(data["forced"])))
    if data.get("automatic"):
        parts.append("automatic")
    if "changes" in data:
        parts.append(escape(", ".join(data["changes"])))
    if not activity["done"]:
        parts.append(f"planned, due {short_date(activity['due'])}")
    if activity["note"]:
        parts.append(escape(activity["note"]))
    return " — ".join(parts)
