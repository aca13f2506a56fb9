"""Lead commands: init, add, list, show, edit.

`add` and `edit` take one option per data point of the lead contract
(`pipectl.contract`), made from it by `data_point_options`: a data point added
there is an option here with no change to this module.
"""

import inspect
from collections.abc import Callable
from typing import Annotated

import typer

from pipectl.cli import completion as complete
from pipectl.cli.options import (
    COUNT_MAX,
    AtOption,
    DbOption,
    FormatOption,
    LeadArgument,
    MineOption,
    owner_or_mine,
    parse_money,
)
from pipectl.contract import BY_KEY, DATA_POINTS, Field
from pipectl.errors import PipectlError, UsageError

SourceOption = Annotated[str | None, typer.Option("--source", help="Only leads from this source.")]
OwnerOption = Annotated[str | None, typer.Option("--owner", help="Only leads of this owner.")]
TagOption = Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for more.")]
FieldOption = Annotated[
    list[str] | None, typer.Option("--field", metavar="KEY=VALUE", help="A custom data point; repeat for more.")
]
# What a lead's CSV adds to the contract's columns, in `list` and `show`.
SHOW_EXTRA = ("stale", "stale_reasons")


def _data_point_parameter(spec: Field) -> inspect.Parameter:
    """The option that sets one data point, named by its `leads` column (as `LeadFields` has it)."""
    if spec.kind == "money":
        option = typer.Option(
            f"--{spec.flag}", parser=parse_money, metavar="AMOUNT", help=spec.help, show_default=False
        )
    elif spec.python_type is int:
        option = typer.Option(f"--{spec.flag}", min=spec.minimum, max=spec.maximum, help=spec.help)
    else:
        option = typer.Option(f"--{spec.flag}", help=spec.help)
    return inspect.Parameter(
        str(spec.stored),
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[spec.python_type | None, option],
    )


def data_point_options(*, after: str, skip: tuple[str, ...] = ()) -> Callable:
    """Give a command one option per data point of the contract, after its parameter `after`; the
    command receives them as `**data_points` ({column: value}, None when not given)."""

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command)
        own = [
            parameter
            for parameter in signature.parameters.values()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        at = next(index for index, parameter in enumerate(own) if parameter.name == after) + 1
        added = [_data_point_parameter(spec) for spec in DATA_POINTS if spec.key not in skip]
        # Keyword-only throughout: Typer passes every parameter by name.
        parameters = [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY) for parameter in own[:at]]
        parameters += added + [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY) for parameter in own[at:]]
        # inspect.signature (and so Typer) honours __signature__; typeshed's Callable does not declare it.
        command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return command

    return decorate


def init(
    template: Annotated[
        str,
        typer.Option(
            "--template", autocompletion=complete.complete_template, help="Stage template: default, saas or agency."
        ),
    ] = "default",
    db: DbOption = None,
) -> None:
    """Create the pipeline database with a stage template.

    Example: pipectl init --template saas
    """
    from pipectl.cli.runtime import admitted_location
    from pipectl.errors import RuleViolation
    from pipectl.render import message
    from pipectl.storage import location
    from pipectl.storage.schema import open_database
    from pipectl.storage.templates import check_template

    specs = check_template(template)
    # Creating is what init is for (its own message says where); a missing folder is still refused.
    database = open_database(admitted_location(db, write=True), template=template)
    try:
        if not database.created:
            raise RuleViolation(
                f"{location.display(database.location)} already holds a pipeline; "
                "change its stages with `pipectl stages`."
            )
        message(
            f"Created {location.display(database.location)} with stages: " + " → ".join(spec.name for spec in specs)
        )
    finally:
        database.close()


@data_point_options(after="name", skip=("name",))
def add(
    name: Annotated[str, typer.Argument(help=BY_KEY["name"].help, show_default=False)],
    stage: Annotated[
        str | None,
        typer.Option("--stage", autocompletion=complete.complete_stage, help="Stage to start in (default: the first)."),
    ] = None,
    tag: TagOption = None,
    field: FieldOption = None,
    at: AtOption = None,
    force: Annotated[bool, typer.Option("--force", help="Add it even if it looks like a duplicate.")] = False,
    join: Annotated[
        bool, typer.Option("--join", help="If it matches a lead already there, log it on that lead instead.")
    ] = False,
    db: DbOption = None,
    **data_points,
) -> None:
    """Add a lead and print its id.

    A lead matching one another seller owns is refused, naming them (--join logs it on their
    lead instead). With `pipectl owners auto round-robin`, a lead without --owner is handed out.

    Example: pipectl add "Ada Lovelace" --company Analytical --email ada@example.com --value 12k --tag warm
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core import customers
    from pipectl.core.leads import add_lead, describe_duplicates, find_duplicates, parse_custom_fields, validate_fields
    from pipectl.render import message, warning

    if join and force:
        raise UsageError("--join logs a matching lead on the one already there; --force adds it anyway: choose one.")
    fields = validate_fields(name=name, **data_points)
    custom = parse_custom_fields(field or [])
    with pipeline(db) as session:
        if join:
            matches = find_duplicates(session, email=fields.email, name=fields.name, company=fields.company)
            if matches:
                seller = customers.seller_of(fields.owner)
                joined = (customers.someone_elses(matches, seller) or matches)[0]
                customers.join(session, joined, fields.model_dump(exclude_unset=True))
                shown = joined.id, joined.name, joined.owner
        if not (join and matches):
            lead, duplicates = add_lead(session, fields, stage=stage, tags=tag or [], custom=custom, at=at, force=force)
            handed = _auto_assign(session, lead) if lead.owner is None else None
            lead_id, owner = lead.id, lead.owner
            others = customers.company_workers(session, fields.company, customers.seller_of(owner), lead.id)
    if join and matches:
        whose = f" ({shown[2]}'s)" if shown[2] else ""
        message(f"Logged on lead #{shown[0]} {shown[1]}{whose} instead of adding it.")
        print(shown[0])
        return
    if duplicates:
        warning(f"added anyway (--force), though it looks like {describe_duplicates(duplicates)}.")
    if others:
        workers = ", ".join(f"{name} ({count} open lead{'s' if count > 1 else ''})" for name, count in others)
        warning(f"{fields.company} is also worked by {workers}; agree who talks to them.")
    message(f"Added lead #{lead_id} {fields.name}" + (f", handed to {owner}." if handed else "."))
    print(lead_id)


def _auto_assign(session, lead) -> bool:
    """With the auto-assign setting on, hand a new lead without an owner out by round-robin."""
    from pipectl.core.assignment import AUTO_ASSIGN, round_robin
    from pipectl.core.settings import get_setting
    from pipectl.render import warning

    if get_setting(session, AUTO_ASSIGN) != "round-robin":
        return False
    try:
        handed = round_robin(session, lead_ids=[lead.id])["assigned"]
    except PipectlError as error:  # no active owner: the lead is kept, unowned, and the user told why
        warning(f"not handed out: {error}")
        return False
    if not handed:
        warning("not handed out: every active owner is full (see `pipectl owners list`).")
    session.refresh(lead)
    return bool(handed)


def list_leads(
    stage: Annotated[
        str | None, typer.Option("--stage", autocompletion=complete.complete_stage, help="Only this stage.")
    ] = None,
    status: Annotated[
        str, typer.Option("--status", autocompletion=complete.complete_status, help="open, won, lost, archived or all.")
    ] = "open",
    tag: TagOption = None,
    owner: OwnerOption = None,
    mine: MineOption = False,
    source: SourceOption = None,
    min_score: Annotated[
        int | None, typer.Option("--min-score", min=0, max=100, help="Only leads scoring at least this.")
    ] = None,
    qualified: Annotated[bool, typer.Option("--qualified", help="Only leads with all four BANT answers yes.")] = False,
    unqualified: Annotated[bool, typer.Option("--unqualified", help="Only leads not fully qualified.")] = False,
    disqualified: Annotated[
        bool, typer.Option("--disqualified", help="Only leads whose budget or authority is no.")
    ] = False,
    stale: Annotated[
        bool, typer.Option("--stale", help="Only stalled or dead leads, with the reasons (see `pipectl clean`).")
    ] = False,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            autocompletion=complete.complete_sort,
            help="id, value, score, probability (learned by `pipectl predict`), age, created, last-activity, name "
            "or stage.",
        ),
    ] = "id",
    limit: Annotated[int | None, typer.Option("--limit", "-n", max=COUNT_MAX, help="At most this many leads.")] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", metavar="TEXT", help="Only leads matching these words, as `pipectl search`."),
    ] = None,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """List leads, filtered and sorted.

    Example: pipectl list --stage Proposal --sort value --limit 10
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.cli.tables import lead_table
    from pipectl.core.views import EXTRA_KEYS, LeadFilter, field_keys, lead_rows, lead_values
    from pipectl.errors import UsageError
    from pipectl.output import emit, lead_layout

    if qualified and unqualified:
        raise UsageError("--qualified and --unqualified exclude each other; choose one.")
    wanted = LeadFilter(
        stage=stage,
        status=status.lower(),
        tags=tag or [],
        owner=owner_or_mine(owner, mine),
        source=source,
        min_score=min_score,
        qualified=True if qualified else False if unqualified else None,
        disqualified=disqualified,
        stale=stale,
        search=search,
        sort=sort,
        limit=limit,
    )
    extra = EXTRA_KEYS + (SHOW_EXTRA if stale else ())
    with pipeline(db, write=False) as session:
        # Without stale reasons, CSV reads each lead straight into its values (no dict per lead).
        values = None if stale else lambda keys: lead_values(session, wanted, keys)
        emit(
            fmt,
            lead_rows(session, wanted),
            table=lead_table,
            csv_layout=lead_layout(lambda: field_keys(session), extra, values=values),
        )


def show(
    lead: LeadArgument,
    activities: Annotated[
        int, typer.Option("--activities", max=COUNT_MAX, help="How many recent activities to show.")
    ] = 20,
    fmt: FormatOption = "table",
    db: DbOption = None,
) -> None:
    """Show one lead: its fields, stage, BANT, next action and activity timeline.

    In CSV it is one row, the lead's CSV layout with its BANT answers (the activities are in
    `pipectl export --what activities`).

    Example: pipectl show 42
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.cli.tables import lead_card
    from pipectl.contract import BANT_COLUMNS
    from pipectl.core.lookup import find_lead
    from pipectl.core.views import EXTRA_KEYS, field_keys, lead_detail
    from pipectl.output import emit, lead_layout

    with pipeline(db, write=False) as session:
        detail = lead_detail(session, find_lead(session, lead), activity_limit=None if fmt != "table" else activities)
        probabilities = {stage.name: stage.probability for stage in _stages(session)}
        emit(
            fmt,
            detail,
            table=lambda shown: lead_card(shown, probabilities.get(shown["stage"])),
            csv_layout=lead_layout(lambda: field_keys(session), EXTRA_KEYS + SHOW_EXTRA + BANT_COLUMNS),
        )


@data_point_options(after="lead")
def edit(
    lead: LeadArgument,
    tag: TagOption = None,
    untag: Annotated[list[str] | None, typer.Option("--untag", help="Remove a tag; repeat for more.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", metavar="KEY=VALUE", help="Set a custom data point (KEY= removes it)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Edit even if the lead then looks like a duplicate.")] = False,
    db: DbOption = None,
    **data_points,
) -> None:
    """Change a lead's fields, tags or custom data points.

    Example: pipectl edit 42 --title "Head of Sales" --tag hot --field department=Sales
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.leads import OPTION_NAMES, edit_lead, find_lead, parse_custom_fields, validate_fields
    from pipectl.render import message

    fields = validate_fields(**{key: value for key, value in data_points.items() if value is not None})
    custom = parse_custom_fields(field or [])
    with pipeline(db) as session:
        target = find_lead(session, lead)
        changes = edit_lead(
            session, target, fields, add_tags=tag or [], remove_tags=untag or [], custom=custom, force=force
        )
        label = f"#{target.id} {target.name}"
    if changes:
        message(f"Updated lead {label}: {', '.join(OPTION_NAMES.get(name, name) for name in changes)}.")
    else:
        message(f"Nothing to change on lead {label}.")


def _stages(session):
    from pipectl.core.stages import open_stages

    return open_stages(session)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(add)
    app.command("list")(list_leads)
    app.command()(show)
    app.command()(edit)
