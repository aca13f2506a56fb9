"""Views of the pipeline: board, metrics, forecast, review."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import typer

from pipectl.cli.options import (
    COUNT_MAX,
    DbOption,
    FormatOption,
    format_flag,
    parse_checked,
    parse_money,
    parse_since,
    parse_when,
)

OwnerOption = Annotated[str | None, typer.Option("--owner", metavar="NAME", help="Only leads of this owner.")]


def parse_breakdown(text: str) -> str:
    """Typer parser for `metrics --by`: a bad dimension is a usage error (exit 2) naming the others."""
    from pipectl.core.breakdowns import check_by

    return parse_checked(check_by, text)


def parse_forecast_group(text: str) -> str:
    from pipectl.core.forecast_groups import check_group

    return parse_checked(check_group, text)


class Period(str, Enum):
    month = "month"
    quarter = "quarter"


# Cards a board shows per stage when --limit is not given (machine formats give them all).
BOARD_CARDS = 10


def board(
    owner: OwnerOption = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="TAG", help="Only leads with this tag; repeat for more.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            max=COUNT_MAX,
            metavar="N",
            show_default=False,
            help=f"Cards shown per stage, the rest as +N more (default: {BOARD_CARDS} in the board, all in "
            "json, jsonl and csv).",
        ),
    ] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Show the pipeline as a board: one column per stage with counts, values and lead cards.

    Each column is headed by its open leads, their value and the value weighted by the
    stage's probability; cards show name, company, value, score and days in stage,
    marked ! when stalled and ~ when in nurture. Narrow terminals get a compact table.
    In CSV, one row per card, with its stage.

    Example: pipectl board --owner sam --tag enterprise --limit 5
    """
    from pipectl import clock
    from pipectl.cli.insight_views import board_rows, board_view
    from pipectl.cli.runtime import pipeline
    from pipectl.core.board import BoardFilter, build_board
    from pipectl.output import Csv, emit

    if limit is None and fmt == "table":
        limit = BOARD_CARDS
    with pipeline(db, write=False) as session:
        data = build_board(session, clock.now(), BoardFilter(owner=owner, tags=tag or [], limit=limit))
    emit(
        fmt,
        data,
        table=board_view,
        csv_layout=Csv(
            ["stage", "id", "name", "company", "value", "score", "days_in_stage", "owner", "stalled", "nurture"],
            rows=board_rows,
        ),
    )


def metrics(
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            metavar="DATE",
            parser=parse_since,
            show_default=False,
            help="Start of the period: a date, or a look-back such as 30d or 1m.",
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until",
            metavar="DATE",
            parser=parse_since,
            show_default=False,
            help="End of the period (not included): a date, or a look-back.",
        ),
    ] = None,
    owner: OwnerOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="source|owner|stage|tag|industry|field:NAME",
            parser=parse_breakdown,
            help="Per group: leads created, won, lost, open, conversion, win rate, won value, cycle.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Show the pipeline's numbers: value per stage, win rate, cycle, velocity, conversion, bottleneck.

    The period counts two things differently: funnel figures (stage conversion, days in
    stage, leads by source) and the lead -> won conversion are about leads created in it;
    outcome figures (won, lost, win rate, average deal size, sales cycle, lost reasons) are
    about leads closed in it. Open leads and open value are always as of now. Win rate =
    won / closed; conversion = won / created. Velocity = open leads x average deal size x
    win rate / average cycle days. Stage figures count only leads whose path through the
    stages is known (a note says how many are left out and why); a lead that skipped a stage
    passed it. Without closed leads the figures that need them are "not enough history"
    (null in JSON, with a note); rates from fewer than 5 closed leads carry a caveat. In CSV,
    one value per line: section, item (a stage, source or reason), key, value.

    --by groups the leads created in the period (every lead without one) by source, owner,
    stage (a closed lead's stage is the one it closed from, or unknown), tag (a lead counts
    under each of its tags), industry or a custom field (field:NAME); in CSV, one row per
    group.

    Example: pipectl metrics --since 90d --owner sam
    Example: pipectl metrics --by source --format csv
    """
    from pipectl import clock
    from pipectl.cli.breakdown_views import BREAKDOWN_COLUMNS, breakdown_csv_rows, breakdown_view
    from pipectl.cli.insight_views import metrics_view
    from pipectl.cli.runtime import pipeline
    from pipectl.core.metrics import Scope, compute_breakdown, compute_metrics
    from pipectl.errors import UsageError
    from pipectl.output import LONG_COLUMNS, Csv, emit, long_rows

    now = clock.now()
    start, end = since, until
    if start and end and start >= end:
        raise UsageError(f"--since ({start:%Y-%m-%d}) must be before --until ({end:%Y-%m-%d}).")
    scope = Scope(since=start, until=end, owner=owner)
    with pipeline(db, write=False) as session:
        if by is not None:
            data = compute_breakdown(session, by, scope)
        else:
            data = compute_metrics(session, now, scope)
    if by is not None:
        emit(fmt, data, table=breakdown_view, csv_layout=Csv([data["by"], *BREAKDOWN_COLUMNS], rows=breakdown_csv_rows))
        return
    emit(fmt, data, table=metrics_view, csv_layout=Csv(LONG_COLUMNS, rows=long_rows))


def forecast(
    quota: Annotated[
        int | None,
        typer.Option(
            "--quota",
            parser=parse_money,
            metavar="AMOUNT",
            help="Target for the period (default: the saved one); adds the quota gap.",
            show_default=False,
        ),
    ] = None,
    period: Annotated[
        Period | None,
        typer.Option(
            "--period", help="Quota period: month or quarter (default: the saved one, else month).", show_default=False
        ),
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            parser=parse_when,
            metavar="DATE",
            help="Measure the period containing this date (default now).",
            show_default=False,
        ),
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Keep --quota and --period for later forecasts.")] = False,
    owner: OwnerOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="source|owner",
            parser=parse_forecast_group,
            help="Also the open pipeline per source or owner.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Show the weighted forecast by expected close month, and the gap to a quota.

    Weighted value = value x the stage's probability; beside it, value x the historical
    win rate of leads that reached that stage; where no closed lead with a known path
    reached a stage, the overall win rate stands in (a note says so). The expected close date is the BANT
    timeline note when it starts or ends with an ISO date (--timeline "yes: 2027-01-15"),
    else the custom field expected_close (ISO date), else creation plus the average sales
    cycle (never before now). The quota gap: won so far in the period, the weighted value
    of open leads expected to close by its end, the gap, and the new leads it takes at
    the average deal size and the overall win rate. Open leads without a value add nothing
    and are counted. --owner: only that owner's leads, open and closed (the saved quota is
    the pipeline's, so give theirs with --quota). --by source|owner adds the open pipeline per
    group. In CSV, one value per line: section, item (a month), key, value; with --by, one
    row per group.

    Example: pipectl forecast --quota 50k --period quarter --save
    Example: pipectl forecast --owner sam --by source
    """
    from pipectl import clock
    from pipectl.cli.breakdown_views import FORECAST_GROUP_COLUMNS, forecast_group_rows, forecast_groups_view
    from pipectl.cli.insight_views import forecast_view
    from pipectl.cli.runtime import pipeline
    from pipectl.core.forecast import compute_forecast, save_quota
    from pipectl.errors import UsageError
    from pipectl.money import format_money
    from pipectl.output import LONG_COLUMNS, Csv, emit, long_rows
    from pipectl.render import message

    if save and quota is None:
        raise UsageError("--save keeps a quota: give it with --quota AMOUNT (and --period month|quarter).")
    if save and owner is not None:
        raise UsageError("--save keeps the whole pipeline's quota; leave out --owner to save one.")
    period_name = period.value if period else None
    with pipeline(db, write=save) as session:
        data = compute_forecast(
            session, clock.now(), as_of=as_of, quota_cents=quota, period=period_name, owner=owner, by=by
        )
        if save:
            assert quota is not None  # refused above
            save_quota(session, quota, data["quota"]["period"])
    if save:
        message(f"Saved the quota: {format_money(quota)} per {data['quota']['period']}.")
    if by is not None:
        emit(
            fmt,
            data,
            table=lambda document: forecast_view(document, extra=forecast_groups_view),
            csv_layout=Csv([by, *FORECAST_GROUP_COLUMNS], rows=forecast_group_rows),
        )
        return
    emit(fmt, data, table=forecast_view, csv_layout=Csv(LONG_COLUMNS, rows=long_rows))


ReviewFormatOption = Annotated[
    str,
    format_flag(
        "table", "md", "json", "jsonl", help="table for people, md for Markdown notes, json or jsonl for programs."
    ),
]


def review(
    since: Annotated[
        datetime,
        typer.Option(
            "--since", metavar="DATE", parser=parse_since, help="Review from this date, or this far back (7d, 2w, 1m)."
        ),
    ] = "7d",  # type: ignore[assignment]  # Typer passes a default through `parser`
    fmt: ReviewFormatOption = "table",
    db: DbOption = None,
) -> None:
    """Show the weekly pipeline review: wins, pipeline changes, roadblocks, competition notes.

    Wins and lost leads are those closed since the date; the value change is the value
    of new leads minus the value won or lost. Roadblocks are as of now: stalled leads,
    overdue actions and those due in the next 7 days, and unqualified leads in stages
    that require BANT or in the last stage. Competition notes are competitor activities,
    notes mentioning a competitor, and notes on leads tagged competitor.

    Example: pipectl review --since 2w --format md > review.md
    """
    from pipectl import clock
    from pipectl.cli.insight_views import review_markdown, review_view
    from pipectl.cli.runtime import pipeline
    from pipectl.core.review import compute_review
    from pipectl.errors import UsageError
    from pipectl.output import emit

    now = clock.now()
    start = since
    if start > now:
        raise UsageError(f"--since {start:%Y-%m-%d} is in the future; give a past date or a look-back such as 7d.")
    with pipeline(db, write=False) as session:
        data = compute_review(session, now, start)
    emit(fmt, data, table=review_view, writers={"md": lambda review: print(review_markdown(review), end="")})


def register(app: typer.Typer) -> None:
    app.command("board")(board)
    app.command("metrics")(metrics)
    app.command("forecast")(forecast)
    app.command("review")(review)
