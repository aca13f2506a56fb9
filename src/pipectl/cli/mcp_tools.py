"""The tools `pipectl mcp` offers: one table of name, description, JSON schema and function.

Each function opens the pipeline as its command does (one transaction, the same core calls and
rules), and its result is written by `output.emit(\"json\", …)`, so a read tool returns exactly
what `pipectl COMMAND --format json` prints. A write tool returns the lead as `pipectl show LEAD
--format json` prints it after the change. Arguments are read with the CLI's own parsers (dates,
amounts, durations), so a bad one is refused with the CLI's message. Adding a tool is one entry
in `TOOLS`. This module imports no MCP code: the server (`cli/mcp_server.py`) does.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pipectl.contract import BANT_CRITERIA, DATA_POINTS, STATUSES
from pipectl.errors import UsageError


@dataclass(frozen=True)
class Tool:
    """One MCP tool: what an assistant sees (name, description, schema) and what runs (`run(args, db)`)."""

    name: str
    description: str
    properties: dict[str, dict]
    run: Callable[[dict, str | None], Any]
    required: tuple[str, ...] = ()
    writes: bool = False

    @property
    def schema(self) -> dict:
        schema: dict[str, Any] = {"type": "object", "properties": self.properties, "additionalProperties": False}
        if self.required:
            schema["required"] = list(self.required)
        return schema


def as_json(data: Any) -> str:
    """The text `--format json` prints for `data` (rows or a document), through the one output path."""
    from pipectl.output import emit

    out = io.StringIO()
    emit("json", data, out=out)
    return out.getvalue()


# --- argument schemas --------------------------------------------------------------------------


def _text(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


def _integer(description: str, **extra) -> dict:
    return {"type": "integer", "description": description, **extra}


def _flag(description: str) -> dict:
    return {"type": "boolean", "description": description}


LEAD = _text("Lead id, or its exact email or name.")
DATE = "2026-11-20, today, yesterday, friday, -3d, 2w"
AT = _text(f"When it really happened ({DATE}); default now.")
NOTE = _text("A note kept with the activity.")
AMOUNT = _text("An amount: 12000, 12,000.50, 12k, $22,700.")
OWNER = _text("Only leads of this owner.")


def _data_point_schema(spec) -> dict:
    if spec.kind == "money":
        return {**AMOUNT, "description": f"{spec.help} (12000, 12k, $22,700)."}
    if spec.python_type is int:
        bounds = {"minimum": spec.minimum} if spec.minimum is not None else {}
        return _integer(spec.help, **bounds)
    return _text(spec.help)


# --- argument values ---------------------------------------------------------------------------


def _when(text: str | None, *, past: bool = False) -> datetime | None:
    from pipectl import clock
    from pipectl.core.history import check_not_future
    from pipectl.dates import parse_date

    if text is None:
        return None
    moment = parse_date(text, clock.now())
    return check_not_future(moment) if past else moment


def _since(text: str | None) -> datetime | None:
    from pipectl import clock
    from pipectl.dates import parse_look_back

    return None if text is None else parse_look_back(text, clock.now())


def _money(value: Any) -> int | None:
    from pipectl.money import parse_amount

    return None if value is None else parse_amount(str(value))


def check_arguments(tool: Tool, arguments: dict | None) -> dict:
    """The arguments, checked against the tool's schema: a wrong one is a usage error naming it."""
    given = dict(arguments or {})
    unknown = sorted(set(given) - set(tool.properties))
    if unknown:
        raise UsageError(
            f"{tool.name} takes no argument {', '.join(unknown)}; it takes: {', '.join(tool.properties) or 'none'}."
        )
    for name in tool.required:
        if given.get(name) in (None, ""):
            raise UsageError(f"{tool.name} needs {name}.")
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    for name, value in given.items():
        spec = tool.properties[name]
        if value is None:
            continue
        wanted = kinds[spec["type"]]
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise UsageError(f"{name} must be {'an' if spec['type'][0] in 'aeiou' else 'a'} {spec['type']}.")
        if "enum" in spec and value not in spec["enum"]:
            raise UsageError(f"{name} is one of {', '.join(spec['enum'])}, not {value!r}.")
        if "minimum" in spec and value < spec["minimum"]:
            raise UsageError(f"{name} must be at least {spec['minimum']}.")
        if "maximum" in spec and value > spec["maximum"]:
            raise UsageError(f"{name} must be at most {spec['maximum']}.")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise UsageError(f"{name} is a list of strings.")
        if isinstance(value, dict) and not all(isinstance(item, str) for item in value.values()):
            raise UsageError(f"{name} maps names to strings.")
    return given


# --- read tools --------------------------------------------------------------------------------


def show(args: dict, db: str | None) -> Any:
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead
    from pipectl.core.views import lead_detail

    with pipeline(db, write=False) as session:
        return lead_detail(session, find_lead(session, args["lead"]))


def brief(args: dict, db: str | None) -> Any:
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.brief import compute_brief
    from pipectl.core.lookup import find_lead

    with pipeline(db, write=False) as session:
        return compute_brief(session, find_lead(session, args["lead"]), clock.now())


def search(args: dict, db: str | None) -> Any:
    from pipectl.cli.runtime import pipeline
    from pipectl.core.search import search as run_search, search_terms

    search_terms(args["text"])  # nothing to search for is refused before the database is opened
    with pipeline(db, write=False) as session:
        return run_search(session, args["text"], status=args.get("status", "all").lower(), limit=args.get("limit", 20))


def list_leads(args: dict, db: str | None) -> Any:
    from pipectl.cli.runtime import pipeline
    from pipectl.core.views import LeadFilter, lead_rows

    if args.get("qualified") and args.get("unqualified"):
        raise UsageError("--qualified and --unqualified exclude each other; choose one.")
    wanted = LeadFilter(
        stage=args.get("stage"),
        status=args.get("status", "open").lower(),
        tags=args.get("tags") or [],
        owner=args.get("owner"),
        source=args.get("source"),
        min_score=args.get("min_score"),
        qualified=True if args.get("qualified") else False if args.get("unqualified") else None,
        disqualified=bool(args.get("disqualified")),
        stale=bool(args.get("stale")),
        sort=args.get("sort", "id"),
        limit=args.get("limit"),
    )
    with pipeline(db, write=False) as session:
        return list(lead_rows(session, wanted))


def next_actions(args: dict, db: str | None) -> Any:
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.agenda import agenda, agenda_dicts
    from pipectl.dates import parse_duration

    now = clock.now()
    span = parse_duration(args.get("within", "7d")).ahead_of(datetime.combine(now.date(), time()) + timedelta(days=1))
    with pipeline(db, write=False) as session:
        return list(agenda_dicts(session, agenda(session, within=span, limit=args.get("limit"), now=now)))


def status(args: dict, db: str | None) -> Any:
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.status import compute_status

    with pipeline(db, write=False) as session:
        return compute_status(session, clock.now())


def metrics(args: dict, db: str | None) -> Any:
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.breakdowns import check_by
    from pipectl.core.metrics import Scope, compute_breakdown, compute_metrics

    start, end = _since(args.get("since")), _since(args.get("until"))
    if start and end and start >= end:
        raise UsageError(f"--since ({start:%Y-%m-%d}) must be before --until ({end:%Y-%m-%d}).")
    by = check_by(args["by"]) if args.get("by") else None
    scope = Scope(since=start, until=end, owner=args.get("owner"))
    with pipeline(db, write=False) as session:
        if by is not None:
            return compute_breakdown(session, by, scope)
        return compute_metrics(session, clock.now(), scope)


def forecast(args: dict, db: str | None) -> Any:
    from pipectl import clock
    from pipectl.cli.runtime import pipeline
    from pipectl.core.forecast import compute_forecast
    from pipectl.core.forecast_groups import check_group

    by = check_group(args["by"]) if args.get("by") else None
    quota, as_of = _money(args.get("quota")), _when(args.get("as_of"))
    with pipeline(db, write=False) as session:
        return compute_forecast(
            session,
            clock.now(),
            as_of=as_of,
            quota_cents=quota,
            period=args.get("period"),
            owner=args.get("owner"),
            by=by,
        )


# --- write tools: each returns the lead as `show` prints it after the change ---------------------


def _shown(db: str | None, lead_id: int) -> dict:
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead
    from pipectl.core.views import lead_detail

    with pipeline(db, write=False) as session:
        return lead_detail(session, find_lead(session, lead_id))


def add(args: dict, db: str | None) -> Any:
    from pipectl.cli.runtime import pipeline
    from pipectl.core.leads import add_lead, parse_custom_fields, validate_fields

    values = {}
    for spec in DATA_POINTS:
        value = args.get(spec.key)
        values[str(spec.stored)] = _money(value) if spec.kind == "money" else value
    fields = validate_fields(**values)
    custom = parse_custom_fields([f"{key}={value}" for key, value in (args.get("fields") or {}).items()])
    at = _when(args.get("at"), past=True)
    with pipeline(db) as session:
        lead, _duplicates = add_lead(
            session,
            fields,
            stage=args.get("stage"),
            tags=args.get("tags") or [],
            custom=custom,
            at=at,
            force=bool(args.get("force")),
        )
        lead_id = lead.id
    assert lead_id is not None
    return _shown(db, lead_id)


def _write(db: str | None, reference: str, change: Callable) -> dict:
    """Run `change(session, lead)` in one write transaction, then show the lead as it now is."""
    from pipectl.cli.runtime import pipeline
    from pipectl.core.lookup import find_lead

    with pipeline(db) as session:
        lead = find_lead(session, reference)
        change(session, lead)
        lead_id = lead.id
    assert lead_id is not None
    return _shown(db, lead_id)


def log(args: dict, db: str | None) -> Any:
    from pipectl import clock
    from pipectl.core.history import record
    from pipectl.core.kinds import check_outcome, normalise_kind
    from pipectl.core.outcomes import not_before_added

    kind = normalise_kind(args["kind"])
    outcome = check_outcome(kind, args.get("outcome"))
    at = _when(args.get("at"), past=True) or clock.now()

    def change(session, lead):
        data = {"outcome": outcome} if outcome else None
        record(session, lead, kind, not_before_added(lead, at), note=args.get("note"), data=data)

    return _write(db, args["lead"], change)


def plan(args: dict, db: str | None) -> Any:
    from pipectl.core.agenda import plan_action

    due = _when(args.get("due"))
    return _write(db, args["lead"], lambda session, lead: plan_action(session, lead, args["action"], due))


def done(args: dict, db: str | None) -> Any:
    from pipectl.core.agenda import complete_action, plan_action

    following, due = args.get("next"), _when(args.get("due"))
    if due is not None and following is None:
        raise UsageError('--due goes with --next: --next "Follow up" --due 3d.')
    if following is not None and due is None:
        raise UsageError('--next needs a date: --next "Follow up" --due 3d.')
    at = _when(args.get("at"), past=True)

    def change(session, lead):
        complete_action(session, lead, at=at, note=args.get("note"))
        if following is not None:
            plan_action(session, lead, following, due)

    return _write(db, args["lead"], change)


def move(args: dict, db: str | None) -> Any:
    from pipectl.core.outcomes import move_lead

    at = _when(args.get("at"), past=True)
    return _write(
        db,
        args["lead"],
        lambda session, lead: move_lead(
            session, lead, args["stage"], at=at, note=args.get("note"), force=bool(args.get("force"))
        ),
    )


def qualify(args: dict, db: str | None) -> Any:
    from pipectl.core.qualification import parse_answer, qualify_lead

    answers = {name: parse_answer(name, args[name]) for name in BANT_CRITERIA if args.get(name) is not None}
    if not answers:
        raise UsageError('Give budget, authority, need or timeline (e.g. budget "yes: 20k").')
    at = _when(args.get("at"), past=True)
    return _write(db, args["lead"], lambda session, lead: qualify_lead(session, lead, answers, at=at))


def won(args: dict, db: str | None) -> Any:
    from pipectl.core.outcomes import mark_won

    value, at = _money(args.get("value")), _when(args.get("at"), past=True)
    return _write(
        db, args["lead"], lambda session, lead: mark_won(session, lead, value_cents=value, at=at, note=args.get("note"))
    )


def lost(args: dict, db: str | None) -> Any:
    from pipectl.core.outcomes import mark_lost

    at = _when(args.get("at"), past=True)
    return _write(db, args["lead"], lambda session, lead: mark_lost(session, lead, reason=args.get("reason"), at=at))


# --- the table ---------------------------------------------------------------------------------

_SORTS = ["id", "value", "score", "age", "created", "last-activity", "name", "stage"]
_ANSWER = 'yes, no or unknown, optionally with a note: "yes: 20k this quarter".'

TOOLS: tuple[Tool, ...] = (
    Tool(
        "show",
        "One lead: its fields, stage, BANT, next action and every activity (pipectl show LEAD -f json).",
        {"lead": LEAD},
        show,
        required=("lead",),
    ),
    Tool(
        "brief",
        "Everything worth knowing before a call with a lead: who, stage and days there, BANT and what is open, "
        "score and its top reasons, latest activities, next action, competition notes, similar won leads and what "
        "moved them (pipectl brief LEAD -f json).",
        {"lead": LEAD},
        brief,
        required=("lead",),
    ),
    Tool(
        "search",
        "Find leads by any word of their name, company, email, phone, title, tags, custom fields or activity notes, "
        "best matches first, each with where it matched; accents and case do not matter (pipectl search TEXT -f json).",
        {
            "text": _text("The words to find; each is a prefix (torv finds Torvalds)."),
            "status": _text("Which leads (default all).", enum=[*STATUSES, "all"]),
            "limit": _integer("At most this many leads (default 20).", minimum=1),
        },
        search,
        required=("text",),
    ),
    Tool(
        "list",
        "List leads, filtered and sorted (pipectl list -f json).",
        {
            "stage": _text("Only this stage."),
            "status": _text("Which leads (default open).", enum=[*STATUSES, "all"]),
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Only leads with all these tags."},
            "owner": OWNER,
            "source": _text("Only leads from this source."),
            "min_score": _integer("Only leads scoring at least this.", minimum=0, maximum=100),
            "qualified": _flag("Only leads with all four BANT answers yes."),
            "unqualified": _flag("Only leads not fully qualified."),
            "disqualified": _flag("Only leads whose budget or authority is no."),
            "stale": _flag("Only stalled or dead leads, with the reasons."),
            "sort": _text("Order (default id).", enum=_SORTS),
            "limit": _integer("At most this many leads.", minimum=1),
        },
        list_leads,
    ),
    Tool(
        "next",
        "The agenda: overdue, today's and upcoming next actions, stalled leads that need a decision, then open leads "
        "with no next action (pipectl next -f json).",
        {
            "within": _text("How far after today upcoming actions reach: 1d, 3d, 2w, 1m (default 7d)."),
            "limit": _integer("At most this many stalled leads, and leads without a next action.", minimum=1),
        },
        next_actions,
    ),
    Tool(
        "status",
        "The morning screen: actions overdue and due today, stalled leads, the pipeline by stage, the quota gap, "
        "the week's wins and losses, score crossings since yesterday (pipectl status -f json).",
        {},
        status,
    ),
    Tool(
        "metrics",
        "The pipeline's numbers: value per stage, win rate, cycle, velocity, conversion, bottleneck; or per group "
        "with by (pipectl metrics -f json).",
        {
            "since": _text("Start of the period: a date, or a look-back such as 30d or 1m."),
            "until": _text("End of the period (not included): a date, or a look-back."),
            "owner": OWNER,
            "by": _text("Per group: source, owner, stage, tag, industry or field:NAME."),
        },
        metrics,
    ),
    Tool(
        "forecast",
        "The weighted forecast by expected close month, and the gap to the quota (pipectl forecast -f json).",
        {
            "quota": {**AMOUNT, "description": "Target for the period (default: the saved one)."},
            "period": _text("Quota period (default: the saved one, else month).", enum=["month", "quarter"]),
            "as_of": _text(f"Measure the period containing this date ({DATE})."),
            "owner": OWNER,
            "by": _text("Also the open pipeline per source or owner.", enum=["source", "owner"]),
        },
        forecast,
    ),
    Tool(
        "add",
        "Add a lead; a likely duplicate is refused unless force. Returns the new lead as pipectl show prints it.",
        {
            **{spec.key: _data_point_schema(spec) for spec in DATA_POINTS},
            "stage": _text("Stage to start in (default: the first)."),
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags."},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Custom data points, name to value.",
            },
            "at": AT,
            "force": _flag("Add it even if it looks like a duplicate."),
        },
        add,
        required=("name",),
        writes=True,
    ),
    Tool(
        "log",
        "Record an activity that happened (a call, email, meeting, demo, note, competitor note or signal). Returns "
        "the lead as pipectl show prints it.",
        {
            "lead": LEAD,
            "kind": _text(
                "call, email, message, reply, meeting, demo, note, competitor, or a signal such as web_visit."
            ),
            "note": NOTE,
            "at": AT,
            "outcome": _text("How a call went (calls only).", enum=["connected", "no-answer", "voicemail", "busy"]),
        },
        log,
        required=("lead", "kind"),
        writes=True,
    ),
    Tool(
        "plan",
        "Set a lead's next action and when it is due; planning again replaces it. Returns the lead.",
        {
            "lead": LEAD,
            "action": _text('What to do next, e.g. "Send proposal".'),
            "due": _text(f'When it is due ({DATE}), or "2026-12-03 10:00" for an appointment.'),
        },
        plan,
        required=("lead", "action", "due"),
        writes=True,
    ),
    Tool(
        "done",
        "Complete a lead's next action (it counts as activity); next and due plan the following one. Returns the lead.",
        {
            "lead": LEAD,
            "note": NOTE,
            "at": AT,
            "next": _text("The following action, planned in the same step (give due too)."),
            "due": _text(f"When the following action is due ({DATE})."),
        },
        done,
        required=("lead",),
        writes=True,
    ),
    Tool(
        "move",
        "Move a lead to another stage; the stage's entry rules may refuse it unless force. Returns the lead.",
        {
            "lead": LEAD,
            "stage": _text("The stage to move the lead to."),
            "note": NOTE,
            "at": AT,
            "force": _flag("Override the entry rule that would refuse it."),
        },
        move,
        required=("lead", "stage"),
        writes=True,
    ),
    Tool(
        "qualify",
        "Record BANT answers (budget, authority, need, timeline). Returns the lead.",
        {
            "lead": LEAD,
            **{name: _text(f"{name.capitalize()}: {_ANSWER}") for name in BANT_CRITERIA},
            "at": AT,
        },
        qualify,
        required=("lead",),
        writes=True,
    ),
    Tool(
        "won",
        "Mark a lead as won, optionally at its final value. Returns the lead.",
        {"lead": LEAD, "value": {**AMOUNT, "description": "The final value."}, "note": NOTE, "at": AT},
        won,
        required=("lead",),
        writes=True,
    ),
    Tool(
        "lost",
        "Mark a lead as lost, with the reason. Returns the lead.",
        {"lead": LEAD, "reason": _text("Why it was lost."), "at": AT},
        lost,
        required=("lead", "reason"),
        writes=True,
    ),
)

BY_NAME = {tool.name: tool for tool in TOOLS}
