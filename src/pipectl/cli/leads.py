"""Lead commands: init, add, list, show, edit."""

from typing import Annotated

import typer

from pipectl.cli.options import (
    AtOption, DbOption, ForceOption, FormatOption, LeadArgument, OutputFormat, ValueOption,
)

CompanyOption = Annotated[str | None, typer.Option("--company", help="Company name.")]
EmailOption = Annotated[str | None, typer.Option("--email", help="Email address.")]
PhoneOption = Annotated[str | None, typer.Option("--phone", help="Phone number.")]
TitleOption = Annotated[str | None, typer.Option("--title", help="Job title.")]
IndustryOption = Annotated[str | None, typer.Option("--industry", help="Industry.")]
SizeOption = Annotated[int | None, typer.Option("--size", min=0, help="Company size (employees).")]
LocationOption = Annotated[str | None, typer.Option("--location", help="City, region or country.")]
SourceOption = Annotated[str | None, typer.Option("--source", help="Where the lead came from.")]
OwnerOption = Annotated[str | None, typer.Option("--owner", help="Who works the lead.")]
TagOption = Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for more.")]
FieldOption = Annotated[
    list[str] | None, typer.Option("--field", metavar="KEY=VALUE", help="A custom data point; repeat for more.")
]


def init(
    template: Annotated[str, typer.Option("--template", help="Stage template: default, saas or agency.")] = "default",
    db: DbOption = None,
) -> None:
    """Create the pipeline database with a stage template.

    Example: pipectl init --template saas
    """
    from pipectl.cli.runtime import chosen_location
    from pipectl.core.templates import check_template
    from pipectl.errors import RuleViolation
    from pipectl.render import message
    from pipectl.storage import location
    from pipectl.storage.schema import open_database

    specs = check_template(template)
    database = open_database(chosen_location(db), template=template)
    try:
        if not database.created:
            raise RuleViolation(
                f"{location.display(database.location)} already holds a pipeline; "
                "change its stages with `pipectl stages`."
            )
        message(f"Created {location.display(database.location)} with stages: "
                + " → ".join(spec.name for spec in specs))
    finally:
        database.close()


def add(
    name: Annotated[str, typer.Argument(help="The person or company.", show_default=False)],
    company: CompanyOption = None,
    email: EmailOption = None,
    phone: PhoneOption = None,
    title: TitleOption = None,
    industry: IndustryOption = None,
    size: SizeOption = None,
    location: LocationOption = None,
    source: SourceOption = None,
    value: ValueOption = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Stage to start in (default: the first).")] = None,
    owner: OwnerOption = None,
    tag: TagOption = None,
    field: FieldOption = None,
    at: AtOption = None,
    force: Annotated[bool, typer.Option("--force", help="Add it even if it looks like a duplicate.")] = False,
    db: DbOption = None,
) -> None:
    """Add a lead and print its id.

    Example: pipectl add "Ada Lovelace" --company Analytical --email ada@example.com --value 12k --tag warm
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.leads import add_lead, describe_duplicates, parse_custom_fields, validate_fields
    from pipectl.render import message, warning

    fields = validate_fields(name=name, company=company, email=email, phone=phone, title=title,
                             industry=industry, company_size=size, location=location, source=source,
                             owner=owner, value_cents=value)
    custom = parse_custom_fields(field or [])
    with pipeline(db) as session:
        lead, duplicates = add_lead(session, fields, stage=stage, tags=tag or [], custom=custom, at=at,
                                    force=force)
        lead_id = lead.id
    if duplicates:
        warning(f"added anyway (--force), though it looks like {describe_duplicates(duplicates)}.")
    message(f"Added lead #{lead_id} {fields.name}.")
    print(lead_id)


def list_leads(
    stage: Annotated[str | None, typer.Option("--stage", help="Only this stage.")] = None,
    status: Annotated[str, typer.Option("--status", help="open, won, lost, archived or all.")] = "open",
    tag: TagOption = None,
    owner: OwnerOption = None,
    source: SourceOption = None,
    min_score: Annotated[int | None, typer.Option("--min-score", help="Only leads scoring at least this.")] = None,
    qualified: Annotated[bool, typer.Option("--qualified", help="Only leads with all four BANT answers yes.")] = False,
    unqualified: Annotated[bool, typer.Option("--unqualified", help="Only leads not fully qualified.")] = False,
    disqualified: Annotated[
        bool, typer.Option("--disqualified", help="Only leads whose budget or authority is no.")] = False,
    stale: Annotated[
        bool, typer.Option("--stale", help="Only stalled or dead leads, with the reasons (see `pipectl clean`).")
    ] = False,
    sort: Annotated[
        str, typer.Option("--sort", help="id, value, score, age, created, last-activity, name or stage.")
    ] = "id",
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most this many leads.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """List leads, filtered and sorted.

    Example: pipectl list --stage Proposal --sort value --limit 10
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.cli.tables import lead_table
    from pipectl.core.views import CONTRACT_KEYS, EXTRA_KEYS, LeadFilter, lead_rows
    from pipectl.errors import UsageError
    from pipectl.render import emit, flatten_lead

    if qualified and unqualified:
        raise UsageError("--qualified and --unqualified exclude each other; choose one.")
    wanted = LeadFilter(stage=stage, status=status.lower(), tags=tag or [], owner=owner, source=source,
                        min_score=min_score, qualified=True if qualified else False if unqualified else None,
                        disqualified=disqualified, stale=stale, sort=sort, limit=limit)
    # In CSV, custom fields are `field:KEY` columns of their own (render.flatten_lead).
    columns = [key for key in CONTRACT_KEYS + EXTRA_KEYS if key != "fields"]
    columns += ["stale", "stale_reasons"] if stale else []
    with pipeline(db, write=False) as session:
        emit(fmt.value, lead_rows(session, wanted), table=lead_table, csv_columns=columns, flatten=flatten_lead)


def show(
    lead: LeadArgument,
    activities: Annotated[int, typer.Option("--activities", help="How many recent activities to show.")] = 20,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Show one lead: its fields, stage, BANT, next action and activity timeline.

    Example: pipectl show 42
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.cli.tables import lead_card
    from pipectl.core.leads import find_lead
    from pipectl.core.views import lead_detail
    from pipectl.render import flatten_lead, write_csv, write_json_object, write_jsonl

    with pipeline(db, write=False) as session:
        detail = lead_detail(session, find_lead(session, lead),
                             activity_limit=None if fmt != OutputFormat.table else activities)
        probabilities = {stage.name: stage.probability for stage in _stages(session)}
    if fmt == OutputFormat.json:
        write_json_object(detail)
    elif fmt == OutputFormat.jsonl:
        write_jsonl([detail])
    elif fmt == OutputFormat.csv:
        flat = flatten_lead({key: value for key, value in detail.items() if key not in ("bant", "activities")})
        write_csv([flat], list(flat))
    else:
        lead_card(detail, probabilities.get(detail["stage"]))


def edit(
    lead: LeadArgument,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    company: CompanyOption = None,
    email: EmailOption = None,
    phone: PhoneOption = None,
    title: TitleOption = None,
    industry: IndustryOption = None,
    size: SizeOption = None,
    location: LocationOption = None,
    source: SourceOption = None,
    value: ValueOption = None,
    owner: OwnerOption = None,
    tag: TagOption = None,
    untag: Annotated[list[str] | None, typer.Option("--untag", help="Remove a tag; repeat for more.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", metavar="KEY=VALUE", help="Set a custom data point (KEY= removes it)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Edit even if the lead then looks like a duplicate.")] = False,
    db: DbOption = None,
) -> None:
    """Change a lead's fields, tags or custom data points.

    Example: pipectl edit 42 --title "Head of Sales" --tag hot --field department=Sales
    """
    from pipectl.cli.runtime import pipeline
    from pipectl.core.leads import OPTION_NAMES, edit_lead, find_lead, parse_custom_fields, validate_fields
    from pipectl.render import message

    given = {"name": name, "company": company, "email": email, "phone": phone, "title": title,
             "industry": industry, "company_size": size, "location": location, "source": source,
             "owner": owner, "value_cents": value}
    fields = validate_fields(**{key: value for key, value in given.items() if value is not None})
    custom = parse_custom_fields(field or [])
    with pipeline(db) as session:
        target = find_lead(session, lead)
        changes = edit_lead(session, target, fields, add_tags=tag or [], remove_tags=untag or [],
                            custom=custom, force=force)
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
