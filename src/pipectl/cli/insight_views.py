"""Rich views of the board, metrics, forecast and review, and the review as Markdown.

Everything here draws data the core already computed; user text (names,
companies, notes, reasons) is escaped before it goes into Rich markup.
"""

from pipectl.cli.table_layout import Column, cell, from_markup, hidden_note, print_table
from pipectl.cli.tables import money, short_date
from pipectl.render import escape, stdout_console
from pipectl.terminal import terminal_width, visible

# A board column needs about this many characters to show a card without wrapping into noise.
CARD_WIDTH = 22
WIDE_BOARD = 100
STALLED_MARK, NURTURE_MARK = "!", "~"
# A bar chart has no natural width: in a pipe the funnel is drawn as on an 80-column terminal.
FUNNEL_PIPE_WIDTH = 80


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
    head = f"[bold]{escape(card['name'], one_line=True)}[/bold]" + (f" [red]{marks}[/red]" if marks else "")
    lines = [head]
    if card["company"]:
        lines.append(f"[dim]{escape(card['company'], one_line=True)}[/dim]")
    lines.append(f"{amount(card['value'], '')} · {card['score']} · {card['days_in_stage']}d".lstrip(" ·"))
    return "\n".join(lines)


def board_view(data: dict) -> None:
    from rich.table import Table

    from pipectl.cli.table_layout import text_width

    console = stdout_console()
    columns = data["columns"]
    if not data["total"]["leads"]:
        console.print("No open leads match.", style="dim")
        return
    headers = [
        from_markup(
            f"{escape(column['stage'], one_line=True)}\n[not bold]{column['leads']} · "
            f"{amount(column['value'], '0')}\n[dim]weighted {amount(column['weighted_value'], '0')}"
            "[/dim][/not bold]"
        )
        for column in columns
    ]
    cards = [[from_markup(_card_text(card)) for card in column["cards"]] for column in columns]
    # Each stage as wide as its widest card, so every name and company is whole; when that does not
    # fit (and in a pipe), the compact board: one row per stage, its leads one per line.
    widths = [
        max([CARD_WIDTH, text_width(header)] + [text_width(card) for card in stage])
        for header, stage in zip(headers, cards, strict=True)
    ]
    width = terminal_width()
    if width is None or width < WIDE_BOARD or sum(widths) + 3 * len(columns) + 1 > width:
        _compact_board(console, data)
        return
    table = Table(show_lines=False, header_style="bold", padding=(0, 1))
    for header, column_width in zip(headers, widths, strict=True):
        table.add_column(header, width=column_width, vertical="top")
    depth = max((len(stage) for stage in cards), default=0)
    for index in range(depth):
        table.add_row(*(stage[index] if index < len(stage) else "" for stage in cards))
        if index < depth - 1:
            table.add_row(*("" for _ in columns))
    if any(column["more"] for column in columns):
        table.add_row(*(f"[dim]+{column['more']} more[/dim]" if column["more"] else "" for column in columns))
    console.print(table)
    _board_footer(console, data)


# The compact board: the stage and its cards stay; the figures give way on a narrow terminal.
COMPACT_COLUMNS = (
    Column("Stage", priority=9, min_width=8, keep=True),
    Column("Leads", priority=5, justify="right"),
    Column("Value", priority=4, justify="right"),
    Column("Weighted", priority=3, justify="right"),
    Column("Top leads", priority=8, min_width=20, keep=True),
)


def _compact_board(console, data: dict) -> None:
    """One row per stage; its top leads one per line, so no name is broken across lines."""
    from rich.text import Text

    rows = []
    for column in data["columns"]:
        cards = Text()
        for card in column["cards"]:
            cards.append("\n" if cards.plain else "")
            cards.append(visible(card["name"], one_line=True), style="bold")
            cards.append(f" {amount(card['value'], '')}".rstrip())
            if _marks(card):
                cards.append(f" {_marks(card)}", style="red")
        if column["more"]:
            cards.append(("\n" if cards.plain else "") + f"+{column['more']} more", style="dim")
        rows.append(
            [
                column["stage"],
                str(column["leads"]),
                amount(column["value"], "0"),
                amount(column["weighted_value"], "0"),
                cards,
            ]
        )
    hidden = print_table(console, COMPACT_COLUMNS, rows, show_lines=True)
    _board_footer(console, data)
    hidden_note(console, hidden)


def _board_footer(console, data: dict) -> None:
    total = data["total"]
    console.print(
        f"{total['leads']} open lead(s), {amount(total['value'], '0')} in the pipeline. "
        f"{STALLED_MARK} stalled, {NURTURE_MARK} nurture (score under {data['nurture_below']}).",
        style="dim",
        markup=False,
    )


# --- metrics -----------------------------------------------------------------------------------

# A stage name is never split; the conversion figures give way first on a narrow terminal.
METRICS_STAGE_COLUMNS = (
    Column("Stage", priority=9, min_width=8, keep=True),
    Column("Open", priority=8, justify="right", keep=True),
    Column("Value", priority=6, justify="right"),
    Column("Reached", priority=5, justify="right"),
    Column("→ next", priority=4, justify="right"),
    Column("→ won", priority=3, justify="right"),
    Column("Days in stage", priority=2, justify="right"),
)
SOURCE_COLUMNS = (
    Column("Source", priority=9, min_width=12, keep=True),
    Column("Leads", priority=8, justify="right", keep=True),
    Column("Won", priority=6, justify="right"),
    Column("Lost", priority=5, justify="right"),
    Column("Win rate", priority=7, justify="right"),
)


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
    few = " [dim](few closed leads)[/dim]" if data["few_closed"] else ""
    summary.add_row(
        "Win rate",
        f"{percent(data['win_rate'])} of closed leads (won ÷ won and lost){few}"
        if data["win_rate"] is not None
        else not_enough,
    )
    conversion = data["conversion"]
    summary.add_row(
        "Conversion",
        f"{percent(conversion['rate'])} of {conversion['created']} lead(s) created "
        f"were won (won ÷ created); {conversion['open']} still open"
        if conversion["created"]
        else "[dim]no leads created[/dim]",
    )
    deal = amount(data["average_deal_size"], not_enough)
    if data["average_deal_size"] is not None and data["won"]["without_value"]:
        deal += f" [dim]({data['won']['without_value']} won lead(s) without a value left out)[/dim]"
    summary.add_row("Average deal", deal)
    cycle = data["cycle"]
    summary.add_row(
        "Sales cycle",
        f"{figure(cycle['mean_days'])} days mean, {figure(cycle['median_days'])} "
        f"median, {figure(cycle['p90_days'])} at the 90th percentile"
        if cycle["mean_days"] is not None
        else not_enough,
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

    bottleneck = data["bottleneck"]["stage"] if data["bottleneck"] else None
    rows = []
    for row in data["stages"]:
        name = cell(row["stage"])
        if row["stage"] == bottleneck:
            name = cell(f"{row['stage']} (bottleneck)", style="bold red")
        rows.append(
            [
                name,
                str(row["open_leads"]),
                amount(row["open_value"], "0"),
                str(row["reached"]),
                percent(row["conversion_next"]),
                percent(row["conversion_won"]),
                figure(row["average_days_in_stage"]),
            ]
        )
    hidden = print_table(console, METRICS_STAGE_COLUMNS, rows, title="Stages")
    console.print()
    funnel(console, data["stages"], data["paths"]["unknown"])
    if data["lost_reasons"]:
        console.print()
        hidden += print_table(
            console,
            (
                Column("Reason", priority=9, min_width=16, keep=True),
                Column("Leads", priority=8, justify="right", keep=True),
            ),
            [[row["reason"], str(row["leads"])] for row in data["lost_reasons"]],
            title="Lost reasons",
        )
    if data["sources"]:
        console.print()
        hidden += print_table(
            console,
            SOURCE_COLUMNS,
            [
                [row["source"], str(row["leads"]), str(row["won"]), str(row["lost"]), percent(row["win_rate"])]
                for row in data["sources"]
            ],
            title="Sources",
        )
    hidden_note(console, hidden)
    for note in data["notes"]:
        console.print(f"Note: {visible(note)}", style="dim", markup=False)


def funnel(console, stages: list[dict], unknown: int = 0) -> None:
    """Bars proportional to the leads that reached each stage, fitted to the terminal (80 wide in a pipe)."""
    from rich.cells import cell_len
    from rich.text import Text

    left_out = f"; {unknown:,} with an unknown path left out, see the note" if unknown else ""
    console.print(f"[bold]Funnel[/bold] (leads that reached each stage{left_out})")
    names = [visible(row["stage"], one_line=True) for row in stages]
    widest = max((cell_len(name) for name in names), default=5)
    peak = max((row["reached"] for row in stages), default=0)
    room = max((terminal_width() or FUNNEL_PIPE_WIDTH) - widest - 12, 10)
    for name, row in zip(names, stages, strict=True):
        length = 0 if not peak else round(row["reached"] / peak * room)
        if row["reached"] and not length:
            length = 1
        line = Text(name + " " * (widest - cell_len(name)) + "  ")
        line.append("█" * length, style="cyan")
        line.append(f" {row['reached']}")
        console.print(line, no_wrap=True, overflow="crop")


# --- forecast ----------------------------------------------------------------------------------

# "By history" is blank until leads have closed (then it is not drawn); it gives way first.
FORECAST_MONTH_COLUMNS = (
    Column("Month", priority=9, keep=True),
    Column("Leads", priority=7, justify="right"),
    Column("Value", priority=6, justify="right"),
    Column("Weighted", priority=8, justify="right", keep=True),
    Column("By history", priority=5, justify="right"),
    Column("By model", priority=4, justify="right"),
)
FORECAST_STAGE_COLUMNS = (
    Column("Stage", priority=9, min_width=8, keep=True),
    Column("Prob", priority=6, justify="right"),
    Column("Hist win", priority=4, justify="right"),
    Column("Leads", priority=5, justify="right"),
    Column("Value", priority=7, justify="right"),
    Column("Weighted", priority=8, justify="right", keep=True),
    Column("By history", priority=3, justify="right"),
    Column("By model", priority=2, justify="right"),
)


def forecast_view(data: dict, extra=None) -> None:
    """The forecast; `extra(console, data)` draws more tables (a breakdown) and returns the columns it hid."""
    from rich.table import Table

    console = stdout_console()
    total = data["open"]
    owner = f" of {escape(data['owner'])}" if data.get("owner") else ""
    console.print(
        f"[bold]Open pipeline{owner}[/bold]: {total['leads']} lead(s), {amount(total['value'], '0')}, "
        f"weighted {amount(total['weighted'], '0')}"
        + (f", by history {amount(total['weighted_historical'])}" if total["weighted_historical"] is not None else "")
        + (f", by model {amount(total['weighted_model'])}" if total.get("weighted_model") is not None else "")
    )
    # "By model" is drawn once a win model is trained (`pipectl predict`).
    by_model = total.get("weighted_model") is not None
    console.print()
    months = [
        [
            row["month"],
            str(row["leads"]),
            amount(row["value"], "0"),
            amount(row["weighted"], "0"),
            amount(row["weighted_historical"]),
        ]
        + ([amount(row["weighted_model"])] if by_model else [])
        for row in data["months"]
    ]
    if not months:
        months.append([from_markup("[dim]no open leads[/dim]"), "", "", "", ""] + ([""] if by_model else []))
    month_columns = FORECAST_MONTH_COLUMNS if by_model else FORECAST_MONTH_COLUMNS[:-1]
    hidden = print_table(console, month_columns, months, title="By expected close month")
    console.print()
    # A stage without closed history shows the overall rate it borrows, marked *.
    stages = [
        [
            row["stage"],
            f"{row['probability']}%",
            percent(row["win_rate_used"]) + ("*" if row["win_rate_from"] == "overall" else ""),
            str(row["leads"]),
            amount(row["value"], "0"),
            amount(row["weighted"], "0"),
            amount(row["weighted_historical"]),
        ]
        + ([amount(row["weighted_model"])] if by_model else [])
        for row in data["stages"]
    ]
    stage_columns = FORECAST_STAGE_COLUMNS if by_model else FORECAST_STAGE_COLUMNS[:-1]
    hidden += print_table(console, stage_columns, stages, title="By stage")
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
    if extra is not None:
        console.print()
        hidden += extra(console, data)
    hidden_note(console, hidden)
    for note in data["notes"]:
        console.print(f"Note: {visible(note)}", style="dim", markup=False)


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
    lines.append(
        f"Archived: {update['archived']['leads']} ({amount(update['archived']['value'], '0')}), "
        f"restored: {update['restored']['leads']} ({amount(update['restored']['value'], '0')})"
    )
    sign = "+" if change["change"] >= 0 else "-"
    edited = change["edited"]
    lines.append(
        f"Open value change: {sign}{amount(abs(change['change']), '0')} "
        f"(added {amount(change['added'], '0')}, closed {amount(change['closed'], '0')}, "
        f"archived {amount(change['archived'], '0')}, restored {amount(change['restored'], '0')}, "
        f"edits {'+' if edited >= 0 else '-'}{amount(abs(edited), '0')})"
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
    whose = f" of {escape(data['owner'])}" if data.get("owner") else ""
    console.print(f"[bold]Pipeline review{whose}[/bold] {short_date(data['since'])} to {short_date(data['until'])}")
    for heading, lines in _review_lines(data):
        console.print()
        console.print(f"[bold]{heading}[/bold]")
        for line in lines:
            console.print(visible(line, one_line=True), markup=False, highlight=False)


def review_markdown(data: dict) -> str:
    """The review as Markdown to paste into notes; user text has Markdown's specials escaped."""
    whose = f" of {_markdown_escape(data['owner'])}" if data.get("owner") else ""
    out = [f"# Pipeline review{whose} {short_date(data['since'])} to {short_date(data['until'])}", ""]
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
    # A line break in a name or a note would start a heading or a bullet of its own: kept on the line.
    return " ⏎ ".join(part.strip() for part in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
