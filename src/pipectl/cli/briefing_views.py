"""Rich views of `status` (one screen: 80 columns, 40 lines at most) and `brief` (one lead before a call).

Every list is short by construction (the core returns a few rows and whole counts), and text
columns end in "…" rather than wrap, so the morning screen keeps its height on any width.
"""

from pipectl.cli.table_layout import Column, fitted_table, from_markup
from pipectl.cli.tables import bant_line, describe, money, short_date
from pipectl.render import escape, stdout_console


def _amount(value: float | None) -> str:
    return money(value) or "0"


def _print_table(console, columns, rows, title: str) -> None:
    console.print(fitted_table(columns, rows, title=title).table)


# --- status ------------------------------------------------------------------------------------

_NAME = Column("Name", priority=9, min_width=12, wrap=False, keep=True)
_COMPANY = Column("Company", priority=6, min_width=10, wrap=False)
_ID = Column("ID", priority=10, justify="right", keep=True)


def status_view(data: dict) -> None:
    """The morning screen: actions, decisions, pipeline, quota, the week, score crossings."""
    from datetime import datetime

    console = stdout_console()
    moment = datetime.fromisoformat(data["as_of"])
    console.print(f"[bold]Status[/bold] on {moment:%a %Y-%m-%d %H:%M}")
    _actions(console, data["actions"])
    _decisions(console, data["needs_decision"])
    _pipeline(console, data["pipeline"])
    _quota(console, data["quota"])
    _week(console, data["week"])
    _crossings(console, data["score_crossings"])


def _more(console, shown: int, total: int, command: str) -> None:
    if total > shown:
        console.print(f"… and {total - shown:,} more: `{command}`", style="dim")


def _actions(console, actions: dict) -> None:
    total = actions["overdue"] + actions["today"]
    title = f"Next actions: {actions['overdue']:,} overdue, {actions['today']:,} today"
    if not total:
        console.print(f"[bold]{title}[/bold] [dim]— nothing due[/dim]")
        return
    columns = [
        _ID,
        _NAME,
        _COMPANY,
        Column("Action", priority=8, min_width=14, wrap=False, keep=True),
        Column("Due", priority=7),
        Column("Late", priority=5, justify="right"),
    ]
    rows = [
        [
            str(row["id"]),
            row["name"],
            row["company"] or "",
            row["action"] or "",
            short_date(row["due"]),
            f"{row['days_overdue']}d" if row["days_overdue"] else "",
        ]
        for row in actions["list"]
    ]
    _print_table(console, columns, rows, title)
    _more(console, len(rows), total, "pipectl next")


def _decisions(console, decisions: dict) -> None:
    title = f"Needs a decision: {decisions['leads']:,} stalled"
    if not decisions["leads"]:
        console.print(f"[bold]{title}[/bold] [dim]— none[/dim]")
        return
    columns = [
        _ID,
        _NAME,
        Column("Stage", priority=4, min_width=8, wrap=False),
        Column("Why", priority=8, min_width=16, wrap=False, keep=True, style="yellow"),
    ]
    rows = [[str(row["id"]), row["name"], row["stage"], "; ".join(row["reasons"] or [])] for row in decisions["list"]]
    _print_table(console, columns, rows, title)
    _more(console, len(rows), decisions["leads"], "pipectl list --stale")


def _pipeline(console, pipeline: dict) -> None:
    total = pipeline["open"]
    columns = [
        Column("Stage", priority=9, min_width=10, wrap=False, keep=True),
        Column("Prob.", priority=3, justify="right"),
        Column("Leads", priority=8, justify="right"),
        Column("Value", priority=7, justify="right"),
        Column("Weighted", priority=6, justify="right"),
    ]
    rows = [
        [
            row["stage"],
            f"{row['probability']}%",
            f"{row['leads']:,}",
            _amount(row["value"]),
            _amount(row["weighted"]),
        ]
        for row in pipeline["stages"]
    ]
    title = f"Pipeline: {total['leads']:,} open, {_amount(total['value'])}, weighted {_amount(total['weighted'])}"
    _print_table(console, columns, rows, title)


def _quota(console, quota: dict | None) -> None:
    if quota is None:
        console.print("[bold]Quota[/bold] [dim]— none saved: `pipectl forecast --quota 50k --save`[/dim]")
        return
    needed = quota["new_leads_needed"]
    line = (
        f"[bold]Quota ({quota['period']})[/bold] {_amount(quota['amount'])}: won {_amount(quota['won'])}, "
        f"expected {_amount(quota['expected'])}, gap {_amount(quota['gap'])}"
    )
    if needed:
        line += f"; {needed:,} new lead(s)"
    console.print(line)


def _week(console, week: dict) -> None:
    won, lost = week["won"], week["lost"]
    line = (
        f"[bold]This week[/bold] won {won['leads']:,} ({_amount(won['value'])}), "
        f"lost {lost['leads']:,} ({_amount(lost['value'])})"
    )
    if week["wins"]:
        line += ": " + ", ".join(escape(win["name"], one_line=True) for win in week["wins"])
        if won["leads"] > len(week["wins"]):
            line += ", …"
    console.print(line, overflow="ellipsis", no_wrap=True)


def _crossings(console, crossings: dict) -> None:
    title = f"Score crossings since yesterday: {crossings['leads']:,}"
    if not crossings["leads"]:
        console.print(f"[bold]{title}[/bold] [dim]— none[/dim]")
        return
    names = {"nurture": "nurture", "": "between", "mql": "MQL", "sql": "SQL"}
    columns = [
        _ID,
        _NAME,
        _COMPANY,
        Column("Score", priority=8, justify="right"),
        Column("Band", priority=7),
    ]
    rows = [
        [
            str(row["id"]),
            row["name"],
            row["company"] or "",
            f"{row['was']} → {row['score']}",
            f"{names[row['was_band']]} → {names[row['band']]}",
        ]
        for row in crossings["list"]
    ]
    _print_table(console, columns, rows, title)
    _more(console, len(rows), crossings["leads"], "pipectl list --sort score")


# --- brief -------------------------------------------------------------------------------------


def brief_view(data: dict) -> None:
    """One lead before a call: a card of facts, then the latest activities and similar won leads."""
    from rich.panel import Panel
    from rich.table import Table

    console = stdout_console()
    lead = data["lead"]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    who = [lead["title"], lead["company"], lead["industry"], lead["location"]]
    if lead["company_size"] is not None:
        who.append(f"{lead['company_size']:,} people")
    described = ", ".join(escape(part, one_line=True) for part in who if part)
    if described:
        facts.add_row("Who", described)
    contact = " · ".join(escape(part, one_line=True) for part in (lead["email"], lead["phone"]) if part)
    if contact:
        facts.add_row("Contact", contact)
    if lead["status"] == "open":
        stage = f"{escape(lead['stage'], one_line=True)} for {lead['days_in_stage']} day(s)"
        if data["stage_probability"] is not None:
            stage += f" ({data['stage_probability']}% by stage)"
    else:
        stage = f"{lead['status']} from {escape(lead['stage'], one_line=True)}"
    facts.add_row("Stage", stage)
    facts.add_row("Value", money(lead["value"]) or "[dim]none[/dim]")
    score = data["score"]
    band = {"sql": "SQL", "mql": "MQL", "nurture": "nurture"}.get(score["band"], "")
    reasons = ", ".join(f"{escape(part['rule'], one_line=True)} {part['points']:+d}" for part in score["reasons"])
    facts.add_row("Score", f"{score['score']}" + (f" {band}" if band else "") + (f" — {reasons}" if reasons else ""))
    if lead.get("probability") is not None:
        # The learned chance (pipectl predict); `predict LEAD --explain` shows its factors.
        facts.add_row("Win chance", f"{lead['probability']:.0%} learned from the closed leads")
    bant = data["bant"]
    facts.add_row("BANT", bant_line(bant))
    if bant["open"]:
        facts.add_row("Still open", ", ".join(bant["open"]))
    action = data["next_action"]
    if action is None:
        facts.add_row("Next action", "[yellow]none planned[/yellow]")
    else:
        late = f", [red]{action['days_overdue']}d overdue[/red]" if action["days_overdue"] else ""
        facts.add_row(
            "Next action", f"{escape(action['action'], one_line=True)} (due {short_date(action['due'])}{late})"
        )
    if data["stale_reasons"]:
        facts.add_row(
            "[yellow]Stalled[/yellow]",
            "\n".join(f"[yellow]{escape(r, one_line=True)}[/yellow]" for r in data["stale_reasons"]),
        )
    for note in data["competition"]:
        facts.add_row("Competition", f"{short_date(note['at'])} {escape(note['note'] or note['kind'], one_line=True)}")
    title = f"#{lead['id']} {escape(lead['name'], one_line=True)}"
    console.print(Panel(facts, title=title, title_align="left", expand=False))
    activity_columns = [
        Column("When", priority=9),
        Column("Kind", priority=8),
        Column("What", priority=7, min_width=20, wrap=False, keep=True),
    ]
    rows = [
        [short_date(activity["at"]), activity["kind"].replace("_", " "), from_markup(describe(activity))]
        for activity in data["activities"]
    ]
    if rows:
        _print_table(console, activity_columns, rows, "Latest activities")
    _similar(console, data["similar_won"])


def _similar(console, similar: dict) -> None:
    matching = {key: value for key, value in similar["matching"].items() if value}
    if not matching:
        console.print("[dim]No industry, size or source to compare with won leads.[/dim]")
        return
    labels = {"industry": "industry", "size_band": "size", "source": "source"}
    described = ", ".join(f"{labels[key]} {escape(value, one_line=True)}" for key, value in matching.items())
    if not similar["leads"]:
        console.print(f"[bold]Similar won leads[/bold] ({described}): [dim]none yet[/dim]")
        return
    columns = [
        _ID,
        _NAME,
        _COMPANY,
        Column("Value", priority=6, justify="right"),
        Column("Days", priority=5, justify="right"),
        Column("Same", priority=7, min_width=8, wrap=False),
    ]
    rows = [
        [
            str(row["id"]),
            row["name"],
            row["company"] or "",
            money(row["value"]),
            f"{row['cycle_days']:g}",
            ", ".join(labels[name] for name in row["matched"]),
        ]
        for row in similar["list"]
    ]
    _print_table(console, columns, rows, f"Similar won leads: {similar['leads']:,} ({described})")
    if similar["moved_by"]:
        moved = ", ".join(
            f"{mover['kind'].replace('_', ' ')} ({mover['share'] * 100:.0f}%)" for mover in similar["moved_by"]
        )
        latest = f" (the latest {similar['moved_by_of']:,})" if similar["moved_by_of"] < similar["leads"] else ""
        console.print(f"[bold]What moved them[/bold]{latest} {moved}")
