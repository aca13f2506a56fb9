"""Rich views of the board, metrics, forecast and review, and the review as Markdown.

Everything here draws data the core already computed; user text (names,
companies, notes, reasons) is escaped before it goes into Rich markup.
"""

from pipectl.cli.tables import money, short_date
from pipectl.render import escape, stdout_console

# A board column needs about this many characters to show a card without wrapping into noise.
CARD_WIDTH = 22
WIDE_BOARD = 100
STALLED_MARK, NURTURE_MARK = "!", "~"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def amount(value: float | None, missing: str = "–") -> str:
    return missing if value is None else money(value) or "0"


def figure(value, suffix: str = "") -> str:
    return "–" if value is None else f"{value}{suffix}"


# --- board -------------------------------------------------------------------------------------


def board_rows(data: dict) -> list[dict]:
    """The board's cards flattened for CSV, each with its stage."""
    return [{"stage": column["stage"], **card} for column in data["columns"] for card in column["cards"]]


def _marks(card: dict) -> str:
    return (STALLED_MARK if card["stalled"] else "") + (NURTURE_MARK if card["nurture"] else "")


def _card_text(card: dict) -> str:
    marks = _marks(card)
    head = f"[bold]{escape(card['name'])}[/bold]" + (f" [red]{marks}[/red]" if marks else "")
    lines = [head]
    if card["company"]:
        lines.append(f"[dim]{escape(card['company'])}[/dim]")
    lines.append(f"{amount(card['value'], '')} · {card['score']} · {card['days_in_stage']}d".lstrip(" ·"))
    return "\n".join(lines)


def board_view(data: dict) -> None:
    from rich.table import Table

    console = stdout_console()
    columns = data["columns"]
    if not data["total"]["leads"]:
        console.print("No open leads match.", style="dim")
        return
    if console.width < WIDE_BOARD or len(columns) * CARD_WIDTH > console.width:
        _compact_board(console, data)
        return
    table = Table(show_lines=False, expand=True, header_style="bold", padding=(0, 1))
    for column in columns:
        header = (
            f"{escape(column['stage'])}\n[not bold]{column['leads']} · {amount(column['value'], '0')}"
            f"\n[dim]weighted {amount(column['weighted_value'], '0')}[/dim][/not bold]"
        )
        table.add_column(header, overflow="fold", ratio=1, vertical="top")
    depth = max((len(column["cards"]) for column in columns), default=0)
    for index in range(depth):
        table.add_row(
            *(_card_text(column["cards"][index]) if index < len(column["cards"]) else "" for column in columns)
        )
        if index < depth - 1:
            table.add_row(*("" for _ in columns))
    if any(column["more"] for column in columns):
        table.add_row(*(f"[dim]+{column['more']} more[/dim]" if column["more"] else "" for column in columns))
    console.print(table)
    _board_footer(console, data)


def _compact_board(console, data: dict) -> None:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, header_style="bold", show_lines=True)
    table.add_column("Stage", no_wrap=True)
    table.add_column("Leads", justify="right", no_wrap=True)
    table.add_column("Value", justify="right", no_wrap=True)
    table.add_column("Weighted", justify="right", no_wrap=True)
    table.add_column("Top leads", overflow="fold")
    for column in data["columns"]:
        cards = [
            f"{escape(card['name'])} {amount(card['value'], '')}".strip()
            + (f" [red]{_marks(card)}[/red]" if _marks(card) else "")
            for card in column["cards"]
        ]
        if column["more"]:
            cards.append(f"[dim]+{column['more']} more[/dim]")
        table.add_row(
            escape(column["stage"]),
            str(column["leads"]),
            amount(column["value"], "0"),
            amount(column["weighted_value"], "0"),
            ", ".join(cards),
        )
    console.print(table)
    _board_footer(console, data)


def _board_footer(console, data: dict) -> None:
    total = data["total"]
    console.print(
        f"{total['leads']} open lead(s), {amount(total['value'], '0')} in the pipeline. "
        f"{STALLED_MARK} stalled, {NURTURE_MARK} nurture (score under {data['nurture_below']}).",
        style="dim",
        markup=False,
    )


# --- metrics -----------------------------------------------------------------------------------


def metrics_view(data: dict) -> None:
    from rich.table import Table

    console = stdout_console()
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column()
    period = data["period"]
    if period["since"] or period["until"] or period["owner"]:
        bounds = f"{short_date(period['since']) or 'the start'} to {short_date(period['until']) or 'now'}"
        summary.add_row("Period", bounds + (f", owner {escape(period['owner'])}" if period["owner"] else ""))
    summary.add_row("Open", f"{data['open']['leads']} lead(s), {amount(data['open']['value'], '0')}")
    summary.add_row("Won", f"{data['won']['leads']} lead(s), {amount(data['won']['value'], '0')}")
    summary.add_row("Lost", f"{data['lost']['leads']} lead(s), {amount(data['lost']['value'], '0')}")
    not_enough = "[dim]not enough history[/dim]"
    summary.add_row("Win rate", percent(data["win_rate"]) if data["win_rate"] is not None else not_enough)
    summary.add_row("Average deal", amount(data["average_deal_size"], not_enough))
    summary.add_row(
        "Sales cycle",
        figure(data["average_cycle_days"], " days") if data["average_cycle_days"] is not None else not_enough,
    )
    velocity = data["velocity"]
    summary.add_row(
        "Velocity",
        not_enough
        if velocity["per_day"] is None
        else f"{amount(velocity['per_day'])} per day, {amount(velocity['per_month'])} per month",
    )
    console.print(summary)
    console.print()

    stages = Table(title="Stages", title_justify="left", show_edge=False, pad_edge=False, header_style="bold")
    for label in ("Stage", "Open", "Value", "Reached", "→ next", "→ won", "Days in stage"):
        stages.add_column(label, justify="left" if label == "Stage" else "right", overflow="fold")
    bottleneck = data["bottleneck"]["stage"] if data["bottleneck"] else None
    for row in data["stages"]:
        name = escape(row["stage"])
        if row["stage"] == bottleneck:
            name = f"[bold red]{name} (bottleneck)[/bold red]"
        stages.add_row(
            name,
            str(row["open_leads"]),
            amount(row["open_value"], "0"),
            str(row["reached"]),
            percent(row["conversion_next"]),
            percent(row["conversion_won"]),
            figure(row["average_days_in_stage"]),
        )
    console.print(stages)
    console.print()
    funnel(console, data["stages"])
    if data["lost_reasons"]:
        console.print()
        reasons = Table(
            title="Lost reasons", title_justify="left", show_edge=False, pad_edge=False, header_style="bold"
        )
        reasons.add_column("Reason", overflow="fold")
        reasons.add_column("Leads", justify="right")
        for row in data["lost_reasons"]:
            reasons.add_row(escape(row["reason"]), str(row["leads"]))
        console.print(reasons)
    if data["sources"]:
        console.print()
        sources = Table(title="Sources", title_justify="left", show_edge=False, pad_edge=False, header_style="bold")
        for label in ("Source", "Leads", "Won", "Lost", "Win rate"):
            sources.add_column(label, justify="left" if label == "Source" else "right")
        for row in data["sources"]:
            sources.add_row(
                escape(row["source"]), str(row["leads"]), str(row["won"]), str(row["lost"]), percent(row["win_rate"])
            )
        console.print(sources)
    for note in data["notes"]:
        console.print(f"Note: {note}", style="dim", markup=False)


def funnel(console, stages: list[dict]) -> None:
    """Bars proportional to the leads that reached each stage, fitted to the terminal."""
    console.print("[bold]Funnel[/bold] (leads that reached each stage)")
    widest = max((len(row["stage"]) for row in stages), default=5)
    peak = max((row["reached"] for row in stages), default=0)
    room = max(console.width - widest - 12, 10)
    for row in stages:
        length = 0 if not peak else round(row["reached"] / peak * room)
        if row["reached"] and not length:
            length = 1
        console.print(
            f"{escape(row['stage']).ljust(widest)}  [cyan]{'█' * length}[/cyan] {row['reached']}",
            no_wrap=True,
            overflow="crop",
        )


# --- forecast ----------------------------------------------------------------------------------


def forecast_view(data: dict) -> None:
    from rich.table import Table

    console = stdout_console()
    total = data["open"]
    console.print(
        f"[bold]Open pipeline[/bold]: {total['leads']} lead(s), {amount(total['value'], '0')}, "
        f"weighted {amount(total['weighted'], '0')}"
        + (f", by history {amount(total['weighted_historical'])}" if total["weighted_historical"] is not None else "")
    )
    console.print()
    months = Table(
        title="By expected close month", title_justify="left", show_edge=False, pad_edge=False, header_style="bold"
    )
    for label in ("Month", "Leads", "Value", "Weighted", "By history"):
        months.add_column(label, justify="left" if label == "Month" else "right", no_wrap=True)
    for row in data["months"]:
        months.add_row(
            row["month"],
            str(row["leads"]),
            amount(row["value"], "0"),
            amount(row["weighted"], "0"),
            amount(row["weighted_historical"]),
        )
    if not data["months"]:
        months.add_row("[dim]no open leads[/dim]", "", "", "", "")
    console.print(months)
    console.print()
    stages = Table(title="By stage", title_justify="left", show_edge=False, pad_edge=False, header_style="bold")
    widest = max((len(row["stage"]) for row in data["stages"]), default=5)
    stages.add_column("Stage", overflow="fold", min_width=min(widest, 20))
    for label in ("Prob", "Hist win", "Leads", "Value", "Weighted", "By history"):
        stages.add_column(label, justify="right")
    for row in data["stages"]:
        stages.add_row(
            escape(row["stage"]),
            f"{row['probability']}%",
            percent(row["historical_win_rate"]),
            str(row["leads"]),
            amount(row["value"], "0"),
            amount(row["weighted"], "0"),
            amount(row["weighted_historical"]),
        )
    console.print(stages)
    quota = data["quota"]
    if quota:
        console.print()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row(
            "Quota",
            f"{amount(quota['amount'])} this {quota['period']} "
            f"({short_date(quota['start'])} to {short_date(quota['end'])})",
        )
        grid.add_row("Won so far", f"{amount(quota['won'], '0')} ({quota['won_leads']} lead(s))")
        grid.add_row("Expected", f"{amount(quota['expected'], '0')} weighted, from open leads due by the end")
        grid.add_row("Gap", amount(quota["gap"], "0"))
        needed = quota["new_leads_needed"]
        grid.add_row(
            "New leads needed",
            "[dim]not enough history[/dim]"
            if needed is None
            else f"{needed} (at {amount(quota['average_deal_size'])} average deal, "
            f"{percent(quota['win_rate'])} win rate)"
            if needed
            else "0",
        )
        console.print(grid)
    for note in data["notes"]:
        console.print(f"Note: {note}", style="dim", markup=False)


# --- review ------------------------------------------------------------------------------------


def _who(item: dict) -> str:
    return f"#{item['id']} {item['name']}" + (f" ({item['company']})" if item.get("company") else "")


def _review_lines(data: dict) -> list[tuple[str, list[str]]]:
    """The review as (heading, plain lines): shared by the terminal and Markdown views."""
    wins, update, blocks, rivals = data["wins"], data["pipeline"], data["roadblocks"], data["competition"]
    sections = []
    lines = [f"{wins['leads']} won, {amount(wins['value'], '0')}"]
    lines += [
        f"{_who(item)}: {amount(item['value'], 'no value')} on {short_date(item['closed_at'])}" for item in wins["list"]
    ]
    sections.append(("Wins", lines))
    change = update["value_change"]
    lines = [
        f"New leads: {update['new_leads']['leads']} ({amount(update['new_leads']['value'], '0')})",
        f"Stage moves: {update['stage_moves']['count']}",
    ]
    lines += [
        f"  {_who(item)}: {item['from'] or '?'} → {item['to'] or '?'} on {short_date(item['at'])}"
        for item in update["stage_moves"]["list"]
    ]
    lines.append(f"Lost: {update['lost']['leads']} ({amount(update['lost']['value'], '0')})")
    lines += [f"  {_who(item)}: {item['reason']}" for item in update["lost"]["list"]]
    sign = "+" if change["change"] >= 0 else "-"
    lines.append(
        f"Open value change: {sign}{amount(abs(change['change']), '0')} "
        f"(added {amount(change['added'], '0')}, closed {amount(change['closed'], '0')})"
    )
    sections.append(("Pipeline update", lines))
    lines = [f"Stalled leads: {blocks['stalled']['count']}"]
    lines += [f"  {_who(item)} in {item['stage']}: {'; '.join(item['reasons'])}" for item in blocks["stalled"]["list"]]
    lines.append(f"Overdue actions: {blocks['overdue']['count']}")
    lines += [
        f"  {_who(item)}: {item['action'] or 'next action'} (due {short_date(item['due'])})"
        for item in blocks["overdue"]["list"]
    ]
    lines.append(f"Due in the next 7 days: {blocks['upcoming']['count']}")
    lines += [
        f"  {_who(item)}: {item['action'] or 'next action'} (due {short_date(item['due'])})"
        for item in blocks["upcoming"]["list"]
    ]
    lines.append(f"Unqualified in late stages: {blocks['unqualified']['count']}")
    lines += [
        f"  {_who(item)} in {item['stage']}: {', '.join(item['missing'])}" for item in blocks["unqualified"]["list"]
    ]
    sections.append(("Roadblocks", lines))
    lines = [f"{rivals['count']} mention(s)"]
    lines += [
        f"{_who(item)} ({item['kind']}, {short_date(item['at'])}): {item['note'] or ''}".rstrip(": ")
        for item in rivals["list"]
    ]
    sections.append(("Competition", lines))
    return sections


def review_view(data: dict) -> None:
    console = stdout_console()
    console.print(f"[bold]Pipeline review[/bold] {short_date(data['since'])} to {short_date(data['until'])}")
    for heading, lines in _review_lines(data):
        console.print()
        console.print(f"[bold]{heading}[/bold]")
        for line in lines:
            console.print(line, markup=False, highlight=False)


def review_markdown(data: dict) -> str:
    """The review as Markdown to paste into notes; user text has Markdown's specials escaped."""
    out = [f"# Pipeline review {short_date(data['since'])} to {short_date(data['until'])}", ""]
    for heading, lines in _review_lines(data):
        out += [f"## {heading}", ""]
        for line in lines:
            indent = "  " if line.startswith("  ") else ""
            out.append(f"{indent}- {_markdown_escape(line.strip())}")
        out.append("")
    return "\n".join(out)


def _markdown_escape(text: str) -> str:
    for special in ("\\", "*", "_", "`", "[", "]", "<", ">", "|"):
        text = text.replace(special, "\\" + special)
    return text
